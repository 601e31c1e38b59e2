package roster

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// openXLSX checks the zip, then opens it with excelize.
func openXLSX(data []byte) (*excelize.File, Problems) {
	if p := checkZip(data); p != nil {
		return nil, p
	}
	// A worksheet above UnzipXMLSizeLimit would be unzipped to a temporary
	// file: with the limit as high as the whole (checked) archive, no name or
	// ID number is ever written to disk outside the ledger.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: maxUnzipBytes, UnzipXMLSizeLimit: maxUnzipBytes})
	if err != nil {
		return nil, fileProblem(msgBadXLSX)
	}
	return f, nil
}

// readXLSX reads the sheet of an .xlsx the clerk named, or the first with a
// header row.
func readXLSX(data []byte, sheet string) (t *table, h header, problems Problems) {
	f, problems := openXLSX(data)
	if problems != nil {
		return nil, header{}, problems
	}
	defer f.Close()
	// excelize parses untrusted XML: a file that makes it panic is a
	// damaged file, not a reason to take the daemon down.
	defer func() {
		if recover() != nil {
			t, h, problems = nil, header{}, fileProblem(msgBadXLSX)
		}
	}()
	t, h, problems = selectSheet(f, sheet)
	if problems != nil {
		return t, h, problems
	}
	if err := markNumbers(f, t, h); err != nil {
		return nil, header{}, fileProblem(msgBadXLSX)
	}
	return t, h, nil
}

// selectSheet reads the sheet named want, or without a name the first
// sheet with a header row. When no sheet has a header it returns the first
// non-blank one with the header problems.
func selectSheet(f *excelize.File, want string) (*table, header, Problems) {
	names := f.GetSheetList()
	if want != "" {
		i := slices.Index(names, want)
		if i < 0 {
			i = slices.IndexFunc(names, func(n string) bool { return foldLabel(n) == foldLabel(want) })
		}
		if i < 0 {
			return nil, header{}, fileProblem(fmt.Sprintf(msgNoSheet, want, strings.Join(names, "、")))
		}
		t, problems := readSheet(f, names[i])
		if problems != nil {
			return nil, header{}, problems
		}
		if len(t.rows) == 0 {
			return nil, header{}, fileProblem(fmt.Sprintf(msgEmptySheet, names[i]))
		}
		h, problems := findHeader(t)
		return t, h, problems
	}
	var first *table
	var firstProblems Problems
	for _, name := range names {
		t, problems := readSheet(f, name)
		if problems != nil {
			return nil, header{}, problems
		}
		if len(t.rows) == 0 {
			continue
		}
		h, problems := findHeader(t)
		if problems == nil {
			return t, h, nil
		}
		if first == nil {
			first, firstProblems = t, problems
		}
	}
	if first == nil {
		return nil, header{}, fileProblem(msgEmptyFile)
	}
	return first, header{}, firstProblems
}

// readSheet reads the non-blank rows of a worksheet and its merged areas,
// filling areas merged downwards with their value.
func readSheet(f *excelize.File, name string) (*table, Problems) {
	it, err := f.Rows(name)
	if err != nil {
		return nil, fileProblem(msgBadXLSX)
	}
	defer it.Close()
	t := &table{sheet: name, typed: true}
	for line := 1; it.Next(); line++ {
		cells, err := it.Columns()
		if err != nil {
			return nil, fileProblem(msgBadXLSX)
		}
		r := sheetRow{line: line, cells: clip(cells)}
		if r.blank() {
			continue
		}
		if len(t.rows) == readRowCap {
			return nil, fileProblem(msgTooManyRows)
		}
		t.rows = append(t.rows, r)
	}
	if it.Error() != nil {
		return nil, fileProblem(msgBadXLSX)
	}
	merged, err := f.GetMergeCells(name, true)
	if err != nil {
		return nil, fileProblem(msgBadXLSX)
	}
	for _, m := range merged {
		a, ok := parseArea(m.GetStartAxis(), m.GetEndAxis())
		if ok {
			t.merges = append(t.merges, a)
		}
	}
	t.fillDown()
	return t, nil
}

// markNumbers records which ID cells Excel stores as numbers: Excel keeps
// 15 significant digits of a number, so such an ID is damaged whatever it
// looks like now.
func markNumbers(f *excelize.File, t *table, h header) error {
	t.numberIDs = map[int]string{}
	col := h.cols[fieldID]
	for _, r := range t.rows[h.next:] {
		if textID(r.cell(col)) == "" {
			continue
		}
		ref, err := excelize.CoordinatesToCellName(col+1, r.line)
		if err != nil {
			return err
		}
		typ, err := f.GetCellType(t.sheet, ref)
		if err != nil {
			return err
		}
		// No type attribute is a number too, Excel's default.
		if typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
			raw, err := f.GetCellValue(t.sheet, ref, excelize.Options{RawCellValue: true})
			if err != nil {
				return err
			}
			t.numberIDs[r.line] = raw
		}
	}
	return nil
}

// area is a merged range of cells: lines top to bottom, 0-based columns
// left to right.
type area struct{ top, bottom, left, right int }

func parseArea(from, to string) (area, bool) {
	c1, r1, err1 := excelize.CellNameToCoordinates(from)
	c2, r2, err2 := excelize.CellNameToCoordinates(to)
	if err1 != nil || err2 != nil {
		return area{}, false
	}
	return area{top: min(r1, r2), bottom: max(r1, r2), left: min(c1, c2) - 1, right: max(c1, c2) - 1}, true
}

// fillDown copies the value of every area merged over several rows into
// all its cells: clerks merge a person's item, or the person, over the rows
// it applies to. Areas within one row are left alone: in the data they are
// section titles, not people; in the header findHeader reads them.
func (t *table) fillDown() {
	budget := 1 << 20 // cells filled, so that a huge area cannot fill memory
	for _, a := range t.merges {
		if a.top == a.bottom {
			continue
		}
		i, found := t.find(a.top)
		if !found {
			continue
		}
		v := t.rows[i].cell(a.left)
		if trimSpace(v) == "" {
			continue
		}
		for ; i < len(t.rows) && t.rows[i].line <= a.bottom; i++ {
			r := &t.rows[i]
			for col := a.left; col <= min(a.right, maxCols-1); col++ {
				if r.cell(col) != "" {
					continue
				}
				if budget--; budget < 0 {
					return
				}
				for len(r.cells) <= col {
					r.cells = append(r.cells, "")
				}
				r.cells[col] = v
			}
		}
	}
}

// find returns the index of the row with this line, or where it would be.
func (t *table) find(line int) (int, bool) {
	return slices.BinarySearchFunc(t.rows, line, func(r sheetRow, line int) int { return r.line - line })
}
