package workbook

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/shixincheck/shixincheck/roster"
	"github.com/shixincheck/shixincheck/rules"
)

func openTemplate(t *testing.T, items []string) written {
	t.Helper()
	return open(t, func(w io.Writer) error { return Template(w, items) })
}

func TestTemplate(t *testing.T) {
	items := rules.Default().Names()
	x := openTemplate(t, items).x
	if got := x.GetSheetList(); !reflect.DeepEqual(got, []string{"名单", "填写说明"}) {
		t.Fatalf("sheets = %v", got)
	}
	rows, err := x.GetRows("名单")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"序号", "姓名", "身份证号", "应用事项", "备注"},
		{"1", exampleName, exampleID, items[0], exampleRemark},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %q\nwant %q", rows, want)
	}
	if _, err := roster.NormalizeID(exampleID); err != nil {
		t.Errorf("example ID: %v", err)
	}
	// The whole ID column is text, not only the example's cell.
	colStyle, err := x.GetColStyle("名单", "C")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := x.GetStyle(colStyle); err != nil || st.NumFmt != textFmt {
		t.Errorf("column C number format = %v, %v; want text", st, err)
	}
	if typ, _ := x.GetCellType("名单", "C2"); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
		t.Errorf("example ID is stored as %v, want text", typ)
	}
	// The drop-down covers as many rows as the reader takes, and lists the
	// items written on the instructions sheet.
	dvs, err := x.GetDataValidations("名单")
	if err != nil || len(dvs) != 1 {
		t.Fatalf("data validations = %v, %v", dvs, err)
	}
	dv := dvs[0]
	if dv.Type != "list" || dv.Sqref != fmt.Sprintf("D2:D%d", roster.MaxRows+1) {
		t.Errorf("validation type %q on %q", dv.Type, dv.Sqref)
	}
	ref := fmt.Sprintf("'填写说明'!$A$%d:$A$%d", itemsRow, itemsRow+len(items)-1)
	if dv.Formula1 != ref {
		t.Errorf("drop-down source = %q, want %q", dv.Formula1, ref)
	}
	for i, item := range items {
		if got := cellValue(t, x, "填写说明", "A"+strconv.Itoa(itemsRow+i)); got != item {
			t.Errorf("item %d = %q, want %q", i, got, item)
		}
	}
	text := strings.Join(instructions, "\n")
	for _, s := range []string{"文本格式", "每行填写一名", "15位", ".xlsx", strconv.Itoa(roster.MaxRows) + "人", "示例", "删除"} {
		if !strings.Contains(text, s) {
			t.Errorf("instructions do not mention %q", s)
		}
	}
	if cellValue(t, x, "填写说明", "A2") != instructions[1] {
		t.Error("instructions not on the sheet")
	}
}

func TestTemplateLongItemList(t *testing.T) {
	// More than the 255 characters a typed-in list may hold.
	var items []string
	for i := range 30 {
		items = append(items, fmt.Sprintf("向上推荐道德模范（楷模）及其他评优评先第%d项", i+1))
	}
	x := openTemplate(t, items).x
	dvs, err := x.GetDataValidations("名单")
	if err != nil || len(dvs) != 1 || !strings.HasSuffix(dvs[0].Formula1, fmt.Sprintf("$A$%d", itemsRow+29)) {
		t.Fatalf("data validations = %+v, %v", dvs, err)
	}
	// No items configured: no drop-down, and nothing else missing.
	x = openTemplate(t, nil).x
	if dvs, _ := x.GetDataValidations("名单"); len(dvs) != 0 {
		t.Errorf("validations without items: %+v", dvs)
	}
}

// fill writes people into the template's list from row 3 on, as a clerk
// does, and returns the workbook.
func fillTemplate(t *testing.T, deleteExample bool, people [][]string) []byte {
	t.Helper()
	w := openTemplate(t, rules.Default().Names())
	for i, p := range people {
		for j, v := range p {
			ref, _ := excelize.CoordinatesToCellName(j+1, i+3)
			if err := w.x.SetCellStr("名单", ref, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if deleteExample {
		if err := w.x.RemoveRow("名单", 2); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := w.x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTemplateRead(t *testing.T) {
	people := [][]string{
		{"1", "陈小明", "420202198001011237", "优秀政协委员评选"},
		{"2", "李四", "11010519491231002x", "", "补报"},
	}
	res, err := roster.Read(bytes.NewReader(fillTemplate(t, true, people)), "名单.xlsx", roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []roster.Row{
		{Line: 2, Name: "陈小明", IDNumber: "420202198001011237", Item: "优秀政协委员评选"},
		{Line: 3, Name: "李四", IDNumber: "11010519491231002X"},
	}
	if res.Sheet != "名单" || !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("read %q: %+v\nwant %+v", res.Sheet, res.Rows, want)
	}

	// The example row left in by mistake is refused, and only it.
	_, err = roster.Read(bytes.NewReader(fillTemplate(t, false, people)), "名单.xlsx", roster.Options{})
	wantProblems := roster.Problems{{Sheet: "名单", Row: 2, Field: "备注", Message: "这是模板中的示例行：请删除此行后再上传"}}
	if p, ok := err.(roster.Problems); !ok || !reflect.DeepEqual(p, wantProblems) {
		t.Errorf("with the example row: %v, want %+v", err, wantProblems)
	}

	// Also with its 备注 cleared: the made-up ID gives it away.
	data := fillTemplate(t, false, people)
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.SetCellStr("名单", "E2", ""); err != nil {
		t.Fatal(err)
	}
	var cleared bytes.Buffer
	if err := x.Write(&cleared); err != nil {
		t.Fatal(err)
	}
	_, err = roster.Read(&cleared, "名单.xlsx", roster.Options{})
	wantProblems = roster.Problems{{Sheet: "名单", Row: 2, Field: "身份证号", Message: "这是模板中的示例行：请删除此行后再上传"}}
	if p, ok := err.(roster.Problems); !ok || !reflect.DeepEqual(p, wantProblems) {
		t.Errorf("with the example row's remark cleared: %v, want %+v", err, wantProblems)
	}

	// The template as downloaded holds nobody to check.
	_, err = roster.Read(bytes.NewReader(fillTemplate(t, true, nil)), "名单.xlsx", roster.Options{})
	if p, ok := err.(roster.Problems); !ok || len(p) != 1 || p[0].Message != "表头下面没有需要核查的人员" {
		t.Errorf("empty template: %v", err)
	}
}

func TestTemplateRowsMatchReader(t *testing.T) {
	if templateRows != roster.MaxRows {
		t.Errorf("template covers %d rows, the reader takes %d", templateRows, roster.MaxRows)
	}
}

// TestTemplateRemarkInstruction: the instructions say what the reader does
// with 备注: read for nothing but a leading 示例, which refuses the row.
func TestTemplateRemarkInstruction(t *testing.T) {
	line := ""
	for _, l := range instructions {
		if strings.Contains(l, "备注：") {
			line = l
		}
	}
	if !strings.Contains(line, "不要以“示例”二字开头") || strings.Contains(line, "不读取") {
		t.Errorf("备注 instruction %q does not warn about 示例", line)
	}
	people := [][]string{{"1", "陈小明", "420202198001011237", "", "示例以外的补报"}}
	_, err := roster.Read(bytes.NewReader(fillTemplate(t, true, people)), "名单.xlsx", roster.Options{})
	want := roster.Problems{{Sheet: "名单", Row: 2, Field: "备注", Message: "这是模板中的示例行：请删除此行后再上传"}}
	if p, ok := err.(roster.Problems); !ok || !reflect.DeepEqual(p, want) {
		t.Errorf("a person whose 备注 starts with 示例: %v, want %+v", err, want)
	}
}
