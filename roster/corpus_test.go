package roster

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/shixincheck/shixincheck/rules"
)

// The corpus: awkward and bad files as clerks have them, committed under
// testdata/corpus, with the outcome each must give in
// testdata/messages.txt. Both are written by
//
//	go test ./roster -run TestCorpus -update
//
// and the diff of messages.txt is then read by a person before committing.
var update = flag.Bool("update", false, "rewrite testdata/corpus and testdata/messages.txt")

const (
	corpusDir  = "testdata/corpus"
	goldenFile = "testdata/messages.txt"
)

// corpusFile is one file of the corpus and the options it is read with.
// Every file is read with the seed's rules resolving its items, as the
// daemon reads it.
type corpusFile struct {
	name  string
	runs  []Options // each is a section of the golden file; none means Options{}
	build func(t *testing.T) []byte
}

// listedRows is how many people a section lists in full; of a longer list
// it shows the first and the last.
const listedRows = 20

// withCheck completes 17 digits with their GB 11643 check digit.
func withCheck(first17 string) string { return first17 + string(checkDigit(first17)) }

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// merge merges cell ranges of a sheet.
func merge(t *testing.T, f *excelize.File, sheet string, ranges ...string) {
	t.Helper()
	for _, r := range ranges {
		from, to, _ := strings.Cut(r, ":")
		if err := f.MergeCell(sheet, from, to); err != nil {
			t.Fatal(err)
		}
	}
}

// oleHeader is the start of an old .xls: the compound file header.
func oleHeader() []byte {
	b := make([]byte, 512)
	copy(b, oleMagic)
	return b
}

func corpus() []corpusFile {
	var (
		idA  = withCheck("42020219850612003") // 陈小明's in most files
		idB  = withCheck("11010519491231002") // ends in X
		idC  = withCheck("32010619900307451")
		idD  = withCheck("44030520010229001") // 2001 has no 29 Feb: invalid
		idE  = withCheck("65010120000229001") // 2000 has
		wide = strings.Map(func(r rune) rune { return r - '0' + '０' }, idE)
	)
	text := func(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	xlsx := func(fill func(t *testing.T, f *excelize.File)) func(*testing.T) []byte {
		return func(t *testing.T) []byte { return newXLSX(t, func(f *excelize.File) { fill(t, f) }) }
	}
	titleRows := xlsx(func(t *testing.T, f *excelize.File) {
		setRows(t, f, "Sheet1", [][]string{
			{"2026年公职人员招录资格审查人员名单"},
			{"填报单位：政协办公室　　　填报日期：2026年3月2日"},
			{"序号", "姓名", "身份证号码", "应用事项", "备注"},
			{"1", "陈小明", idA, "公职人员招录（聘）及考核"},
			{},
			{"2", "阿沛·阿旺晋美", strings.ToLower(idB)},
			{"3", "王五", idC, "优秀政协委员评选", "补报"},
		})
		merge(t, f, "Sheet1", "A1:E1", "A2:E2")
	})
	const batchItem = "公职人员招录（聘）及考核"
	return []corpusFile{
		{name: "gbk-title.csv", build: func(t *testing.T) []byte {
			return encode(t, simplifiedchinese.GBK, "2026年公职人员招录资格审查人员名单,,,,\r\n"+
				"填报单位：政协办公室,,,,\r\n"+
				",,,,\r\n"+
				"序号,姓名,身份证号码,应用事项,备注\r\n"+
				"1,陈小明,"+idA+",公职人员招录,\r\n"+
				"2,阿沛·阿旺晋美,"+strings.ToLower(idB)+",,\r\n"+
				"3,王　五,"+idC+",评优评先,补报\r\n")
		}},
		{name: "gb18030.csv", build: func(t *testing.T) []byte {
			// 𠮷 is outside GBK: four bytes in GB18030.
			return encode(t, simplifiedchinese.GB18030, "姓名,身份证号\r\n吉𠮷,"+idA+"\r\n")
		}},
		{name: "utf8-bom-variants.csv", build: text("\uFEFF" +
			"核查名单\n" +
			"　序 号 ,＊姓　名：, 身份证号码（18位）,应 用 事 项,备　注\n" +
			"1,陈小明,=\"" + idA + "\",公职人员招录,\n" +
			"2,李四,'" + idC + ",,\n" +
			"3,王五," + wide + ",优秀政协委员评选,\n")},
		{name: "excel-unicode.txt", build: func(t *testing.T) []byte {
			// Excel's "Unicode text": UTF-16LE with a BOM, tab-separated.
			return encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
				"姓名\t身份证号\t备注\r\n陈小明\t"+idA+"\t\"含\t制表符\"\r\n李四\t"+idC+"\t\r\n")
		}},
		{name: "tabs.tsv", build: text("名单\n\n姓名\t身份证号\n陈小明\t" + idA + "\n\t\n李四\t" + idC + "\n")},
		{name: "tabs-gbk.txt", build: func(t *testing.T) []byte {
			return encode(t, simplifiedchinese.GBK, "姓名\t公民身份号码\r\n陈小明\t"+idA+"\r\n李四\t"+idC+"\r\n")
		}},
		{name: "commas.txt", build: text("姓名,身份证号\n陈小明," + idA + "\n")},
		{name: "title-rows.xlsx", build: titleRows},
		{name: "merged-header.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			// 身份证号 over two columns; the numbers are in the second.
			setRows(t, f, "Sheet1", [][]string{
				{"序号", "姓名", "身份证号", "", "备注"},
				{"1", "陈小明", "", idA},
				{"2", "李四", "", "123"},
				{"3", "王五", "", idC},
			})
			merge(t, f, "Sheet1", "C1:D1")
		})},
		{name: "two-row-header.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			// A group title over 姓名 and 身份证号; 序号, 应用事项 and 备注
			// merged down over both header rows; one item merged over the
			// two people it applies to.
			setRows(t, f, "Sheet1", [][]string{
				{"2026年评优评先推荐人员名单"},
				{"序号", "被核查人员信息", "", "应用事项", "备注"},
				{"", "姓名", "身份证号"},
				{"1", "陈小明", idA, "评优评先"},
				{"2", "李四", idC, "优秀政协委员评选"},
				{"3", "王五", idE},
			})
			merge(t, f, "Sheet1", "A1:E1", "A2:A3", "B2:C2", "D2:D3", "E2:E3", "D5:D6")
		})},
		{name: "numeric-ids.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			setRows(t, f, "Sheet1", [][]string{{"姓名", "身份证号"}, {"陈小明"}, {"李四"}, {"王五", idC}})
			// What Excel stores when an ID is typed into a General cell, and
			// a 15-digit old ID that survives as a number.
			for ref, v := range map[string]any{"B2": 4.20202198506120e17, "B3": 420202800101123} {
				if err := f.SetCellValue("Sheet1", ref, v); err != nil {
					t.Fatal(err)
				}
			}
		})},
		{name: "numeric-ids.csv", build: text("姓名,身份证号\n" +
			"陈小明,4.20202E+17\n" +
			"李四,4.20202198506120E+17\n" +
			"王五," + idA[:15] + "000\n" +
			"赵六," + idC + "\n")},
		{name: "old-ids.csv", build: text("姓名,身份证号\n" +
			"陈小明,420202800101123\n" +
			"李四,110105491231002\n")},
		{name: "check-digits.csv", build: text("姓名,身份证号\n" +
			"陈小明," + idA[:17] + "9\n" +
			"李四," + strings.ToLower(idB) + "\n" +
			"王五," + idD + "\n" +
			"赵六,420202209901011233\n" +
			"钱七,100202198001011232\n" +
			"孙八," + idA[:17] + "\n" +
			"周九," + idA[:16] + "A" + idA[17:] + "\n" +
			"吴十," + wide + "\n" +
			"郑十一,420202990230123\n")},
		{name: "empty-rows.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			setRows(t, f, "Sheet1", [][]string{
				{"名单"},
				{"序号", "姓名", "身份证号"},
				{"1", "陈小明", idA},
				{},
				{"2", "李四", idC},
				{"3"},
				{},
				{"4", " ", "\u3000"},
				{"5", "王五", idE},
			})
			// Formatted but empty rows below the list, as Excel leaves them.
			style, err := f.NewStyle(&excelize.Style{NumFmt: 49})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetCellStyle("Sheet1", "A10", "C40", style); err != nil {
				t.Fatal(err)
			}
		})},
		{name: "duplicates.csv", runs: []Options{{}, {MergeDuplicates: true}}, build: text("序号,姓名,身份证号,应用事项\n" +
			"1,陈小明," + idA + ",公职人员招录\n" +
			"2,李四," + idC + ",公职人员招录\n" +
			"3,陈小明," + idA[:6] + " " + idA[6:] + ",公职人员招录\n" +
			"4,陈小明," + idA + ",评优评先\n" +
			"5,陈　小明," + idA + ",公职人员招录\n" +
			"6,李四," + idC + ",公职人员招录\n")},
		// The same item written as an alias, the official name, with
		// half-width brackets, or left empty under a batch of that item.
		{name: "duplicate-items.csv", runs: []Options{{Item: batchItem}, {Item: batchItem, MergeDuplicates: true}}, build: text("姓名,身份证号,应用事项\n" +
			"陈小明," + idA + ",公职人员招录（聘）及考核\n" +
			"陈小明," + idA + ",公职人员招录\n" +
			"李四," + idC + ",\n" +
			"李四," + idC + ",公职人员招录资格审查\n" +
			"王五," + idE + ",评优评先\n" +
			"王五," + idE + ",向上推荐道德模范(楷模)、劳动模范及其他评优评先\n" +
			"王五," + idE + ",优秀政协委员评选\n")},
		// Unknown items are listed with every other problem; Attachment 1's
		// line naming two items asks to choose one.
		{name: "unknown-items.csv", runs: []Options{{Item: batchItem}}, build: text("姓名,身份证号,应用事项\n" +
			"陈小明," + idA + ",向上推荐道德模范（楷模）、劳动模范及其他评优评先，优秀政协委员评选\n" +
			"李四," + idC + ",买房\n" +
			"王五,123,买房\n" +
			"赵六," + idE + ",优秀政协委员评选\n")},
		{name: "duplicate-other-name.csv", runs: []Options{{}, {MergeDuplicates: true}}, build: text("姓名,身份证号\n" +
			"陈小明," + idA + "\n" +
			"陈晓明," + idA + "\n" +
			"陈小明," + idA + "\n")},
		{name: "names.csv", build: text("姓名,身份证号\n" +
			"阿沛・阿旺晋美," + withCheck("54010219100201001") + "\n" +
			"买买提•吐尔逊," + withCheck("65010119800101002") + "\n" +
			"陈明2," + withCheck("42020219800101003") + "\n" +
			"陈," + withCheck("42020219800101004") + "\n" +
			"陈明（女）," + withCheck("42020219800101005") + "\n" +
			"·阿沛," + withCheck("42020219800101006") + "\n" +
			"John Smith," + withCheck("81000019800101007") + "\n" +
			"," + withCheck("42020219800101008") + "\n")},
		{name: "no-id-column.csv", build: text("姓名,手机号\n陈小明,13800000000\n")},
		{name: "header-only.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			setRows(t, f, "Sheet1", [][]string{{"序号", "姓名", "身份证号"}, {"1"}, {"2"}})
		})},
		{name: "multi-sheet.xlsx", runs: []Options{{}, {Sheet: "名单2"}, {Sheet: " 名单2 "}, {Sheet: "人员"}}, build: xlsx(func(t *testing.T, f *excelize.File) {
			if err := f.SetSheetName("Sheet1", "说明"); err != nil {
				t.Fatal(err)
			}
			setRows(t, f, "说明", [][]string{{"请在“名单”表中填写被核查人员"}})
			for _, s := range []string{"名单", "名单2"} {
				if _, err := f.NewSheet(s); err != nil {
					t.Fatal(err)
				}
			}
			setRows(t, f, "名单", [][]string{{"姓名", "身份证号"}, {"陈小明", idA}})
			setRows(t, f, "名单2", [][]string{{"姓名", "身份证号"}, {"李四", idC}, {"王五", "1234"}})
		})},
		{name: "example-row.xlsx", build: xlsx(func(t *testing.T, f *excelize.File) {
			// The download template with its example row left in.
			setRows(t, f, "Sheet1", [][]string{
				{"序号", "姓名", "身份证号", "应用事项", "备注"},
				{"1", "张三", withCheck("11010119900307123"), "公职人员招录（聘）及考核", "示例（请删除此行）"},
				{"2", "陈小明", idA},
			})
		})},
		{name: "bad-quotes.csv", build: text("姓名,身份证号\n陈小明," + idA + "\n\"李四," + idC + "\n")},
		{name: "empty.csv", build: text("")},
		{name: "old.xls", build: func(*testing.T) []byte { return oleHeader() }},
		{name: "xls-renamed.xlsx", build: func(*testing.T) []byte { return oleHeader() }},
		{name: "html.xls", build: text("<html><body><table><tr><td>姓名</td></tr></table></body></html>")},
		{name: "report.pdf", build: text("%PDF-1.7\n")},
		{name: "encrypted.xlsx", build: func(t *testing.T) []byte {
			f := excelize.NewFile()
			defer f.Close()
			setRows(t, f, "Sheet1", [][]string{{"姓名", "身份证号"}, {"陈小明", idA}})
			var buf bytes.Buffer
			if err := f.Write(&buf, excelize.Options{Password: "secret"}); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}},
		{name: "xlsx-renamed.csv", build: titleRows},
		{name: "zip-bomb.xlsx", build: func(t *testing.T) []byte {
			// A part that inflates 1000 times, with honest sizes.
			zeros := make([]byte, 5<<20)
			return withParts(t, genXLSX(t, 3), zipPart{name: "xl/media/zeros.bin", method: zip.Deflate, data: deflate(t, zeros),
				size: uint64(len(zeros)), crc: uint64(crc32.ChecksumIEEE(zeros))})
		}},
		{name: "zip-bomb-lying.xlsx", build: func(t *testing.T) []byte {
			// The zip directory declares 1000 bytes; the part inflates to 5 MB.
			zeros := make([]byte, 5<<20)
			return withParts(t, genXLSX(t, 3), zipPart{name: "xl/media/zeros.bin", method: zip.Deflate, data: deflate(t, zeros),
				size: 1000, crc: uint64(crc32.ChecksumIEEE(zeros[:1000]))})
		}},
		{name: "10000-rows.xlsx", build: func(t *testing.T) []byte { return genXLSX(t, 10000) }},
		{name: "not-a-workbook.xlsx", build: func(t *testing.T) []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.Create("word/document.xml")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(w, "<document/>")
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}},
	}
}

// describe writes the outcome of Read as the golden file has it.
func describe(res Result, err error) string {
	var b strings.Builder
	var problems Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			b.WriteString("problem")
			if p.Sheet != "" {
				fmt.Fprintf(&b, " [%s]", p.Sheet)
			}
			if p.Row > 0 {
				fmt.Fprintf(&b, " 第%d行", p.Row)
			}
			if p.Field != "" {
				fmt.Fprintf(&b, " “%s”", p.Field)
			}
			fmt.Fprintf(&b, "：%s\n", p.Message)
		}
		return b.String()
	}
	if err != nil {
		return "error " + err.Error() + "\n"
	}
	if res.Sheet != "" {
		fmt.Fprintf(&b, "sheet %s\n", res.Sheet)
	}
	rows := res.Rows
	if len(rows) > listedRows {
		fmt.Fprintf(&b, "%d rows, the first and the last:\n", len(rows))
		rows = []Row{rows[0], rows[len(rows)-1]}
	}
	for _, r := range rows {
		b.WriteString(strings.TrimRight(fmt.Sprintf("row %d: %s %s %s", r.Line, r.Name, r.IDNumber, r.Item), " ") + "\n")
	}
	for _, m := range res.Merged {
		fmt.Fprintf(&b, "merged row %d into row %d\n", m.Row, m.Into)
	}
	return b.String()
}

func sectionTitle(name string, o Options) string {
	title := "== " + name
	if o.MergeDuplicates {
		title += " merge"
	}
	if o.Sheet != "" {
		title += fmt.Sprintf(" sheet=%q", o.Sheet)
	}
	if o.Item != "" {
		title += fmt.Sprintf(" item=%q", o.Item)
	}
	return title
}

const goldenIntro = `# The outcome of reading each file of testdata/corpus (see corpus_test.go).
# "== FILE [merge] [sheet=NAME] [item=BATCH ITEM]" starts a section; then
# either the people read ("row LINE: NAME ID ITEM", the item resolved by the
# seed's rules; "merged row N into row M"; of more than 20 people the first
# and the last) or every problem, exactly as the clerk sees it.
`

func TestCorpus(t *testing.T) {
	files := corpus()
	if *update {
		if err := os.RemoveAll(corpusDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range files {
			if err := os.WriteFile(filepath.Join(corpusDir, c.name), c.build(t), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var sections []string
	seed := rules.Default()
	for _, c := range files {
		data, err := os.ReadFile(filepath.Join(corpusDir, c.name))
		if err != nil {
			t.Fatalf("%v (run with -update to write the corpus)", err)
		}
		runs := c.runs
		if len(runs) == 0 {
			runs = []Options{{}}
		}
		for _, o := range runs {
			o.LookupItem = seed.Resolve
			res, err := Read(bytes.NewReader(data), c.name, o)
			sections = append(sections, sectionTitle(c.name, o)+"\n"+describe(res, err))
		}
	}
	got := goldenIntro + strings.Join(sections, "")
	if *update {
		if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	wantSections := map[string]string{}
	title := ""
	for _, line := range strings.SplitAfter(string(want), "\n") {
		switch {
		case strings.HasPrefix(line, "== "):
			title = strings.TrimSuffix(line, "\n")
			wantSections[title] = ""
		case title != "":
			wantSections[title] += line
		}
	}
	for _, s := range sections {
		title, body, _ := strings.Cut(s, "\n")
		w, ok := wantSections[title]
		if !ok {
			t.Errorf("%s: no section in %s", title, goldenFile)
			continue
		}
		if body != w {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", title, body, w)
		}
		delete(wantSections, title)
	}
	for title := range wantSections {
		t.Errorf("%s: section in %s for no corpus file", title, goldenFile)
	}
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.ContainsFunc(files, func(c corpusFile) bool { return c.name == e.Name() }) {
			t.Errorf("%s/%s is not in the corpus list", corpusDir, e.Name())
		}
	}
}
