package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/vault"
)

// secretPeople are distinctive names and ID numbers that must never be
// readable in a database file.
var secretPeople = []shixincheck.Candidate{
	{Row: 1, Name: "欧阳娜娜", IDNumber: "110101199003071234", Item: itemHire},
	{Row: 2, Name: "司马相如", IDNumber: "32010519851225567X", Item: itemHire},
	{Row: 3, Name: "诸葛孔明", IDNumber: "440305200002298888", Item: itemHire},
}

// secretText is a page, answer or workbook naming every secret person in full.
func secretText(what string) []byte {
	var b strings.Builder
	b.WriteString(what)
	for _, p := range secretPeople {
		fmt.Fprintf(&b, " %s %s;", p.Name, p.IDNumber)
	}
	return []byte(b.String())
}

// writePersonal stores a batch of the secret people, created at when, and a
// check for each a minute apart from when: listed with a record naming them
// and a namesake, then clear, then failed; each with raw answers and two
// evidence files. It returns the candidates, done.
func writePersonal(t *testing.T, s *Store, batchID string, when time.Time) []shixincheck.Candidate {
	t.Helper()
	cands := mustCreate(t, s, testBatch(batchID, when), secretPeople)
	for i, c := range cands {
		k := simpleCheck(c.ID, []shixincheck.Outcome{shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeFailed}[i], 0)
		k.QueriedAt = when.Add(time.Duration(i+1) * time.Minute)
		if k.Outcome == shixincheck.OutcomeListed {
			k.HitCount = 1
			k.Records = []shixincheck.Record{
				{SiteID: "1", Name: c.Name, CaseCode: "（2024）鄂0102执1号", CardNum: c.IDNumber[:10] + "****" + c.IDNumber[14:], Match: shixincheck.MatchHit},
				{SiteID: "2", Name: c.Name, CaseCode: "（2023）京0105执9号", CardNum: "1101011990****5678", Match: shixincheck.MatchNamesake},
			}
		}
		k.Evidence = secretText(`{"answer":"raw"}`)
		k.Files = []shixincheck.EvidenceFile{
			{Name: "list-1.pdf", MIME: "application/pdf", Data: secretText("%PDF-1.7 list")},
			{Name: "detail-01.png", MIME: "image/png", Data: secretText("\x89PNG detail")},
		}
		mustSave(t, s, k)
		cands[i].State = shixincheck.StateDone
	}
	return cands
}

// fileBatch files a batch's checks and, when submit, submits the filing
// with a workbook naming everyone in full.
func fileBatch(t *testing.T, s *Store, batchID string, submit bool) int64 {
	t.Helper()
	ctx := context.Background()
	f, err := s.CreateBatchFiling(ctx, batchID, nil)
	if err != nil {
		t.Fatalf("CreateBatchFiling(%s): %v", batchID, err)
	}
	if submit {
		if err := s.MarkSubmitted(ctx, f.ID, submission(), kept(secretText("PK\x03\x04 workbook"))); err != nil {
			t.Fatalf("MarkSubmitted(%d): %v", f.ID, err)
		}
	}
	return f.ID
}

// ledgerView is everything the ledger gives back of its personal data.
type ledgerView struct {
	Candidates map[string][]shixincheck.Candidate
	Entries    map[string][]Entry
	Evidence   map[int64][]byte
	Files      map[int64][]shixincheck.EvidenceFile
	Workbooks  map[int64][]byte
	ByID       map[string][]string
	ByName     map[string][]string
}

func viewLedger(t *testing.T, s *Store) ledgerView {
	t.Helper()
	ctx := context.Background()
	v := ledgerView{Candidates: map[string][]shixincheck.Candidate{}, Entries: map[string][]Entry{}, Evidence: map[int64][]byte{},
		Files: map[int64][]shixincheck.EvidenceFile{}, Workbooks: map[int64][]byte{}, ByID: map[string][]string{}, ByName: map[string][]string{}}
	batches, err := s.Batches(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if v.Candidates[b.ID], err = s.Candidates(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if v.Entries[b.ID], err = s.Entries(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		for _, e := range v.Entries[b.ID] {
			if e.Check == nil {
				continue
			}
			if v.Evidence[e.Check.ID], err = s.Evidence(ctx, e.Check.ID); err != nil {
				t.Fatal(err)
			}
			files, err := s.EvidenceFiles(ctx, e.Check.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				full, err := s.EvidenceFile(ctx, e.Check.ID, f.Name)
				if err != nil {
					t.Fatal(err)
				}
				v.Files[e.Check.ID] = append(v.Files[e.Check.ID], full)
			}
		}
	}
	filings, err := s.Filings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range filings {
		wb, err := s.SubmittedWorkbook(ctx, f.ID)
		if err == nil {
			v.Workbooks[f.ID] = wb
		} else if !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	for _, p := range secretPeople {
		rows, _, err := s.Query(ctx, Query{IDNumber: p.IDNumber})
		if err != nil {
			t.Fatal(err)
		}
		v.ByID[p.IDNumber] = keys(rows)
		if rows, _, err = s.Query(ctx, Query{Name: p.Name}); err != nil {
			t.Fatal(err)
		}
		v.ByName[p.Name] = keys(rows)
	}
	return v
}

// sealedBy counts the values of the sealed columns by the key that sealed
// them: "plain" for plaintext. It checks the lookup columns too: "lookup ok"
// for a candidate whose hashes are those of its values, "lookup bad" else.
func sealedBy(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	text := func(v string) {
		if id, ok := vault.StringKeyID(v); ok {
			out[id]++
		} else {
			out["plain"]++
		}
	}
	blob := func(b []byte) {
		if b == nil {
			return
		}
		if id, ok := vault.KeyID(b); ok {
			out[id]++
		} else {
			out["plain"]++
		}
	}
	query := func(q string, scan func(scanner) error) {
		t.Helper()
		if err := scanAll(context.Background(), s.db, q, nil, scan); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	query(`SELECT name, id_number, name_lookup, id_lookup FROM candidates`, func(sc scanner) error {
		var name, id, nameLookup, idLookup string
		if err := sc.Scan(&name, &id, &nameLookup, &idLookup); err != nil {
			return err
		}
		text(name)
		text(id)
		plainName, err1 := s.plainText(name)
		plainID, err2 := s.plainText(id)
		if err1 == nil && err2 == nil && nameLookup == s.Lookup(plainName) && idLookup == s.Lookup(plainID) {
			out["lookup ok"]++
		} else {
			out["lookup bad"]++
		}
		return nil
	})
	query(`SELECT records, evidence FROM checks`, func(sc scanner) error {
		var records string
		var evidence []byte
		if err := sc.Scan(&records, &evidence); err != nil {
			return err
		}
		text(records)
		blob(evidence)
		return nil
	})
	query(`SELECT data FROM evidence_files`, func(sc scanner) error {
		var data []byte
		if err := sc.Scan(&data); err != nil {
			return err
		}
		blob(data)
		return nil
	})
	query(`SELECT workbook FROM filings`, func(sc scanner) error {
		var wb []byte
		if err := sc.Scan(&wb); err != nil {
			return err
		}
		blob(wb)
		return nil
	})
	return out
}

func TestKeyCheck(t *testing.T) { onBoth(t, testKeyCheck) }

func testKeyCheck(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	text := vault.Generate()
	right, err := vault.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, dsn, right)
	if err != nil {
		t.Fatal(err)
	}
	writePersonal(t, s, "b1", at(2, 9))
	want := viewLedger(t, s)
	s.Close()

	if _, err := Open(ctx, dsn, nil); err == nil {
		t.Error("Open without keys succeeded")
	}
	lines := strings.Split(text, "\n")
	replace := func(prefix, with string) string {
		out := slices.Clone(lines)
		for i, l := range out {
			if strings.HasPrefix(l, prefix) {
				out[i] = with
			}
		}
		return strings.Join(out, "\n")
	}
	other := strings.Split(vault.Generate(), "\n")
	line := func(prefix string) string {
		for _, l := range other {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no %q line in a new key file", prefix)
		return ""
	}
	rotated, err := vault.AddKey(text)
	if err != nil {
		t.Fatal(err)
	}
	withoutK1 := strings.Join(slices.DeleteFunc(strings.Split(rotated, "\n"), func(l string) bool { return strings.HasPrefix(l, "key k1 ") }), "\n")
	for name, c := range map[string]struct{ text, says string }{
		"another key file":     {vault.Generate(), "key k1 is not the one that sealed its data"},
		"another k1":           {replace("key k1 ", line("key k1 ")), "key k1 is not the one that sealed its data"},
		"another lookup key":   {replace("lookup ", line("lookup ")), "lookup key is not the one of this database"},
		"k1 removed too early": {withoutK1, "sealed with key k1, which the key file lacks"},
	} {
		ring, err := vault.Parse(c.text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = Open(ctx, dsn, ring)
		if !errors.Is(err, ErrKeysMismatch) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: Open = %v, want ErrKeysMismatch saying %q", name, err, c.says)
		}
	}

	// The refused keys wrote nothing; a rotated file (k1 kept) is accepted.
	for _, ringText := range []string{text, rotated} {
		k, _ := vault.Parse(ringText)
		s, err := Open(ctx, dsn, k)
		if err != nil {
			t.Fatalf("Open with the right keys: %v", err)
		}
		if got := viewLedger(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("ledger read back after refused opens differs:\n%+v\nwant\n%+v", got, want)
		}
		s.Close()
	}
}

func TestRekeyRotation(t *testing.T) { onBoth(t, testRekeyRotation) }

// Data written under k1; AddKey; restart with k1+k2; Rekey; then a file with
// k2 alone reads everything.
func testRekeyRotation(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	text := vault.Generate()
	k1, _ := vault.Parse(text)
	s, err := Open(ctx, dsn, k1)
	if err != nil {
		t.Fatal(err)
	}
	writePersonal(t, s, "b1", at(2, 9))
	fileBatch(t, s, "b1", true)
	writePersonal(t, s, "b2", at(3, 9))
	s.Close()

	rotated, err := vault.AddKey(text)
	if err != nil {
		t.Fatal(err)
	}
	both, _ := vault.Parse(rotated)
	s, err = Open(ctx, dsn, both)
	if err != nil {
		t.Fatalf("Open after AddKey: %v", err)
	}
	defer s.Close()
	writePersonal(t, s, "b3", at(4, 9)) // new data: under k2
	// 3 batches × 3 candidates × 2, 9 checks × (records + evidence), 18 files, 1 workbook.
	if got, want := sealedBy(t, s), map[string]int{"k1": 2*6 + 2*6 + 12 + 1, "k2": 6 + 6 + 6, "lookup ok": 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("before Rekey, values by key = %v, want %v", got, want)
	}
	want := viewLedger(t, s)

	n, err := s.Rekey(ctx)
	if err != nil {
		t.Fatalf("Rekey: %v", err)
	}
	if n != 2*6+2*6+12+1 {
		t.Errorf("Rekey rewrote %d values, want %d (those under k1)", n, 2*6+2*6+12+1)
	}
	if got, want := sealedBy(t, s), map[string]int{"k2": 3*6 + 3*6 + 18 + 1, "lookup ok": 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("after Rekey, values by key = %v, want %v", got, want)
	}
	if n, err := s.Rekey(ctx); err != nil || n != 0 {
		t.Errorf("second Rekey = %d, %v; want nothing to do", n, err)
	}
	s.Close()

	onlyK2, err := vault.Parse(strings.Join(slices.DeleteFunc(strings.Split(rotated, "\n"), func(l string) bool { return strings.HasPrefix(l, "key k1 ") }), "\n"))
	if err != nil || onlyK2.Current() != "k2" || len(onlyK2.IDs()) != 1 {
		t.Fatalf("key file without k1: %v, %v", onlyK2, err)
	}
	s, err = Open(ctx, dsn, onlyK2)
	if err != nil {
		t.Fatalf("Open with k2 alone after Rekey: %v", err)
	}
	if got := viewLedger(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("read with k2 alone differs from before the rotation:\n%+v\nwant\n%+v", got, want)
	}
	if len(want.ByID[secretPeople[0].IDNumber]) != 3 || len(want.Workbooks) != 1 {
		t.Errorf("the view is missing data: by ID %v, workbooks %d", want.ByID, len(want.Workbooks))
	}
}

// writePlaintext writes, with raw SQL, a batch of the secret people as the
// version before encryption did: every column in clear, the lookup columns
// holding the values themselves. Each gets a listed check with raw answers
// and an evidence file; the batch is in a submitted filing with its
// workbook. Only columns of schema version 4 are used.
func writePlaintext(t *testing.T, s *Store, batchID string) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, s.rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO batches (id, item, unit, handler, phone, created_at, content_key, control) VALUES (?, ?, ?, ?, ?, ?, ?, 'active')`,
		batchID, itemHire, "某区人社局", "王经办", "027-12345678", at(1, 8), "key-"+batchID)
	exec(`INSERT INTO filings (title, batch_id, department, items, period_from, period_to, unit, handler, phone, completed_at,
		state, created_at, submitted_at, submitted_by, workbook) VALUES (?, ?, '', '["公务员录用"]', ?, ?, '', '', '', ?, ?, ?, ?, '王经办', ?)`,
		"old "+batchID, batchID, at(2, 0), at(3, 0), at(2, 9), shixincheck.FilingSubmitted, at(2, 12), at(2, 12), secretText("PK\x03\x04 old workbook"))
	for _, p := range secretPeople {
		exec(`INSERT INTO candidates (batch_id, row_no, name, id_number, item, state, name_lookup, id_lookup) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			batchID, p.Row, p.Name, p.IDNumber, p.Item, shixincheck.StateDone, p.Name, p.IDNumber)
		records, _ := json.Marshal([]shixincheck.Record{{SiteID: "1", Name: p.Name, CaseCode: "（2024）鄂0102执1号", Match: shixincheck.MatchHit}})
		exec(`INSERT INTO checks (candidate_id, queried_at, channel, site, outcome, hit_count, records, measure, rule_version, evidence, error_kind, captchas, created_at)
			SELECT id, ?, ?, 'classic', ?, 1, ?, '不予录用', 'r1', ?, '', 0, ? FROM candidates WHERE batch_id = ? AND row_no = ?`,
			at(2, 9), shixincheck.Channel, shixincheck.OutcomeListed, string(records), secretText("raw answer"), at(2, 9), batchID, p.Row)
		exec(`INSERT INTO evidence_files (check_id, name, mime, data)
			SELECT k.id, 'list-1.pdf', 'application/pdf', ? FROM checks k JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = ? AND c.row_no = ?`,
			secretText("%PDF old"), batchID, p.Row)
		exec(`INSERT INTO filing_checks (check_id, filing_id)
			SELECT k.id, f.id FROM checks k JOIN candidates c ON c.id = k.candidate_id JOIN filings f ON f.batch_id = c.batch_id
			WHERE c.batch_id = ? AND c.row_no = ?`, batchID, p.Row)
	}
}

// plaintextValues is what writePlaintext wrote in clear: per candidate a
// name, an ID number, records, raw answers and a file; one workbook.
const plaintextValues = 3*5 + 1

// checkUpgraded checks that a batch written by writePlaintext reads back as
// it was written and is found by ID number and name.
func checkUpgraded(t *testing.T, s *Store, batchID string) {
	t.Helper()
	ctx := context.Background()
	cands, err := s.Candidates(ctx, batchID)
	if err != nil || len(cands) != len(secretPeople) {
		t.Fatalf("Candidates = %d, %v", len(cands), err)
	}
	for i, c := range cands {
		if c.Name != secretPeople[i].Name || c.IDNumber != secretPeople[i].IDNumber {
			t.Errorf("candidate %d reads %q %q", i, c.Name, c.IDNumber)
		}
		rows, err := s.History(ctx, secretPeople[i].IDNumber)
		rows = slices.DeleteFunc(rows, func(r Row) bool { return r.Batch.ID != batchID })
		if err != nil || len(rows) != 1 || rows[0].Check.Records[0].Name != c.Name {
			t.Errorf("History of candidate %d = %+v, %v", i, rows, err)
			continue
		}
		if ev, err := s.Evidence(ctx, rows[0].Check.ID); err != nil || !bytes.Equal(ev, secretText("raw answer")) {
			t.Errorf("Evidence = %q, %v", ev, err)
		}
		if f, err := s.EvidenceFile(ctx, rows[0].Check.ID, "list-1.pdf"); err != nil || !bytes.Equal(f.Data, secretText("%PDF old")) {
			t.Errorf("EvidenceFile = %q, %v", f.Data, err)
		}
		if rows, _, err := s.Query(ctx, Query{Name: c.Name, BatchID: batchID}); err != nil || len(rows) != 1 {
			t.Errorf("Query by name = %d rows, %v", len(rows), err)
		}
	}
	filings, err := s.Filings(ctx)
	if err != nil || len(filings) != 1 {
		t.Fatalf("Filings = %d, %v", len(filings), err)
	}
	if wb, err := s.SubmittedWorkbook(ctx, filings[0].ID); err != nil || !bytes.Equal(wb, secretText("PK\x03\x04 old workbook")) {
		t.Errorf("SubmittedWorkbook = %q, %v", wb, err)
	}
}

func TestFirstOpenSealsPlaintext(t *testing.T) { onBoth(t, testFirstOpenSealsPlaintext) }

// A ledger written before encryption (schema version 4) is sealed whole by
// the first Open with keys.
func testFirstOpenSealsPlaintext(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	old := atVersion(t, dsn, 4)
	writePlaintext(t, old, "old")
	if got := sealedBy(t, &Store{db: old.db, postgres: old.postgres, keys: testKeys}); got["plain"] != plaintextValues {
		t.Fatalf("before: values by key = %v, want %d plain", got, plaintextValues)
	}
	old.Close()

	s := openAt(t, dsn)
	if got, want := sealedBy(t, s), map[string]int{"k1": plaintextValues, "lookup ok": 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the first Open, values by key = %v, want %v", got, want)
	}
	checkUpgraded(t, s, "old")
	if n, err := s.Rekey(ctx); err != nil || n != 0 {
		t.Errorf("Rekey after the first Open = %d, %v; want nothing left", n, err)
	}
}

func TestRekeyPlaintext(t *testing.T) { onBoth(t, testRekeyPlaintext) }

// Plaintext rows found after the first Open (an old node still writing
// during the upgrade) are sealed by Rekey.
func testRekeyPlaintext(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	writePersonal(t, s, "new", at(5, 9))
	writePlaintext(t, s, "old")
	if _, err := s.Candidates(ctx, "old"); !errors.Is(err, vault.ErrNotSealed) {
		t.Errorf("reading plaintext before Rekey = %v, want vault.ErrNotSealed", err)
	}
	n, err := s.Rekey(ctx)
	if err != nil || n != plaintextValues {
		t.Fatalf("Rekey = %d, %v; want %d", n, err, plaintextValues)
	}
	if got, want := sealedBy(t, s), map[string]int{"k1": plaintextValues + 3*6, "lookup ok": 6}; !reflect.DeepEqual(got, want) {
		// "new": 3 × (name, ID, records, evidence, 2 files)
		t.Errorf("after Rekey, values by key = %v, want %v", got, want)
	}
	checkUpgraded(t, s, "old")
}
