package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/metrics"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/vault"
	"github.com/shixincheck/shixincheck/workdays"
)

var beijing = time.FixedZone("CST", 8*3600)

func bj(m time.Month, d, hour int) time.Time { return time.Date(2026, m, d, hour, 0, 0, 0, beijing) }

// testLedger is a fresh SQLite ledger.
func testLedger(t *testing.T) *ledger.Store {
	t.Helper()
	s, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"), vault.Random())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkedBatch stores a batch of two people for item, both checked clear at checked.
func checkedBatch(t *testing.T, s *ledger.Store, id, item string, checked time.Time) {
	t.Helper()
	ctx := context.Background()
	_, cands, _, err := s.CreateBatch(ctx, shixincheck.Batch{ID: id, Item: item, Unit: "某区人社局", Handler: "王经办",
		Phone: "027-12345678", CreatedAt: checked, ContentKey: "key-" + id, Control: shixincheck.ControlActive},
		[]shixincheck.Candidate{
			{Row: 1, Name: "张一", IDNumber: "420202198001010011", Item: item},
			{Row: 2, Name: "张二", IDNumber: "420202198001010022", Item: item},
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if _, _, err := s.SaveCheck(ctx, shixincheck.Check{CandidateID: c.ID, QueriedAt: checked, Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
}

func seedCalendar(t *testing.T) *workdays.Calendar {
	t.Helper()
	cal, err := calendar(rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// filingStats on real filings: counts by status, and the oldest overdue age
// growing with time, weekends included.
func TestFilingStats(t *testing.T) {
	ctx := context.Background()
	s := testLedger(t)
	cal := seedCalendar(t)
	const item = "公职人员招录（聘）及考核"
	file := func(id string, checked time.Time) shixincheck.Filing {
		t.Helper()
		checkedBatch(t, s, id, item, checked)
		f, err := s.CreateBatchFiling(ctx, id, calendarDue(cal))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := file("a", bj(2, 13, 10)) // Fri 13 Feb: due Mon 2 Mar (Spring Festival, two make-up Saturdays)
	b := file("b", bj(2, 25, 10)) // due Thu 5 Mar
	c := file("c", bj(3, 2, 10))  // due Wed 11 Mar; submitted
	d := file("d", time.Date(2031, 1, 6, 10, 0, 0, 0, beijing))
	for f, want := range map[int64]string{a.ID: "2026-03-02", b.ID: "2026-03-05", c.ID: "2026-03-11"} {
		got, _ := s.Filing(ctx, f)
		if got.DueDate == nil || got.DueDate.Format("2006-01-02") != want {
			t.Fatalf("filing %d due %v, want %s", f, got.DueDate, want)
		}
	}
	if d.DueDate != nil {
		t.Fatalf("filing of 2031 due %v, want unknown", d.DueDate)
	}
	if err := s.MarkSubmitted(ctx, c.ID, ledger.Submission{At: bj(3, 4, 0), By: "王经办", Records: true},
		func([]ledger.Row) ([]byte, error) { return []byte("wb"), nil }); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		now  time.Time
		want metrics.FilingStats
	}{
		// Wed 4 Mar: a is late since the end of 2 Mar; b is due tomorrow.
		{bj(3, 4, 10), metrics.FilingStats{Prepared: 3, Submitted: 1, Overdue: 1, OldestOverdue: 34 * time.Hour, DueSoon: 1, UnknownDue: 1}},
		// Sat 7 Mar and Mon 9 Mar: both late, the oldest age still growing over the weekend.
		{bj(3, 7, 10), metrics.FilingStats{Prepared: 3, Submitted: 1, Overdue: 2, OldestOverdue: 106 * time.Hour, UnknownDue: 1}},
		{bj(3, 9, 10), metrics.FilingStats{Prepared: 3, Submitted: 1, Overdue: 2, OldestOverdue: 154 * time.Hour, UnknownDue: 1}},
		// Before any due date.
		{bj(2, 26, 10), metrics.FilingStats{Prepared: 3, Submitted: 1, UnknownDue: 1}},
	} {
		got, err := filingStats(ctx, s, cal, tc.now)
		if err != nil || got != tc.want {
			t.Errorf("filingStats at %v = %+v, %v; want %+v", tc.now, got, err, tc.want)
		}
	}
}

// With filing: period the daemon prepares no batch filing; a clerk's period
// filing then takes the checks. With filing: batch it files each finished batch.
func TestFilingSetting(t *testing.T) {
	ctx := context.Background()
	s := testLedger(t)
	due := calendarDue(seedCalendar(t))
	const item = "公职人员招录（聘）及考核" // 政工科's
	checkedBatch(t, s, "p1", item, bj(3, 2, 10))
	d := &Daemon{cfg: Config{Filing: "period"}, ledger: s, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := d.fileFinishedBatches(ctx, due); err != nil {
		t.Fatal(err)
	}
	if fs, err := s.Filings(ctx); err != nil || len(fs) != 0 {
		t.Fatalf("filing: period made %d filings (%v), want none", len(fs), err)
	}
	f, err := s.CreatePeriodFiling(ctx, shixincheck.Filing{Title: "政工科 2026年3月", Department: "政工科",
		Items: rules.Default().ItemsOf("政工科"), From: bj(3, 1, 0), To: bj(4, 1, 0)}, due)
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := s.FilingRows(ctx, f.ID); err != nil || len(rows) != 2 {
		t.Errorf("period filing holds %d checks (%v), want the batch's 2", len(rows), err)
	}

	checkedBatch(t, s, "b1", item, bj(3, 3, 10))
	d.cfg.Filing = "batch"
	if err := d.fileFinishedBatches(ctx, due); err != nil {
		t.Fatal(err)
	}
	fs, err := s.Filings(ctx)
	if err != nil || len(fs) != 2 {
		t.Fatalf("filing: batch: %d filings (%v), want the period one and b1's", len(fs), err)
	}
	for _, f := range fs {
		if f.BatchID == "b1" && (f.Department != "" || f.DueDate == nil || f.DueDate.Format("2006-01-02") != "2026-03-12") {
			t.Errorf("b1's filing = %+v", f)
		}
	}

	// The setting, from each source, and refused when unknown.
	none := func(string) string { return "" }
	if cfg, _, err := ParseConfig(nil, none, io.Discard); err != nil || cfg.Filing != "batch" {
		t.Errorf("default filing = %q, %v; want batch", cfg.Filing, err)
	}
	file := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(file, []byte(`{"filing": "period"}`), 0o600)
	for _, args := range [][]string{{"--filing", "period"}, {"--config", file}} {
		if cfg, _, err := ParseConfig(args, none, io.Discard); err != nil || cfg.Filing != "period" {
			t.Errorf("%v: filing = %q, %v", args, cfg.Filing, err)
		}
	}
	env := func(k string) string { return map[string]string{"SHIXINCHECK_FILING": "period"}[k] }
	if cfg, _, err := ParseConfig(nil, env, io.Discard); err != nil || cfg.Filing != "period" {
		t.Errorf("SHIXINCHECK_FILING=period: filing = %q, %v", cfg.Filing, err)
	}
	if _, _, err := ParseConfig([]string{"--filing", "monthly"}, none, io.Discard); err == nil || !strings.Contains(err.Error(), `filing "monthly": want batch or period`) {
		t.Errorf("--filing monthly: %v", err)
	}
}

// --config.check refuses a calendar day in a year the calendar does not
// know, with the rules file's line, as the start would.
func TestConfigCheckRefusesUnknownCalendarYear(t *testing.T) {
	data, err := os.ReadFile("../rules/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	text := string(data) + "calendar:\n  days:\n    - {date: 2031-10-08, work: true, name: 国庆调休}\n"
	os.WriteFile(path, []byte(text), 0o600)
	line := strings.Count(text, "\n") // the day is the last line
	none := func(string) string { return "" }
	var out strings.Builder
	err = Run(t.Context(), []string{"serve", "--config.check", "--rules", path}, none, nil, &out, io.Discard)
	want := fmt.Sprintf("rules.yaml:%d: calendar: date 2031-10-08 is in 2031, a year the calendar does not know", line)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("config.check = %v, want %q", err, want)
	}
	os.WriteFile(path, []byte(text+"  known_years: [2031]\n"), 0o600)
	if err := Run(t.Context(), []string{"serve", "--config.check", "--rules", path}, none, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "configuration ok") {
		t.Errorf("config.check with 2031 declared: %v, %q", err, out.String())
	}
}
