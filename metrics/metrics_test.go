package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestMetricsExposeOutcomesBacklogAndFilings(t *testing.T) {
	m := New()
	m.CheckRecorded(shixincheck.OutcomeListed)
	m.CheckAttempt("", shixincheck.Errorf(shixincheck.KindBlocked, "412"), time.Second)
	m.CaptchaReported("classic", false)
	m.CaptchaUnanswered("classic")
	m.CaptchaAnswered("classic", 3*time.Second)
	m.WatchCaptchaBacklog(func(context.Context) (int64, error) { return 4, nil })
	unknown := m.WatchCalendar([]int{2025, 2026})
	unknown()
	m.WatchFilings(func(context.Context) (FilingStats, error) {
		return FilingStats{Prepared: 3, Submitted: 2, Overdue: 1, OldestOverdue: 36 * time.Hour, DueSoon: 1}, nil
	})
	out := scrape(t, m)
	for _, want := range []string{
		`shixincheck_checks_total{outcome="listed"} 1`,
		`shixincheck_check_attempt_errors_total{kind="blocked"} 1`,
		`shixincheck_check_duration_seconds_count{outcome="error_blocked"} 1`,
		`shixincheck_captcha_answers_total{result="rejected",site="classic"} 1`,
		`shixincheck_captcha_answers_total{result="unanswered",site="classic"} 1`,
		`shixincheck_captcha_solve_seconds_count{site="classic"} 1`,
		`shixincheck_captcha_backlog 4`,
		`shixincheck_calendar_year_known{year="2026"} 1`,
		`shixincheck_calendar_unknown_year_total 1`,
		`shixincheck_filings{state="overdue"} 1`,
		`shixincheck_filings{state="prepared"} 3`,
		`shixincheck_filing_oldest_overdue_seconds 129600`,
		`shixincheck_filings_read_ok 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestUnreadableSourcesShowAsSuch(t *testing.T) {
	m := New()
	m.WatchCaptchaBacklog(func(context.Context) (int64, error) { return 0, errors.New("redis down") })
	m.WatchFilings(func(context.Context) (FilingStats, error) { return FilingStats{}, errors.New("db down") })
	out := scrape(t, m)
	if !strings.Contains(out, "shixincheck_captcha_backlog -1") || !strings.Contains(out, "shixincheck_filings_read_ok 0") {
		t.Errorf("an unreadable source must not read as zero:\n%s", out)
	}
}

func TestRouteCountsByPatternNotURL(t *testing.T) {
	m := New()
	h := m.Route("GET /batches/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/batches/b0123456789abcdef", nil))
	out := scrape(t, m)
	if !strings.Contains(out, `shixincheck_http_requests_total{code="404",route="GET /batches/{id}"} 1`) || strings.Contains(out, "b0123456789abcdef") {
		t.Errorf("requests not counted by pattern:\n%s", out)
	}
}

func TestCaptchaEffort(t *testing.T) {
	m := New()
	m.CaptchaVerificationAsked("gkw")
	m.CaptchaVerificationAsked("gkw")
	m.CaptchaVerificationAsked("classic")
	m.CaptchaRoundAnswered("gkw", 4*time.Second)
	m.CaptchaRoundAnswered("gkw", 2500*time.Millisecond)
	m.CaptchaVerificationEnded("gkw", "accepted", 2, 9*time.Second)
	m.CaptchaVerificationEnded("gkw", "abandoned", 0, 0)
	m.CaptchaVerificationEnded("classic", "expired", 1, 3*time.Second)
	m.CaptchaVerificationServed("gkw", 17)
	out := scrape(t, m)
	for _, want := range []string{
		`shixincheck_captcha_verifications_total{site="gkw"} 2`,
		`shixincheck_captcha_verifications_total{site="classic"} 1`,
		`shixincheck_captcha_round_person_seconds_count{site="gkw"} 2`,
		`shixincheck_captcha_round_person_seconds_sum{site="gkw"} 6.5`,
		`shixincheck_captcha_round_person_seconds_bucket{site="gkw",le="3"} 1`,
		`shixincheck_captcha_verification_outcomes_total{outcome="accepted",site="gkw"} 1`,
		`shixincheck_captcha_verification_outcomes_total{outcome="abandoned",site="gkw"} 1`,
		`shixincheck_captcha_verification_outcomes_total{outcome="expired",site="classic"} 1`,
		`shixincheck_captcha_verification_person_seconds_sum{outcome="accepted",site="gkw"} 9`,
		`shixincheck_captcha_verification_rounds_sum{outcome="accepted",site="gkw"} 2`,
		`shixincheck_captcha_verification_rounds_count{outcome="abandoned",site="gkw"} 1`,
		`shixincheck_captcha_candidates_per_verification_sum{site="gkw"} 17`,
		`shixincheck_captcha_candidates_per_verification_bucket{site="gkw",le="10"} 0`,
		`shixincheck_captcha_candidates_per_verification_bucket{site="gkw",le="20"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Nobody answered an abandoned verification: no person time is made up for it.
	if strings.Contains(out, `shixincheck_captcha_verification_person_seconds_count{outcome="abandoned"`) {
		t.Error("person time observed for a verification nobody answered")
	}
}
