package roster

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Valid IDs (check digits computed by hand).
const (
	id1 = "420202198001011237"
	id2 = "11010519491231002X"
	id3 = "320106199003074515"
)

// newXLSX builds a workbook in memory; fill writes the cells of Sheet1.
func newXLSX(t *testing.T, fill func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	fill(f)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// setRows writes text cells from row 1 down; "" leaves a cell empty.
func setRows(t *testing.T, f *excelize.File, sheet string, rows [][]string) {
	t.Helper()
	for i, r := range rows {
		for j, v := range r {
			if v == "" {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr(sheet, ref, v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var p Problems
	if !errors.As(err, &p) {
		t.Fatalf("error = %v, want Problems", err)
	}
	return p
}

func TestReadXLSX(t *testing.T) {
	data := newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{
			{"2026年公职人员招录资格审查人员名单"},
			{},
			{"序号", "姓　名", "身份证号码\u00a0", "应用事项"},
			{"1", "陈小明", id1, "公职人员招录（聘）及考核"},
			{},
			{"2", "阿沛・阿旺晋美", strings.ToLower(id2), ""},
			{"3", "", "", "优秀政协委员评选"}, // no person: skipped
			{"4", "王　五", id3, "优秀政协委员评选"},
		})
		if err := f.MergeCell("Sheet1", "A1", "D1"); err != nil {
			t.Fatal(err)
		}
	})
	res, err := Read(bytes.NewReader(data), "名单.XLSX", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Rows
	want := []Row{
		{Line: 4, Name: "陈小明", IDNumber: id1, Item: "公职人员招录（聘）及考核"},
		{Line: 6, Name: "阿沛·阿旺晋美", IDNumber: id2},
		{Line: 8, Name: "王五", IDNumber: id3, Item: "优秀政协委员评选"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v\nwant   %+v", rows, want)
	}
}

func TestReadXLSXFirstNonEmptySheet(t *testing.T) {
	data := newXLSX(t, func(f *excelize.File) {
		if _, err := f.NewSheet("名单"); err != nil {
			t.Fatal(err)
		}
		setRows(t, f, "名单", [][]string{{"被核查人", "身份证"}, {"陈小明", id1}})
	})
	res, err := Read(bytes.NewReader(data), "a.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sheet != "名单" {
		t.Errorf("sheet = %q, want 名单", res.Sheet)
	}
	if want := []Row{{Line: 2, Name: "陈小明", IDNumber: id1}}; !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("rows = %+v, want %+v", res.Rows, want)
	}
}

func TestReadXLSXNumericID(t *testing.T) {
	data := newXLSX(t, func(f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{{"姓名", "身份证号"}, {"陈小明"}, {"李四"}, {"张三", "420202198001031000"}})
		// What Excel stores when an ID is typed into a General cell.
		if err := f.SetCellValue("Sheet1", "B2", 4.20202198001011e17); err != nil {
			t.Fatal(err)
		}
		// A 15-digit old ID survives as a number, but the column is still
		// wrong; shown in scientific notation it is still 15 digits.
		if err := f.SetCellValue("Sheet1", "B3", 420202800101123); err != nil {
			t.Fatal(err)
		}
		setRows(t, f, "Sheet1", [][]string{4: {"王五"}, 5: {"赵六"}})
		sci, err := f.NewStyle(&excelize.Style{NumFmt: 11}) // 0.00E+00
		if err != nil {
			t.Fatal(err)
		}
		for ref, v := range map[string]any{"B5": 110105491231002, "B6": 42020280010112} { // 15 and 14 digits
			if err := f.SetCellValue("Sheet1", ref, v); err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellStyle("Sheet1", ref, ref, sci); err != nil {
				t.Fatal(err)
			}
		}
	})
	_, err := Read(bytes.NewReader(data), "a.xlsx", Options{})
	want := Problems{
		{Sheet: "Sheet1", Row: 2, Field: "身份证号", Message: msgIDIsNumber},
		{Sheet: "Sheet1", Row: 3, Field: "身份证号", Message: msgOldIDIsNumber},
		{Sheet: "Sheet1", Row: 5, Field: "身份证号", Message: msgOldIDIsNumber},
		{Sheet: "Sheet1", Row: 6, Field: "身份证号", Message: msgIDIsNumber},
	}
	if got := problemsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %+v\nwant %+v", got, want)
	}
	for _, msg := range []string{msgIDIsNumber, msgOldIDIsNumber, msgIDEnds000} {
		if !strings.Contains(msg, "设置为文本格式") {
			t.Errorf("%q does not tell the clerk to format the column as text", msg)
		}
	}
	if !strings.Contains(msgIDIsNumber, "无法还原") || strings.Contains(msgOldIDIsNumber, "无法还原") || !strings.Contains(msgOldIDIsNumber, "15位的旧号码没有受损") {
		t.Error("only an 18-digit number has lost digits")
	}
}

const csvText = "2026年评优评先推荐人员名单,,\r\n" +
	"姓名,身份证号,应用事项\r\n" +
	"陈小明," + id1 + ",评优评先\r\n" +
	",,\r\n" +
	"\r\n" +
	"王五," + id3 + ",\r\n"

func TestReadCSVEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csvText)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"utf8":    []byte(csvText),
		"utf8bom": append([]byte("\xEF\xBB\xBF"), csvText...),
		"gbk":     []byte(gbk),
	}
	want := []Row{
		{Line: 3, Name: "陈小明", IDNumber: id1, Item: "评优评先"},
		{Line: 6, Name: "王五", IDNumber: id3},
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			res, err := Read(bytes.NewReader(data), "名单.csv", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Rows, want) {
				t.Errorf("rows = %+v\nwant %+v", res.Rows, want)
			}
		})
	}
}

func TestReadCSVRowNumbers(t *testing.T) {
	// A quoted cell with line breaks is one Excel row; blank lines are rows
	// too. (A line break inside a name is white space, dropped.)
	text := "\"名单\n（第一批）\"\n" +
		"姓名,身份证号\n" +
		"\n" +
		"陈小明,\"" + id1 + "\"\n" +
		"\"王\n五\",123\n" +
		"李四,420202198001011238\n"
	_, err := Read(strings.NewReader(text), "a.csv", Options{})
	want := Problems{
		{Row: 5, Field: "身份证号", Message: "长度应为18位，现为3位"},
		{Row: 6, Field: "身份证号", Message: "校验位错误（最后一位与前17位不符），请核对是否录错"},
	}
	if got := problemsOf(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %+v\nwant %+v", got, want)
	}
}

func TestReadBadRows(t *testing.T) {
	text := "核查名单\n" +
		"序号,查询对象,公民身份号码,应用事项\n" +
		"1,陈小明," + id1 + ",公职人员招录\n" +
		"2,,420202198001011238,公职人员招录\n" +
		"3,李4,420202199902301236,公职人员招录\n" +
		"4,张三,4.20202198001011E+17,公职人员招录\n" +
		"5,赵六,420202198001011000,公职人员招录\n" +
		"6,钱七,100202198001011232,公职人员招录\n" +
		"7,陈小明," + strings.ToLower(id1) + ",公职人员招录\n" +
		"8,陈小明," + id1 + ",评优评先\n" +
		"9,孙八,,公职人员招录\n" +
		"10,周九,４２０２０２８００１０１１２３,公职人员招录\n"
	_, err := Read(strings.NewReader(text), "a.csv", Options{})
	want := Problems{
		{Row: 4, Field: "查询对象", Message: "未填写姓名"},
		{Row: 4, Field: "公民身份号码", Message: "校验位错误（最后一位与前17位不符），请核对是否录错"},
		{Row: 5, Field: "查询对象", Message: "姓名不能包含数字"},
		{Row: 5, Field: "公民身份号码", Message: "出生日期无效（第7至14位不是有效的出生日期）"},
		{Row: 6, Field: "公民身份号码", Message: msgIDIsNumber},
		{Row: 7, Field: "公民身份号码", Message: msgIDEnds000},
		{Row: 8, Field: "公民身份号码", Message: "地区码无效（前两位不是有效的省份代码）"},
		{Row: 9, Field: "公民身份号码", Message: fmt.Sprintf(msgDuplicate, 3)},
		{Row: 11, Field: "公民身份号码", Message: "未填写身份证号"},
		{Row: 12, Field: "公民身份号码", Message: fmt.Sprintf(msgSameIDOtherName, 3)},
	}
	got := problemsOf(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%+v\nwant\n%+v", got, want)
	}
	for _, p := range got {
		for _, id := range []string{id1, "420202198001011238", "420202199902301236", "100202198001011232"} {
			if strings.Contains(p.Message, id) || strings.Contains(p.Message, id[6:14]) {
				t.Errorf("problem message holds ID data: %q", p.Message)
			}
		}
	}
}

func TestReadFileProblems(t *testing.T) {
	validCSV := "姓名,身份证号\n陈小明," + id1 + "\n"
	tests := []struct {
		name, filename string
		data           []byte
		want           Problems
	}{
		{"xls", "名单.xls", []byte("\xD0\xCF\x11\xE0"), Problems{{Message: msgOldXLS}}},
		{"XLS upper case", "名单.XLS", []byte(validCSV), Problems{{Message: msgOldXLS}}},
		{"pdf", "名单.pdf", []byte("%PDF-1.7\n"), Problems{{Message: msgBadExt}}},
		{"no extension", "名单", []byte(validCSV), Problems{{Message: msgBadExt}}},
		{"missing ID column", "a.csv", []byte("姓名,手机号\n陈小明,13800000000\n"),
			Problems{{Field: "身份证号", Message: msgNoID}}},
		{"missing name column", "a.csv", []byte("序号,身份证号\n1," + id1 + "\n"),
			Problems{{Field: "姓名", Message: msgNoName}}},
		{"no header", "a.csv", []byte("陈小明," + id1 + "\n"),
			Problems{{Field: "姓名", Message: msgNoName}, {Field: "身份证号", Message: msgNoID}}},
		{"header only", "a.csv", []byte("姓名,身份证号\n,\n\n"), Problems{{Message: msgNoRows}}},
		{"empty csv", "a.csv", []byte("\xEF\xBB\xBF\n,,\n"), Problems{{Message: msgEmptyFile}}},
		{"empty xlsx", "a.xlsx", newXLSX(t, func(*excelize.File) {}), Problems{{Message: msgEmptyFile}}},
		{"not a zip", "a.xlsx", []byte(validCSV), Problems{{Message: msgBadXLSX}}},
		{"unknown encoding", "a.csv", []byte("\xFF\xFF,\xFF\n"), Problems{{Message: msgEncoding}}},
		{"too big", "a.csv", bytes.Repeat([]byte("a"), MaxFileBytes+1), Problems{{Message: msgTooBig}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Read(bytes.NewReader(tt.data), tt.filename, Options{})
			if res.Rows != nil {
				t.Errorf("rows = %v, want none", res.Rows)
			}
			if got := problemsOf(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// manyRows builds a CSV of n distinct valid people (odd sequence numbers,
// so no ID ends in 000).
func manyRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("姓名,身份证号\n")
	day := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		first17 := fmt.Sprintf("420202%s%03d", day.AddDate(0, 0, i/500).Format("20060102"), i%500*2+1)
		fmt.Fprintf(&b, "陈小明,%s%c\n", first17, checkDigit(first17))
	}
	return b.Bytes()
}

func TestReadRowLimit(t *testing.T) {
	res, err := Read(bytes.NewReader(manyRows(MaxRows)), "a.csv", Options{})
	if err != nil || len(res.Rows) != MaxRows {
		t.Fatalf("%d rows: got %d rows, error %v", MaxRows, len(res.Rows), err)
	}
	if res.Rows[MaxRows-1].Line != MaxRows+1 {
		t.Errorf("last line = %d", res.Rows[MaxRows-1].Line)
	}
	_, err = Read(bytes.NewReader(manyRows(MaxRows+1)), "a.csv", Options{})
	if got, want := problemsOf(t, err), (Problems{{Message: msgTooManyRows}}); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %+v, want %+v", got, want)
	}
}

func TestReadReaderError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Read(iotest.ErrReader(boom), "a.csv", Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want wrapped boom", err)
	}
	var p Problems
	if errors.As(err, &p) {
		t.Error("a failing reader is not the clerk's problem")
	}
}

func TestProblemsError(t *testing.T) {
	p := Problems{
		{Message: msgNoRows},
		{Row: 3, Field: "身份证号", Message: "未填写身份证号"},
	}
	want := "roster: " + msgNoRows + "；第3行“身份证号”：未填写身份证号"
	if got := p.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var many Problems
	for i := range 12 {
		many = append(many, Problem{Row: i + 2, Field: "姓名", Message: "未填写姓名"})
	}
	if got := many.Error(); !strings.HasSuffix(got, "第11行“姓名”：未填写姓名；……共12个问题") {
		t.Errorf("Error() = %q", got)
	}
}
