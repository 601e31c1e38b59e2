package roster

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// table is the rows of one worksheet or text file, before validation.
type table struct {
	sheet  string     // worksheet name; "" for text
	rows   []sheetRow // non-blank rows in order; areas merged downwards filled in
	merges []area     // merged areas of a worksheet
	// typed says the format types its cells (xlsx); numberIDs then holds
	// the lines whose ID cell is stored as a number, with its raw value.
	typed     bool
	numberIDs map[int]string
}

// sheetRow is one non-blank row as text cells.
type sheetRow struct {
	line  int // as Excel numbers it, 1-based
	cells []string
}

func (r sheetRow) cell(col int) string {
	if col < 0 || col >= len(r.cells) {
		return ""
	}
	return r.cells[col]
}

func (r sheetRow) blank() bool {
	for _, c := range r.cells {
		if trimSpace(c) != "" {
			return false
		}
	}
	return true
}

// clip keeps at most maxCols cells, copied so that a very wide row does not
// keep its whole array alive.
func clip(cells []string) []string {
	if len(cells) > maxCols {
		return slices.Clone(cells[:maxCols])
	}
	return cells
}

// kind is a file format the reader handles.
type kind int

const (
	kindXLSX kind = iota + 1
	kindText
)

var (
	oleMagic = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") // old Office files, and encrypted new ones
	zipMagic = []byte("PK\x03\x04")
	// encryptedPackage is the stream name, in UTF-16LE, that an .xlsx with a
	// password to open has inside its OLE container.
	encryptedPackage = []byte("E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e\x00")
)

// sniff tells the format of an upload by its content first (the name can
// lie: an old .xls renamed .xlsx, an .xlsx renamed .csv) and, for text, by
// its name: the separator a .csv or .txt/.tsv would have.
func sniff(data []byte, filename string) (kind, rune, Problems) {
	ext := strings.ToLower(filepath.Ext(filename))
	switch {
	case len(data) > MaxFileBytes:
		return 0, 0, fileProblem(msgTooBig)
	case len(data) == 0:
		return 0, 0, fileProblem(msgEmptyFile)
	case bytes.HasPrefix(data, oleMagic):
		if bytes.Contains(data, encryptedPackage) {
			return 0, 0, fileProblem(msgEncrypted)
		}
		switch ext {
		case ".xls", ".xlsx", ".xlsm", ".csv", ".txt", ".tsv", ".et":
			return 0, 0, fileProblem(msgOldXLS)
		}
		return 0, 0, fileProblem(msgBadExt)
	case bytes.HasPrefix(data, zipMagic):
		return kindXLSX, 0, nil
	case ext == ".xlsx" || ext == ".xlsm":
		return 0, 0, fileProblem(msgBadXLSX)
	case ext == ".xls" || ext == ".et":
		return 0, 0, fileProblem(msgOldXLS)
	case ext == ".csv":
		return kindText, ',', nil
	case ext == ".tsv" || ext == ".txt":
		return kindText, '\t', nil
	}
	return 0, 0, fileProblem(msgBadExt)
}

// openTable reads the rows of an upload and finds its header. The table
// comes back even without a header (with the problems), for Annotate.
func openTable(data []byte, filename, sheet string) (*table, header, Problems) {
	k, sep, problems := sniff(data, filename)
	if problems != nil {
		return nil, header{}, problems
	}
	if k == kindXLSX {
		return readXLSX(data, sheet)
	}
	t, problems := readText(data, sep)
	if problems != nil {
		return nil, header{}, problems
	}
	h, problems := findHeader(t)
	return t, h, problems
}

// readText reads comma- or tab-separated text as Excel writes it: quoted
// fields may hold separators and line breaks.
func readText(data []byte, sep rune) (*table, Problems) {
	text, ok := decodeText(data)
	if !ok {
		return nil, fileProblem(msgEncoding)
	}
	// Trust the content over the name when it only has the other separator.
	other := map[rune]rune{',': '\t', '\t': ','}[sep]
	if !strings.ContainsRune(text, sep) && strings.ContainsRune(text, other) {
		sep = other
	}
	// Quotes are strict first, so that an unclosed quote swallowing the
	// rest of the file is reported as such; a bare quote inside a field
	// (="4202…" written by other programs) is then allowed.
	t, err := parseText(text, sep, false)
	if errors.Is(err, csv.ErrBareQuote) {
		t, err = parseText(text, sep, true)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fileProblem(fmt.Sprintf(msgBadCSV, pe.StartLine))
	}
	if errors.Is(err, errTooManyRows) {
		return nil, fileProblem(msgTooManyRows)
	}
	if err != nil {
		return nil, fileProblem(fmt.Sprintf(msgBadCSV, 0))
	}
	if len(t.rows) == 0 {
		return nil, fileProblem(msgEmptyFile)
	}
	return t, nil
}

var errTooManyRows = errors.New("too many rows")

// parseText splits text into rows numbered as Excel shows them. A
// csv.ParseError's StartLine is renumbered the same way.
func parseText(text string, sep rune, lazyQuotes bool) (*table, error) {
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = lazyQuotes
	t := &table{}
	// Excel shows a quoted field with line breaks as one row: count rows,
	// not lines, by subtracting the extra lines such fields took.
	extra := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			pe.StartLine -= extra
			return nil, pe
		}
		if err != nil {
			return nil, err
		}
		start, _ := cr.FieldPos(0)
		last := len(rec) - 1
		end, _ := cr.FieldPos(last)
		end += strings.Count(rec[last], "\n")
		r := sheetRow{line: start - extra, cells: clip(rec)}
		extra += end - start
		if r.blank() {
			continue
		}
		if len(t.rows) == readRowCap {
			return nil, errTooManyRows
		}
		t.rows = append(t.rows, r)
	}
}

// decodeText returns the text of a CSV or text file: UTF-16 when it starts
// with that byte order mark (Excel's "Unicode text"), UTF-8 (BOM dropped)
// when the bytes are valid UTF-8, else GB18030 (a superset of GBK), what
// Chinese Excel and WPS save as "CSV".
func decodeText(data []byte) (string, bool) {
	var text []byte
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("\xFF\xFE")), bytes.HasPrefix(data, []byte("\xFE\xFF")):
		text, err = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
	case utf8.Valid(data):
		text = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	default:
		text, err = simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	}
	// A NUL or an undecodable byte means binary data or another encoding.
	if err != nil || bytes.ContainsRune(text, utf8.RuneError) || bytes.IndexByte(text, 0) >= 0 {
		return "", false
	}
	return string(text), true
}

// checkZip refuses an .xlsx that would inflate too far, before excelize
// opens it: first by the sizes its zip directory declares, then, since
// those may lie, by inflating every part within the same budget and no
// further than it declares. It also
// counts the merged areas of each worksheet, which excelize handles in
// quadratic time.
func checkZip(data []byte) Problems {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fileProblem(msgBadXLSX)
	}
	if len(zr.File) > maxZipEntries {
		return fileProblem(msgZipBomb)
	}
	var declared uint64
	workbook := false
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > maxUnzipBytes || tooCompressed(f.UncompressedSize64, f.CompressedSize64) {
			return fileProblem(msgZipBomb)
		}
		workbook = workbook || strings.EqualFold(zipName(f), "xl/workbook.xml")
	}
	if !workbook {
		return fileProblem(msgNotWorkbook)
	}
	budget := int64(maxUnzipBytes)
	for _, f := range zr.File {
		merges := newMergeCounter()
		n, err := inflate(f, merges, min(budget, int64(f.UncompressedSize64))+1)
		budget -= n
		switch {
		case uint64(n) > f.UncompressedSize64, budget < 0, tooCompressed(uint64(n), f.CompressedSize64):
			return fileProblem(msgZipBomb)
		case err != nil:
			return fileProblem(msgBadXLSX)
		case merges.count() > maxMerges && strings.HasPrefix(strings.ToLower(zipName(f)), "xl/worksheets/"):
			return fileProblem(msgTooManyMerges)
		}
	}
	return nil
}

// inflate writes at most limit bytes of a zip part to w. It inflates the
// raw data itself, so that a part larger than its header declares is
// measured, not only refused.
func inflate(f *zip.File, w io.Writer, limit int64) (int64, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return 0, err
	}
	var r io.Reader
	switch f.Method {
	case zip.Store:
		r = raw
	case zip.Deflate:
		fr := flate.NewReader(raw)
		defer fr.Close()
		r = fr
	default:
		return 0, fmt.Errorf("zip method %d", f.Method)
	}
	return io.Copy(w, io.LimitReader(r, limit))
}

func zipName(f *zip.File) string { return strings.ReplaceAll(f.Name, `\`, "/") }

// tooCompressed reports a part over 1 MB that inflates more than
// maxZipRatio times its compressed size; small parts may legitimately do so.
func tooCompressed(size, compressed uint64) bool {
	return size > 1<<20 && size > maxZipRatio*compressed
}

// mergeCounter counts the merged areas in a worksheet's XML as it streams
// past: each <mergeCell> element names "mergeCell" once, and the
// <mergeCells> around them is subtracted.
type mergeCounter struct {
	cell, cells counter
}

func newMergeCounter() *mergeCounter {
	return &mergeCounter{cell: counter{pattern: []byte("mergeCell")}, cells: counter{pattern: []byte("mergeCells")}}
}

func (c *mergeCounter) Write(p []byte) (int, error) {
	c.cell.write(p)
	c.cells.write(p)
	return len(p), nil
}

func (c *mergeCounter) count() int { return c.cell.n - c.cells.n }

// counter counts a pattern in a stream written in pieces.
type counter struct {
	pattern []byte
	tail    []byte // the last len(pattern)-1 bytes written
	n       int
}

func (c *counter) write(p []byte) {
	keep := len(c.pattern) - 1
	// join is too short to hold a match wholly inside the tail or inside
	// p: it counts exactly the matches split between writes.
	join := append(slices.Clip(c.tail), p[:min(len(p), keep)]...)
	c.n += bytes.Count(join, c.pattern) + bytes.Count(p, c.pattern)
	if len(p) >= keep {
		c.tail = append(c.tail[:0], p[len(p)-keep:]...)
	} else {
		c.tail = append(c.tail[:0], join[len(join)-min(len(join), keep):]...)
	}
}
