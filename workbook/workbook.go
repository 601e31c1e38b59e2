// Package workbook writes the filing workbook (信用信息核查应用情况登记表,
// Attachment 2 of the plan) that goes to the city credit office.
package workbook

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"

	"github.com/shixincheck/shixincheck"
)

// Layout of the sheet.
const (
	sheetName = "登记表"
	title     = "信用信息核查应用情况登记表"
	headerRow = 4 // repeated at the top of every printed page
	lastCol   = "G"
	idCol     = 3 // column C: 查询对象身份识别码
	a4Paper   = 9 // paper size code of A4 in SpreadsheetML
	textFmt   = 49
)

// columns are the headers of Attachment 2, in order, with their widths in
// characters (a Chinese character counts 2).
var columns = []struct {
	header string
	width  float64
}{
	{"应用事项", 30},
	{"查询对象", 12},
	{"查询对象身份识别码（个人身份证号码）", 22},
	{"查询渠道", 24},
	{"查询结果", 26},
	{"查询时间", 16},
	{"应用措施", 20},
}

// chinaTime is Beijing time; China has had no daylight saving since 1991,
// so a fixed zone needs no tz database on the host.
var chinaTime = time.FixedZone("Asia/Shanghai", 8*60*60)

// Filing is the content of one filing workbook.
type Filing struct {
	Unit, Handler, Phone string // 单位, 经办人, 联系电话
	Rows                 []Row
}

// Row is one line of the form. Name and IDNumber are written in full: the
// filing is the official record (masking is for screens and logs).
type Row struct {
	Item, Name, IDNumber, Result string // 应用事项, 查询对象, 身份证号, 查询结果
	QueriedAt                    time.Time
	Measure                      string // 应用措施
}

// styles are the cell styles of the sheet.
type styles struct {
	title, line, header, data, id int
}

// Write writes f as an .xlsx workbook to w. Every value is written as a
// string cell, never a formula or a number, so a name starting with = stays
// text and an ID number keeps all 18 characters.
func Write(w io.Writer, f Filing) error {
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName(x.GetSheetName(0), sheetName); err != nil {
		return fmt.Errorf("workbook: name sheet: %w", err)
	}
	st, err := newStyles(x)
	if err != nil {
		return fmt.Errorf("workbook: styles: %w", err)
	}
	// Page setup goes before the stream writer: it writes sheetPr first.
	if err := setupPage(x); err != nil {
		return fmt.Errorf("workbook: page setup: %w", err)
	}
	sw, err := x.NewStreamWriter(sheetName)
	if err != nil {
		return fmt.Errorf("workbook: %w", err)
	}
	if err := writeSheet(sw, st, f); err != nil {
		return fmt.Errorf("workbook: write sheet: %w", err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("workbook: flush sheet: %w", err)
	}
	if err := x.Write(w); err != nil {
		return fmt.Errorf("workbook: write file: %w", err)
	}
	return nil
}

func newStyles(x *excelize.File) (styles, error) {
	const font = "宋体"
	border := []excelize.Border{
		{Type: "left", Color: "000000", Style: 1},
		{Type: "top", Color: "000000", Style: 1},
		{Type: "right", Color: "000000", Style: 1},
		{Type: "bottom", Color: "000000", Style: 1},
	}
	boxed := &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}
	defs := []*excelize.Style{
		{Font: &excelize.Font{Bold: true, Size: 18, Family: font}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}},
		{Font: &excelize.Font{Size: 12, Family: font}, Alignment: &excelize.Alignment{Vertical: "center"}},
		{Font: &excelize.Font{Bold: true, Size: 11, Family: font}, Border: border, Alignment: boxed},
		{Font: &excelize.Font{Size: 11, Family: font}, Border: border, Alignment: boxed},
		{Font: &excelize.Font{Size: 11, Family: font}, Border: border, Alignment: boxed, NumFmt: textFmt},
	}
	ids := make([]int, len(defs))
	for i, d := range defs {
		id, err := x.NewStyle(d)
		if err != nil {
			return styles{}, err
		}
		ids[i] = id
	}
	return styles{title: ids[0], line: ids[1], header: ids[2], data: ids[3], id: ids[4]}, nil
}

// setupPage prints on A4 landscape, all columns on one page width, with the
// header row repeated on every page.
func setupPage(x *excelize.File) error {
	fit := true
	if err := x.SetSheetProps(sheetName, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	size, orientation, wide, tall := a4Paper, "landscape", 1, 0 // tall 0: as many pages as needed
	if err := x.SetPageLayout(sheetName, &excelize.PageLayoutOptions{
		Size: &size, Orientation: &orientation, FitToWidth: &wide, FitToHeight: &tall,
	}); err != nil {
		return err
	}
	row := strconv.Itoa(headerRow)
	return x.SetDefinedName(&excelize.DefinedName{
		Name:     "_xlnm.Print_Titles",
		RefersTo: "'" + sheetName + "'!$" + row + ":$" + row,
		Scope:    sheetName,
	})
}

func writeSheet(sw *excelize.StreamWriter, st styles, f Filing) error {
	// Text format on the whole ID column, so rows a clerk adds by hand
	// keep their 18 characters too.
	if err := sw.SetColStyle(idCol, idCol, st.id); err != nil {
		return err
	}
	// The stream writer emits <col> elements newest first and Excel wants
	// them in ascending order: set the widths from the last column back.
	for i := len(columns) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, columns[i].width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: headerRow, TopLeftCell: "A" + strconv.Itoa(headerRow+1), ActivePane: "bottomLeft",
	}); err != nil {
		return err
	}
	head := []struct {
		cells  []any
		height float64
	}{
		{[]any{excelize.Cell{StyleID: st.title, Value: title}}, 36},
		{[]any{excelize.Cell{StyleID: st.line, Value: "单位：" + f.Unit + "（盖章）"}}, 22},
		{[]any{
			excelize.Cell{StyleID: st.line, Value: "经办人：" + f.Handler}, nil, nil,
			excelize.Cell{StyleID: st.line, Value: "联系电话：" + f.Phone},
		}, 22},
		{headerCells(st.header), 42},
	}
	for i, h := range head {
		if err := sw.SetRow("A"+strconv.Itoa(i+1), h.cells, excelize.RowOpts{Height: h.height}); err != nil {
			return err
		}
	}
	for _, m := range [][2]string{{"A1", lastCol + "1"}, {"A2", lastCol + "2"}, {"A3", "C3"}, {"D3", lastCol + "3"}} {
		if err := sw.MergeCell(m[0], m[1]); err != nil {
			return err
		}
	}
	cells := make([]any, len(columns))
	for i, r := range f.Rows {
		values := [...]string{r.Item, r.Name, r.IDNumber, shixincheck.Channel, r.Result, formatDate(r.QueriedAt), r.Measure}
		for j, v := range values {
			style := st.data
			if j+1 == idCol {
				style = st.id
			}
			cells[j] = excelize.Cell{StyleID: style, Value: v}
		}
		row := headerRow + 1 + i
		if err := sw.SetRow("A"+strconv.Itoa(row), cells, excelize.RowOpts{Height: rowHeight(values[:])}); err != nil {
			return err
		}
	}
	return nil
}

func headerCells(style int) []any {
	cells := make([]any, len(columns))
	for i, c := range columns {
		cells[i] = excelize.Cell{StyleID: style, Value: c.header}
	}
	return cells
}

// formatDate writes a query time as the form does: 2026年11月30日, in
// Beijing time. A zero time (no query) is left blank.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format("2006年1月2日")
}

// rowHeight gives a data row room for its wrapped lines: Excel does not
// grow rows by itself when it opens a file.
func rowHeight(values []string) float64 {
	lines := 1
	for i, v := range values {
		// A cell shows about one character less than its width.
		if n := int(math.Ceil(textWidth(v) / (columns[i].width - 1))); n > lines {
			lines = n
		}
	}
	return float64(lines)*14 + 6
}

// textWidth estimates the width of s in Excel characters: wide (Chinese)
// characters take 2.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	return w
}
