package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/vault"
)

// testKeys seal every test ledger: a test may reopen its ledger with them.
var testKeys = vault.Random()

var shanghai = time.FixedZone("CST", 8*3600)

// factory makes a new, empty ledger for one test and returns its DSN. The
// test may open it as often as it needs; it is removed when the test ends.
type factory func(t *testing.T) string

// onBoth runs a test against each backend, as subtests sqlite and postgres.
func onBoth(t *testing.T, test func(t *testing.T, fresh factory)) {
	t.Run("sqlite", func(t *testing.T) { test(t, sqliteLedger) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresLedger) })
}

// sqliteLedger is a file in a directory that does not exist yet.
func sqliteLedger(t *testing.T) string {
	return filepath.Join(t.TempDir(), "data", "ledger.db")
}

const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresLedger is a schema of its own, t_<random>, in the server named by
// SHIXINCHECK_TEST_POSTGRES (a URL; default defaultTestPostgres), dropped
// when the test ends. An unreachable server fails the test: the PostgreSQL
// half of the suite is never skipped.
func postgresLedger(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SHIXINCHECK_TEST_POSTGRES")
	if base == "" {
		base = defaultTestPostgres
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("SHIXINCHECK_TEST_POSTGRES must be a postgres:// URL")
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("SHIXINCHECK_TEST_POSTGRES: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL for the ledger tests is unreachable at %s@%s/%s (%v): start it, or set SHIXINCHECK_TEST_POSTGRES",
			u.User.Username(), u.Host, strings.TrimPrefix(u.Path, "/"), err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openAt(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, testKeys)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// atVersion connects to dsn and migrates it to the schema of an older
// release, its first n migrations only, as that release left it: no keys.
// The caller closes it.
func atVersion(t *testing.T, dsn string, n int) *Store {
	t.Helper()
	s, err := connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.migrate(context.Background(), s.migrations()[:n]); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

func newStore(t *testing.T, fresh factory) *Store {
	t.Helper()
	return openAt(t, fresh(t))
}

func testBatch(id string, created time.Time) shixincheck.Batch {
	return shixincheck.Batch{
		ID: id, Item: "评优评先", Unit: "某区人社局", Handler: "王经办", Phone: "027-12345678",
		CreatedAt: created, ContentKey: "key-" + id, Control: shixincheck.ControlActive,
	}
}

// people returns n candidates with rows 1..n.
func people(n int) []shixincheck.Candidate {
	out := make([]shixincheck.Candidate, n)
	for i := range out {
		out[i] = shixincheck.Candidate{
			Row:      i + 1,
			Name:     fmt.Sprintf("张%d", i+1),
			IDNumber: fmt.Sprintf("42020219800101%03dX", i),
			Item:     "公务员录用",
		}
	}
	return out
}

func mustCreate(t *testing.T, s *Store, b shixincheck.Batch, cands []shixincheck.Candidate) []shixincheck.Candidate {
	t.Helper()
	_, got, created, err := s.CreateBatch(context.Background(), b, cands)
	if err != nil || !created {
		t.Fatalf("CreateBatch(%s) = created %v, %v", b.ID, created, err)
	}
	return got
}

func simpleCheck(candID int64, o shixincheck.Outcome, hits int) shixincheck.Check {
	c := shixincheck.Check{
		CandidateID: candID, QueriedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		Channel: shixincheck.Channel, Site: "classic", Outcome: o, HitCount: hits,
		Measure: "不予评优", RuleVersion: "r1",
	}
	if o == shixincheck.OutcomeFailed {
		c.ErrorKind = shixincheck.KindTimeout
		c.Measure = shixincheck.NeedsPerson
	}
	return c
}

func mustSave(t *testing.T, s *Store, c shixincheck.Check) int64 {
	t.Helper()
	id, saved, err := s.SaveCheck(context.Background(), c)
	if err != nil || !saved {
		t.Fatalf("SaveCheck(candidate %d) = %d, saved %v, %v", c.CandidateID, id, saved, err)
	}
	return id
}

func TestOpenPragmasOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "新建 目录?#%")
	path := filepath.Join(dir, "ledger.db")
	s := openAt(t, "sqlite:"+path)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("ledger file not at the given path: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	// Hold several connections at once so the pool must open distinct ones.
	for i := 0; i < 3; i++ {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var fk, busy, sync int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy != 5000 || sync != 1 {
			t.Errorf("conn %d: journal_mode=%s foreign_keys=%d busy_timeout=%d synchronous=%d", i, mode, fk, busy, sync)
		}
	}
}

func TestOpenDSN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Both URL schemes reach PostgreSQL.
	dsn := postgresLedger(t)
	for _, scheme := range []string{"postgres", "postgresql"} {
		_, rest, _ := strings.Cut(dsn, "://")
		s, err := Open(ctx, scheme+"://"+rest, testKeys)
		if err != nil {
			t.Fatalf("Open(%s://…): %v", scheme, err)
		}
		if !s.postgres {
			t.Errorf("Open(%s://…) did not choose PostgreSQL", scheme)
		}
		s.Close()
	}

	// Failures never echo the password.
	for name, dsn := range map[string]string{
		"unsupported scheme": "mysql://clerk:s3cret@127.0.0.1/ledger",
		"unreachable server": "postgres://clerk:s3cret@127.0.0.1:1/ledger?connect_timeout=5",
		"malformed":          "postgres://clerk:s3cret@127.0.0.1:port/ledger",
		"bad parameter":      "postgres://clerk:s3cret@127.0.0.1/ledger?sslmode=sometimes",
		"empty":              "",
	} {
		_, err := Open(ctx, dsn, testKeys)
		if err == nil {
			t.Errorf("%s: Open(%q) succeeded", name, dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error leaks the password: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestCreateBatchAndDedupe(t *testing.T) { onBoth(t, testCreateBatchAndDedupe) }

func testCreateBatchAndDedupe(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	b := testBatch("b1", time.Date(2026, 3, 2, 10, 4, 5, 123456000, shanghai))
	in := people(3)
	in[0], in[2] = in[2], in[0] // rows 3, 2, 1
	in[1].Item = ""             // falls back to the batch's item

	gotB, got, created, err := s.CreateBatch(ctx, b, in)
	if err != nil || !created {
		t.Fatalf("CreateBatch = created %v, %v", created, err)
	}
	wantB := b
	wantB.CreatedAt = b.CreatedAt.UTC()
	if !reflect.DeepEqual(gotB, wantB) {
		t.Errorf("returned batch = %+v, want %+v", gotB, wantB)
	}
	if gotB.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", gotB.CreatedAt.Location())
	}
	for i, c := range got {
		want := in[i]
		if want.Item == "" {
			want.Item = b.Item
		}
		want.ID, want.BatchID, want.State = c.ID, "b1", shixincheck.StateQueued
		if c.ID == 0 || !reflect.DeepEqual(c, want) {
			t.Errorf("returned candidate %d = %+v, want %+v", i, c, want)
		}
	}

	stored, err := s.Batch(ctx, "b1")
	if err != nil || !reflect.DeepEqual(stored, wantB) {
		t.Errorf("Batch = %+v, %v; want %+v", stored, err, wantB)
	}
	cands, err := s.Candidates(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	wantOrder := []shixincheck.Candidate{got[2], got[1], got[0]}
	if !reflect.DeepEqual(cands, wantOrder) {
		t.Errorf("Candidates = %+v, want by row %+v", cands, wantOrder)
	}
	one, err := s.Candidate(ctx, got[1].ID)
	if err != nil || !reflect.DeepEqual(one, got[1]) {
		t.Errorf("Candidate = %+v, %v; want %+v", one, err, got[1])
	}

	// The same upload again, under another ID: nothing written, the first batch returned.
	again := testBatch("b1-again", time.Now())
	again.ContentKey = b.ContentKey
	dupB, dupC, created, err := s.CreateBatch(ctx, again, people(5))
	if err != nil || created {
		t.Fatalf("duplicate CreateBatch = created %v, %v", created, err)
	}
	if !reflect.DeepEqual(dupB, wantB) || !reflect.DeepEqual(dupC, wantOrder) {
		t.Errorf("duplicate CreateBatch returned %+v %+v, want the first batch", dupB, dupC)
	}
	if _, err := s.Batch(ctx, "b1-again"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Batch(b1-again) = %v, want ErrNotFound", err)
	}
	all, err := s.Batches(ctx, 0)
	if err != nil || len(all) != 1 {
		t.Errorf("Batches = %d batches, %v; want 1", len(all), err)
	}
}

func TestCreateBatchIsAtomic(t *testing.T) { onBoth(t, testCreateBatchIsAtomic) }

func testCreateBatchIsAtomic(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	in := people(3)
	in[2].Row = 1 // duplicate row
	if _, _, _, err := s.CreateBatch(ctx, testBatch("b1", time.Now()), in); err == nil {
		t.Fatal("CreateBatch accepted a duplicate row")
	}
	if _, err := s.Batch(ctx, "b1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Batch after failed CreateBatch = %v, want ErrNotFound", err)
	}
	if u, err := s.Unfinished(ctx); err != nil || len(u) != 0 {
		t.Errorf("Unfinished after failed CreateBatch = %d candidates, %v", len(u), err)
	}
	if _, _, _, err := s.CreateBatch(ctx, shixincheck.Batch{ID: "x"}, nil); err == nil {
		t.Error("CreateBatch accepted a batch without ContentKey")
	}
}

func TestBatchesNewestFirst(t *testing.T) { onBoth(t, testBatchesNewestFirst) }

func testBatchesNewestFirst(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i, id := range []string{"old", "newest", "middle"} {
		offset := []time.Duration{0, 2 * time.Hour, time.Hour}[i]
		mustCreate(t, s, testBatch(id, base.Add(offset)), people(1))
	}
	got, err := s.Batches(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "newest" || got[1].ID != "middle" {
		t.Errorf("Batches(2) = %+v, want newest, middle", got)
	}
	if got, _ := s.Batches(ctx, 0); len(got) != 3 || got[2].ID != "old" {
		t.Errorf("Batches(0) = %+v, want all three, old last", got)
	}
}

func TestNotFound(t *testing.T) { onBoth(t, testNotFound) }

func testNotFound(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	checks := map[string]error{}
	_, checks["Batch"] = s.Batch(ctx, "nope")
	_, checks["Candidate"] = s.Candidate(ctx, 42)
	_, checks["Candidates"] = s.Candidates(ctx, "nope")
	_, checks["Entries"] = s.Entries(ctx, "nope")
	_, checks["Progress"] = s.Progress(ctx, "nope")
	_, checks["ResetFailed"] = s.ResetFailed(ctx, "nope")
	_, checks["Evidence"] = s.Evidence(ctx, 42)
	_, _, checks["SaveCheck"] = s.SaveCheck(ctx, simpleCheck(42, shixincheck.OutcomeClear, 0))
	_, checks["CreateBatchFiling"] = s.CreateBatchFiling(ctx, "nope", nil)
	_, checks["Filing"] = s.Filing(ctx, 42)
	_, checks["FilingRows"] = s.FilingRows(ctx, 42)
	checks["MarkSubmitted"] = s.MarkSubmitted(ctx, 42, submission(), kept([]byte("wb")))
	_, checks["SubmittedWorkbook"] = s.SubmittedWorkbook(ctx, 42)
	for name, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a missing row = %v, want ErrNotFound", name, err)
		}
	}
}

func TestSaveCheckRoundTrip(t *testing.T) { onBoth(t, testSaveCheckRoundTrip) }

func testSaveCheckRoundTrip(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(2))

	listed := shixincheck.Check{
		CandidateID: cands[0].ID,
		QueriedAt:   time.Date(2026, 3, 2, 10, 4, 5, 123456000, shanghai),
		Channel:     shixincheck.Channel,
		Site:        "gkw",
		Outcome:     shixincheck.OutcomeListed,
		HitCount:    1,
		Records: []shixincheck.Record{
			{
				SiteID: "1001", Name: "张1", CaseCode: "（2024）鄂0102执1234号", CardNum: "4202021980****000X",
				CourtName: "武汉市江岸区人民法院", AreaName: "湖北", RegDate: "2024年01月02日", PublishDate: "2024年03月04日",
				GistID: "（2023）鄂0102民初1号", GistUnit: "武汉市江岸区人民法院", Duty: "偿还借款", Performance: "全部未履行",
				DisruptType: "有履行能力而拒不履行生效法律文书确定义务", Match: shixincheck.MatchHit,
			},
			{SiteID: "1002", Name: "张1", CaseCode: "（2022）京0105执9号", CardNum: "1101011990****5678", Match: shixincheck.MatchNamesake},
		},
		Measure:     "不予录用",
		RuleVersion: "2026-03",
		Stage:       "资格复审",
		Departments: "政工科、委员工委（按职责分工负责）",
		Evidence:    []byte("{\"raw\":\"\x00\xff\xfe 原始答复\"}"),
		Captchas:    2,
	}
	id, saved, err := s.SaveCheck(ctx, listed)
	if err != nil || !saved || id == 0 {
		t.Fatalf("SaveCheck = %d, saved %v, %v", id, saved, err)
	}
	failed := shixincheck.Check{
		CandidateID: cands[1].ID, QueriedAt: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC),
		Channel: shixincheck.Channel, Site: "classic", Outcome: shixincheck.OutcomeFailed,
		Measure: shixincheck.NeedsPerson, RuleVersion: "2026-03", ErrorKind: shixincheck.KindBlocked,
	}
	failedID := mustSave(t, s, failed)

	entries, err := s.Entries(ctx, "b1")
	if err != nil || len(entries) != 2 {
		t.Fatalf("Entries = %d entries, %v", len(entries), err)
	}
	want := listed
	want.ID = id
	want.QueriedAt = listed.QueriedAt.UTC()
	want.Evidence = nil // not loaded by Entries
	if got := entries[0].Check; got == nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("Entries check =\n%+v\nwant\n%+v", got, want)
	}
	if entries[0].Candidate.State != shixincheck.StateDone {
		t.Errorf("candidate state = %q, want done", entries[0].Candidate.State)
	}
	wantFailed := failed
	wantFailed.ID = failedID
	if got := entries[1].Check; got == nil || !reflect.DeepEqual(*got, wantFailed) {
		t.Errorf("Entries failed check =\n%+v\nwant\n%+v", got, wantFailed)
	}

	ev, err := s.Evidence(ctx, id)
	if err != nil || string(ev) != string(listed.Evidence) {
		t.Errorf("Evidence = %q, %v; want %q", ev, err, listed.Evidence)
	}
	if ev, err := s.Evidence(ctx, failedID); err != nil || ev != nil {
		t.Errorf("Evidence of a check without any = %q, %v; want nil", ev, err)
	}
	c, err := s.Candidate(ctx, cands[1].ID)
	if err != nil || c.State != shixincheck.StateDone {
		t.Errorf("Candidate after SaveCheck = %+v, %v; want done", c, err)
	}
}

func TestCheckKeepsStage(t *testing.T) { onBoth(t, testCheckKeepsStage) }

// A check's stage and departments read back as saved, whichever way the
// ledger is read: they are the ledger's record, not looked up again.
func testCheckKeepsStage(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(2))
	kept := simpleCheck(cands[0].ID, shixincheck.OutcomeClear, 0)
	kept.Stage, kept.Departments = "资格复审", "政工科、委员工委（按职责分工负责）"
	mustSave(t, s, kept)
	mustSave(t, s, simpleCheck(cands[1].ID, shixincheck.OutcomeClear, 0)) // none given: stays empty

	type sd struct{ Stage, Departments string }
	want := []sd{{kept.Stage, kept.Departments}, {}}
	entries, err := s.Entries(ctx, "b1")
	if err != nil || len(entries) != 2 {
		t.Fatalf("Entries = %d entries, %v", len(entries), err)
	}
	for i, e := range entries {
		if got := (sd{e.Check.Stage, e.Check.Departments}); got != want[i] {
			t.Errorf("Entries row %d: stage, departments = %+v, want %+v", e.Candidate.Row, got, want[i])
		}
	}
	rows, _, err := s.Query(ctx, Query{BatchID: "b1"})
	if err != nil || len(rows) != 2 {
		t.Fatalf("Query = %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		if got := (sd{r.Check.Stage, r.Check.Departments}); got != want[r.Candidate.Row-1] {
			t.Errorf("Query row %d: stage, departments = %+v, want %+v", r.Candidate.Row, got, want[r.Candidate.Row-1])
		}
	}
	hist, err := s.History(ctx, cands[0].IDNumber)
	if err != nil || len(hist) != 1 {
		t.Fatalf("History = %d rows, %v", len(hist), err)
	}
	if got := (sd{hist[0].Check.Stage, hist[0].Check.Departments}); got != want[0] {
		t.Errorf("History: stage, departments = %+v, want %+v", got, want[0])
	}
}

func TestSaveCheckDuplicateRefused(t *testing.T) { onBoth(t, testSaveCheckDuplicateRefused) }

func testSaveCheckDuplicateRefused(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(1))
	first := mustSave(t, s, simpleCheck(cands[0].ID, shixincheck.OutcomeListed, 1))

	id, saved, err := s.SaveCheck(ctx, simpleCheck(cands[0].ID, shixincheck.OutcomeClear, 0))
	if err != nil || saved || id != first {
		t.Errorf("duplicate SaveCheck = %d, saved %v, %v; want %d, false, nil", id, saved, err, first)
	}
	entries, err := s.Entries(ctx, "b1")
	if err != nil || entries[0].Check.Outcome != shixincheck.OutcomeListed {
		t.Errorf("after duplicate, Entries = %+v, %v; want the first check kept", entries, err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM checks").Scan(&n); err != nil || n != 1 {
		t.Errorf("checks rows = %d, %v; want 1", n, err)
	}
	if _, _, err := s.SaveCheck(ctx, simpleCheck(cands[0].ID, "maybe", 0)); err == nil {
		t.Error("SaveCheck accepted an unknown outcome")
	}
}

func TestEntriesAndProgress(t *testing.T) { onBoth(t, testEntriesAndProgress) }

func testEntriesAndProgress(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(6))
	other := mustCreate(t, s, testBatch("b2", time.Now()), people(2))
	mustSave(t, s, simpleCheck(other[0].ID, shixincheck.OutcomeListed, 5)) // must not count in b1

	outcomes := []struct {
		o    shixincheck.Outcome
		hits int
	}{
		{shixincheck.OutcomeListed, 2},
		{shixincheck.OutcomeListed, 1},
		{shixincheck.OutcomeClear, 0},
		{shixincheck.OutcomeReview, 0},
		{shixincheck.OutcomeFailed, 0},
	}
	for i, oc := range outcomes {
		mustSave(t, s, simpleCheck(cands[i].ID, oc.o, oc.hits))
	}

	p, err := s.Progress(ctx, "b1")
	want := Progress{Total: 6, Done: 5, Listed: 2, Clear: 1, Review: 1, Failed: 1, Hits: 3}
	if err != nil || p != want {
		t.Errorf("Progress = %+v, %v; want %+v", p, err, want)
	}
	entries, err := s.Entries(ctx, "b1")
	if err != nil || len(entries) != 6 {
		t.Fatalf("Entries = %d, %v; want 6", len(entries), err)
	}
	for i, e := range entries {
		if e.Candidate.Row != i+1 {
			t.Errorf("entry %d has row %d", i, e.Candidate.Row)
		}
		if i < len(outcomes) {
			if e.Check == nil || e.Check.Outcome != outcomes[i].o || e.Check.HitCount != outcomes[i].hits || e.Check.CandidateID != e.Candidate.ID {
				t.Errorf("entry %d check = %+v, want %v with %d hits", i, e.Check, outcomes[i].o, outcomes[i].hits)
			}
		} else if e.Check != nil || e.Candidate.State != shixincheck.StateQueued {
			t.Errorf("unchecked entry %d = %+v", i, e)
		}
	}
}

func TestUnfinishedSurvivesReopen(t *testing.T) { onBoth(t, testUnfinishedSurvivesReopen) }

func testUnfinishedSurvivesReopen(t *testing.T, fresh factory) {
	ctx := context.Background()
	path := fresh(t)
	s, err := Open(ctx, path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// "a-later" sorts first by ID but was created later: batches go by creation.
	later := mustCreate(t, s, testBatch("a-later", base.Add(time.Hour)), people(2))
	earlier := mustCreate(t, s, testBatch("z-earlier", base), people(3))
	mustSave(t, s, simpleCheck(earlier[1].ID, shixincheck.OutcomeClear, 0))
	mustSave(t, s, simpleCheck(later[0].ID, shixincheck.OutcomeListed, 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	got, err := s.Unfinished(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []shixincheck.Candidate{earlier[0], earlier[2], later[1]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unfinished after reopen =\n%+v\nwant\n%+v", got, want)
	}
	p, err := s.Progress(ctx, "a-later")
	if err != nil || p != (Progress{Total: 2, Done: 1, Listed: 1, Hits: 1}) {
		t.Errorf("Progress after reopen = %+v, %v", p, err)
	}
}

func TestResetFailed(t *testing.T) { onBoth(t, testResetFailed) }

func testResetFailed(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(4))
	mustSave(t, s, simpleCheck(cands[0].ID, shixincheck.OutcomeListed, 1))
	failedA := mustSave(t, s, simpleCheck(cands[1].ID, shixincheck.OutcomeFailed, 0))
	mustSave(t, s, simpleCheck(cands[2].ID, shixincheck.OutcomeClear, 0))
	mustSave(t, s, simpleCheck(cands[3].ID, shixincheck.OutcomeFailed, 0))

	reset, err := s.ResetFailed(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if len(reset) != 2 || reset[0].ID != cands[1].ID || reset[1].ID != cands[3].ID {
		t.Fatalf("ResetFailed = %+v, want rows 2 and 4", reset)
	}
	for _, c := range reset {
		want := cands[c.Row-1] // still queued as created, name and ID intact
		if !reflect.DeepEqual(c, want) {
			t.Errorf("reset candidate = %+v, want %+v", c, want)
		}
	}
	p, _ := s.Progress(ctx, "b1")
	if want := (Progress{Total: 4, Done: 2, Listed: 1, Clear: 1, Hits: 1}); p != want {
		t.Errorf("Progress after reset = %+v, want %+v", p, want)
	}
	if again, err := s.ResetFailed(ctx, "b1"); err != nil || len(again) != 0 {
		t.Errorf("second ResetFailed = %+v, %v; want none", again, err)
	}
	u, _ := s.Unfinished(ctx)
	if len(u) != 2 {
		t.Errorf("Unfinished after reset = %d, want 2", len(u))
	}
	entries, _ := s.Entries(ctx, "b1")
	if entries[1].Check != nil {
		t.Errorf("reset candidate still shows check %+v", entries[1].Check)
	}

	// The retry supersedes the failed check, which stays as history.
	retry := simpleCheck(cands[1].ID, shixincheck.OutcomeClear, 0)
	retry.Evidence = []byte("retry")
	newID := mustSave(t, s, retry)
	if newID == failedA {
		t.Fatal("retry reused the failed check's ID")
	}
	entries, _ = s.Entries(ctx, "b1")
	if c := entries[1].Check; c == nil || c.ID != newID || c.Outcome != shixincheck.OutcomeClear {
		t.Errorf("entry after retry = %+v, want check %d clear", c, newID)
	}
	if _, err := s.Evidence(ctx, failedA); err != nil {
		t.Errorf("failed check no longer in the ledger: %v", err)
	}
	if id, saved, err := s.SaveCheck(ctx, simpleCheck(cands[1].ID, shixincheck.OutcomeFailed, 0)); err != nil || saved || id != newID {
		t.Errorf("duplicate after retry = %d, saved %v, %v; want %d refused", id, saved, err, newID)
	}
	p, _ = s.Progress(ctx, "b1")
	if want := (Progress{Total: 4, Done: 3, Listed: 1, Clear: 2, Hits: 1}); p != want {
		t.Errorf("Progress after retry = %+v, want %+v", p, want)
	}
}

func schemaVersions(t *testing.T, s *Store) map[int]time.Time {
	t.Helper()
	rows, err := s.db.Query("SELECT version, applied_at FROM schema_migrations")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]time.Time{}
	for rows.Next() {
		var v int
		var at time.Time
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		out[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationListsInStep(t *testing.T) {
	if len(sqliteMigrations) != len(postgresMigrations) {
		t.Errorf("%d SQLite migrations, %d PostgreSQL ones: the versions must move in step", len(sqliteMigrations), len(postgresMigrations))
	}
}

func TestMigrations(t *testing.T) { onBoth(t, testMigrations) }

func testMigrations(t *testing.T, fresh factory) {
	ctx := context.Background()
	path := fresh(t)
	s, err := Open(ctx, path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	migrations := s.migrations()
	first := schemaVersions(t, s)
	if len(first) != len(migrations) {
		t.Fatalf("fresh DB has versions %v, want 1..%d", first, len(migrations))
	}
	for v := 1; v <= len(migrations); v++ {
		if _, ok := first[v]; !ok {
			t.Errorf("fresh DB lacks version %d", v)
		}
	}
	mustCreate(t, s, testBatch("b1", time.Now()), people(1))
	s.Close()

	s, err = Open(ctx, path, testKeys)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if again := schemaVersions(t, s); !reflect.DeepEqual(again, first) {
		t.Errorf("reopen changed schema_migrations: %v, was %v", again, first)
	}
	if _, err := s.Batch(ctx, "b1"); err != nil {
		t.Errorf("data lost on reopen: %v", err)
	}

	// A newer program wrote this file: refuse it.
	newer := len(migrations) + 1
	if _, err := s.db.Exec(s.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"), newer, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, path, testKeys)
	wantMsg := fmt.Sprintf("database schema version %d is newer than this program's %d", newer, len(migrations))
	if err == nil || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("Open of a newer DB = %v, want an error saying %q", err, wantMsg)
	}
}

func TestMigrateUpgradesOlderDB(t *testing.T) { onBoth(t, testMigrateUpgradesOlderDB) }

func testMigrateUpgradesOlderDB(t *testing.T, fresh factory) {
	ctx := context.Background()
	path := fresh(t)
	s, err := connect(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migrations := s.migrations()

	// Version 0: only schema_migrations. Open must bring it to the current schema.
	if err := s.migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersions(t, s); len(v) != 0 {
		t.Fatalf("versions after empty migrate = %v", v)
	}
	opened := openAt(t, path)
	if v := schemaVersions(t, opened); len(v) != len(migrations) {
		t.Errorf("Open of an older DB left versions %v", v)
	}
	mustCreate(t, opened, testBatch("b1", time.Now()), people(1))

	// A later migration is applied on top of the existing data.
	next := append(slices.Clone(migrations), "CREATE TABLE extra (x INTEGER)")
	if err := s.migrate(ctx, next); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersions(t, s); len(v) != len(next) {
		t.Errorf("versions after upgrade = %v, want %d", v, len(next))
	}
	if _, err := s.db.Exec("INSERT INTO extra (x) VALUES (1)"); err != nil {
		t.Errorf("upgrade did not create its table: %v", err)
	}

	// A failing migration leaves nothing behind.
	broken := append(slices.Clone(next), "CREATE TABLE extra2 (x INTEGER); THIS IS NOT SQL")
	if err := s.migrate(ctx, broken); err == nil {
		t.Fatal("broken migration succeeded")
	}
	if v := schemaVersions(t, s); len(v) != len(next) {
		t.Errorf("versions after a failed migration = %v, want %d", v, len(next))
	}
	if _, err := s.db.Exec("SELECT x FROM extra2"); err == nil {
		t.Error("failed migration left its table behind")
	}
}

func TestMigrateAddsCheckStage(t *testing.T) { onBoth(t, testMigrateAddsCheckStage) }

// A ledger from before checks kept their stage (version 6) gets the columns:
// its checks read back with an empty stage, new ones keep theirs.
func testMigrateAddsCheckStage(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	old := atVersion(t, dsn, 6)
	old.keys = testKeys
	cands := mustCreate(t, old, testBatch("b1", time.Now()), people(2))
	if _, err := old.db.ExecContext(ctx, old.rebind(`INSERT INTO checks (candidate_id, queried_at, channel, site, outcome, hit_count,
		records, measure, rule_version, evidence, error_kind, captchas, created_at)
		VALUES (?, ?, ?, 'classic', ?, 0, ?, '正常录用', 'r1', NULL, '', 0, ?)`),
		cands[0].ID, at(2, 9), shixincheck.Channel, shixincheck.OutcomeClear, testKeys.SealString("null"), at(2, 9)); err != nil {
		t.Fatalf("insert a version-6 check: %v", err)
	}
	if _, err := old.db.ExecContext(ctx, old.rebind(`UPDATE candidates SET state = ? WHERE id = ?`), shixincheck.StateDone, cands[0].ID); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s := openAt(t, dsn)
	if v := schemaVersions(t, s); len(v) != len(s.migrations()) {
		t.Fatalf("upgraded ledger at versions %v, want 1..%d", v, len(s.migrations()))
	}
	c := simpleCheck(cands[1].ID, shixincheck.OutcomeClear, 0)
	c.Stage, c.Departments = "资格复审", "政工科"
	mustSave(t, s, c)
	entries, err := s.Entries(ctx, "b1")
	if err != nil || len(entries) != 2 || entries[0].Check == nil || entries[1].Check == nil {
		t.Fatalf("Entries after upgrade = %+v, %v", entries, err)
	}
	if got := entries[0].Check; got.Stage != "" || got.Departments != "" || got.Measure != "正常录用" {
		t.Errorf("old check after upgrade: stage %q, departments %q, measure %q; want empty, empty, 正常录用", got.Stage, got.Departments, got.Measure)
	}
	if got := entries[1].Check; got.Stage != "资格复审" || got.Departments != "政工科" {
		t.Errorf("new check after upgrade: stage %q, departments %q", got.Stage, got.Departments)
	}
}

func TestConcurrentSaveCheckWhileReading(t *testing.T) {
	onBoth(t, testConcurrentSaveCheckWhileReading)
}

func testConcurrentSaveCheckWhileReading(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	const workers, each = 8, 15
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(workers*each))

	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * each; i < (w+1)*each; i++ {
				c := simpleCheck(cands[i].ID, shixincheck.OutcomeListed, 1)
				c.Evidence = make([]byte, 4096)
				if _, saved, err := s.SaveCheck(ctx, c); err != nil || !saved {
					errs <- fmt.Errorf("worker %d: saved %v, %w", w, saved, err)
					return
				}
			}
		}(w)
	}
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		last := 0
		for {
			p, err := s.Progress(ctx, "b1")
			if err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			if p.Done < last || p.Done != p.Listed || p.Hits != p.Done {
				errs <- fmt.Errorf("reader: inconsistent progress %+v after done=%d", p, last)
				return
			}
			last = p.Done
			if _, err := s.Entries(ctx, "b1"); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p, err := s.Progress(ctx, "b1")
	if want := (Progress{Total: workers * each, Done: workers * each, Listed: workers * each, Hits: workers * each}); err != nil || p != want {
		t.Errorf("final Progress = %+v, %v; want %+v", p, err, want)
	}
}

func TestConcurrentDuplicateSaveCheck(t *testing.T) { onBoth(t, testConcurrentDuplicateSaveCheck) }

func testConcurrentDuplicateSaveCheck(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(1))
	type result struct {
		id    int64
		saved bool
		err   error
	}
	results := make(chan result, 8)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, saved, err := s.SaveCheck(ctx, simpleCheck(cands[0].ID, shixincheck.OutcomeClear, 0))
			results <- result{id, saved, err}
		}()
	}
	wg.Wait()
	close(results)
	savedCount := 0
	ids := map[int64]bool{}
	for r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.saved {
			savedCount++
		}
		ids[r.id] = true
	}
	if savedCount != 1 || len(ids) != 1 {
		t.Errorf("8 deliveries of one task: %d saved, ids %v; want 1 saved, one id", savedCount, ids)
	}
}

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := (&Store{}).rebind(q); got != q {
		t.Errorf("SQLite rebind = %q", got)
	}
	want := "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
	if got := (&Store{postgres: true}).rebind(q); got != want {
		t.Errorf("PostgreSQL rebind = %q, want %q", got, want)
	}
}
