// Package roster reads the candidate lists clerks upload (.xlsx or .csv),
// validates every row and normalises names and resident ID numbers
// (GB 11643). Problems are reported per row in Chinese, in words a clerk can
// act on, and never repeat an ID number.
package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/width"
)

// Limits of one upload.
const (
	maxFileBytes = 20 << 20
	maxRows      = 20000
)

// Messages about the file as a whole and about cells Excel has damaged.
const (
	msgOldXLS      = "不支持旧版 Excel 的 .xls 文件：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgBadExt      = "只能读取 .xlsx 或 .csv 文件：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgTooBig      = "文件超过20MB：请拆分成几个文件分别上传"
	msgTooManyRows = "人数超过20000人：请拆分成几个文件分别上传"
	msgBadXLSX     = "无法打开这个 .xlsx 文件：文件可能已损坏或设置了密码，请在 Excel 中重新“另存为”.xlsx 后上传"
	msgBadCSV      = "无法读取这个 .csv 文件（第%d行格式有误）：请在 Excel 中“另存为”.xlsx 后重新上传"
	msgEncoding    = "无法识别这个 .csv 文件的文字编码：请在 Excel 中“另存为”.xlsx 后重新上传"
	msgEmptyFile   = "文件中没有任何内容"
	msgNoRows      = "表头下面没有需要核查的人员"
	msgNoName      = "未找到姓名列：表头中应有“姓名”“名字”“被核查人”或“查询对象”之一"
	msgNoID        = "未找到身份证号列：表头中应有“身份证号”“身份证号码”“公民身份号码”“证件号码”或“身份证”之一"
	msgIDIsNumber  = "身份证号被 Excel 存成了数字，后几位已经丢失：请将身份证号这一列设置为文本格式，再重新录入身份证号"
	msgIDEnds000   = "身份证号末三位是000，可能已被 Excel 当作数字而丢失了后几位：请将身份证号这一列设置为文本格式，再重新录入身份证号；如果末三位确实是000，请改用 .xlsx 文件上传"
	msgDuplicate   = "与第%d行重复（同一人、同一应用事项只需核查一次）"
)

// Header texts clerks use, compared after foldLabel.
var (
	nameHeaders = []string{"姓名", "名字", "被核查人", "查询对象"}
	idHeaders   = []string{"身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"}
	itemHeaders = []string{"应用事项"}
)

// Row is one candidate read from a file.
type Row struct {
	Line     int    // row number as the clerk sees it in Excel or the file (1-based, header counted)
	Name     string // normalised by NormalizeName
	IDNumber string // normalised by NormalizeID: 18 characters, upper-case X
	Item     string // 应用事项 of this row when the file has that column, else ""
}

// Problem is one thing wrong with an uploaded file.
type Problem struct {
	Row     int    `json:"row"`     // 0 for the file as a whole
	Field   string `json:"field"`   // column header as written in the file
	Message string `json:"message"` // Chinese, for the clerk; never holds an ID number
}

// Problems is every problem found in a file; Read returns it as its error.
type Problems []Problem

// Error lists the first problems. It holds no personal data, so it may be logged.
func (p Problems) Error() string {
	const shown = 10
	var b strings.Builder
	b.WriteString("roster: ")
	for i, pr := range p {
		if i == shown {
			fmt.Fprintf(&b, "；……共%d个问题", len(p))
			break
		}
		if i > 0 {
			b.WriteString("；")
		}
		if pr.Row > 0 {
			fmt.Fprintf(&b, "第%d行", pr.Row)
		}
		if pr.Field != "" {
			fmt.Fprintf(&b, "“%s”", pr.Field)
		}
		if pr.Row > 0 || pr.Field != "" {
			b.WriteString("：")
		}
		b.WriteString(pr.Message)
	}
	return b.String()
}

func fileProblem(msg string) Problems { return Problems{{Row: 0, Message: msg}} }

// Read reads a candidate list, choosing the format by the file name's
// extension. Every row is validated: when anything is wrong, Read returns no
// rows and a Problems listing all of it. Other errors come from reading r.
func Read(r io.Reader, filename string) ([]Row, error) {
	var parse func([]byte) ([]Row, error)
	switch strings.ToLower(filepath.Ext(filename)) {
	case ".xlsx":
		parse = readXLSX
	case ".csv":
		parse = readCSV
	case ".xls":
		return nil, fileProblem(msgOldXLS)
	default:
		return nil, fileProblem(msgBadExt)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("roster: read upload: %w", err)
	}
	if len(data) > maxFileBytes {
		return nil, fileProblem(msgTooBig)
	}
	return parse(data)
}

// sheetRow is one row of a file as text cells.
type sheetRow struct {
	line  int
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

func readXLSX(data []byte) ([]Row, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 256 << 20})
	if err != nil {
		return nil, fileProblem(msgBadXLSX)
	}
	defer f.Close()
	for _, name := range f.GetSheetList() {
		cells, err := f.GetRows(name)
		if err != nil {
			return nil, fileProblem(msgBadXLSX)
		}
		rows := make([]sheetRow, len(cells))
		for i, c := range cells {
			rows[i] = sheetRow{line: i + 1, cells: c}
		}
		if allBlank(rows) {
			continue
		}
		// Excel keeps 15 significant digits of a number: an ID typed into a
		// number cell is damaged, whatever it looks like now.
		isNumber := func(line, col int) bool {
			ref, err := excelize.CoordinatesToCellName(col+1, line)
			if err != nil {
				return false
			}
			t, err := f.GetCellType(name, ref)
			return err == nil && (t == excelize.CellTypeNumber || t == excelize.CellTypeUnset)
		}
		return parseRows(rows, isNumber)
	}
	return nil, fileProblem(msgEmptyFile)
}

func readCSV(data []byte) ([]Row, error) {
	text, ok := decodeCSV(data)
	if !ok {
		return nil, fileProblem(msgEncoding)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var rows []sheetRow
	// Excel shows a quoted field with line breaks as one row: count rows,
	// not lines, by subtracting the extra lines such fields took.
	extra := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine - extra
			}
			return nil, fileProblem(fmt.Sprintf(msgBadCSV, line))
		}
		start, _ := cr.FieldPos(0)
		last := len(rec) - 1
		end, _ := cr.FieldPos(last)
		end += strings.Count(rec[last], "\n")
		rows = append(rows, sheetRow{line: start - extra, cells: rec})
		extra += end - start
	}
	if allBlank(rows) {
		return nil, fileProblem(msgEmptyFile)
	}
	return parseRows(rows, nil)
}

// decodeCSV returns the text of a CSV file: UTF-8 (BOM dropped) when the
// bytes are valid UTF-8, else GB18030 (a superset of GBK), the encoding of
// "CSV" saved by Chinese Excel and WPS.
func decodeCSV(data []byte) (string, bool) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if utf8.Valid(data) {
		return string(data), true
	}
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(text, utf8.RuneError) {
		return "", false
	}
	return string(text), true
}

func allBlank(rows []sheetRow) bool {
	for _, r := range rows {
		if !r.blank() {
			return false
		}
	}
	return true
}

// header is where the columns are: indexes into cells, -1 when absent, and
// the header texts as written, for problems.
type header struct {
	at                      int // index in rows
	nameCol, idCol, itemCol int
	nameField, idField      string
}

// findHeader returns the first row naming both a name and an ID column, so
// title rows above the header are skipped.
func findHeader(rows []sheetRow) (header, Problems) {
	sawName, sawID := false, false
	for i, r := range rows {
		h := header{at: i, nameCol: -1, idCol: -1, itemCol: -1}
		for col, c := range r.cells {
			key := foldLabel(c)
			switch {
			case h.nameCol < 0 && slices.Contains(nameHeaders, key):
				h.nameCol, h.nameField = col, trimSpace(c)
			case h.idCol < 0 && slices.Contains(idHeaders, key):
				h.idCol, h.idField = col, trimSpace(c)
			case h.itemCol < 0 && slices.Contains(itemHeaders, key):
				h.itemCol = col
			}
		}
		if h.nameCol >= 0 && h.idCol >= 0 {
			return h, nil
		}
		sawName = sawName || h.nameCol >= 0
		sawID = sawID || h.idCol >= 0
	}
	// Report what no row had; name and ID headers found only on different
	// rows are reported as both missing.
	var p Problems
	if !sawName || sawID {
		p = append(p, Problem{Field: "姓名", Message: msgNoName})
	}
	if !sawID || sawName {
		p = append(p, Problem{Field: "身份证号", Message: msgNoID})
	}
	return header{}, p
}

// parseRows finds the header and validates every row below it. isNumber
// reports cells stored as numbers, for formats that type their cells (nil
// for CSV, where only the text can tell).
func parseRows(rows []sheetRow, isNumber func(line, col int) bool) ([]Row, error) {
	h, problems := findHeader(rows)
	if problems != nil {
		return nil, problems
	}
	typed := isNumber != nil
	var out []Row
	first := map[string]int{} // ID and item -> line of first occurrence
	for _, r := range rows[h.at+1:] {
		name, id := r.cell(h.nameCol), r.cell(h.idCol)
		if trimSpace(name) == "" && trimSpace(id) == "" {
			continue
		}
		if len(out) == maxRows {
			return nil, fileProblem(msgTooManyRows)
		}
		row := Row{Line: r.line, Item: trimSpace(r.cell(h.itemCol))}
		var err error
		if row.Name, err = NormalizeName(name); err != nil {
			problems = append(problems, Problem{Row: r.line, Field: h.nameField, Message: err.Error()})
		}
		numberCell := typed && trimSpace(id) != "" && isNumber(r.line, h.idCol)
		if msg := damagedID(id, typed, numberCell); msg != "" {
			problems = append(problems, Problem{Row: r.line, Field: h.idField, Message: msg})
		} else if row.IDNumber, err = NormalizeID(id); err != nil {
			problems = append(problems, Problem{Row: r.line, Field: h.idField, Message: err.Error()})
		} else {
			key := row.IDNumber + "\x00" + foldLabel(row.Item)
			if line, dup := first[key]; dup {
				problems = append(problems, Problem{Row: r.line, Field: h.idField, Message: fmt.Sprintf(msgDuplicate, line)})
			} else {
				first[key] = r.line
			}
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		problems = append(problems, Problem{Message: msgNoRows})
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// damagedID returns the message for an ID that Excel has turned into a
// number, "" otherwise. typed says the format types its cells (xlsx), and
// numberCell that this cell is typed as a number; without types (CSV),
// scientific notation and a 000 ending give it away.
func damagedID(id string, typed, numberCell bool) string {
	if numberCell {
		return msgIDIsNumber
	}
	s := foldID(id)
	if strings.ContainsAny(s, ".Ee") {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return msgIDIsNumber
		}
	}
	// 15 significant digits of an 18-digit number end in 000. The check
	// digit cannot be trusted to catch it: 1 in 11 damaged IDs still passes.
	if len(s) == 18 && digits(s) && strings.HasSuffix(s, "000") && !typed {
		return msgIDEnds000
	}
	return ""
}

// foldLabel makes header and item texts comparable: no spaces at all, full-width
// forms folded to half-width.
func foldLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if isSpace(r) {
			return -1
		}
		return r
	}, s)
	return width.Fold.String(s)
}
