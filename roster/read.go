// Package roster reads the candidate lists clerks upload (.xlsx, .csv or
// tab-separated text), validates every row and normalises names and resident
// ID numbers (GB 11643). Problems are reported per row in Chinese, in words a
// clerk can act on, and never repeat an ID number; Annotate returns them in a
// copy of the clerk's own workbook.
package roster

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Limits of one upload.
const (
	MaxFileBytes = 20 << 20 // size of the uploaded file
	MaxRows      = 20000    // people in one file

	maxUnzipBytes = 100 << 20 // an .xlsx inflated, all parts together
	maxZipRatio   = 100       // inflated to compressed, for a part over 1 MB
	maxZipEntries = 5000      // parts in an .xlsx
	maxMerges     = 5000      // merged areas in one sheet: excelize looks each cell up among them
	maxCols       = 1024      // cells kept per row; content further right is ignored
	// readRowCap stops reading a sheet or text file with far too many
	// non-blank rows before it fills memory; the exact limit is MaxRows
	// people, counted after the header.
	readRowCap = 2 * MaxRows
	// headerSearchRows is how far down the header row is looked for.
	headerSearchRows = 30
)

// Messages about the file as a whole and about cells Excel has damaged.
const (
	msgOldXLS          = "不支持旧版 Excel 的 .xls 文件：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgBadExt          = "只能读取 Excel 工作簿（.xlsx）、.csv 文件或制表符分隔的 .txt 文件：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgNotWorkbook     = "这个文件不是 Excel 工作簿（可能是 WPS、Numbers 或其他软件的格式）：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgEncrypted       = "这个 Excel 文件设置了打开密码，无法读取：请在 Excel 中取消密码（“文件”→“信息”→“保护工作簿”→“用密码进行加密”，清空密码）后重新上传"
	msgTooBig          = MsgTooBig
	msgTooManyRows     = "人数超过20000人：请拆分成几个文件分别上传"
	msgZipBomb         = "这个 .xlsx 文件解压后超过100MB或压缩比异常，无法安全读取：请删除多余的工作表、图片和格式，重新“另存为”.xlsx，或拆分成几个文件上传"
	msgTooManyMerges   = "工作表中的合并单元格超过5000个：请取消合并单元格后重新上传"
	msgBadXLSX         = "无法打开这个 .xlsx 文件：文件可能已损坏，请在 Excel 中重新“另存为”.xlsx 后上传"
	msgBadCSV          = "无法读取这个文件（第%d行格式有误，可能是引号不配对）：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgEncoding        = "无法识别这个文件的文字编码：请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传"
	msgEmptyFile       = "文件中没有任何内容"
	msgNoSheet         = "工作簿中没有名为“%s”的工作表（现有：%s）"
	msgEmptySheet      = "工作表“%s”中没有任何内容"
	msgNoRows          = "表头下面没有需要核查的人员"
	msgNoName          = "未找到姓名列：表头中应有“姓名”“名字”“被核查人”或“查询对象”之一"
	msgNoID            = "未找到身份证号列：表头中应有“身份证号”“身份证号码”“公民身份号码”“证件号码”或“身份证”之一"
	msgIDIsNumber      = "身份证号被 Excel 存成了数字：Excel 的数字只保留15位，第15位以后会变成0，还可能显示成4.20202E+17这样的科学计数法，号码已经无法还原。请选中身份证号这一列，把单元格格式设置为文本格式，再重新录入身份证号"
	msgOldIDIsNumber   = "身份证号被 Excel 存成了数字：这个15位的旧号码没有受损，但数字格式的身份证号列会让18位号码丢失第15位以后的数字。请选中身份证号这一列，把单元格格式设置为文本格式，再重新录入身份证号"
	msgIDEnds000       = "身份证号末三位是000，可能已被 Excel 当作数字而丢失了后几位：请把身份证号这一列设置为文本格式，再重新录入身份证号；如果末三位确实是000，请改用 .xlsx 文件上传"
	msgDuplicate       = "与第%d行重复（同一人、同一应用事项只需核查一次）：请删除重复的行，或在上传时选择“合并重复人员”"
	msgSameIDOtherName = "与第%d行的身份证号相同但姓名不同：请核对哪一行录错"
	msgExampleRow      = "这是模板中的示例行：请删除此行后再上传"
)

// MsgTooBig is the message for a file over MaxFileBytes, also given when
// the upload request as a whole is over its limit.
const MsgTooBig = "文件超过20MB：请拆分成几个文件分别上传"

// The template's example row (workbook.Template) is known by its 备注,
// which starts with exampleMark, or by its made-up ID.
const (
	exampleMark = "示例"
	exampleID   = "110101199003071233"
)

// Options are the clerk's choices for one upload.
type Options struct {
	// Sheet is the worksheet of an .xlsx to read. "" reads the first sheet
	// that has a header row.
	Sheet string
	// MergeDuplicates keeps the first of several rows with the same person
	// (same ID number and name) for the same item and drops the later ones,
	// listing them in Result.Merged, instead of reporting them as problems.
	MergeDuplicates bool
	// Item is the batch's 应用事项 (its official name): the item of rows
	// whose 应用事项 cell is empty or absent.
	Item string
	// LookupItem resolves a row's 应用事项 as written (an alias, full-width
	// brackets) to the item's official name; for a text naming no item it
	// returns ok false and the message for the clerk. Nil keeps the text
	// as written.
	LookupItem func(text string) (name, problem string, ok bool)
}

// item resolves the 应用事项 cell of a row: Options.Item when empty.
func (o Options) item(cell string) (name, problem string) {
	text := trimSpace(cell)
	switch {
	case text == "":
		return o.Item, ""
	case o.LookupItem == nil:
		return text, ""
	}
	name, problem, ok := o.LookupItem(text)
	if !ok {
		return "", problem
	}
	return name, ""
}

// Result is a file read without problems.
type Result struct {
	Sheet  string  // worksheet read; "" for a text file
	Rows   []Row   // one per person and item, in file order
	Merged []Merge // rows dropped by Options.MergeDuplicates
}

// Merge is a row dropped as a duplicate of an earlier one.
type Merge struct {
	Row  int `json:"row"`  // line of the dropped row
	Into int `json:"into"` // line of the row kept
}

// Row is one candidate read from a file.
type Row struct {
	Line     int    // row number as the clerk sees it in Excel or the file (1-based, header counted)
	Name     string // normalised by NormalizeName
	IDNumber string // normalised by NormalizeID: 18 characters, upper-case X
	Item     string // 应用事项 of this row, resolved by Options.LookupItem; Options.Item when the row names none
}

// Problem is one thing wrong with an uploaded file.
type Problem struct {
	Sheet   string `json:"sheet,omitempty"` // worksheet of an .xlsx the problem was found in
	Row     int    `json:"row"`             // 0 for the file as a whole
	Field   string `json:"field"`           // column header as written in the file
	Message string `json:"message"`         // Chinese, for the clerk; never holds an ID number
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

func fileProblem(msg string) Problems { return Problems{{Message: msg}} }

// Read reads a candidate list, recognising the format by the file's content
// and, for text, its name. Every row is validated: when anything is wrong,
// Read returns no rows and a Problems listing all of it. Other errors come
// from reading r.
func Read(r io.Reader, filename string, opts Options) (Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("roster: read upload: %w", err)
	}
	t, h, problems := openTable(data, filename, opts.Sheet)
	if problems != nil {
		return Result{}, problems
	}
	res, problems := validate(t, h, opts)
	if problems != nil {
		return Result{}, problems
	}
	return res, nil
}

// validate checks every row below the header and collects the people.
func validate(t *table, h header, opts Options) (Result, Problems) {
	var (
		problems Problems
		res      = Result{Sheet: t.sheet}
		people   = 0
		byID     = map[string]Row{} // ID -> first row with it
		byKey    = map[string]int{} // ID and item -> line of the first row
	)
	add := func(line int, f field, msg string) {
		problems = append(problems, Problem{Sheet: t.sheet, Row: line, Field: h.labels[f], Message: msg})
	}
	for _, r := range t.rows[h.next:] {
		name, id := r.cell(h.cols[fieldName]), textID(r.cell(h.cols[fieldID]))
		if trimSpace(name) == "" && id == "" {
			continue // a numbered or annotated row without a person
		}
		if people++; people > MaxRows {
			return Result{}, fileProblem(msgTooManyRows)
		}
		if strings.HasPrefix(foldLabel(r.cell(h.cols[fieldRemark])), exampleMark) {
			add(r.line, fieldRemark, msgExampleRow)
			continue
		}
		if foldID(id) == exampleID {
			add(r.line, fieldID, msgExampleRow)
			continue
		}
		// Every problem of the row, in the order of its columns.
		row := Row{Line: r.line}
		var nameErr error
		if row.Name, nameErr = NormalizeName(name); nameErr != nil {
			add(r.line, fieldName, nameErr.Error())
		}
		idMsg := damagedID(id, t.typed, t.numberIDs[r.line])
		if idMsg == "" {
			if norm, err := NormalizeID(id); err != nil {
				idMsg = err.Error()
			} else {
				row.IDNumber = norm
			}
		}
		if idMsg != "" {
			add(r.line, fieldID, idMsg)
		}
		var itemMsg string
		if row.Item, itemMsg = opts.item(r.cell(h.cols[fieldItem])); itemMsg != "" {
			add(r.line, fieldItem, itemMsg)
		}
		if idMsg != "" || itemMsg != "" {
			continue
		}
		if first, ok := byID[row.IDNumber]; ok && nameErr == nil && first.Name != "" && !strings.EqualFold(first.Name, row.Name) {
			add(r.line, fieldID, fmt.Sprintf(msgSameIDOtherName, first.Line))
			continue
		} else if !ok {
			byID[row.IDNumber] = row
		}
		// The same person for the same item, as resolved: an alias and the
		// official name, or an empty cell and the batch's item, are one item.
		key := row.IDNumber + "\x00" + foldLabel(row.Item)
		if first, dup := byKey[key]; dup {
			if opts.MergeDuplicates {
				res.Merged = append(res.Merged, Merge{Row: r.line, Into: first})
			} else {
				add(r.line, fieldID, fmt.Sprintf(msgDuplicate, first))
			}
			continue
		}
		byKey[key] = r.line
		res.Rows = append(res.Rows, row)
	}
	if people == 0 {
		problems = append(problems, Problem{Sheet: t.sheet, Message: msgNoRows})
	}
	if problems != nil {
		return Result{}, problems
	}
	return res, nil
}

// textID trims an ID cell and undoes what clerks do to keep an ID as text in
// a CSV: a leading apostrophe, or Excel's ="…" formula.
func textID(s string) string {
	s = trimSpace(s)
	if strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) && len(s) >= 3 {
		return s[2 : len(s)-1]
	}
	return strings.TrimPrefix(s, "'")
}

// damagedID returns the message for an ID that Excel has turned into a
// number, "" otherwise. typed says the format types its cells (xlsx), and
// number is the raw value of a cell typed as a number ("" for text);
// without types (text), scientific notation and a 000 ending give it away.
func damagedID(id string, typed bool, number string) string {
	if number != "" {
		// A number of 15 digits is exact in Excel: an old ID, undamaged,
		// in a column that damages 18-digit ones.
		if v, err := strconv.ParseFloat(strings.TrimSpace(number), 64); err == nil && v >= 1e14 && v < 1e15 && v == math.Trunc(v) {
			return msgOldIDIsNumber
		}
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
