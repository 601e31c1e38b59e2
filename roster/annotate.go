package roster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ErrNotAnnotatable is returned by Annotate for a file it cannot copy: not
// a workbook or text table, too big, or with no content.
var ErrNotAnnotatable = errors.New("the file cannot be annotated")

// errorHeader heads the column Annotate adds.
const errorHeader = "错误说明"

// Colours of annotations (ARGB without alpha, as excelize takes them).
const (
	problemFill = "FFC7CE" // Excel's "bad" cell fill
	problemFont = "9C0006"
)

// Annotate returns a copy of the clerk's file with the problems in it, so
// they can be fixed in place: a column 错误说明 after the last used column
// holds each row's messages, the cells at fault are highlighted, and
// problems with the file as a whole are on the header row. A workbook keeps
// everything else as it was; a text file comes back as an .xlsx with the
// same rows. The worksheet is the one the problems name (Problem.Sheet),
// else the one Read would choose.
func Annotate(data []byte, filename string, problems Problems) ([]byte, error) {
	k, sep, p := sniff(data, filename)
	if p != nil {
		return nil, fmt.Errorf("roster: annotate: %w", ErrNotAnnotatable)
	}
	var out []byte
	var err error
	if k == kindXLSX {
		out, err = annotateXLSX(data, problems)
	} else {
		out, err = annotateText(data, sep, problems)
	}
	if err != nil {
		return nil, fmt.Errorf("roster: annotate: %w", err)
	}
	return out, nil
}

func annotateXLSX(data []byte, problems Problems) (out []byte, err error) {
	f, p := openXLSX(data)
	if p != nil {
		return nil, ErrNotAnnotatable
	}
	defer f.Close()
	defer func() {
		if recover() != nil { // see readXLSX
			out, err = nil, ErrNotAnnotatable
		}
	}()
	var t *table
	var h header
	if sheet := sheetOf(problems); sheet != "" {
		t, h, p = selectSheet(f, sheet)
	}
	if t == nil {
		t, h, p = selectSheet(f, "")
	}
	if t == nil {
		return nil, ErrNotAnnotatable
	}
	if err := mark(f, t, h, p == nil, problems); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// sheetOf returns the worksheet the problems were found in.
func sheetOf(problems Problems) string {
	for _, p := range problems {
		if p.Sheet != "" {
			return p.Sheet
		}
	}
	return ""
}

// annotateText writes the rows of a text file to a new workbook, every
// cell as text, on the lines the problems give, and marks it.
func annotateText(data []byte, sep rune, problems Problems) ([]byte, error) {
	t, p := readText(data, sep)
	if p != nil {
		return nil, ErrNotAnnotatable
	}
	h, p := findHeader(t)
	f := excelize.NewFile()
	defer f.Close()
	t.sheet = "名单"
	if err := f.SetSheetName(f.GetSheetName(0), t.sheet); err != nil {
		return nil, fmt.Errorf("name sheet: %w", err)
	}
	if p == nil {
		// Text format on the ID column, so that IDs typed again stay text.
		text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
		if err != nil {
			return nil, fmt.Errorf("style: %w", err)
		}
		col, _ := excelize.ColumnNumberToName(h.cols[fieldID] + 1)
		if err := f.SetColStyle(t.sheet, col, text); err != nil {
			return nil, fmt.Errorf("style: %w", err)
		}
	}
	for _, r := range t.rows {
		for col, v := range r.cells {
			if v == "" {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(col+1, r.line)
			if err := f.SetCellStr(t.sheet, ref, v); err != nil {
				return nil, fmt.Errorf("write cell: %w", err)
			}
		}
	}
	if err := mark(f, t, h, p == nil, problems); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("write workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// mark adds the error column to the sheet of t and highlights the cells at
// fault. found says h is a header found in t.
func mark(f *excelize.File, t *table, h header, found bool, problems Problems) error {
	last := 0 // columns used
	for _, r := range t.rows {
		last = max(last, len(r.cells))
	}
	for _, a := range t.merges {
		last = max(last, min(a.right+1, maxCols))
	}
	errCol, err := excelize.ColumnNumberToName(last + 1)
	if err != nil {
		return fmt.Errorf("error column: %w", err)
	}
	headerLine := t.rows[0].line
	if found {
		headerLine = h.top
	}
	styles, err := newMarkStyles(f)
	if err != nil {
		return err
	}
	messages := map[int][]string{}
	for _, p := range problems {
		line := p.Row
		if line <= 0 {
			line = headerLine
		}
		msg := p.Message
		if p.Field != "" {
			msg = p.Field + "：" + msg
		}
		messages[line] = append(messages[line], msg)
		if p.Row <= 0 || !found {
			continue
		}
		if col := h.columnOf(p.Field); col >= 0 {
			if err := styles.highlight(f, t.sheet, col+1, p.Row); err != nil {
				return err
			}
		}
	}
	head := errorHeader
	if m := messages[headerLine]; len(m) > 0 {
		head += "：" + strings.Join(m, "；")
	}
	messages[headerLine] = []string{head}
	for line, m := range messages {
		ref := errCol + fmt.Sprint(line)
		style := styles.message
		if line == headerLine {
			style = styles.header
		}
		if err := f.SetCellStr(t.sheet, ref, strings.Join(m, "；")); err != nil {
			return fmt.Errorf("write error column: %w", err)
		}
		if err := f.SetCellStyle(t.sheet, ref, ref, style); err != nil {
			return fmt.Errorf("style error column: %w", err)
		}
	}
	if err := f.SetColWidth(t.sheet, errCol, errCol, 60); err != nil {
		return fmt.Errorf("error column width: %w", err)
	}
	return nil
}

// markStyles are the styles of the error column, and the highlighted
// variants of the clerk's own cell styles, made once each.
type markStyles struct {
	header, message int
	highlighted     map[int]int // clerk's style -> the same with the problem fill
}

func newMarkStyles(f *excelize.File) (*markStyles, error) {
	fill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{problemFill}}
	align := &excelize.Alignment{Vertical: "center", WrapText: true}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: problemFont}, Fill: fill, Alignment: align})
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	message, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: problemFont}, Fill: fill, Alignment: align})
	if err != nil {
		return nil, fmt.Errorf("style: %w", err)
	}
	return &markStyles{header: header, message: message, highlighted: map[int]int{}}, nil
}

// highlight gives a cell the problem fill, keeping its number format,
// font and borders.
func (s *markStyles) highlight(f *excelize.File, sheet string, col, line int) error {
	ref, err := excelize.CoordinatesToCellName(col, line)
	if err != nil {
		return fmt.Errorf("highlight: %w", err)
	}
	own, err := f.GetCellStyle(sheet, ref)
	if err != nil {
		return fmt.Errorf("highlight: %w", err)
	}
	id, ok := s.highlighted[own]
	if !ok {
		st, err := f.GetStyle(own)
		if err != nil {
			return fmt.Errorf("highlight: %w", err)
		}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{problemFill}}
		if id, err = f.NewStyle(st); err != nil {
			return fmt.Errorf("highlight: %w", err)
		}
		s.highlighted[own] = id
	}
	if err := f.SetCellStyle(sheet, ref, ref, id); err != nil {
		return fmt.Errorf("highlight: %w", err)
	}
	return nil
}
