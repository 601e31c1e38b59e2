package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shixincheck/shixincheck"
)

func writeAndOpen(t *testing.T, f Filing) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func cellValue(t *testing.T, x *excelize.File, ref string) string {
	t.Helper()
	v, err := x.GetCellValue(sheetName, ref)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWrite(t *testing.T) {
	// 16:30 UTC on 30 Nov is already 1 Dec in Beijing.
	queried := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)
	f := Filing{
		Unit:    "政协黄石市委员会办公室",
		Handler: "刘经办",
		Phone:   "0714-6221234",
		Rows: []Row{
			{Item: "公职人员招录（聘）及考核", Name: "陈小明", IDNumber: "42020219800101123X",
				Result: "有2条“失信被执行人”记录", QueriedAt: time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC), Measure: "取消报名资格"},
			{Item: "优秀政协委员评选", Name: "=HYPERLINK(\"http://x\",\"李四\")", IDNumber: "420202198001011237",
				Result: "无“失信被执行人”记录", QueriedAt: queried, Measure: "同等条件优先推荐"},
			{Item: "政协委员候选人推荐", Name: "+王五", IDNumber: "-420202198001011237", Result: "@查询未完成", Measure: shixincheck.NeedsPerson},
		},
	}
	x := writeAndOpen(t, f)

	if got := x.GetSheetList(); !reflect.DeepEqual(got, []string{"登记表"}) {
		t.Fatalf("sheets = %q", got)
	}
	fixed := map[string]string{
		"A1": "信用信息核查应用情况登记表",
		"A2": "单位：政协黄石市委员会办公室（盖章）",
		"A3": "经办人：刘经办",
		"D3": "联系电话：0714-6221234",
		"A4": "应用事项", "B4": "查询对象", "C4": "查询对象身份识别码（个人身份证号码）",
		"D4": "查询渠道", "E4": "查询结果", "F4": "查询时间", "G4": "应用措施",
	}
	for ref, want := range fixed {
		if got := cellValue(t, x, ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}

	wantRows := [][]string{
		{"公职人员招录（聘）及考核", "陈小明", "42020219800101123X", "失信被执行人信息公开网", "有2条“失信被执行人”记录", "2026年11月30日", "取消报名资格"},
		{"优秀政协委员评选", "=HYPERLINK(\"http://x\",\"李四\")", "420202198001011237", "失信被执行人信息公开网", "无“失信被执行人”记录", "2026年12月1日", "同等条件优先推荐"},
		{"政协委员候选人推荐", "+王五", "-420202198001011237", "失信被执行人信息公开网", "@查询未完成", "", shixincheck.NeedsPerson},
	}
	rows, err := x.GetRows(sheetName)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4+len(wantRows) {
		t.Fatalf("%d rows, want %d", len(rows), 4+len(wantRows))
	}
	for i, want := range wantRows {
		got := rows[4+i]
		for len(got) < len(want) {
			got = append(got, "")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("row %d = %q\nwant %q", 5+i, got, want)
		}
	}

	// Every data cell is a string cell: no numbers, no formulas.
	for r := 5; r < 5+len(wantRows); r++ {
		for c := 1; c <= len(columns); c++ {
			ref, _ := excelize.CoordinatesToCellName(c, r)
			typ, err := x.GetCellType(sheetName, ref)
			if err != nil {
				t.Fatal(err)
			}
			if wantRows[r-5][c-1] != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("%s has type %v, want a string", ref, typ)
			}
			if formula, _ := x.GetCellFormula(sheetName, ref); formula != "" {
				t.Errorf("%s holds formula %q", ref, formula)
			}
		}
	}
	// Raw values of ID cells are intact, not read through a number format.
	for r, want := range map[int]string{5: "42020219800101123X", 6: "420202198001011237"} {
		got, err := x.GetCellValue(sheetName, "C"+strconv.Itoa(r), excelize.Options{RawCellValue: true})
		if err != nil || got != want {
			t.Errorf("raw C%d = %q, %v; want %q", r, got, err, want)
		}
	}

	merged, err := x.GetMergeCells(sheetName)
	if err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, m := range merged {
		ranges = append(ranges, m.GetStartAxis()+":"+m.GetEndAxis())
	}
	if want := []string{"A1:G1", "A2:G2", "A3:C3", "D3:G3"}; !reflect.DeepEqual(ranges, want) {
		t.Errorf("merged = %q, want %q", ranges, want)
	}
}

func TestWriteStyles(t *testing.T) {
	x := writeAndOpen(t, Filing{Rows: []Row{{Name: "陈小明", IDNumber: "420202198001011237"}}})
	style := func(ref string) *excelize.Style {
		t.Helper()
		id, err := x.GetCellStyle(sheetName, ref)
		if err != nil {
			t.Fatal(err)
		}
		s, err := x.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := style("A1"); !s.Font.Bold || s.Font.Size <= 12 || s.Alignment.Horizontal != "center" {
		t.Errorf("title style = %+v %+v", s.Font, s.Alignment)
	}
	if s := style("C4"); !s.Font.Bold || !s.Alignment.WrapText || len(s.Border) != 4 {
		t.Errorf("header style = %+v %+v %d borders", s.Font, s.Alignment, len(s.Border))
	}
	if s := style("A5"); !s.Alignment.WrapText || len(s.Border) != 4 {
		t.Errorf("data style = %+v %d borders", s.Alignment, len(s.Border))
	}
	if s := style("C5"); s.NumFmt != textFmt {
		t.Errorf("ID cell number format = %d, want %d (@)", s.NumFmt, textFmt)
	}
	// Rows typed in by hand later are text too: the column carries "@".
	colStyle, err := x.GetColStyle(sheetName, "C")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := x.GetStyle(colStyle); s == nil || s.NumFmt != textFmt {
		t.Errorf("ID column style = %+v, want number format @", s)
	}
	for i, c := range columns {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if w, _ := x.GetColWidth(sheetName, name); w != c.width {
			t.Errorf("column %s width = %v, want %v", name, w, c.width)
		}
	}
}

func TestWritePageSetup(t *testing.T) {
	x := writeAndOpen(t, Filing{})
	layout, err := x.GetPageLayout(sheetName)
	if err != nil {
		t.Fatal(err)
	}
	if *layout.Size != a4Paper || *layout.Orientation != "landscape" || *layout.FitToWidth != 1 || *layout.FitToHeight != 0 {
		t.Errorf("page layout: size %d, %s, fit %dx%d", *layout.Size, *layout.Orientation, *layout.FitToWidth, *layout.FitToHeight)
	}
	props, err := x.GetSheetProps(sheetName)
	if err != nil {
		t.Fatal(err)
	}
	if props.FitToPage == nil || !*props.FitToPage {
		t.Error("fit to page is off")
	}
	names := x.GetDefinedName()
	want := excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: "'登记表'!$4:$4", Scope: "登记表"}
	if len(names) != 1 || names[0] != want {
		t.Errorf("defined names = %+v, want %+v", names, want)
	}
}

// Excel wants <col> elements in ascending order; the stream writer keeps
// the order of the calls, so check the XML itself.
func TestWriteColsOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Filing{}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var ws struct {
		Cols []struct {
			Min   int `xml:"min,attr"`
			Max   int `xml:"max,attr"`
			Style int `xml:"style,attr"`
		} `xml:"cols>col"`
	}
	if err := xml.NewDecoder(rc).Decode(&ws); err != nil {
		t.Fatal(err)
	}
	if len(ws.Cols) != len(columns) {
		t.Fatalf("%d cols, want %d", len(ws.Cols), len(columns))
	}
	for i, c := range ws.Cols {
		if c.Min != i+1 || c.Max != i+1 {
			t.Errorf("col %d covers %d-%d", i, c.Min, c.Max)
		}
		if (c.Style != 0) != (i+1 == idCol) {
			t.Errorf("col %d style %d", i+1, c.Style)
		}
	}
}

func TestRowHeight(t *testing.T) {
	short := rowHeight([]string{"评优评先", "陈明", "", "", "", "", ""})
	long := rowHeight([]string{"向上推荐道德模范（楷模）、劳动模范及其他评优评先", "陈明", "", "", "", "", ""})
	if short != 20 || long <= short {
		t.Errorf("heights: short %v, long %v", short, long)
	}
}

func BenchmarkWrite10000(b *testing.B) {
	f := Filing{Unit: "政协黄石市委员会办公室", Handler: "刘经办", Phone: "0714-6221234"}
	day := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := range 10000 {
		f.Rows = append(f.Rows, Row{
			Item:      "公职人员招录（聘）及考核",
			Name:      "陈小明",
			IDNumber:  fmt.Sprintf("4202021980%08d", i),
			Result:    "无“失信被执行人”记录",
			QueriedAt: day,
			Measure:   "按正常政策程序办理",
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}
