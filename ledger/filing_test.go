package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// fixedDue is a calendar that answers day for any completion time, and
// records what it was asked.
func fixedDue(day time.Time, asked *[]time.Time) func(time.Time) (*time.Time, error) {
	return func(completed time.Time) (*time.Time, error) {
		if asked != nil {
			*asked = append(*asked, completed)
		}
		return &day, nil
	}
}

// unknownYear is a calendar that does not know the year.
func unknownYear(completed time.Time) (*time.Time, error) {
	return nil, fmt.Errorf("workdays: year not in the calendar: %d", completed.Year())
}

func beijingDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, beijing) }

// submission is a submission by 王经办 now, of a workbook with the records sheet.
func submission() Submission { return Submission{By: "王经办", Records: true} }

// kept is a workbook writer that writes wb whatever the rows.
func kept(wb []byte) func([]Row) ([]byte, error) {
	return func([]Row) ([]byte, error) { return wb, nil }
}

// filedRows names a filing's rows as "batch/row".
func filedRows(t *testing.T, s *Store, id int64) []string {
	t.Helper()
	rows, err := s.FilingRows(context.Background(), id)
	if err != nil {
		t.Fatalf("FilingRows(%d): %v", id, err)
	}
	return keys(rows)
}

func TestBatchFiling(t *testing.T) { onBoth(t, testBatchFiling) }

func testBatchFiling(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	b := testBatch("b20260302-0001", at(1, 8))
	in := people(3)
	in[1].Item = itemHonor
	cands := mustCreate(t, s, b, in)
	save := func(i int, o shixincheck.Outcome, when time.Time) shixincheck.Check {
		c := simpleCheck(cands[i].ID, o, 0)
		c.QueriedAt = when
		c.ID = mustSave(t, s, c)
		return c
	}
	due := fixedDue(beijingDay(2026, 3, 13), nil)

	if _, err := s.CreateBatchFiling(ctx, "nope", due); !errors.Is(err, ErrNotFound) {
		t.Errorf("filing a missing batch = %v, want ErrNotFound", err)
	}
	save(0, shixincheck.OutcomeClear, at(2, 9))
	save(1, shixincheck.OutcomeListed, at(2, 11))
	if _, err := s.CreateBatchFiling(ctx, b.ID, due); !errors.Is(err, ErrBatchRunning) {
		t.Errorf("filing a running batch = %v, want ErrBatchRunning", err)
	}
	failed := save(2, shixincheck.OutcomeFailed, at(3, 9))
	if _, err := s.ResetFailed(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBatchFiling(ctx, b.ID, due); !errors.Is(err, ErrBatchRunning) {
		t.Errorf("filing a batch with a retry queued = %v, want ErrBatchRunning", err)
	}
	last := save(2, shixincheck.OutcomeClear, time.Date(2026, 3, 4, 1, 30, 0, 250000000, time.UTC))

	var asked []time.Time
	f, err := s.CreateBatchFiling(ctx, b.ID, fixedDue(beijingDay(2026, 3, 13), &asked))
	if err != nil {
		t.Fatalf("CreateBatchFiling: %v", err)
	}
	due13 := beijingDay(2026, 3, 13)
	want := shixincheck.Filing{
		ID: f.ID, Title: "批次 b2026030…", BatchID: b.ID,
		Items: []string{itemHire, itemHonor},
		From:  at(2, 9), To: last.QueriedAt.Add(time.Microsecond),
		Unit: b.Unit, Handler: b.Handler, Phone: b.Phone,
		CompletedAt: last.QueriedAt, DueDate: &due13,
		State: shixincheck.FilingPrepared, CreatedAt: f.CreatedAt,
	}
	if f.ID == 0 || !reflect.DeepEqual(f, want) {
		t.Errorf("CreateBatchFiling =\n%+v\nwant\n%+v", f, want)
	}
	if time.Since(f.CreatedAt) > time.Minute || f.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want now in UTC", f.CreatedAt)
	}
	// Due 7 working days from the first check (Civil Code art. 201: from the day of the check).
	if len(asked) != 1 || !asked[0].Equal(at(2, 9)) {
		t.Errorf("calendar asked about %v, want the first check's time %v", asked, at(2, 9))
	}
	got, err := s.Filing(ctx, f.ID)
	if err != nil || !reflect.DeepEqual(got, f) {
		t.Errorf("Filing =\n%+v, %v\nwant\n%+v", got, err, f)
	}
	if got.DueDate != nil && got.DueDate.Format(time.RFC3339) != "2026-03-13T00:00:00+08:00" {
		t.Errorf("DueDate = %v, want 2026-03-13 00:00 +08:00", got.DueDate)
	}

	rows, err := s.FilingRows(ctx, f.ID)
	if err != nil || len(rows) != 3 {
		t.Fatalf("FilingRows = %d, %v", len(rows), err)
	}
	for i, r := range rows {
		if r.Candidate.Row != i+1 || r.Batch.ID != b.ID {
			t.Errorf("row %d = %s/%d", i, r.Batch.ID, r.Candidate.Row)
		}
	}
	if rows[2].Check.ID != last.ID || rows[2].Check.ID == failed.ID {
		t.Errorf("filed check of row 3 = %d, want the retry %d, not the failed %d", rows[2].Check.ID, last.ID, failed.ID)
	}

	// A check is filed once.
	if _, err := s.CreateBatchFiling(ctx, b.ID, due); !errors.Is(err, ErrAlreadyFiled) {
		t.Errorf("filing the batch again = %v, want ErrAlreadyFiled", err)
	}
	if all, _ := s.Filings(ctx); len(all) != 1 {
		t.Errorf("Filings after a refused second filing = %d, want 1", len(all))
	}

	// A batch without candidates has nothing to file.
	mustCreate(t, s, testBatch("empty", time.Now()), nil)
	if _, err := s.CreateBatchFiling(ctx, "empty", due); !errors.Is(err, ErrNothingToFile) {
		t.Errorf("filing an empty batch = %v, want ErrNothingToFile", err)
	}
}

func TestFilingDueDateUnknown(t *testing.T) { onBoth(t, testFilingDueDateUnknown) }

// The calendar does not know the year: the filing exists, its due date unknown.
func testFilingDueDateUnknown(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	c1 := mustCreate(t, s, testBatch("b1", time.Now()), people(1))
	c2 := mustCreate(t, s, testBatch("b2", time.Now()), people(1))
	mustSave(t, s, simpleCheck(c1[0].ID, shixincheck.OutcomeClear, 0))
	mustSave(t, s, simpleCheck(c2[0].ID, shixincheck.OutcomeClear, 0))

	f1, err := s.CreateBatchFiling(ctx, "b1", unknownYear)
	if err != nil || f1.ID == 0 || f1.DueDate != nil {
		t.Errorf("CreateBatchFiling with an unknown year = %+v, %v; want a filing without due date", f1, err)
	}
	f2, err := s.CreateBatchFiling(ctx, "b2", nil)
	if err != nil || f2.DueDate != nil {
		t.Errorf("CreateBatchFiling without a calendar = %+v, %v", f2, err)
	}
	if got, err := s.Filing(ctx, f1.ID); err != nil || got.DueDate != nil || !reflect.DeepEqual(got, f1) {
		t.Errorf("Filing = %+v, %v; want %+v", got, err, f1)
	}
	if f1.Overdue(time.Now().AddDate(10, 0, 0)) {
		t.Error("a filing without a due date reported overdue")
	}
}

// weekLater is a calendar that makes checks due 7 days after their Beijing
// date, and records what it was asked.
func weekLater(asked *[]time.Time) func(time.Time) (*time.Time, error) {
	return func(checked time.Time) (*time.Time, error) {
		*asked = append(*asked, checked)
		y, m, d := checked.In(beijing).Date()
		due := time.Date(y, m, d+7, 0, 0, 0, 0, beijing)
		return &due, nil
	}
}

func TestBatchFilingRetried(t *testing.T) { onBoth(t, testBatchFilingRetried) }

// Failed checks retried after the batch's filing exists: while it is
// prepared, the filing takes the retries in place of the failures; once it is
// submitted, they go into a supplementary filing.
func testBatchFilingRetried(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", at(1, 8)), people(3))
	save := func(i int, o shixincheck.Outcome, when time.Time) {
		c := simpleCheck(cands[i].ID, o, 0)
		c.QueriedAt = when
		mustSave(t, s, c)
	}
	retry := func(want int) {
		t.Helper()
		if again, err := s.ResetFailed(ctx, "b1"); err != nil || len(again) != want {
			t.Fatalf("ResetFailed = %d, %v; want %d", len(again), err, want)
		}
	}
	save(0, shixincheck.OutcomeFailed, at(1, 9))
	save(1, shixincheck.OutcomeClear, at(2, 9))
	save(2, shixincheck.OutcomeFailed, at(2, 10))
	var asked []time.Time
	due := weekLater(&asked)
	f, err := s.CreateBatchFiling(ctx, "b1", due)
	if err != nil || f.DueDate == nil || f.DueDate.Format(dueLayout) != "2026-03-08" {
		t.Fatalf("CreateBatchFiling = %+v, %v; want due 2026-03-08 (from the first check, 1 March)", f, err)
	}

	// Prepared: the filing is brought up to date, its first check now 2 March.
	retry(2)
	save(0, shixincheck.OutcomeClear, at(5, 9))
	if _, err := s.CreateBatchFiling(ctx, "b1", due); !errors.Is(err, ErrBatchRunning) {
		t.Errorf("filing with a retry still queued = %v, want ErrBatchRunning", err)
	}
	save(2, shixincheck.OutcomeFailed, at(5, 10))
	asked = nil
	up, err := s.CreateBatchFiling(ctx, "b1", due)
	if err != nil {
		t.Fatalf("CreateBatchFiling after retries: %v", err)
	}
	if up.ID != f.ID || up.Title != f.Title || up.State != shixincheck.FilingPrepared {
		t.Errorf("updated filing = %+v, want filing %d again", up, f.ID)
	}
	if !up.From.Equal(at(2, 9)) || !up.To.Equal(at(5, 10).Add(time.Microsecond)) || !up.CompletedAt.Equal(at(5, 10)) ||
		up.DueDate == nil || up.DueDate.Format(dueLayout) != "2026-03-09" || len(asked) != 1 || !asked[0].Equal(at(2, 9)) {
		t.Errorf("updated filing = %+v (calendar asked about %v); want 2 to 5 March, due 2026-03-09 from the first check 2 March", up, asked)
	}
	rows, err := s.FilingRows(ctx, f.ID)
	if err != nil || len(rows) != 3 {
		t.Fatalf("FilingRows = %d rows, %v", len(rows), err)
	}
	for i, want := range []time.Time{at(5, 9), at(2, 9), at(5, 10)} {
		if !rows[i].Check.QueriedAt.Equal(want) {
			t.Errorf("row %d is the check of %v, want the latest, of %v", i+1, rows[i].Check.QueriedAt, want)
		}
	}
	if got, err := s.Filing(ctx, f.ID); err != nil || !reflect.DeepEqual(got, up) {
		t.Errorf("Filing = %+v, %v; want %+v", got, err, up)
	}
	if _, err := s.CreateBatchFiling(ctx, "b1", due); !errors.Is(err, ErrAlreadyFiled) {
		t.Errorf("filing again with nothing new = %v, want ErrAlreadyFiled", err)
	}

	// Submitted: the retry goes into a supplementary filing; the submitted
	// filing keeps what was handed in.
	if err := s.MarkSubmitted(ctx, f.ID, submission(), kept([]byte("wb"))); err != nil {
		t.Fatal(err)
	}
	retry(1)
	save(2, shixincheck.OutcomeFailed, at(9, 9))
	sup, err := s.CreateBatchFiling(ctx, "b1", due)
	if err != nil {
		t.Fatalf("CreateBatchFiling after the submission: %v", err)
	}
	if sup.ID == f.ID || sup.Title != "批次 b1 补充" || sup.BatchID != "b1" || sup.State != shixincheck.FilingPrepared ||
		!sup.CompletedAt.Equal(at(9, 9)) || sup.DueDate == nil || sup.DueDate.Format(dueLayout) != "2026-03-16" {
		t.Errorf("supplementary filing = %+v", sup)
	}
	if got := filedRows(t, s, sup.ID); !reflect.DeepEqual(got, []string{"b1/3"}) {
		t.Errorf("supplementary filing rows = %v, want [b1/3]", got)
	}
	if rows, _ := s.FilingRows(ctx, f.ID); len(rows) != 3 || !rows[2].Check.QueriedAt.Equal(at(5, 10)) {
		t.Errorf("the submitted filing changed: %d rows", len(rows))
	}

	// A retry filed while a clerk submits the supplement: the kept workbook
	// holds exactly the submitted filing's checks, and the retry lands in a
	// new supplement.
	retry(1)
	save(2, shixincheck.OutcomeClear, at(10, 9))
	checkIDs := func(rows []Row) []int64 {
		var out []int64
		for _, r := range rows {
			out = append(out, r.Check.ID)
		}
		return out
	}
	filed := make(chan error, 1)
	var wrote []int64
	err = s.MarkSubmitted(ctx, sup.ID, submission(), func(rows []Row) ([]byte, error) {
		wrote = checkIDs(rows)
		go func() {
			_, err := s.CreateBatchFiling(ctx, "b1", due)
			filed <- err
		}()
		return []byte("wb"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-filed; err != nil {
		t.Fatalf("CreateBatchFiling during the submission: %v", err)
	}
	if rows, err := s.FilingRows(ctx, sup.ID); err != nil || len(wrote) != 1 || !reflect.DeepEqual(checkIDs(rows), wrote) ||
		rows[0].Check.Outcome != shixincheck.OutcomeFailed {
		t.Errorf("submitted supplement holds checks %v (%v), its kept workbook was written from %v", checkIDs(rows), err, wrote)
	}
	all, err := s.Filings(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("Filings = %d, %v; want the batch's and two supplements", len(all), err)
	}
	for _, g := range all {
		if g.ID == f.ID || g.ID == sup.ID {
			continue
		}
		rows, err := s.FilingRows(ctx, g.ID)
		if err != nil || len(rows) != 1 || rows[0].Check.Outcome != shixincheck.OutcomeClear || g.Title != "批次 b1 补充" {
			t.Errorf("second supplement %+v holds %d rows, %v; want b1/3's clear retry", g, len(rows), err)
		}
	}
}

func TestRefreshDueDates(t *testing.T) { onBoth(t, testRefreshDueDates) }

// At start the daemon works out the due dates of prepared filings again:
// a year entered since, or a corrected day, moves them; submitted ones stay.
func testRefreshDueDates(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	for _, id := range []string{"b1", "b2", "b3"} {
		cands := mustCreate(t, s, testBatch(id, at(1, 8)), people(2))
		for i, c := range cands {
			check := simpleCheck(c.ID, shixincheck.OutcomeClear, 0)
			check.QueriedAt = at(2+i, 9) // 2 and 3 March
			mustSave(t, s, check)
		}
	}
	known, err := s.CreateBatchFiling(ctx, "b1", fixedDue(beijingDay(2026, 3, 20), nil))
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := s.CreateBatchFiling(ctx, "b2", unknownYear)
	if err != nil || unknown.DueDate != nil {
		t.Fatalf("CreateBatchFiling(unknown year) = %+v, %v", unknown, err)
	}
	submitted, err := s.CreateBatchFiling(ctx, "b3", fixedDue(beijingDay(2026, 3, 20), nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSubmitted(ctx, submitted.ID, submission(), kept([]byte("wb"))); err != nil {
		t.Fatal(err)
	}

	var asked []time.Time
	n, err := s.RefreshDueDates(ctx, weekLater(&asked))
	if err != nil || n != 2 {
		t.Fatalf("RefreshDueDates = %d, %v; want 2 changed", n, err)
	}
	if len(asked) != 2 || !asked[0].Equal(at(2, 9)) || !asked[1].Equal(at(2, 9)) {
		t.Errorf("calendar asked about %v, want each prepared filing's first check (2 March)", asked)
	}
	for _, id := range []int64{known.ID, unknown.ID} {
		f, err := s.Filing(ctx, id)
		if err != nil || f.DueDate == nil || f.DueDate.Format(dueLayout) != "2026-03-09" {
			t.Errorf("filing %d after the refresh = %+v, %v; want due 2026-03-09", id, f, err)
		}
	}
	if f, _ := s.Filing(ctx, submitted.ID); f.DueDate == nil || f.DueDate.Format(dueLayout) != "2026-03-20" {
		t.Errorf("submitted filing's due date = %v, want it kept (2026-03-20)", f.DueDate)
	}
	if n, err := s.RefreshDueDates(ctx, weekLater(&asked)); err != nil || n != 0 {
		t.Errorf("second RefreshDueDates = %d, %v; want nothing changed", n, err)
	}
	// The calendar no longer knows the year: the due date becomes unknown, not a guess.
	if n, err := s.RefreshDueDates(ctx, unknownYear); err != nil || n != 2 {
		t.Errorf("RefreshDueDates(unknown year) = %d, %v; want 2", n, err)
	}
	if f, _ := s.Filing(ctx, known.ID); f.DueDate != nil {
		t.Errorf("due date with the year unknown = %v, want none", f.DueDate)
	}
}

func TestPeriodFiling(t *testing.T) { onBoth(t, testPeriodFiling) }

func testPeriodFiling(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	d := seedLedger(t, s)
	due := fixedDue(beijingDay(2026, 3, 20), nil)

	// 评优评先 in [03-03 09:00, 03-06 09:00): b1/3 (at From) and b1/4's retry;
	// not b1/4's superseded failure, not b2/1 (at To), not b1/5 (queued).
	in := shixincheck.Filing{
		Title: "政工科 2026年3月", Department: "政工科", Items: []string{itemHonor},
		From: at(3, 9), To: time.Date(2026, 3, 6, 17, 0, 0, 0, shanghai),
		Unit: "某区人社局", Handler: "李经办", Phone: "027-87654321",
		BatchID: "ignored", State: shixincheck.FilingSubmitted, // not read
	}
	var asked []time.Time
	f, err := s.CreatePeriodFiling(ctx, in, fixedDue(beijingDay(2026, 3, 13), &asked))
	if err != nil {
		t.Fatalf("CreatePeriodFiling: %v", err)
	}
	due13 := beijingDay(2026, 3, 13)
	want := shixincheck.Filing{
		ID: f.ID, Title: in.Title, Department: "政工科", Items: []string{itemHonor},
		From: at(3, 9), To: at(6, 9), Unit: in.Unit, Handler: in.Handler, Phone: in.Phone,
		CompletedAt: at(4, 9), DueDate: &due13, State: shixincheck.FilingPrepared, CreatedAt: f.CreatedAt,
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("CreatePeriodFiling =\n%+v\nwant\n%+v", f, want)
	}
	if len(asked) != 1 || !asked[0].Equal(at(3, 9)) {
		t.Errorf("calendar asked about %v, want the first check's time %v", asked, at(3, 9))
	}
	if got, err := s.Filing(ctx, f.ID); err != nil || !reflect.DeepEqual(got, f) {
		t.Errorf("Filing = %+v, %v; want %+v", got, err, f)
	}
	if got := filedRows(t, s, f.ID); !reflect.DeepEqual(got, []string{"b1/3", "b1/4"}) {
		t.Errorf("period filing rows = %v, want [b1/3 b1/4]", got)
	}

	// A wider period over both items takes only what is not filed yet.
	wide := shixincheck.Filing{Title: "全部 2026年3月", Items: []string{itemHire, itemHonor}, From: at(1, 0), To: at(31, 0)}
	f2, err := s.CreatePeriodFiling(ctx, wide, due)
	if err != nil {
		t.Fatal(err)
	}
	if got := filedRows(t, s, f2.ID); !reflect.DeepEqual(got, []string{"b1/1", "b1/2", "b2/1", "b2/2", "b2/3", "b2/4"}) {
		t.Errorf("second period filing rows = %v", got)
	}
	if !f2.CompletedAt.Equal(at(7, 10)) || f2.Department != "" {
		t.Errorf("second filing = %+v", f2)
	}
	if _, err := s.CreatePeriodFiling(ctx, wide, due); !errors.Is(err, ErrNothingToFile) {
		t.Errorf("third period filing = %v, want ErrNothingToFile", err)
	}
	// b1's last check (b1/5) makes the batch fileable, but its other checks are filed.
	c := simpleCheck(d.cands["b1/5"].ID, shixincheck.OutcomeClear, 0)
	c.QueriedAt = at(8, 9)
	mustSave(t, s, c)
	if _, err := s.CreateBatchFiling(ctx, "b1", due); !errors.Is(err, ErrAlreadyFiled) {
		t.Errorf("batch filing over filed checks = %v, want ErrAlreadyFiled", err)
	}

	// The schema itself keeps a check in one filing.
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO filing_checks (check_id, filing_id) VALUES (?, ?)`), d.checks["b1/3"].ID, f2.ID); err == nil {
		t.Error("the schema let a check into a second filing")
	}
	if got := filedRows(t, s, f2.ID); slices.Contains(got, "b1/3") {
		t.Errorf("second filing now holds b1/3: %v", got)
	}

	for name, bad := range map[string]shixincheck.Filing{
		"no title":    {Items: []string{itemHire}, From: at(1, 0), To: at(2, 0)},
		"no items":    {Title: "x", From: at(1, 0), To: at(2, 0)},
		"no period":   {Title: "x", Items: []string{itemHire}},
		"no start":    {Title: "x", Items: []string{itemHire}, To: at(2, 0)},
		"empty range": {Title: "x", Items: []string{itemHire}, From: at(2, 0), To: at(2, 0)},
	} {
		if _, err := s.CreatePeriodFiling(ctx, bad, due); err == nil || errors.Is(err, ErrNothingToFile) {
			t.Errorf("%s: CreatePeriodFiling = %v, want a refusal", name, err)
		}
	}
}

func TestFilingStates(t *testing.T) { onBoth(t, testFilingStates) }

func testFilingStates(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), []shixincheck.Candidate{
		{Row: 1, Name: "甲", IDNumber: "420202198001010011", Item: "a"},
		{Row: 2, Name: "乙", IDNumber: "420202198001010022", Item: "b"},
		{Row: 3, Name: "丙", IDNumber: "420202198001010033", Item: "c"},
	})
	for _, c := range cands {
		mustSave(t, s, simpleCheck(c.ID, shixincheck.OutcomeClear, 0))
	}
	period := func(item string, due func(time.Time) (*time.Time, error)) shixincheck.Filing {
		f, err := s.CreatePeriodFiling(ctx, shixincheck.Filing{Title: item, Items: []string{item}, From: at(1, 0), To: at(31, 0)}, due)
		if err != nil {
			t.Fatalf("CreatePeriodFiling(%s): %v", item, err)
		}
		return f
	}
	fA := period("a", fixedDue(beijingDay(2026, 3, 12), nil))
	fB := period("b", unknownYear)
	fC := period("c", fixedDue(beijingDay(2026, 3, 10), nil))

	ids := func(fs []shixincheck.Filing, err error) []int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	// By due date, the unknown one last.
	if got := ids(s.Filings(ctx)); !reflect.DeepEqual(got, []int64{fC.ID, fA.ID, fB.ID}) {
		t.Errorf("Filings() = %v, want %v", got, []int64{fC.ID, fA.ID, fB.ID})
	}
	if got := ids(s.Filings(ctx, shixincheck.FilingPrepared)); !reflect.DeepEqual(got, []int64{fC.ID, fA.ID, fB.ID}) {
		t.Errorf("Filings(prepared) = %v", got)
	}
	if got := ids(s.Filings(ctx, shixincheck.FilingSubmitted)); len(got) != 0 {
		t.Errorf("Filings(submitted) = %v, want none", got)
	}

	// Overdue once the due day has ended in Beijing.
	if fC.Overdue(time.Date(2026, 3, 10, 23, 59, 59, 0, shanghai)) || !fC.Overdue(time.Date(2026, 3, 11, 0, 0, 0, 0, shanghai)) {
		t.Error("Overdue does not turn at the end of the due day in Beijing")
	}

	// Submitting keeps the workbook byte for byte, once.
	workbook := make([]byte, 256<<10)
	rand.Read(workbook)
	workbook[0], workbook[1] = 0, 0xff
	when := time.Date(2026, 3, 9, 15, 4, 5, 123456000, shanghai)
	if _, err := s.SubmittedWorkbook(ctx, fA.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("SubmittedWorkbook before submission = %v, want ErrNotFound", err)
	}
	var wrote []string
	write := func(rows []Row) ([]byte, error) {
		wrote = keys(rows)
		return workbook, nil
	}
	if err := s.MarkSubmitted(ctx, fA.ID, Submission{At: when, By: "王经办", Receipt: "XY-2026-0042"}, write); err != nil {
		t.Fatalf("MarkSubmitted: %v", err)
	}
	got, err := s.Filing(ctx, fA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != shixincheck.FilingSubmitted || got.SubmittedAt == nil || !got.SubmittedAt.Equal(when) ||
		got.SubmittedBy != "王经办" || got.Receipt != "XY-2026-0042" || got.SubmittedRecords {
		t.Errorf("submitted filing = %+v", got)
	}
	if !reflect.DeepEqual(wrote, []string{"b1/1"}) {
		t.Errorf("the submitted workbook was written from %v, want the filing's row b1/1", wrote)
	}
	if got.Overdue(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a submitted filing reported overdue")
	}
	again := bytes.Repeat([]byte("other"), 10)
	if err := s.MarkSubmitted(ctx, fA.ID, Submission{By: "someone else", Records: true}, kept(again)); !errors.Is(err, ErrAlreadySubmitted) {
		t.Errorf("second MarkSubmitted = %v, want ErrAlreadySubmitted", err)
	}
	stored, err := s.SubmittedWorkbook(ctx, fA.ID)
	if err != nil || !bytes.Equal(stored, workbook) {
		t.Errorf("SubmittedWorkbook = %d bytes, %v; want the %d submitted, unchanged", len(stored), err, len(workbook))
	}
	if after, _ := s.Filing(ctx, fA.ID); !reflect.DeepEqual(after, got) {
		t.Errorf("refused submission changed the filing: %+v, was %+v", after, got)
	}

	if got := ids(s.Filings(ctx, shixincheck.FilingSubmitted)); !reflect.DeepEqual(got, []int64{fA.ID}) {
		t.Errorf("Filings(submitted) = %v, want [%d]", got, fA.ID)
	}
	if got := ids(s.Filings(ctx, shixincheck.FilingPrepared)); !reflect.DeepEqual(got, []int64{fC.ID, fB.ID}) {
		t.Errorf("Filings(prepared) after a submission = %v", got)
	}
	if got := ids(s.Filings(ctx, shixincheck.FilingPrepared, shixincheck.FilingSubmitted)); len(got) != 3 {
		t.Errorf("Filings(both) = %v", got)
	}

	// A submission needs who and what; a missing filing is not found.
	if err := s.MarkSubmitted(ctx, fC.ID, Submission{By: " "}, kept(workbook)); err == nil {
		t.Error("MarkSubmitted without who accepted")
	}
	if err := s.MarkSubmitted(ctx, fC.ID, submission(), kept(nil)); err == nil {
		t.Error("MarkSubmitted without a workbook accepted")
	}
	if err := s.MarkSubmitted(ctx, fC.ID, submission(), func([]Row) ([]byte, error) { return nil, errors.New("disk full") }); err == nil {
		t.Error("MarkSubmitted whose workbook could not be written accepted")
	}
	if f, _ := s.Filing(ctx, fC.ID); f.State != shixincheck.FilingPrepared {
		t.Errorf("refused submissions changed fC: %+v", f)
	}
	if err := s.MarkSubmitted(ctx, 9999, submission(), kept(workbook)); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSubmitted(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.SubmittedWorkbook(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("SubmittedWorkbook(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Filing(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Filing(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.FilingRows(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("FilingRows(missing) = %v, want ErrNotFound", err)
	}
}

func TestMigrateFromVersion1(t *testing.T) { onBoth(t, testMigrateFromVersion1) }

// A ledger written by the first release (schema version 1) upgrades with its
// data: its people are found by ID and name, and its batches can be filed.
func testMigrateFromVersion1(t *testing.T, fresh factory) {
	ctx := context.Background()
	dsn := fresh(t)
	old := atVersion(t, dsn, 1)
	// Rows as version 1 wrote them.
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.db.ExecContext(ctx, old.rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO batches (id, item, unit, handler, phone, created_at, content_key) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		"v1", itemHire, "某区人社局", "王经办", "027-12345678", at(1, 8), "key-v1")
	const id1, id2 = "42020219800101001X", "420202198001010022"
	exec(`INSERT INTO candidates (batch_id, row_no, name, id_number, item, state) VALUES (?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?)`,
		"v1", 1, "张1", id1, itemHire, shixincheck.StateDone, "v1", 2, "张2", id2, itemHire, shixincheck.StateDone)
	check := `INSERT INTO checks (candidate_id, queried_at, channel, site, outcome, hit_count, records, measure,
		rule_version, evidence, error_kind, captchas, created_at)
		SELECT id, ?, ?, 'classic', ?, ?, 'null', ?, 'r1', ?, ?, 0, ? FROM candidates WHERE row_no = ?`
	exec(check, at(2, 9), shixincheck.Channel, shixincheck.OutcomeFailed, 0, shixincheck.NeedsPerson, nil, shixincheck.KindTimeout, at(2, 9), 1)
	exec(check, at(2, 10), shixincheck.Channel, shixincheck.OutcomeListed, 1, "不予录用", []byte("raw"), "", at(2, 10), 1)
	exec(check, at(2, 11), shixincheck.Channel, shixincheck.OutcomeClear, 0, "正常录用", nil, "", at(2, 11), 2)
	if v := schemaVersions(t, old); len(v) != 1 {
		t.Fatalf("old ledger at versions %v, want [1]", v)
	}
	old.Close()

	s := openAt(t, dsn)
	if v := schemaVersions(t, s); len(v) != len(s.migrations()) || len(s.migrations()) < 2 {
		t.Fatalf("upgraded ledger at versions %v, want 1..%d", v, len(s.migrations()))
	}
	rows, total, err := s.Query(ctx, Query{IDNumber: id1})
	if err != nil || total != 1 || len(rows) != 1 || rows[0].Check.Outcome != shixincheck.OutcomeListed ||
		rows[0].Candidate.Name != "张1" || rows[0].Batch.ID != "v1" {
		t.Errorf("Query by ID after upgrade = %+v (total %d), %v", rows, total, err)
	}
	if rows, _, err := s.Query(ctx, Query{Name: "张2"}); err != nil || !reflect.DeepEqual(keys(rows), []string{"v1/2"}) {
		t.Errorf("Query by name after upgrade = %v, %v", keys(rows), err)
	}
	if rows, err := s.History(ctx, id1); err != nil || len(rows) != 2 || rows[0].Check.Outcome != shixincheck.OutcomeFailed {
		t.Errorf("History after upgrade = %+v, %v", rows, err)
	}
	if ev, err := s.Evidence(ctx, rows[0].Check.ID); err != nil || string(ev) != "raw" {
		t.Errorf("Evidence after upgrade = %q, %v", ev, err)
	}
	f, err := s.CreateBatchFiling(ctx, "v1", fixedDue(beijingDay(2026, 3, 11), nil))
	if err != nil || !f.CompletedAt.Equal(at(2, 11)) {
		t.Fatalf("CreateBatchFiling after upgrade = %+v, %v", f, err)
	}
	if got := filedRows(t, s, f.ID); !reflect.DeepEqual(got, []string{"v1/1", "v1/2"}) {
		t.Errorf("filing rows after upgrade = %v", got)
	}
	// New rows and old ones are found alike.
	mustCreate(t, s, testBatch("v2", time.Now()), []shixincheck.Candidate{{Row: 1, Name: "张1", IDNumber: id1, Item: itemHire}})
	if _, total, err := s.Query(ctx, Query{Name: "张1", Limit: 10}); err != nil || total != 1 {
		t.Errorf("Query after a new batch = total %d, %v (the new candidate has no check yet)", total, err)
	}
}

func TestConcurrentFilings(t *testing.T) { onBoth(t, testConcurrentFilings) }

// Several nodes filing the same period at once: every check lands in one filing.
func testConcurrentFilings(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	const n = 40
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(n))
	for _, c := range cands {
		mustSave(t, s, simpleCheck(c.ID, shixincheck.OutcomeClear, 0))
	}
	period := shixincheck.Filing{Title: "x", Items: []string{"公务员录用"}, From: at(1, 0), To: at(31, 0)}
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			_, err := s.CreatePeriodFiling(ctx, period, nil)
			errs <- err
		}()
	}
	created := 0
	for range 6 {
		switch err := <-errs; {
		case err == nil:
			created++
		case errors.Is(err, ErrNothingToFile), errors.Is(err, ErrAlreadyFiled):
		default:
			t.Errorf("concurrent CreatePeriodFiling: %v", err)
		}
	}
	all, err := s.Filings(ctx)
	if err != nil || created != 1 || len(all) != 1 {
		t.Fatalf("%d filings created, %d stored (%v); want 1", created, len(all), err)
	}
	if rows := filedRows(t, s, all[0].ID); len(rows) != n {
		t.Errorf("the filing holds %d checks, want %d", len(rows), n)
	}
}
