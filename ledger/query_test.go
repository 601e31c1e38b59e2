package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

const (
	itemHire  = "公务员录用"
	itemHonor = "评优评先"
)

// ledgerData is a small ledger of two batches, filled by seedLedger.
type ledgerData struct {
	b1, b2 shixincheck.Batch
	cands  map[string]shixincheck.Candidate // by "batch/row"
	checks map[string]shixincheck.Check     // the check that counts, by "batch/row"
	failed shixincheck.Check                // b1/4's first check, failed and superseded
}

func at(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }

// seedLedger writes:
//
//	b1/1 张1 A 公务员录用 listed 1  不予录用 03-02 09
//	b1/2 张2 B 公务员录用 clear     正常录用 03-02 10
//	b1/3 张3 C 评优评先   review    需人工核查 03-03 09
//	b1/4 张4 D 评优评先   failed 03-03 10, reset, then clear 可以评优 03-04 09
//	b1/5 张5 E 评优评先   queued, no check
//	b2/1 张1 A 评优评先   clear     可以评优 03-06 09
//	b2/2 李四 F 公务员录用 listed 2  不予录用 03-06 10
//	b2/3 张2 G 公务员录用 failed    需人工核查 03-07 09
//	b2/4 张4 D 公务员录用 listed 1  不予录用 03-07 10
func seedLedger(t *testing.T, s *Store) ledgerData {
	t.Helper()
	ctx := context.Background()
	const (
		idA = "420202198001010011"
		idB = "420202198001010022"
		idC = "420202198001010033"
		idD = "42020219800101004X"
		idE = "420202198001010055"
		idF = "420202198001010066"
		idG = "420202198001010077"
	)
	d := ledgerData{cands: map[string]shixincheck.Candidate{}, checks: map[string]shixincheck.Check{}}
	d.b1 = testBatch("b1", at(1, 8))
	d.b1.CreatedAt = d.b1.CreatedAt.UTC()
	d.b2 = testBatch("b2", at(5, 8))
	d.b2.CreatedAt = d.b2.CreatedAt.UTC()
	person := func(row int, name, id, item string) shixincheck.Candidate {
		return shixincheck.Candidate{Row: row, Name: name, IDNumber: id, Item: item}
	}
	for _, c := range mustCreate(t, s, d.b1, []shixincheck.Candidate{
		person(1, "张1", idA, itemHire), person(2, "张2", idB, itemHire), person(3, "张3", idC, itemHonor),
		person(4, "张4", idD, itemHonor), person(5, "张5", idE, itemHonor),
	}) {
		d.cands[fmt.Sprintf("b1/%d", c.Row)] = c
	}
	for _, c := range mustCreate(t, s, d.b2, []shixincheck.Candidate{
		person(1, "张1", idA, itemHonor), person(2, "李四", idF, itemHire), person(3, "张2", idG, itemHire),
		person(4, "张4", idD, itemHire),
	}) {
		d.cands[fmt.Sprintf("b2/%d", c.Row)] = c
	}
	save := func(key string, o shixincheck.Outcome, hits int, measure string, when time.Time) shixincheck.Check {
		c := simpleCheck(d.cands[key].ID, o, hits)
		c.QueriedAt, c.Measure = when, measure
		for i := 0; i < hits; i++ {
			c.Records = append(c.Records, shixincheck.Record{SiteID: fmt.Sprint(i), Name: d.cands[key].Name, CaseCode: "（2024）鄂0102执1号", Match: shixincheck.MatchHit})
		}
		c.Evidence = []byte("evidence of " + key)
		c.ID = mustSave(t, s, c)
		c.Evidence = nil // not loaded by rows
		return c
	}
	d.checks["b1/1"] = save("b1/1", shixincheck.OutcomeListed, 1, "不予录用", at(2, 9))
	d.checks["b1/2"] = save("b1/2", shixincheck.OutcomeClear, 0, "正常录用", at(2, 10))
	d.checks["b1/3"] = save("b1/3", shixincheck.OutcomeReview, 0, shixincheck.NeedsPerson, at(3, 9))
	d.failed = save("b1/4", shixincheck.OutcomeFailed, 0, shixincheck.NeedsPerson, at(3, 10))
	if reset, err := s.ResetFailed(ctx, "b1"); err != nil || len(reset) != 1 {
		t.Fatalf("ResetFailed = %d, %v", len(reset), err)
	}
	d.checks["b1/4"] = save("b1/4", shixincheck.OutcomeClear, 0, "可以评优", at(4, 9))
	d.checks["b2/1"] = save("b2/1", shixincheck.OutcomeClear, 0, "可以评优", at(6, 9))
	d.checks["b2/2"] = save("b2/2", shixincheck.OutcomeListed, 2, "不予录用", at(6, 10))
	d.checks["b2/3"] = save("b2/3", shixincheck.OutcomeFailed, 0, shixincheck.NeedsPerson, at(7, 9))
	d.checks["b2/4"] = save("b2/4", shixincheck.OutcomeListed, 1, "不予录用", at(7, 10))
	for key, c := range d.cands {
		if _, ok := d.checks[key]; ok {
			c.State = shixincheck.StateDone
			d.cands[key] = c
		}
	}
	return d
}

// keys names rows as "batch/row".
func keys(rows []Row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s/%d", r.Batch.ID, r.Candidate.Row))
	}
	return out
}

func TestQuery(t *testing.T) { onBoth(t, testQuery) }

func testQuery(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	d := seedLedger(t, s)
	idA, idD := d.cands["b1/1"].IDNumber, d.cands["b1/4"].IDNumber

	all := []string{"b2/4", "b2/3", "b2/2", "b2/1", "b1/4", "b1/3", "b1/2", "b1/1"}
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"everything, newest first", Query{}, all},
		{"by ID", Query{IDNumber: idA}, []string{"b2/1", "b1/1"}},
		{"by ID, across batches", Query{IDNumber: idD}, []string{"b2/4", "b1/4"}},
		{"by name", Query{Name: "张2"}, []string{"b2/3", "b1/2"}},
		{"by item", Query{Items: []string{itemHonor}}, []string{"b2/1", "b1/4", "b1/3"}},
		{"by items", Query{Items: []string{itemHonor, itemHire}}, all},
		{"by period", Query{From: at(3, 0), To: at(6, 9)}, []string{"b1/4", "b1/3"}},
		{"from only", Query{From: at(7, 0)}, []string{"b2/4", "b2/3"}},
		{"to only", Query{To: at(2, 10)}, []string{"b1/1"}},
		{"period in Beijing time", Query{From: time.Date(2026, 3, 6, 17, 30, 0, 0, shanghai)}, []string{"b2/4", "b2/3", "b2/2"}},
		{"by outcome", Query{Outcomes: []shixincheck.Outcome{shixincheck.OutcomeListed}}, []string{"b2/4", "b2/2", "b1/1"}},
		{"by outcomes", Query{Outcomes: []shixincheck.Outcome{shixincheck.OutcomeFailed, shixincheck.OutcomeReview}}, []string{"b2/3", "b1/3"}},
		{"by measure", Query{Measure: "不予录用"}, []string{"b2/4", "b2/2", "b1/1"}},
		{"by batch", Query{BatchID: "b2"}, []string{"b2/4", "b2/3", "b2/2", "b2/1"}},
		{"ID and item", Query{IDNumber: idA, Items: []string{itemHire}}, []string{"b1/1"}},
		{"name and batch", Query{Name: "张1", BatchID: "b2"}, []string{"b2/1"}},
		{"item, outcome and period", Query{Items: []string{itemHire}, Outcomes: []shixincheck.Outcome{shixincheck.OutcomeListed}, From: at(5, 0)}, []string{"b2/4", "b2/2"}},
		{"measure and period", Query{Measure: "可以评优", From: at(1, 0), To: at(5, 0)}, []string{"b1/4"}},
		{"nobody", Query{IDNumber: "110101199001011234"}, []string{}},
		{"name is exact", Query{Name: "张"}, []string{}},
		// b1/4's failed check was superseded: a query never sees it.
		{"superseded check hidden", Query{IDNumber: idD, Outcomes: []shixincheck.Outcome{shixincheck.OutcomeFailed}}, []string{}},
	} {
		rows, total, err := s.Query(ctx, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := keys(rows); !reflect.DeepEqual(got, tc.want) || total != len(tc.want) {
			t.Errorf("%s: Query = %v (total %d), want %v (total %d)", tc.name, got, total, tc.want, len(tc.want))
		}
	}

	// Whole rows: batch, candidate and check, records decoded, no evidence.
	rows, _, err := s.Query(ctx, Query{BatchID: "b2", Outcomes: []shixincheck.Outcome{shixincheck.OutcomeListed}})
	if err != nil || len(rows) != 2 {
		t.Fatalf("Query = %d rows, %v", len(rows), err)
	}
	want := Row{Batch: d.b2, Candidate: d.cands["b2/2"], Check: d.checks["b2/2"]}
	if !reflect.DeepEqual(rows[1], want) {
		t.Errorf("row =\n%+v\nwant\n%+v", rows[1], want)
	}
	if len(rows[1].Check.Records) != 2 {
		t.Errorf("row records = %+v, want 2", rows[1].Check.Records)
	}
}

func TestQueryPaging(t *testing.T) { onBoth(t, testQueryPaging) }

func testQueryPaging(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	seedLedger(t, s)
	all := []string{"b2/4", "b2/3", "b2/2", "b2/1", "b1/4", "b1/3", "b1/2", "b1/1"}
	for _, tc := range []struct {
		limit, offset int
		want          []string
	}{
		{3, 0, all[:3]},
		{3, 3, all[3:6]},
		{3, 6, all[6:]},
		{3, 8, []string{}},
		{0, 5, all[5:]},
	} {
		rows, total, err := s.Query(ctx, Query{Limit: tc.limit, Offset: tc.offset})
		if err != nil {
			t.Fatal(err)
		}
		if got := keys(rows); !reflect.DeepEqual(got, tc.want) || total != len(all) {
			t.Errorf("limit %d offset %d: %v (total %d), want %v (total %d)", tc.limit, tc.offset, got, total, tc.want, len(all))
		}
	}
	rows, total, err := s.Query(ctx, Query{Items: []string{itemHire}, Limit: 2, Offset: 1})
	if got := keys(rows); err != nil || !reflect.DeepEqual(got, []string{"b2/3", "b2/2"}) || total != 5 {
		t.Errorf("filtered page = %v (total %d), %v; want [b2/3 b2/2] of 5", got, total, err)
	}
	for _, q := range []Query{{Limit: -1}, {Offset: -1}, {Limit: MaxLimit + 1}} {
		if _, _, err := s.Query(ctx, q); err == nil {
			t.Errorf("Query(limit %d, offset %d) accepted", q.Limit, q.Offset)
		}
	}
	if _, _, err := s.Query(ctx, Query{Limit: MaxLimit}); err != nil {
		t.Errorf("Query(limit MaxLimit) = %v", err)
	}
}

func TestQueryDefaultLimit(t *testing.T) { onBoth(t, testQueryDefaultLimit) }

func testQueryDefaultLimit(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	const n = DefaultLimit + 1
	cands := mustCreate(t, s, testBatch("big", time.Now()), people(n))
	for _, c := range cands {
		mustSave(t, s, simpleCheck(c.ID, shixincheck.OutcomeClear, 0))
	}
	rows, total, err := s.Query(ctx, Query{})
	if err != nil || len(rows) != DefaultLimit || total != n {
		t.Errorf("Query{} = %d rows of %d, %v; want %d of %d", len(rows), total, err, DefaultLimit, n)
	}
	// Same queried_at everywhere: the newest check (highest id) first.
	if len(rows) > 0 && rows[0].Candidate.Row != n {
		t.Errorf("first row = %d, want the last saved, %d", rows[0].Candidate.Row, n)
	}
}

func TestHistory(t *testing.T) { onBoth(t, testHistory) }

func testHistory(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	d := seedLedger(t, s)

	// D: failed in b1, retried clear in b1, listed in b2. The failed check stays.
	rows, err := s.History(ctx, d.cands["b1/4"].IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	var checks []shixincheck.Check
	for _, r := range rows {
		checks = append(checks, r.Check)
	}
	want := []shixincheck.Check{d.failed, d.checks["b1/4"], d.checks["b2/4"]}
	if !reflect.DeepEqual(checks, want) {
		t.Errorf("History(D) checks =\n%+v\nwant\n%+v", checks, want)
	}
	if got := keys(rows); !reflect.DeepEqual(got, []string{"b1/4", "b1/4", "b2/4"}) {
		t.Errorf("History(D) = %v", got)
	}
	if len(rows) == 3 && (!reflect.DeepEqual(rows[0].Batch, d.b1) || !reflect.DeepEqual(rows[2].Candidate, d.cands["b2/4"])) {
		t.Errorf("History(D) rows carry %+v / %+v", rows[0].Batch, rows[2].Candidate)
	}

	if rows, err := s.History(ctx, d.cands["b1/1"].IDNumber); err != nil || !reflect.DeepEqual(keys(rows), []string{"b1/1", "b2/1"}) {
		t.Errorf("History(A) = %v, %v", keys(rows), err)
	}
	// Never checked: nothing. Queued with no check: nothing.
	for _, id := range []string{"110101199001011234", d.cands["b1/5"].IDNumber} {
		if rows, err := s.History(ctx, id); err != nil || len(rows) != 0 {
			t.Errorf("History(%s) = %v, %v; want none", id, keys(rows), err)
		}
	}
	if _, err := s.History(ctx, ""); err == nil {
		t.Error("History of an empty ID accepted")
	}

	// A failed check whose retry is still queued is history too.
	if _, err := s.ResetFailed(ctx, "b2"); err != nil {
		t.Fatal(err)
	}
	rows, err = s.History(ctx, d.cands["b2/3"].IDNumber)
	if err != nil || len(rows) != 1 || rows[0].Check.ID != d.checks["b2/3"].ID || rows[0].Candidate.State != shixincheck.StateQueued {
		t.Errorf("History of a candidate awaiting retry = %+v, %v", rows, err)
	}
	if rows, _, err := s.Query(ctx, Query{BatchID: "b2"}); err != nil || slices.Contains(keys(rows), "b2/3") {
		t.Errorf("Query shows a candidate awaiting retry: %v, %v", keys(rows), err)
	}
}

func TestQueryMissing(t *testing.T) { onBoth(t, testQueryMissing) }

// An unknown batch or ID is an empty answer, not an error: a query is a search.
func testQueryMissing(t *testing.T, fresh factory) {
	s := newStore(t, fresh)
	rows, total, err := s.Query(context.Background(), Query{BatchID: "nope"})
	if err != nil || len(rows) != 0 || total != 0 || errors.Is(err, ErrNotFound) {
		t.Errorf("Query(unknown batch) = %d rows, total %d, %v", len(rows), total, err)
	}
}
