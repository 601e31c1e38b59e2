// Package workbook writes the filing workbook (信用信息核查应用情况登记表,
// Attachment 2 of the plan) that goes to the city credit office, and the
// ledger (台账) export.
//
// Every value is written as a string cell, never a formula or a number, so a
// name starting with = stays text and an ID number keeps all 18 characters.
// Sheets are streamed: a workbook of ten thousand rows is written without
// building the sheet in memory.
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

const (
	title   = "信用信息核查应用情况登记表"
	a4Paper = 9  // paper size code of A4 in SpreadsheetML
	textFmt = 49 // the "@" number format: the cell is text
)

// column is one column of a sheet: its header and its width in characters
// (a Chinese character counts 2).
type column struct {
	header string
	width  float64
}

// sheet is the layout of one sheet: a header row, repeated at the top of
// every printed page and frozen on screen, over the data rows.
type sheet struct {
	name      string
	headerRow int // 1-based
	idCol     int // 1-based column of the ID numbers, formatted as text
	columns   []column
}

// lastCol names the sheet's last column.
func (s sheet) lastCol() string {
	name, _ := excelize.ColumnNumberToName(len(s.columns))
	return name
}

// formSheet is Attachment 2: title, unit, handler and phone above the seven
// columns of the form, in its order.
var formSheet = sheet{name: "登记表", headerRow: 4, idCol: 3, columns: []column{
	{"应用事项", 30},
	{"查询对象", 12},
	{"查询对象身份识别码（个人身份证号码）", 22},
	{"查询渠道", 24},
	{"查询结果", 26},
	{"查询时间", 16},
	{"应用措施", 20},
}}

// recordSheet lists the records behind each hit of the form.
var recordSheet = sheet{name: "失信记录", headerRow: 2, idCol: 2, columns: []column{
	{"查询对象", 12},
	{"查询对象身份识别码（个人身份证号码）", 22},
	{"案号", 30},
	{"执行法院", 28},
	{"立案时间", 16},
	{"发布时间", 16},
}}

const recordTitle = "失信被执行人记录"

// chinaTime is Beijing time; China has had no daylight saving since 1991,
// so a fixed zone needs no tz database on the host.
var chinaTime = time.FixedZone("Asia/Shanghai", 8*60*60)

// Filing is the content of one filing workbook.
type Filing struct {
	Unit, Handler, Phone string // 单位, 经办人, 联系电话
	Rows                 []Row
	// Records adds the sheet 失信记录: the records behind each hit.
	Records bool
	// MaskIDs shows ID numbers as 420202********1234 on every sheet, for a
	// copy that is shared. The official filing (the default) has them in full.
	MaskIDs bool
}

// Row is one line of the form.
type Row struct {
	Item, Name, IDNumber, Result string // 应用事项, 查询对象, 身份证号, 查询结果
	QueriedAt                    time.Time
	Measure                      string // 应用措施
	// Records are the site's records for this person; the 失信记录 sheet
	// lists those whose Match is hit.
	Records []shixincheck.Record
}

// styles are the cell styles of every sheet.
type styles struct {
	title, line, header, data, id int
}

// Write writes f as an .xlsx workbook to w.
func Write(w io.Writer, f Filing) error {
	x, st, err := newFile(formSheet.name)
	if err != nil {
		return err
	}
	defer x.Close()
	if err := addSheet(x, st, formSheet, func(sw *excelize.StreamWriter) error { return writeForm(sw, st, f) }); err != nil {
		return err
	}
	if f.Records {
		if err := addSheet(x, st, recordSheet, func(sw *excelize.StreamWriter) error { return writeRecords(sw, st, f) }); err != nil {
			return err
		}
	}
	if err := x.Write(w); err != nil {
		return fmt.Errorf("workbook: write file: %w", err)
	}
	return nil
}

// newFile starts a workbook whose first sheet is named first.
func newFile(first string) (*excelize.File, styles, error) {
	x := excelize.NewFile()
	if err := x.SetSheetName(x.GetSheetName(0), first); err != nil {
		x.Close()
		return nil, styles{}, fmt.Errorf("workbook: name sheet: %w", err)
	}
	st, err := newStyles(x)
	if err != nil {
		x.Close()
		return nil, styles{}, fmt.Errorf("workbook: styles: %w", err)
	}
	return x, st, nil
}

// addSheet sets up the sheet s for print and streams its rows with fill.
func addSheet(x *excelize.File, st styles, s sheet, fill func(*excelize.StreamWriter) error) error {
	if _, err := x.NewSheet(s.name); err != nil {
		return fmt.Errorf("workbook: sheet %s: %w", s.name, err)
	}
	// Page setup goes before the stream writer: it writes sheetPr first.
	if err := setupPage(x, s); err != nil {
		return fmt.Errorf("workbook: page setup of %s: %w", s.name, err)
	}
	sw, err := x.NewStreamWriter(s.name)
	if err != nil {
		return fmt.Errorf("workbook: sheet %s: %w", s.name, err)
	}
	if err := startSheet(sw, st, s); err != nil {
		return fmt.Errorf("workbook: columns of %s: %w", s.name, err)
	}
	if err := fill(sw); err != nil {
		return fmt.Errorf("workbook: write sheet %s: %w", s.name, err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("workbook: flush sheet %s: %w", s.name, err)
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

// setupPage prints s on A4 landscape, all columns on one page width, with
// the header row repeated on every page.
func setupPage(x *excelize.File, s sheet) error {
	fit := true
	if err := x.SetSheetProps(s.name, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	size, orientation, wide, tall := a4Paper, "landscape", 1, 0 // tall 0: as many pages as needed
	if err := x.SetPageLayout(s.name, &excelize.PageLayoutOptions{
		Size: &size, Orientation: &orientation, FitToWidth: &wide, FitToHeight: &tall,
	}); err != nil {
		return err
	}
	row := strconv.Itoa(s.headerRow)
	return x.SetDefinedName(&excelize.DefinedName{
		Name:     "_xlnm.Print_Titles",
		RefersTo: "'" + s.name + "'!$" + row + ":$" + row,
		Scope:    s.name,
	})
}

// startSheet sets the column widths, the text format of the ID column and
// the frozen header.
func startSheet(sw *excelize.StreamWriter, st styles, s sheet) error {
	// Text format on the whole ID column, so rows a clerk adds by hand
	// keep their 18 characters too.
	if err := sw.SetColStyle(s.idCol, s.idCol, st.id); err != nil {
		return err
	}
	// The stream writer emits <col> elements newest first and Excel wants
	// them in ascending order: set the widths from the last column back.
	for i := len(s.columns) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, s.columns[i].width); err != nil {
			return err
		}
	}
	return sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: s.headerRow, TopLeftCell: "A" + strconv.Itoa(s.headerRow+1), ActivePane: "bottomLeft",
	})
}

// writeHeader writes the column headers of s in its header row.
func writeHeader(sw *excelize.StreamWriter, st styles, s sheet) error {
	cells := make([]any, len(s.columns))
	for i, c := range s.columns {
		cells[i] = excelize.Cell{StyleID: st.header, Value: c.header}
	}
	return sw.SetRow("A"+strconv.Itoa(s.headerRow), cells, excelize.RowOpts{Height: 42})
}

// dataRows writes rows of values, one per line, below the header of s.
type dataRows struct {
	sw    *excelize.StreamWriter
	s     sheet
	next  int             // row number of the next line
	cells []excelize.Cell // styled once, reused for every line
	row   []any           // points at cells
}

func newDataRows(sw *excelize.StreamWriter, st styles, s sheet) *dataRows {
	d := &dataRows{sw: sw, s: s, next: s.headerRow + 1, cells: make([]excelize.Cell, len(s.columns)), row: make([]any, len(s.columns))}
	for j := range d.cells {
		d.cells[j].StyleID = st.data
		if j+1 == s.idCol {
			d.cells[j].StyleID = st.id
		}
		d.row[j] = &d.cells[j]
	}
	return d
}

func (d *dataRows) add(values ...string) error {
	for j, v := range values {
		d.cells[j].Value = v
	}
	ref := "A" + strconv.Itoa(d.next)
	d.next++
	return d.sw.SetRow(ref, d.row, excelize.RowOpts{Height: rowHeight(d.s.columns, values)})
}

// mergeRows merges each of the given rows of s across all its columns.
func mergeRows(sw *excelize.StreamWriter, s sheet, rows ...int) error {
	for _, r := range rows {
		n := strconv.Itoa(r)
		if err := sw.MergeCell("A"+n, s.lastCol()+n); err != nil {
			return err
		}
	}
	return nil
}

func writeForm(sw *excelize.StreamWriter, st styles, f Filing) error {
	s := formSheet
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
	}
	for i, h := range head {
		if err := sw.SetRow("A"+strconv.Itoa(i+1), h.cells, excelize.RowOpts{Height: h.height}); err != nil {
			return err
		}
	}
	if err := mergeRows(sw, s, 1, 2); err != nil {
		return err
	}
	for _, m := range [][2]string{{"A3", "C3"}, {"D3", s.lastCol() + "3"}} {
		if err := sw.MergeCell(m[0], m[1]); err != nil {
			return err
		}
	}
	if err := writeHeader(sw, st, s); err != nil {
		return err
	}
	d := newDataRows(sw, st, s)
	for _, r := range f.Rows {
		if err := d.add(r.Item, r.Name, showID(r.IDNumber, f.MaskIDs), shixincheck.Channel, r.Result, formatDate(r.QueriedAt), r.Measure); err != nil {
			return err
		}
	}
	return nil
}

func writeRecords(sw *excelize.StreamWriter, st styles, f Filing) error {
	s := recordSheet
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: recordTitle}}, excelize.RowOpts{Height: 36}); err != nil {
		return err
	}
	if err := mergeRows(sw, s, 1); err != nil {
		return err
	}
	if err := writeHeader(sw, st, s); err != nil {
		return err
	}
	d := newDataRows(sw, st, s)
	for _, r := range f.Rows {
		for _, rec := range r.Records {
			if rec.Match != shixincheck.MatchHit {
				continue
			}
			if err := d.add(r.Name, showID(r.IDNumber, f.MaskIDs), rec.CaseCode, rec.CourtName, rec.RegDate, rec.PublishDate); err != nil {
				return err
			}
		}
	}
	return nil
}

// showID is an ID number as a workbook shows it: masked for a shared copy.
func showID(id string, masked bool) string {
	if masked {
		return shixincheck.MaskID(id)
	}
	return id
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
func rowHeight(columns []column, values []string) float64 {
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
