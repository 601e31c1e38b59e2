package roster

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shixincheck/shixincheck/rules"
)

// fuzzExts are the file names the fuzzer reads its input as.
var fuzzExts = []string{".xlsx", ".csv", ".txt", ".tsv", ".xls"}

// FuzzRead checks the reader on any input: it never panics, returns either
// people or problems and never both, and every person it returns has a
// valid, normalised name and ID on its own line, and a configured item. The
// corpus files (but the 10,000-row one, too slow to mutate) are the seeds;
// `go test -fuzz FuzzRead ./roster/` explores further (add -fuzztime 10m to
// bound it).
func FuzzRead(f *testing.F) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue
		}
		ext := max(0, slices.Index(fuzzExts, filepath.Ext(e.Name())))
		f.Add(data, uint8(ext), false)
	}
	f.Add(manyRows(5), uint8(1), true)
	f.Add([]byte("姓名\t身份证号\n陈小明\t"+id1+"\n陈小明\t"+id1+"\n"), uint8(2), true)
	seed := rules.Default()
	f.Fuzz(func(t *testing.T, data []byte, ext uint8, mergeDuplicates bool) {
		name := "名单" + fuzzExts[int(ext)%len(fuzzExts)]
		opts := Options{MergeDuplicates: mergeDuplicates, Item: seed.Names()[0], LookupItem: seed.Resolve}
		res, err := Read(bytes.NewReader(data), name, opts)
		var problems Problems
		if err != nil {
			if !errors.As(err, &problems) || len(problems) == 0 {
				t.Fatalf("error %v is not a list of problems", err)
			}
			if res.Rows != nil || res.Merged != nil || res.Sheet != "" {
				t.Fatalf("problems and a result: %+v", res)
			}
			// The problems can always be given back, or refused plainly.
			if _, err := Annotate(data, name, problems); err != nil && !errors.Is(err, ErrNotAnnotatable) {
				t.Fatalf("Annotate: %v", err)
			}
			return
		}
		if len(res.Rows) == 0 {
			t.Fatal("no people and no problems")
		}
		lines := map[int]bool{}
		for _, r := range res.Rows {
			if id, err := NormalizeID(r.IDNumber); err != nil || id != r.IDNumber {
				t.Fatalf("line %d: ID %q is not normalised: %q, %v", r.Line, r.IDNumber, id, err)
			}
			if n, err := NormalizeName(r.Name); err != nil || n != r.Name {
				t.Fatalf("line %d: name %q is not normalised: %q, %v", r.Line, r.Name, n, err)
			}
			if _, ok := seed.Lookup(r.Item); !ok {
				t.Fatalf("line %d: item %q is not configured", r.Line, r.Item)
			}
			if r.Line < 2 || lines[r.Line] {
				t.Fatalf("line %d: not a data row of its own", r.Line)
			}
			lines[r.Line] = true
		}
		for _, m := range res.Merged {
			if !lines[m.Into] || lines[m.Row] || m.Row <= m.Into {
				t.Fatalf("merge %+v: not a later row into a kept one", m)
			}
		}
	})
}
