package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// rawTables is every row of the tables a purge touches, as the database
// holds them: two equal dumps mean nothing was written.
func rawTables(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"batches", "candidates", "checks", "evidence_files", "filings", "filing_checks"} {
		rows, err := s.db.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

func TestPurge(t *testing.T) { onBoth(t, testPurge) }

func testPurge(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)

	// old: finished 03-02, its filing submitted: purged.
	writePersonal(t, s, "old", at(2, 9))
	fOld := fileBatch(t, s, "old", true)
	// held: finished 03-03, its filing only prepared: held back.
	writePersonal(t, s, "held", at(3, 9))
	fHeld := fileBatch(t, s, "held", false)
	// running: last check 03-03, one candidate still queued: held back.
	running := mustCreate(t, s, testBatch("running", at(3, 12)), people(2))
	mustSave(t, s, func() shixincheck.Check {
		c := simpleCheck(running[0].ID, shixincheck.OutcomeClear, 0)
		c.QueriedAt = at(3, 13)
		return c
	}())
	// a (finished 03-04) and recent (03-20) share a submitted period filing:
	// its workbook goes once both are purged.
	writePersonal(t, s, "a", at(4, 9))
	writePersonal(t, s, "recent", at(20, 9))
	shared, err := s.CreatePeriodFiling(ctx, shixincheck.Filing{Title: "政工科 2026年3月", Items: []string{itemHire}, From: at(4, 0), To: at(31, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted(ctx, shared.ID, submission(), kept(secretText("PK shared"))); err != nil {
		t.Fatal(err)
	}
	before := viewLedger(t, s)
	cutoff := at(10, 0)

	// A dry run writes nothing and says what a purge will do.
	raw := rawTables(t, s)
	dry, err := s.Purge(ctx, cutoff, true)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if after := rawTables(t, s); after != raw {
		t.Errorf("the dry run changed the database:\n%s\nwas\n%s", after, raw)
	}
	if got := viewLedger(t, s); !reflect.DeepEqual(got, before) {
		t.Error("the dry run changed what the ledger reads")
	}
	var names []string
	for _, b := range dry.Batches {
		names = append(names, b.ID)
	}
	if fmt.Sprint(names) != "[old a]" || len(dry.HeldBack) != 2 || dry.HeldBack[0].ID != "held" || dry.HeldBack[1].ID != "running" ||
		fmt.Sprint(dry.Workbooks) != fmt.Sprint([]int64{fOld}) {
		t.Fatalf("dry run = %+v; want old and a purged, held and running held back, the workbook of filing %d", dry, fOld)
	}
	if r := dry.HeldBack[0].Reason; !strings.Contains(r, fmt.Sprintf("filing %d", fHeld)) || !strings.Contains(r, "not submitted") {
		t.Errorf("held back for %q, want the unsubmitted filing %d named", r, fHeld)
	}
	if r := dry.HeldBack[1].Reason; !strings.Contains(r, "queued: 1") {
		t.Errorf("running held back for %q, want its queued candidate", r)
	}
	want := PurgedBatch{ID: "old", FinishedAt: at(2, 9).Add(3 * time.Minute), Candidates: 3, Checks: 3, EvidenceFiles: 6}
	got := dry.Batches[0]
	got.EvidenceBytes = 0
	if !reflect.DeepEqual(got, want) || dry.Batches[0].EvidenceBytes < int64(3*3*len(secretText(""))) {
		t.Errorf("dry run's old = %+v, want %+v with the bytes of 3 raw answers and 6 files", dry.Batches[0], want)
	}

	// The purge does what the dry run said.
	rep, err := s.Purge(ctx, cutoff, false)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if !reflect.DeepEqual(rep, dry) {
		t.Errorf("Purge = %+v\nwant the dry run's %+v", rep, dry)
	}
	for _, id := range []string{"old", "a"} {
		b, err := s.Batch(ctx, id)
		if err != nil || b.PurgedAt == nil || time.Since(*b.PurgedAt) > time.Minute {
			t.Errorf("Batch(%s).PurgedAt = %v, %v; want now", id, b.PurgedAt, err)
		}
		cands, err := s.Candidates(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cands {
			p := secretPeople[i]
			if c.Name != shixincheck.MaskName(p.Name) || c.IDNumber != shixincheck.MaskID(p.IDNumber) || c.State != shixincheck.StateDone {
				t.Errorf("%s/%d after purge = %q %q %s; want masked, done", id, c.Row, c.Name, c.IDNumber, c.State)
			}
		}
		entries, err := s.Entries(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			kept := before.Entries[id][i].Check
			if e.Check == nil || e.Check.Outcome != kept.Outcome || e.Check.Measure != kept.Measure || e.Check.HitCount != kept.HitCount ||
				len(e.Check.Records) != len(kept.Records) {
				t.Errorf("%s/%d decision after purge = %+v, want %+v", id, e.Candidate.Row, e.Check, kept)
				continue
			}
			for j, r := range e.Check.Records {
				wantRecord := kept.Records[j]
				wantRecord.Name = shixincheck.MaskName(wantRecord.Name)
				if r != wantRecord || r.Name == kept.Records[j].Name {
					t.Errorf("%s/%d record %d after purge = %+v, want %+v", id, e.Candidate.Row, j, r, wantRecord)
				}
			}
			if ev, err := s.Evidence(ctx, e.Check.ID); err != nil || ev != nil {
				t.Errorf("%s/%d raw answers after purge = %d bytes, %v; want none", id, e.Candidate.Row, len(ev), err)
			}
			if files, err := s.EvidenceFiles(ctx, e.Check.ID); err != nil || len(files) != 0 {
				t.Errorf("%s/%d evidence files after purge = %v, %v; want none", id, e.Candidate.Row, files, err)
			}
		}
		// No longer found by name or ID number; no longer filed or retried.
		rows, _, err := s.Query(ctx, Query{BatchID: id, IDNumber: secretPeople[0].IDNumber})
		if err != nil || len(rows) != 0 {
			t.Errorf("Query by ID in %s after purge = %v, %v; want nothing", id, keys(rows), err)
		}
		rows, _, err = s.Query(ctx, Query{BatchID: id, Name: secretPeople[0].Name})
		if err != nil || len(rows) != 0 {
			t.Errorf("Query by name in %s after purge = %v, %v; want nothing", id, keys(rows), err)
		}
		if reset, err := s.ResetFailed(ctx, id); err != nil || len(reset) != 0 {
			t.Errorf("ResetFailed(%s) after purge = %v, %v; want nothing re-queued", id, reset, err)
		}
	}
	if _, err := s.CreateBatchFiling(ctx, "a", nil); !errors.Is(err, ErrNothingToFile) {
		t.Errorf("filing a purged batch = %v, want ErrNothingToFile", err)
	}
	for _, p := range secretPeople {
		rows, err := s.History(ctx, p.IDNumber)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(keys(rows), " "); strings.Contains(got, "old/") || strings.Contains(got, "a/") || !strings.Contains(got, "held/") {
			t.Errorf("History after purge = %s; want held and recent only", got)
		}
	}
	if _, err := s.SubmittedWorkbook(ctx, fOld); !errors.Is(err, ErrPurged) || !errors.Is(err, ErrNotFound) {
		t.Errorf("SubmittedWorkbook of a purged filing = %v, want ErrPurged, also ErrNotFound", err)
	}
	if f, err := s.Filing(ctx, fOld); err != nil || f.State != shixincheck.FilingSubmitted || len(filedRows(t, s, fOld)) != 3 {
		t.Errorf("the purged batch's filing = %+v, %v; want it kept, submitted, with its 3 rows", f, err)
	}
	if wb, err := s.SubmittedWorkbook(ctx, shared.ID); err != nil || string(wb) != string(secretText("PK shared")) {
		t.Errorf("workbook of the filing shared with an unpurged batch = %q, %v; want kept", wb, err)
	}
	var lookups int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM candidates WHERE batch_id IN ('old', 'a') AND (name_lookup <> '' OR id_lookup <> '')`)).Scan(&lookups); err != nil || lookups != 0 {
		t.Errorf("purged candidates with a lookup hash: %d, %v", lookups, err)
	}
	// Held back and recent batches are untouched.
	now := viewLedger(t, s)
	for _, id := range []string{"held", "running", "recent"} {
		if !reflect.DeepEqual(now.Candidates[id], before.Candidates[id]) || !reflect.DeepEqual(now.Entries[id], before.Entries[id]) {
			t.Errorf("%s changed by the purge", id)
		}
		for _, e := range now.Entries[id] {
			if e.Check != nil && (!reflect.DeepEqual(now.Evidence[e.Check.ID], before.Evidence[e.Check.ID]) ||
				!reflect.DeepEqual(now.Files[e.Check.ID], before.Files[e.Check.ID])) {
				t.Errorf("%s/%d evidence changed by the purge", id, e.Candidate.Row)
			}
		}
		if b, _ := s.Batch(ctx, id); b.PurgedAt != nil {
			t.Errorf("%s marked purged", id)
		}
	}
	if n, err := s.Rekey(ctx); err != nil || n != 0 {
		t.Errorf("Rekey after purge = %d, %v; want nothing (purged values are sealed with the current key)", n, err)
	}

	// Idempotent: a second purge finds nothing more.
	raw = rawTables(t, s)
	again, err := s.Purge(ctx, cutoff, false)
	if err != nil || len(again.Batches) != 0 || len(again.Workbooks) != 0 || !reflect.DeepEqual(again.HeldBack, dry.HeldBack) {
		t.Errorf("second Purge = %+v, %v; want nothing purged, the same held back", again, err)
	}
	if rawTables(t, s) != raw {
		t.Error("a second purge changed the database")
	}

	// Once held's filing is submitted it goes, and with recent the shared workbook.
	if err := s.MarkSubmitted(ctx, fHeld, submission(), kept(secretText("PK held"))); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Purge(ctx, at(31, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	names = names[:0]
	for _, b := range rep.Batches {
		names = append(names, b.ID)
	}
	if fmt.Sprint(names) != "[held recent]" || fmt.Sprint(rep.Workbooks) != fmt.Sprint([]int64{fHeld, shared.ID}) ||
		len(rep.HeldBack) != 1 || rep.HeldBack[0].ID != "running" {
		t.Errorf("later Purge = %+v; want held and recent purged with workbooks %d and %d, running held back", rep, fHeld, shared.ID)
	}
	if _, err := s.SubmittedWorkbook(ctx, shared.ID); !errors.Is(err, ErrPurged) {
		t.Errorf("shared workbook after both batches purged = %v, want ErrPurged", err)
	}
	if u, err := s.Unfinished(ctx); err != nil || len(u) != 1 || u[0].ID != running[1].ID {
		t.Errorf("Unfinished after purges = %+v, %v; want running's queued candidate, as it was", u, err)
	}
}

func TestPurgeDryRunCountsWorkbooks(t *testing.T) { onBoth(t, testPurgeDryRunCountsWorkbooks) }

// A filing over two batches purged in one run: the dry run, which writes no
// purged_at, still reports its workbook going with the second.
func testPurgeDryRunCountsWorkbooks(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	writePersonal(t, s, "a", at(2, 9))
	writePersonal(t, s, "b", at(3, 9))
	f, err := s.CreatePeriodFiling(ctx, shixincheck.Filing{Title: "x", Items: []string{itemHire}, From: at(1, 0), To: at(31, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted(ctx, f.ID, submission(), kept([]byte("wb"))); err != nil {
		t.Fatal(err)
	}
	dry, err := s.Purge(ctx, at(10, 0), true)
	if err != nil || len(dry.Batches) != 2 || fmt.Sprint(dry.Workbooks) != fmt.Sprint([]int64{f.ID}) {
		t.Fatalf("dry run = %+v, %v; want both batches and the workbook of filing %d", dry, err, f.ID)
	}
	rep, err := s.Purge(ctx, at(10, 0), false)
	if err != nil || !reflect.DeepEqual(rep, dry) {
		t.Errorf("Purge = %+v, %v; want the dry run's %+v", rep, err, dry)
	}
}

func TestPurgeHoldsUnfiledChecks(t *testing.T) { onBoth(t, testPurgeHoldsUnfiledChecks) }

// An office filing by period files a batch's checks after it finished: until
// they are filed and submitted, the batch keeps its full data.
func testPurgeHoldsUnfiledChecks(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	writePersonal(t, s, "unfiled", at(2, 9))
	rep, err := s.Purge(ctx, at(10, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Batches) != 0 || len(rep.HeldBack) != 1 || !strings.Contains(rep.HeldBack[0].Reason, "not filed yet: 3") {
		t.Fatalf("Purge of a batch whose checks are in no filing = %+v; want it held back, 3 checks unfiled", rep)
	}
	f, err := s.CreatePeriodFiling(ctx, shixincheck.Filing{Title: "政工科 2026年3月", Items: []string{itemHire}, From: at(1, 0), To: at(31, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted(ctx, f.ID, submission(), kept(secretText("PK period"))); err != nil {
		t.Fatal(err)
	}
	rep, err = s.Purge(ctx, at(10, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Batches) != 1 || rep.Batches[0].ID != "unfiled" || len(rep.HeldBack) != 0 {
		t.Fatalf("Purge once filed and submitted = %+v; want the batch purged", rep)
	}
}
