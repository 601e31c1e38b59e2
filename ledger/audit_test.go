package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

func mustAudit(t *testing.T, s *Store, e AuditEntry) AuditEntry {
	t.Helper()
	got, err := s.Audit(context.Background(), e)
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return got
}

// fiveEntries appends five entries an hour apart from 2026-03-02 09:00 Beijing.
func fiveEntries(t *testing.T, s *Store) []AuditEntry {
	t.Helper()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 123456789, shanghai)
	in := []AuditEntry{
		{Actor: "clerk1", Action: shixincheck.AuditLogin, Target: "account clerk1", Remote: "10.0.0.5"},
		{Actor: "clerk1", Action: shixincheck.AuditUpload, Target: "batch b1", Detail: "30 rows", Remote: "10.0.0.5"},
		{Actor: "auditor1", Action: shixincheck.AuditViewPerson, Target: "candidate 17", Remote: "10.0.0.6"},
		{Actor: "cli:root", Action: shixincheck.AuditPurge, Target: "batch b1", Detail: "dry run"},
		{Actor: "clerk1", Action: shixincheck.AuditDownload, Target: "filing 3", Remote: "10.0.0.5"},
	}
	out := make([]AuditEntry, len(in))
	for i, e := range in {
		e.At = t0.Add(time.Duration(i) * time.Hour)
		out[i] = mustAudit(t, s, e)
	}
	return out
}

func TestAudit(t *testing.T) { onBoth(t, testAudit) }

func testAudit(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit of an empty trail = %d, %v", n, err)
	}
	entries := fiveEntries(t, s)
	prev := strings.Repeat("0", 64)
	for i, e := range entries {
		if e.Seq != int64(i+1) || e.PrevHash != prev || len(e.Hash) != 64 || e.Hash != auditHash(e) {
			t.Errorf("entry %d: seq %d, prev %s, hash %s", i, e.Seq, e.PrevHash, e.Hash)
		}
		if e.At.Location() != time.UTC || e.At.Nanosecond()%1000 != 0 {
			t.Errorf("entry %d: at %v is not UTC at microseconds", i, e.At)
		}
		prev = e.Hash
	}

	// What Audit returned is what was stored.
	var stored []AuditEntry
	if err := s.AuditEntries(ctx, func(e AuditEntry) error { stored = append(stored, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, entries) {
		t.Errorf("AuditEntries = %+v\nwant %+v", stored, entries)
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.AuditEntries(ctx, func(AuditEntry) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("AuditEntries with fn failing = %v after %d calls, want fn's error after 1", err, calls)
	}
	if n, err := s.VerifyAudit(ctx); n != 5 || err != nil {
		t.Errorf("VerifyAudit = %d, %v, want 5, nil", n, err)
	}

	// A zero At is now.
	before := time.Now().Add(-time.Second)
	e := mustAudit(t, s, AuditEntry{Actor: "system", Action: shixincheck.AuditRulesLoaded, Target: "rules r2"})
	if e.At.Before(before) || e.At.After(time.Now().Add(time.Second)) {
		t.Errorf("Audit with zero At stamped %v", e.At)
	}
	if n, err := s.VerifyAudit(ctx); n != 6 || err != nil {
		t.Errorf("VerifyAudit = %d, %v, want 6, nil", n, err)
	}
}

func TestAuditLog(t *testing.T) { onBoth(t, testAuditLog) }

func testAuditLog(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	entries := fiveEntries(t, s)
	seqs := func(q AuditQuery) []int64 {
		t.Helper()
		got, err := s.AuditLog(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, e := range got {
			out = append(out, e.Seq)
		}
		return out
	}
	for name, c := range map[string]struct {
		q    AuditQuery
		want []int64
	}{
		"all":              {AuditQuery{}, []int64{5, 4, 3, 2, 1}},
		"actor":            {AuditQuery{Actor: "clerk1"}, []int64{5, 2, 1}},
		"action":           {AuditQuery{Action: shixincheck.AuditPurge}, []int64{4}},
		"actor and action": {AuditQuery{Actor: "clerk1", Action: shixincheck.AuditUpload}, []int64{2}},
		"from":             {AuditQuery{From: entries[3].At}, []int64{5, 4}},
		"to is exclusive":  {AuditQuery{To: entries[1].At}, []int64{1}},
		"from and to":      {AuditQuery{From: entries[1].At.Add(-time.Minute), To: entries[3].At.Add(time.Minute)}, []int64{4, 3, 2}},
		"limit":            {AuditQuery{Limit: 2}, []int64{5, 4}},
		"offset":           {AuditQuery{Limit: 2, Offset: 2}, []int64{3, 2}},
		"offset past end":  {AuditQuery{Offset: 9}, []int64{}},
		"nobody":           {AuditQuery{Actor: "nobody"}, []int64{}},
	} {
		if got := seqs(c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: seqs %v, want %v", name, got, c.want)
		}
	}
	got, err := s.AuditLog(ctx, AuditQuery{Action: shixincheck.AuditUpload})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], entries[1]) {
		t.Errorf("AuditLog entry = %+v, %v\nwant %+v", got, err, entries[1])
	}
}

func TestAuditDefaultLimit(t *testing.T) { onBoth(t, testAuditDefaultLimit) }

func testAuditDefaultLimit(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	for i := range DefaultAuditLimit + 1 {
		mustAudit(t, s, AuditEntry{Actor: "system", Action: shixincheck.AuditPurge, Target: fmt.Sprintf("batch b%d", i)})
	}
	got, err := s.AuditLog(ctx, AuditQuery{})
	if err != nil || len(got) != DefaultAuditLimit || got[0].Seq != DefaultAuditLimit+1 {
		t.Errorf("AuditLog without a limit: %d entries from seq %d, %v", len(got), got[0].Seq, err)
	}
}

// Many writers at once extend one chain, with no gap and no fork, across
// more than one page of AuditEntries.
func TestAuditConcurrent(t *testing.T) { onBoth(t, testAuditConcurrent) }

func testAuditConcurrent(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	// Two stores on one database: two daemon nodes.
	nodes := []*Store{openAt(t, dsn), openAt(t, dsn)}
	const workers, each = 12, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			s := nodes[w%len(nodes)]
			for i := range each {
				if _, err := s.Audit(ctx, AuditEntry{Actor: fmt.Sprintf("user%d", w), Action: shixincheck.AuditViewBatch, Target: fmt.Sprintf("batch b%d", i)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Audit: %v", err)
	}
	n, err := nodes[0].VerifyAudit(ctx)
	if n != workers*each || err != nil {
		t.Errorf("VerifyAudit after concurrent appends = %d, %v, want %d, nil", n, err, workers*each)
	}
	if workers*each <= auditPage {
		t.Errorf("the test no longer spans two pages of AuditEntries (%d entries, page %d)", workers*each, auditPage)
	}
}

// The database itself refuses to change or remove an entry.
func TestAuditAppendOnly(t *testing.T) { onBoth(t, testAuditAppendOnly) }

func testAuditAppendOnly(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	entries := fiveEntries(t, s)
	stmts := []string{
		`UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3`,
		`UPDATE audit_log SET seq = seq + 100`,
		`DELETE FROM audit_log WHERE seq = 3`,
		`DELETE FROM audit_log`,
	}
	if s.postgres {
		stmts = append(stmts, `TRUNCATE audit_log`)
	}
	for _, q := range stmts {
		_, err := s.db.ExecContext(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "audit_log is append-only") {
			t.Errorf("%s: %v, want the append-only error", q, err)
		}
	}
	var stored []AuditEntry
	if err := s.AuditEntries(ctx, func(e AuditEntry) error { stored = append(stored, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, entries) {
		t.Error("the trail changed")
	}
}

// tamper runs stmts on the ledger behind the Store's back, as someone with
// the database file or a superuser's connection would. On SQLite it uses a
// connection of its own to the file.
func tamper(t *testing.T, s *Store, dsn string, stmts ...string) {
	t.Helper()
	db := s.db
	if !s.postgres {
		raw, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		db = raw
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("tamper: %s: %v", q, err)
		}
	}
}

// Each backend's way to drop its guards.
func dropAuditTriggers(s *Store) []string {
	if s.postgres {
		return []string{`DROP TRIGGER audit_log_no_change ON audit_log`}
	}
	return []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
}

func TestAuditTamper(t *testing.T) { onBoth(t, testAuditTamper) }

func testAuditTamper(t *testing.T, fresh factory) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		stmts   []string
		seq     int64
		reason  string
		checked int
	}{
		{"edited detail", []string{`UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3`}, 3, "hash mismatch", 2},
		{"edited actor", []string{`UPDATE audit_log SET actor = 'someone' WHERE seq = 5`}, 5, "hash mismatch", 4},
		{"deleted in the middle", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3, "gap in seq", 2},
		{"deleted the first", []string{`DELETE FROM audit_log WHERE seq = 1`}, 1, "gap in seq", 0},
		// Renumbered to close the gap: seq 4's link to seq 3 breaks.
		{"deleted and renumbered", []string{`DELETE FROM audit_log WHERE seq = 3`, `UPDATE audit_log SET seq = 3 WHERE seq = 4`}, 3, "prev_hash mismatch", 2},
		// A made-up hash does not match the content (a recomputed one: TestAuditTamperRehashed).
		{"edited with a made-up hash", []string{`UPDATE audit_log SET detail = 'x', hash = '` + strings.Repeat("a", 64) + `' WHERE seq = 2`}, 2, "hash mismatch", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn := fresh(t)
			s := openAt(t, dsn)
			fiveEntries(t, s)
			if n, err := s.VerifyAudit(ctx); n != 5 || err != nil {
				t.Fatalf("VerifyAudit before tampering = %d, %v", n, err)
			}
			tamper(t, s, dsn, append(dropAuditTriggers(s), c.stmts...)...)
			n, err := s.VerifyAudit(ctx)
			var brk *AuditBreak
			if !errors.As(err, &brk) || brk.Seq != c.seq || !strings.Contains(brk.Reason, c.reason) {
				t.Fatalf("VerifyAudit = %v, want a break at seq %d: %s", err, c.seq, c.reason)
			}
			if n != c.checked {
				t.Errorf("VerifyAudit checked %d entries, want %d", n, c.checked)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("seq %d", c.seq)) {
				t.Errorf("error %q does not name seq %d", err, c.seq)
			}
		})
	}
}

// An entry whose hash is recomputed after an edit still breaks the chain at
// the next entry, whose prev_hash no longer matches.
func TestAuditTamperRehashed(t *testing.T) { onBoth(t, testAuditTamperRehashed) }

func testAuditTamperRehashed(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	s := openAt(t, dsn)
	entries := fiveEntries(t, s)
	forged := entries[2]
	forged.Detail = "nothing happened"
	forged.Hash = auditHash(forged)
	tamper(t, s, dsn, append(dropAuditTriggers(s),
		fmt.Sprintf(`UPDATE audit_log SET detail = '%s', hash = '%s' WHERE seq = 3`, forged.Detail, forged.Hash))...)
	_, err := s.VerifyAudit(ctx)
	var brk *AuditBreak
	if !errors.As(err, &brk) || brk.Seq != 4 || !strings.Contains(brk.Reason, "prev_hash mismatch") {
		t.Errorf("VerifyAudit = %v, want a prev_hash mismatch at seq 4", err)
	}
}

// The hash is reproducible outside this package: sha256 over netstrings of
// seq, at, actor, action, target, detail, remote, prev_hash.
func TestAuditHashEncoding(t *testing.T) {
	e := AuditEntry{
		Seq: 12, At: time.Date(2026, 3, 2, 9, 0, 0, 120000000, shanghai),
		Actor: "clerk1", Action: "download", Target: "filing 3", Detail: "工作簿", Remote: "", PrevHash: strings.Repeat("0", 64),
	}
	enc := "2:12,23:2026-03-02T01:00:00.12Z,6:clerk1,8:download,8:filing 3,9:工作簿,0:,64:" + strings.Repeat("0", 64) + ","
	sum := sha256.Sum256([]byte(enc))
	if got := auditHash(e); got != hex.EncodeToString(sum[:]) {
		t.Errorf("auditHash = %s, want sha256 of %q", got, enc)
	}

	// Fields that run together differently hash differently.
	a, b := e, e
	a.Actor, a.Action = "clerk1d", "ownload"
	if auditHash(a) == auditHash(b) {
		t.Error("moving a boundary between fields kept the hash")
	}
	a, b = e, e
	a.Target, a.Detail = "filing 3,", ""
	b.Target, b.Detail = "filing 3", ","
	if auditHash(a) == auditHash(b) {
		t.Error("moving a comma between fields kept the hash")
	}
}
