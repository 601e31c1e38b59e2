package workbook

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shixincheck/shixincheck"
)

// written is a workbook written to memory and opened again.
type written struct {
	x   *excelize.File
	raw []byte
}

func open(t *testing.T, write func(io.Writer) error) written {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	raw := slices.Clone(buf.Bytes())
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return written{x, raw}
}

func openFiling(t *testing.T, f Filing) written {
	t.Helper()
	return open(t, func(w io.Writer) error { return Write(w, f) })
}

func openLedger(t *testing.T, rows []LedgerRow, masked bool) written {
	t.Helper()
	return open(t, func(w io.Writer) error { return WriteLedger(w, rows, masked) })
}

func cellValue(t *testing.T, x *excelize.File, sheet, ref string) string {
	t.Helper()
	v, err := x.GetCellValue(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rowsOf returns every row of the sheet, padded to the sheet's width.
func rowsOf(t *testing.T, x *excelize.File, s sheet) [][]string {
	t.Helper()
	rows, err := x.GetRows(s.name)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < len(s.columns) {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// checkData compares the data rows (below the header) of the sheet with want.
func checkData(t *testing.T, x *excelize.File, s sheet, want [][]string) {
	t.Helper()
	rows := rowsOf(t, x, s)
	if len(rows) != s.headerRow+len(want) {
		t.Fatalf("%s: %d rows, want %d", s.name, len(rows), s.headerRow+len(want))
	}
	for i, w := range want {
		if got := rows[s.headerRow+i]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s row %d = %q\nwant %q", s.name, s.headerRow+1+i, got, w)
		}
	}
}

// checkHeader compares the header row of the sheet with its columns.
func checkHeader(t *testing.T, x *excelize.File, s sheet) {
	t.Helper()
	for i, c := range s.columns {
		ref, _ := excelize.CoordinatesToCellName(i+1, s.headerRow)
		if got := cellValue(t, x, s.name, ref); got != c.header {
			t.Errorf("%s %s = %q, want %q", s.name, ref, got, c.header)
		}
	}
}

// checkStrings fails for a data cell that is not a string cell, or holds a
// formula: no numbers (IDs would lose digits), no formulas (injection).
func checkStrings(t *testing.T, x *excelize.File, s sheet, nrows int) {
	t.Helper()
	for r := s.headerRow + 1; r <= s.headerRow+nrows; r++ {
		for c := 1; c <= len(s.columns); c++ {
			ref, _ := excelize.CoordinatesToCellName(c, r)
			typ, err := x.GetCellType(s.name, ref)
			if err != nil {
				t.Fatal(err)
			}
			if v := cellValue(t, x, s.name, ref); v != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("%s %s has type %v, want a string", s.name, ref, typ)
			}
			if formula, _ := x.GetCellFormula(s.name, ref); formula != "" {
				t.Errorf("%s %s holds formula %q", s.name, ref, formula)
			}
		}
	}
}

func mergedRanges(t *testing.T, x *excelize.File, sheet string) []string {
	t.Helper()
	merged, err := x.GetMergeCells(sheet)
	if err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, m := range merged {
		ranges = append(ranges, m.GetStartAxis()+":"+m.GetEndAxis())
	}
	return ranges
}

func hit(code, court, reg, pub string) shixincheck.Record {
	return shixincheck.Record{CaseCode: code, CourtName: court, RegDate: reg, PublishDate: pub, Match: shixincheck.MatchHit}
}

// sample has hits, records that are not hits, and names and record values
// that look like formulas.
func sample() Filing {
	return Filing{
		Unit:    "政协黄石市委员会办公室",
		Handler: "刘经办",
		Phone:   "0714-6221234",
		Rows: []Row{
			{Item: "公职人员招录（聘）及考核", Name: "陈小明", IDNumber: "42020219800101123X",
				Result: "有2条“失信被执行人”记录", QueriedAt: time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC), Measure: "取消报名资格",
				Records: []shixincheck.Record{
					hit("（2018）鄂0202执1234号", "黄石市黄石港区人民法院", "2018年01月17日", "2018年03月02日"),
					{CaseCode: "（2019）鄂0203执77号", CourtName: "黄石市西塞山区人民法院", Match: shixincheck.MatchNamesake},
					hit("（2020）鄂02执5号", "黄石市中级人民法院", "2020年05月06日", "2020年06月01日"),
				}},
			// 16:30 UTC on 30 Nov is already 1 Dec in Beijing.
			{Item: "优秀政协委员评选", Name: "=HYPERLINK(\"http://x\",\"李四\")", IDNumber: "420202198001011237",
				Result: "无“失信被执行人”记录", QueriedAt: time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC), Measure: "同等条件优先推荐",
				Records: []shixincheck.Record{{CaseCode: "（2017）京0105执9号", Name: "李四", Match: shixincheck.MatchOther}}},
			{Item: "政协委员候选人推荐", Name: "+王五", IDNumber: "-420202198001011237", Result: "@查询未完成", Measure: shixincheck.NeedsPerson,
				Records: []shixincheck.Record{{CaseCode: "（2016）鄂0281执3号", Match: shixincheck.MatchUnclear}}},
			{Item: "政协委员候选人推荐", Name: "@赵六", IDNumber: "110101199003071234", Result: "有1条“失信被执行人”记录",
				QueriedAt: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Measure: "不予推荐",
				Records: []shixincheck.Record{hit("=1+1", "-2", "+3", "@4")}},
		},
	}
}

var sampleForm = [][]string{
	{"公职人员招录（聘）及考核", "陈小明", "42020219800101123X", "失信被执行人信息公开网", "有2条“失信被执行人”记录", "2026年11月30日", "取消报名资格"},
	{"优秀政协委员评选", "=HYPERLINK(\"http://x\",\"李四\")", "420202198001011237", "失信被执行人信息公开网", "无“失信被执行人”记录", "2026年12月1日", "同等条件优先推荐"},
	{"政协委员候选人推荐", "+王五", "-420202198001011237", "失信被执行人信息公开网", "@查询未完成", "", shixincheck.NeedsPerson},
	{"政协委员候选人推荐", "@赵六", "110101199003071234", "失信被执行人信息公开网", "有1条“失信被执行人”记录", "2026年12月1日", "不予推荐"},
}

// sampleRecords are the hits of sample, in order; nothing else.
var sampleRecords = [][]string{
	{"陈小明", "42020219800101123X", "（2018）鄂0202执1234号", "黄石市黄石港区人民法院", "2018年01月17日", "2018年03月02日"},
	{"陈小明", "42020219800101123X", "（2020）鄂02执5号", "黄石市中级人民法院", "2020年05月06日", "2020年06月01日"},
	{"@赵六", "110101199003071234", "=1+1", "-2", "+3", "@4"},
}

func TestWrite(t *testing.T) {
	x := openFiling(t, sample()).x

	if got := x.GetSheetList(); !reflect.DeepEqual(got, []string{"登记表"}) {
		t.Fatalf("sheets = %q", got)
	}
	fixed := map[string]string{
		"A1": "信用信息核查应用情况登记表",
		"A2": "单位：政协黄石市委员会办公室（盖章）",
		"A3": "经办人：刘经办",
		"D3": "联系电话：0714-6221234",
	}
	for ref, want := range fixed {
		if got := cellValue(t, x, formSheet.name, ref); got != want {
			t.Errorf("%s = %q, want %q", ref, got, want)
		}
	}
	want := []string{"应用事项", "查询对象", "查询对象身份识别码（个人身份证号码）", "查询渠道", "查询结果", "查询时间", "应用措施"}
	for i, h := range want {
		if formSheet.columns[i].header != h {
			t.Errorf("column %d is %q, want %q (Attachment 2)", i+1, formSheet.columns[i].header, h)
		}
	}
	checkHeader(t, x, formSheet)
	checkData(t, x, formSheet, sampleForm)
	checkStrings(t, x, formSheet, len(sampleForm))
	// Raw values of ID cells are intact, not read through a number format.
	for r, want := range map[int]string{5: "42020219800101123X", 6: "420202198001011237", 8: "110101199003071234"} {
		got, err := x.GetCellValue(formSheet.name, "C"+strconv.Itoa(r), excelize.Options{RawCellValue: true})
		if err != nil || got != want {
			t.Errorf("raw C%d = %q, %v; want %q", r, got, err, want)
		}
	}
	if got, want := mergedRanges(t, x, formSheet.name), []string{"A1:G1", "A2:G2", "A3:C3", "D3:G3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged = %q, want %q", got, want)
	}
}

func TestWriteRecords(t *testing.T) {
	f := sample()
	f.Records = true
	x := openFiling(t, f).x

	if got := x.GetSheetList(); !reflect.DeepEqual(got, []string{"登记表", "失信记录"}) {
		t.Fatalf("sheets = %q", got)
	}
	// The form is the same with or without the records sheet.
	checkData(t, x, formSheet, sampleForm)

	s := recordSheet
	if got := cellValue(t, x, s.name, "A1"); got != recordTitle {
		t.Errorf("A1 = %q", got)
	}
	want := []string{"查询对象", "查询对象身份识别码（个人身份证号码）", "案号", "执行法院", "立案时间", "发布时间"}
	for i, h := range want {
		if s.columns[i].header != h {
			t.Errorf("column %d is %q, want %q", i+1, s.columns[i].header, h)
		}
	}
	checkHeader(t, x, s)
	checkData(t, x, s, sampleRecords)
	checkStrings(t, x, s, len(sampleRecords))
	for r, want := range map[int]string{3: "42020219800101123X", 5: "110101199003071234"} {
		got, err := x.GetCellValue(s.name, "B"+strconv.Itoa(r), excelize.Options{RawCellValue: true})
		if err != nil || got != want {
			t.Errorf("raw B%d = %q, %v; want %q", r, got, err, want)
		}
	}
	if got, want := mergedRanges(t, x, s.name), []string{"A1:F1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged = %q, want %q", got, want)
	}

	// No hit at all: the sheet is there with its header only.
	f.Rows = f.Rows[1:3]
	x = openFiling(t, f).x
	checkData(t, x, s, nil)
}

// checkMasked compares a masked sheet with the full one: the ID column of
// the data rows is masked, every other cell is the same.
func checkMasked(t *testing.T, full, masked *excelize.File, s sheet) {
	t.Helper()
	fr, mr := rowsOf(t, full, s), rowsOf(t, masked, s)
	if len(fr) != len(mr) || len(fr) <= s.headerRow {
		t.Fatalf("%s: %d rows full, %d masked", s.name, len(fr), len(mr))
	}
	for i := range fr {
		for j := range fr[i] {
			want := fr[i][j]
			if i >= s.headerRow && j+1 == s.idCol {
				want = shixincheck.MaskID(want)
				if want == fr[i][j] {
					t.Fatalf("%s: ID %q does not change when masked", s.name, want)
				}
			}
			if mr[i][j] != want {
				t.Errorf("%s row %d col %d = %q, want %q", s.name, i+1, j+1, mr[i][j], want)
			}
		}
	}
}

// containsAny tells which of the strings occur anywhere in the workbook's
// files (sheets, shared strings, properties).
func containsAny(t *testing.T, raw []byte, ss []string) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if bytes.Contains(b, []byte(s)) {
				found = append(found, zf.Name+": "+s)
			}
		}
	}
	return found
}

func TestWriteMasked(t *testing.T) {
	f := sample()
	f.Records = true
	full := openFiling(t, f)
	f.MaskIDs = true
	masked := openFiling(t, f)

	if got := cellValue(t, masked.x, formSheet.name, "C5"); got != "420202********123X" {
		t.Errorf("masked C5 = %q", got)
	}
	if got := cellValue(t, masked.x, recordSheet.name, "B5"); got != "110101********1234" {
		t.Errorf("masked 失信记录 B5 = %q", got)
	}
	checkMasked(t, full.x, masked.x, formSheet)
	checkMasked(t, full.x, masked.x, recordSheet)
	checkStrings(t, masked.x, formSheet, len(sampleForm))

	var ids []string
	for _, r := range f.Rows {
		ids = append(ids, r.IDNumber)
	}
	// The search finds the IDs where they are, and nowhere in the masked copy.
	if found := containsAny(t, full.raw, ids); len(found) < len(ids) {
		t.Errorf("full workbook: found only %q", found)
	}
	if found := containsAny(t, masked.raw, ids); len(found) > 0 {
		t.Errorf("masked workbook holds full IDs: %q", found)
	}
}

func TestWriteLedger(t *testing.T) {
	rows := []LedgerRow{
		{BatchID: "b0123456789abcdef", Item: "公职人员招录（聘）及考核", Stage: "报名资格审查", Name: "陈小明", IDNumber: "42020219800101123X",
			Channel: shixincheck.Channel, Result: shixincheck.ResultText(shixincheck.OutcomeListed, 2),
			QueriedAt: time.Date(2026, 11, 30, 16, 30, 5, 0, time.UTC), Measure: "取消报名资格", RuleVersion: "seed-2020-07-06"},
		{BatchID: "b0123456789abcdef", Item: "优秀政协委员评选", Stage: "报名资格审查", Name: "=HYPERLINK(\"http://x\",\"李四\")", IDNumber: "420202198001011237",
			Channel: shixincheck.Channel, Result: shixincheck.ResultText(shixincheck.OutcomeClear, 0),
			QueriedAt: time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC), Measure: "-1+1", RuleVersion: "@v2"},
		{BatchID: "bfedcba9876543210", Item: "政协委员候选人推荐", Name: "+王五", IDNumber: "110101199003071234",
			Channel: shixincheck.Channel, Result: shixincheck.ResultText(shixincheck.OutcomeFailed, 0), Measure: shixincheck.NeedsPerson, RuleVersion: "v3"},
	}
	want := [][]string{
		{"b0123456789abcdef", "公职人员招录（聘）及考核", "报名资格审查", "陈小明", "42020219800101123X", "失信被执行人信息公开网",
			"有2条“失信被执行人”记录", "2026-12-01 00:30:05", "取消报名资格", "seed-2020-07-06"},
		{"b0123456789abcdef", "优秀政协委员评选", "报名资格审查", "=HYPERLINK(\"http://x\",\"李四\")", "420202198001011237", "失信被执行人信息公开网",
			"无“失信被执行人”记录", "2026-11-30 09:02:03", "-1+1", "@v2"},
		{"bfedcba9876543210", "政协委员候选人推荐", "", "+王五", "110101199003071234", "失信被执行人信息公开网",
			"查询未完成", "", shixincheck.NeedsPerson, "v3"},
	}
	full := openLedger(t, rows, false)
	x := full.x
	if got := x.GetSheetList(); !reflect.DeepEqual(got, []string{"台账"}) {
		t.Fatalf("sheets = %q", got)
	}
	headers := []string{"批次", "应用事项", "核查环节", "查询对象", "身份证号", "查询渠道", "查询结果", "查询时间", "应用措施", "规则版本"}
	for i, h := range headers {
		if ledgerSheet.columns[i].header != h {
			t.Errorf("column %d is %q, want %q", i+1, ledgerSheet.columns[i].header, h)
		}
	}
	checkHeader(t, x, ledgerSheet)
	checkData(t, x, ledgerSheet, want)
	checkStrings(t, x, ledgerSheet, len(want))
	got, err := x.GetCellValue(ledgerSheet.name, "E2", excelize.Options{RawCellValue: true})
	if err != nil || got != "42020219800101123X" {
		t.Errorf("raw E2 = %q, %v", got, err)
	}

	masked := openLedger(t, rows, true)
	if got := cellValue(t, masked.x, ledgerSheet.name, "E4"); got != "110101********1234" {
		t.Errorf("masked E4 = %q", got)
	}
	checkMasked(t, x, masked.x, ledgerSheet)
	ids := []string{rows[0].IDNumber, rows[1].IDNumber, rows[2].IDNumber}
	if found := containsAny(t, masked.raw, ids); len(found) > 0 {
		t.Errorf("masked ledger holds full IDs: %q", found)
	}

	// An empty selection is a header alone.
	checkData(t, openLedger(t, nil, false).x, ledgerSheet, nil)
}

// every sheet the package writes, in workbooks that hold it.
func everySheet(t *testing.T) []struct {
	x *excelize.File
	s sheet
} {
	f := sample()
	f.Records = true
	x := openFiling(t, f).x
	l := openLedger(t, []LedgerRow{{Name: "陈小明", IDNumber: "42020219800101123X"}}, false).x
	return []struct {
		x *excelize.File
		s sheet
	}{{x, formSheet}, {x, recordSheet}, {l, ledgerSheet}}
}

func TestPageSetup(t *testing.T) {
	for _, c := range everySheet(t) {
		x, s := c.x, c.s
		layout, err := x.GetPageLayout(s.name)
		if err != nil {
			t.Fatal(err)
		}
		if *layout.Size != a4Paper || *layout.Orientation != "landscape" || *layout.FitToWidth != 1 || *layout.FitToHeight != 0 {
			t.Errorf("%s page layout: size %d, %s, fit %dx%d", s.name, *layout.Size, *layout.Orientation, *layout.FitToWidth, *layout.FitToHeight)
		}
		props, err := x.GetSheetProps(s.name)
		if err != nil {
			t.Fatal(err)
		}
		if props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page is off", s.name)
		}
		row := strconv.Itoa(s.headerRow)
		want := excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: "'" + s.name + "'!$" + row + ":$" + row, Scope: s.name}
		if !slices.Contains(x.GetDefinedName(), want) {
			t.Errorf("%s: defined names %+v lack %+v", s.name, x.GetDefinedName(), want)
		}
		panes, err := x.GetPanes(s.name)
		if err != nil {
			t.Fatal(err)
		}
		if !panes.Freeze || panes.YSplit != s.headerRow || panes.XSplit != 0 || panes.TopLeftCell != "A"+strconv.Itoa(s.headerRow+1) {
			t.Errorf("%s panes = %+v", s.name, panes)
		}
	}
	f := sample()
	f.Records = true
	if n := len(openFiling(t, f).x.GetDefinedName()); n != 2 {
		t.Errorf("%d defined names, want the 2 print titles", n)
	}
}

func TestStyles(t *testing.T) {
	for _, c := range everySheet(t) {
		x, s := c.x, c.s
		style := func(ref string) *excelize.Style {
			t.Helper()
			id, err := x.GetCellStyle(s.name, ref)
			if err != nil {
				t.Fatal(err)
			}
			st, err := x.GetStyle(id)
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		if s.headerRow > 1 {
			if st := style("A1"); !st.Font.Bold || st.Font.Size <= 12 || st.Alignment.Horizontal != "center" {
				t.Errorf("%s title style = %+v %+v", s.name, st.Font, st.Alignment)
			}
		}
		for i := range s.columns {
			col, _ := excelize.ColumnNumberToName(i + 1)
			head, data := col+strconv.Itoa(s.headerRow), col+strconv.Itoa(s.headerRow+1)
			if st := style(head); !st.Font.Bold || !st.Alignment.WrapText || len(st.Border) != 4 {
				t.Errorf("%s %s header style = %+v %+v %d borders", s.name, head, st.Font, st.Alignment, len(st.Border))
			}
			st := style(data)
			if !st.Alignment.WrapText || len(st.Border) != 4 {
				t.Errorf("%s %s data style = %+v %d borders", s.name, data, st.Alignment, len(st.Border))
			}
			if isID := i+1 == s.idCol; isID != (st.NumFmt == textFmt) {
				t.Errorf("%s %s number format = %d (ID column: %v)", s.name, data, st.NumFmt, isID)
			}
			if w, _ := x.GetColWidth(s.name, col); w != s.columns[i].width {
				t.Errorf("%s column %s width = %v, want %v", s.name, col, w, s.columns[i].width)
			}
		}
		// Rows typed in by hand later are text too: the column carries "@".
		idName, _ := excelize.ColumnNumberToName(s.idCol)
		colStyle, err := x.GetColStyle(s.name, idName)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := x.GetStyle(colStyle); st == nil || st.NumFmt != textFmt {
			t.Errorf("%s ID column style = %+v, want number format @", s.name, st)
		}
	}
}

// Excel wants <col> elements in ascending order; the stream writer keeps
// the order of the calls, so check the XML itself.
func TestColsOrder(t *testing.T) {
	f := sample()
	f.Records = true
	filing := open(t, func(w io.Writer) error { return Write(w, f) }).raw
	ledger := open(t, func(w io.Writer) error { return WriteLedger(w, nil, false) }).raw
	for _, c := range []struct {
		raw  []byte
		path string
		s    sheet
	}{
		{filing, "xl/worksheets/sheet1.xml", formSheet},
		{filing, "xl/worksheets/sheet2.xml", recordSheet},
		{ledger, "xl/worksheets/sheet1.xml", ledgerSheet},
	} {
		zr, err := zip.NewReader(bytes.NewReader(c.raw), int64(len(c.raw)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		var ws struct {
			Cols []struct {
				Min   int `xml:"min,attr"`
				Max   int `xml:"max,attr"`
				Style int `xml:"style,attr"`
			} `xml:"cols>col"`
		}
		err = xml.NewDecoder(rc).Decode(&ws)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(ws.Cols) != len(c.s.columns) {
			t.Fatalf("%s: %d cols, want %d", c.s.name, len(ws.Cols), len(c.s.columns))
		}
		for i, col := range ws.Cols {
			if col.Min != i+1 || col.Max != i+1 {
				t.Errorf("%s: col %d covers %d-%d", c.s.name, i, col.Min, col.Max)
			}
			if (col.Style != 0) != (i+1 == c.s.idCol) {
				t.Errorf("%s: col %d style %d", c.s.name, i+1, col.Style)
			}
		}
	}
}

func TestRowHeight(t *testing.T) {
	short := rowHeight(formSheet.columns, []string{"评优评先", "陈明", "", "", "", "", ""})
	long := rowHeight(formSheet.columns, []string{"向上推荐道德模范（楷模）、劳动模范及其他评优评先", "陈明", "", "", "", "", ""})
	if short != 20 || long <= short {
		t.Errorf("heights: short %v, long %v", short, long)
	}
}

func benchFiling(n int, records bool) Filing {
	f := Filing{Unit: "政协黄石市委员会办公室", Handler: "刘经办", Phone: "0714-6221234", Records: records}
	day := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := range n {
		r := Row{
			Item:      "公职人员招录（聘）及考核",
			Name:      "陈小明",
			IDNumber:  fmt.Sprintf("4202021980%08d", i),
			Result:    "无“失信被执行人”记录",
			QueriedAt: day,
			Measure:   "按正常政策程序办理",
		}
		if records {
			r.Result, r.Measure = "有1条“失信被执行人”记录", "取消报名资格"
			r.Records = []shixincheck.Record{
				hit(fmt.Sprintf("（2018）鄂0202执%d号", i), "黄石市黄石港区人民法院", "2018年01月17日", "2018年03月02日"),
				{CaseCode: "（2019）鄂0203执77号", Match: shixincheck.MatchNamesake},
			}
		}
		f.Rows = append(f.Rows, r)
	}
	return f
}

func BenchmarkWrite10000(b *testing.B) {
	f := benchFiling(10000, false)
	benchPeak(b, func() error { return Write(io.Discard, f) })
}

// Every person listed with one hit (and a namesake that is left out): the
// records sheet has 10,000 rows too.
func BenchmarkWriteRecords10000(b *testing.B) {
	f := benchFiling(10000, true)
	benchPeak(b, func() error { return Write(io.Discard, f) })
}

func BenchmarkWriteLedger10000(b *testing.B) {
	var rows []LedgerRow
	for _, r := range benchFiling(10000, false).Rows {
		rows = append(rows, LedgerRow{BatchID: "b0123456789abcdef", Item: r.Item, Stage: "报名资格审查", Name: r.Name, IDNumber: r.IDNumber,
			Channel: shixincheck.Channel, Result: r.Result, QueriedAt: r.QueriedAt, Measure: r.Measure, RuleVersion: "seed-2020-07-06"})
	}
	benchPeak(b, func() error { return WriteLedger(io.Discard, rows, false) })
}
