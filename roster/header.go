package roster

import (
	"slices"
	"strings"

	"golang.org/x/text/width"
)

// field is a column the reader knows.
type field int

const (
	fieldName field = iota
	fieldID
	fieldItem
	fieldRemark
	numFields
)

// fieldHeaders are the header texts clerks use for each field, compared
// after foldHeader. 查询对象 and 查询对象身份识别码 are the filing form's own.
var fieldHeaders = [numFields][]string{
	fieldName:   {"姓名", "名字", "被核查人", "查询对象", "被核查人姓名", "查询对象姓名"},
	fieldID:     {"身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证", "公民身份证号码", "身份证件号码", "查询对象身份识别码"},
	fieldItem:   {"应用事项"},
	fieldRemark: {"备注"},
}

// fieldOf tells which field a header cell names.
func fieldOf(text string) (field, bool) {
	key := foldHeader(text)
	for f, names := range fieldHeaders {
		if slices.Contains(names, key) {
			return field(f), true
		}
	}
	return 0, false
}

// foldHeader makes header texts comparable: foldLabel, then without the
// star of a required column, a trailing colon or a trailing note in
// brackets: "*身份证号码（18位）：" is "身份证号码".
func foldHeader(s string) string {
	s = strings.Trim(foldLabel(s), "*:")
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	return strings.Trim(s, "*:")
}

// foldLabel makes header and item texts comparable: no spaces at all,
// full-width forms folded to half-width.
func foldLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, s)
	return width.Fold.String(s)
}

// header is where the columns are.
type header struct {
	top, bottom int               // lines of the header's first and last rows
	next        int               // index in table.rows of the first row below the header
	cols        [numFields]int    // 0-based, -1 when absent
	labels      [numFields]string // header texts as written, for problems
	texts       map[int]string    // header text of every column named, by column
	candidates  [numFields][]int  // columns naming each field, before choosing
}

// columnOf tells the column of a problem's field: its header text as
// written, or any text naming the same field.
func (h header) columnOf(text string) int {
	for f := range numFields {
		if h.cols[f] >= 0 && h.labels[f] == text {
			return h.cols[f]
		}
	}
	if f, ok := fieldOf(text); ok {
		return h.cols[f]
	}
	return -1
}

// findHeader returns the header: the first row, near the top, naming both
// a name and an ID column, so title rows above it are skipped.
func findHeader(t *table) (header, Problems) {
	sawName, sawID := false, false
	for i := 0; i < len(t.rows) && i < headerSearchRows; i++ {
		h := header{top: t.rows[i].line, bottom: t.rows[i].line, texts: map[int]string{}}
		h.addLabels(t, i)
		if len(h.candidates[fieldName]) > 0 && len(h.candidates[fieldID]) > 0 {
			h.complete(t, i)
			return h, nil
		}
		sawName = sawName || len(h.candidates[fieldName]) > 0
		sawID = sawID || len(h.candidates[fieldID]) > 0
	}
	// Report what no row had; name and ID headers found only on different
	// rows are reported as both missing.
	var p Problems
	if !sawName || sawID {
		p = append(p, Problem{Sheet: t.sheet, Field: "姓名", Message: msgNoName})
	}
	if !sawID || sawName {
		p = append(p, Problem{Sheet: t.sheet, Field: "身份证号", Message: msgNoID})
	}
	return header{}, p
}

// addLabels adds the fields row i names to those not named yet. A cell
// merged across several columns names each of them.
func (h *header) addLabels(t *table, i int) {
	r := t.rows[i]
	var found [numFields][]int
	see := func(col int, text string) {
		if f, ok := fieldOf(text); ok && len(h.candidates[f]) == 0 {
			found[f] = append(found[f], col)
			h.texts[col] = trimSpace(text)
		}
	}
	for col, c := range r.cells {
		see(col, c)
	}
	for _, a := range t.merges {
		if a.top != r.line || a.bottom != r.line { // areas over several rows are filled already
			continue
		}
		v := r.cell(a.left)
		for col := a.left + 1; col <= min(a.right, maxCols-1); col++ {
			if trimSpace(r.cell(col)) == "" {
				see(col, v)
			}
		}
	}
	for f := range numFields {
		if len(found[f]) > 0 {
			h.candidates[f] = found[f]
		}
	}
}

// complete finishes a header found on row i. Header cells merged downwards
// make a header of several rows whose lower rows name the columns the first
// only groups; a group title row right above names the columns merged down
// to it or left blank below. A header merged across several columns has
// its data in the one of them with the most filled cells.
func (h *header) complete(t *table, i int) {
	for _, a := range t.merges {
		if a.top <= h.top && h.top <= a.bottom && a.bottom > h.bottom && h.names(a) {
			h.bottom = a.bottom
		}
	}
	h.next = i + 1
	for ; h.next < len(t.rows) && t.rows[h.next].line <= h.bottom; h.next++ {
		h.addLabels(t, h.next)
	}
	if i > 0 && t.rows[i-1].line == h.top-1 {
		h.addLabels(t, i-1)
	}
	for f := range numFields {
		h.cols[f] = -1
		best := -1
		for _, col := range h.candidates[f] {
			if n := filled(t.rows[h.next:], col); n > best {
				h.cols[f], best = col, n
			}
		}
		if h.cols[f] >= 0 {
			h.labels[f] = h.texts[h.cols[f]]
		}
	}
}

// names reports whether the area holds the name or ID header.
func (h *header) names(a area) bool {
	for _, f := range []field{fieldName, fieldID} {
		for _, col := range h.candidates[f] {
			if a.left <= col && col <= a.right {
				return true
			}
		}
	}
	return false
}

// filled counts the rows with something in column col.
func filled(rows []sheetRow, col int) int {
	n := 0
	for _, r := range rows {
		if trimSpace(r.cell(col)) != "" {
			n++
		}
	}
	return n
}
