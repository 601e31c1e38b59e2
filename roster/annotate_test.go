package roster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// annotated is a file read, annotated and opened again.
type annotated struct {
	problems Problems
	x        *excelize.File
}

func annotateFile(t *testing.T, data []byte, filename string, opts Options) annotated {
	t.Helper()
	_, err := Read(bytes.NewReader(data), filename, opts)
	problems := problemsOf(t, err)
	out, err := Annotate(data, filename, problems)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return annotated{problems, x}
}

func (a annotated) value(t *testing.T, sheet, ref string) string {
	t.Helper()
	v, err := a.x.GetCellValue(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// style returns the style of a cell.
func (a annotated) style(t *testing.T, sheet, ref string) *excelize.Style {
	t.Helper()
	id, err := a.x.GetCellStyle(sheet, ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.x.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func highlighted(st *excelize.Style) bool {
	return st.Fill.Pattern == 1 && len(st.Fill.Color) == 1 && strings.EqualFold(st.Fill.Color[0], problemFill)
}

func TestAnnotateXLSX(t *testing.T) {
	bad := id1[:17] + "9"
	data := newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{
			{"2026年公职人员招录资格审查人员名单"},
			{"序号", "姓名", "身份证号", "应用事项", "备注"},
			{"1", "陈小明", id1, "公职人员招录"},
			{"2", "李4", bad},
			{"3", "王五", "123", "", "补报"},
		})
		merge(t, f, "Sheet1", "A1:E1")
		// The clerk's ID column: text, with borders. Highlighting keeps both.
		st, err := f.NewStyle(&excelize.Style{NumFmt: 49, Border: []excelize.Border{{Type: "left", Color: "000000", Style: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellStyle("Sheet1", "C3", "C5", st); err != nil {
			t.Fatal(err)
		}
		if _, err := f.NewSheet("其他"); err != nil {
			t.Fatal(err)
		}
		setRows(t, f, "其他", [][]string{{"不动"}})
	})
	a := annotateFile(t, data, "名单.xlsx", Options{})
	wantProblems := Problems{
		{Sheet: "Sheet1", Row: 4, Field: "姓名", Message: "姓名不能包含数字"},
		{Sheet: "Sheet1", Row: 4, Field: "身份证号", Message: "校验位错误（最后一位与前17位不符），请核对是否录错"},
		{Sheet: "Sheet1", Row: 5, Field: "身份证号", Message: "长度应为18位，现为3位"},
	}
	if !reflect.DeepEqual(a.problems, wantProblems) {
		t.Fatalf("problems = %+v", a.problems)
	}
	// The error column follows the last used column, E.
	want := map[string]string{
		"F1": "",
		"F2": "错误说明",
		"F3": "",
		"F4": "姓名：姓名不能包含数字；身份证号：校验位错误（最后一位与前17位不符），请核对是否录错",
		"F5": "身份证号：长度应为18位，现为3位",
		// The clerk's cells are untouched.
		"A1": "2026年公职人员招录资格审查人员名单", "B4": "李4", "C4": bad, "E5": "补报",
	}
	for ref, v := range want {
		if got := a.value(t, "Sheet1", ref); got != v {
			t.Errorf("%s = %q, want %q", ref, got, v)
		}
	}
	for ref, want := range map[string]bool{"B4": true, "C4": true, "C5": true, "B5": false, "C3": false, "B3": false, "F4": true, "F2": true} {
		if got := highlighted(a.style(t, "Sheet1", ref)); got != want {
			t.Errorf("%s highlighted = %v, want %v", ref, got, want)
		}
	}
	if st := a.style(t, "Sheet1", "C4"); st.NumFmt != 49 || len(st.Border) != 1 {
		t.Errorf("C4 lost its own style: numFmt %d, borders %v", st.NumFmt, st.Border)
	}
	if v := a.value(t, "其他", "A1"); v != "不动" {
		t.Errorf("other sheet: A1 = %q", v)
	}
	if merged, err := a.x.GetMergeCells("Sheet1"); err != nil || len(merged) != 1 {
		t.Errorf("merged cells = %v, %v", merged, err)
	}
}

// The clerk fixes the rows in place and uploads the annotated copy: the
// error column does not get in the way, and the fixed file is accepted.
func TestAnnotatedCopyReadsAgain(t *testing.T) {
	data := newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{{"姓名", "身份证号"}, {"陈小明", id1}, {"李四", "123"}})
	})
	_, err := Read(bytes.NewReader(data), "a.xlsx", Options{})
	problems := problemsOf(t, err)
	out, err := Annotate(data, "a.xlsx", problems)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Read(bytes.NewReader(out), "a.xlsx", Options{})
	if got := problemsOf(t, err); !reflect.DeepEqual(got, problems) {
		t.Errorf("annotated copy: problems = %+v, want %+v", got, problems)
	}
	x, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := x.SetCellStr("Sheet1", "B3", id3); err != nil {
		t.Fatal(err)
	}
	var fixed bytes.Buffer
	if err := x.Write(&fixed); err != nil {
		t.Fatal(err)
	}
	res, err := Read(&fixed, "a.xlsx", Options{})
	if err != nil || len(res.Rows) != 2 {
		t.Errorf("fixed copy: %d rows, error %v", len(res.Rows), err)
	}
}

func TestAnnotateMergedHeader(t *testing.T) {
	// The ID header spans C:D with the numbers in D: D is highlighted.
	data, err := os.ReadFile(filepath.Join(corpusDir, "merged-header.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	a := annotateFile(t, data, "merged-header.xlsx", Options{})
	if !highlighted(a.style(t, "Sheet1", "D3")) || highlighted(a.style(t, "Sheet1", "C3")) {
		t.Error("want D3 highlighted and C3 not")
	}
	if got := a.value(t, "Sheet1", "F3"); got != "身份证号：长度应为18位，现为3位" {
		t.Errorf("F3 = %q", got)
	}
}

func TestAnnotateNamedSheet(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir, "multi-sheet.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	a := annotateFile(t, data, "multi-sheet.xlsx", Options{Sheet: "名单2"})
	if got := a.value(t, "名单2", "C3"); got != "身份证号：长度应为18位，现为4位" {
		t.Errorf("名单2!C3 = %q", got)
	}
	for _, sheet := range []string{"说明", "名单"} {
		if cols, _ := a.x.GetCols(sheet); len(cols) > 2 {
			t.Errorf("sheet %s got an error column", sheet)
		}
	}
}

func TestAnnotateFileProblem(t *testing.T) {
	// No ID column: the message goes on the first row, as there is no
	// header row to put it on.
	data := newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{{"名单"}, {"姓名", "手机号"}, {"陈小明", "13800000000"}})
	})
	a := annotateFile(t, data, "a.xlsx", Options{})
	want := "错误说明：身份证号：" + msgNoID
	if got := a.value(t, "Sheet1", "C1"); got != want {
		t.Errorf("C1 = %q, want %q", got, want)
	}
	// With a header, problems of the whole file go on the header row.
	data = newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{{"名单"}, {"姓名", "身份证号"}})
	})
	a = annotateFile(t, data, "a.xlsx", Options{})
	if got, want := a.value(t, "Sheet1", "C2"), "错误说明："+msgNoRows; got != want {
		t.Errorf("C2 = %q, want %q", got, want)
	}
}

func TestAnnotateCSV(t *testing.T) {
	text := "名单,,\r\n\r\n姓名,身份证号,应用事项\r\n陈小明," + id1 + ",评优评先\r\n\"李\r\n四\",123,\r\n王五," + id3 + ",未知事项\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Read(strings.NewReader(gbk), "名单.csv", Options{})
	problems := problemsOf(t, err)
	// A problem the web adds after reading: an item the rules do not know.
	problems = append(problems, Problem{Row: 6, Field: "应用事项", Message: "未知的应用事项：未知事项"})
	out, err := Annotate([]byte(gbk), "名单.csv", problems)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	a := annotated{problems, x}
	rows, err := x.GetRows("名单")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"名单"},
		nil,
		{"姓名", "身份证号", "应用事项", "错误说明"},
		{"陈小明", id1, "评优评先"},
		{"李\n四", "123", "", "身份证号：长度应为18位，现为3位"},
		{"王五", id3, "未知事项", "应用事项：未知的应用事项：未知事项"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n%q\nwant\n%q", rows, want)
	}
	// IDs stay text, and the ID column is formatted as text for retyping.
	if typ, _ := x.GetCellType("名单", "B4"); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
		t.Errorf("B4 type = %v, want text", typ)
	}
	if st := a.style(t, "名单", "B9"); st.NumFmt != 49 {
		t.Errorf("ID column number format = %d, want 49 (text)", st.NumFmt)
	}
	for ref, want := range map[string]bool{"B5": true, "C6": true, "A5": false, "B6": false} {
		if got := highlighted(a.style(t, "名单", ref)); got != want {
			t.Errorf("%s highlighted = %v, want %v", ref, got, want)
		}
	}
}

func TestAnnotateRefused(t *testing.T) {
	for _, name := range []string{"old.xls", "encrypted.xlsx", "report.pdf", "empty.csv", "not-a-workbook.xlsx"} {
		data, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Annotate(data, name, Problems{{Message: "x"}}); !errors.Is(err, ErrNotAnnotatable) {
			t.Errorf("%s: error = %v, want ErrNotAnnotatable", name, err)
		}
	}
}
