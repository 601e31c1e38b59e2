package roster

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// personID is the ID of the i-th of many distinct people (odd sequence
// numbers, so no ID ends in 000).
func personID(i int) string {
	day := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/500)
	return withCheck(fmt.Sprintf("420202%s%03d", day.Format("20060102"), i%500*2+1))
}

// genXLSX builds a list of n people as clerks make it: a header row over
// 序号, 姓名, 身份证号 (text cells), 应用事项.
func genXLSX(tb testing.TB, n int) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"序号", "姓名", "身份证号", "应用事项"}); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		ref, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(ref, []any{fmt.Sprint(i + 1), "陈小明", personID(i), "公职人员招录"}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestRead10000XLSX(t *testing.T) {
	const n = 10000
	res, err := Read(bytes.NewReader(genXLSX(t, n)), "名单.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != n {
		t.Fatalf("%d rows, want %d", len(res.Rows), n)
	}
	for i, r := range res.Rows {
		if want := (Row{Line: i + 2, Name: "陈小明", IDNumber: personID(i), Item: "公职人员招录"}); r != want {
			t.Fatalf("row %d = %+v, want %+v", i, r, want)
		}
	}
}

func TestReadXLSXRowLimit(t *testing.T) {
	_, err := Read(bytes.NewReader(genXLSX(t, MaxRows+1)), "名单.xlsx", Options{})
	if got, want := problemsOf(t, err), (Problems{{Message: msgTooManyRows}}); !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %+v, want %+v", got, want)
	}
}

// zipPart is one part to add to a workbook's zip as is: its header may lie.
type zipPart struct {
	name         string
	method       uint16
	data         []byte // as stored in the zip
	size, crc    uint64 // declared uncompressed size and CRC
	compressSize uint64 // declared; len(data) when 0
}

// withParts copies a workbook's zip, replacing parts of the same name and
// adding the others.
func withParts(t *testing.T, xlsx []byte, parts ...zipPart) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	replaced := map[string]bool{}
	for _, p := range parts {
		replaced[p.name] = true
	}
	for _, f := range zr.File {
		if replaced[f.Name] {
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range parts {
		h := &zip.FileHeader{Name: p.name, Method: p.method, UncompressedSize64: p.size, CRC32: uint32(p.crc), CompressedSize64: p.compressSize}
		if h.CompressedSize64 == 0 {
			h.CompressedSize64 = uint64(len(p.data))
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetXML returns the first worksheet's XML of a workbook.
func sheetXML(t *testing.T, xlsx []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadZipLimits(t *testing.T) {
	base := genXLSX(t, 3)
	zeros := make([]byte, 5<<20)
	random := make([]byte, 1<<20)
	rand.Read(random)
	withMerges := func(n int) []byte {
		var m strings.Builder
		fmt.Fprintf(&m, `</sheetData><mergeCells count="%d">`, n)
		for i := range n {
			fmt.Fprintf(&m, `<mergeCell ref="E%d:F%d"/>`, i+1, i+1)
		}
		m.WriteString("</mergeCells>")
		sheet := []byte(strings.Replace(sheetXML(t, base), "</sheetData>", m.String(), 1))
		d := deflate(t, sheet)
		return withParts(t, base, zipPart{name: "xl/worksheets/sheet1.xml", method: zip.Deflate, data: d,
			size: uint64(len(sheet)), crc: uint64(crc32.ChecksumIEEE(sheet))})
	}
	tests := []struct {
		name string
		data []byte
		want string // message; "" for none
	}{
		// Sizes in the zip directory add up past the limit, each part at a
		// modest ratio: refused before anything is inflated.
		{"declared total", withParts(t, base,
			zipPart{name: "xl/media/a.bin", method: zip.Store, data: random, size: 60 << 20, compressSize: 1 << 20},
			zipPart{name: "xl/media/b.bin", method: zip.Store, data: random, size: 60 << 20, compressSize: 1 << 20}),
			msgZipBomb},
		{"ratio", withParts(t, base, zipPart{name: "xl/media/zeros.bin", method: zip.Deflate, data: deflate(t, zeros),
			size: uint64(len(zeros)), crc: uint64(crc32.ChecksumIEEE(zeros))}), msgZipBomb},
		// The header declares 1000 bytes; the data inflates to 5 MB.
		{"lying header", withParts(t, base, zipPart{name: "xl/media/zeros.bin", method: zip.Deflate, data: deflate(t, zeros),
			size: 1000, crc: uint64(crc32.ChecksumIEEE(zeros[:1000]))}), msgZipBomb},
		{"corrupt part", withParts(t, base, zipPart{name: "xl/media/x.bin", method: zip.Deflate, data: []byte("not deflate data"),
			size: 100, crc: 0}), msgBadXLSX},
		{"merges at the limit", withMerges(maxMerges), ""},
		{"too many merges", withMerges(maxMerges + 1), msgTooManyMerges},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Read(bytes.NewReader(tt.data), "名单.xlsx", Options{})
			if tt.want == "" {
				if err != nil || len(res.Rows) != 3 {
					t.Fatalf("rows %d, error %v; want 3 rows", len(res.Rows), err)
				}
				return
			}
			if got, want := problemsOf(t, err), (Problems{{Message: tt.want}}); !reflect.DeepEqual(got, want) {
				t.Errorf("problems = %+v, want %+v", got, want)
			}
			if _, err := Annotate(tt.data, "名单.xlsx", nil); err == nil {
				t.Error("Annotate copied a refused workbook")
			}
		})
	}
}

func TestMergeCounter(t *testing.T) {
	xml := `<worksheet><sheetData/><mergeCells count="3"><mergeCell ref="A1:B1"/>` +
		`<mergeCell ref="A2:B2"/><x:mergeCell ref="A3:B3"/></mergeCells></worksheet>`
	for size := 1; size <= len(xml); size++ {
		c := newMergeCounter()
		for i := 0; i < len(xml); i += size {
			c.Write([]byte(xml[i:min(i+size, len(xml))]))
		}
		if c.count() != 3 {
			t.Fatalf("written in pieces of %d: %d merges, want 3", size, c.count())
		}
	}
}
