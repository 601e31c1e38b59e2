// Package metrics holds the daemon's Prometheus collectors on a registry of its
// own. Other packages never import it: the daemon installs its methods as hooks
// and middleware. No label ever carries personal data: labels are outcomes,
// error kinds, site profiles and route patterns only.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	shixincheck "github.com/shixincheck/shixincheck"
)

const namespace = "shixincheck"

// Metrics is the set of the daemon's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	checks         *prometheus.CounterVec
	checkDuration  *prometheus.HistogramVec
	attemptErrors  *prometheus.CounterVec
	captchaWait    *prometheus.HistogramVec
	captchaAnswers *prometheus.CounterVec
	verifications  *prometheus.CounterVec
	verifyOutcomes *prometheus.CounterVec
	roundPerson    *prometheus.HistogramVec
	verifyPerson   *prometheus.HistogramVec
	verifyRounds   *prometheus.HistogramVec
	verifyServed   *prometheus.HistogramVec
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
}

// New creates the collectors on a new registry, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "checks_total",
			Help: "Checks recorded in the ledger, by outcome (listed, clear, review, failed).",
		}, []string{"outcome"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "check_duration_seconds",
			Help:    "Time of one check attempt on the court site, captcha waits included, by outcome or error kind.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"outcome"}),
		attemptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "check_attempt_errors_total",
			Help: "Check attempts that ended in an error (retried later or recorded as failed), by kind.",
		}, []string{"kind"}),
		captchaWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "captcha_solve_seconds",
			Help:    "Time from a captcha challenge being queued to a person's answer.",
			Buckets: []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600},
		}, []string{"site"}),
		captchaAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "captcha_answers_total",
			Help: "Captcha challenges by result: accepted or rejected by the site, or unanswered by any person in time.",
		}, []string{"site", "result"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "captcha_verifications_total",
			Help: "Verifications asked of people: an interactive captcha (all its rounds) or one text captcha.",
		}, []string{"site"}),
		verifyOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "captcha_verification_outcomes_total",
			Help: "Verifications ended, by outcome: accepted, rejected or expired (the site's word), abandoned (no verdict: a round nobody answered in time, or the tab gave up before the site said yes or no), refreshed (a text captcha replaced).",
		}, []string{"site", "outcome"}),
		roundPerson: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "captcha_round_person_seconds",
			Help:    "Time a person took on one round, from the picture shown to the answer.",
			Buckets: []float64{.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300},
		}, []string{"site"}),
		verifyPerson: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "captcha_verification_person_seconds",
			Help:    "Time people took on a verification, from its first answered round shown to its last answer, by outcome (verifications with an answered round only).",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300, 600},
		}, []string{"site", "outcome"}),
		verifyRounds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "captcha_verification_rounds",
			Help:    "Rounds people answered in a verification (clicks, drags, typed answers sent), by outcome.",
			Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20},
		}, []string{"site", "outcome"}),
		verifyServed: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "captcha_candidates_per_verification",
			Help:    "Candidates checked under one verification, as the scraper reports when it is used up.",
			Buckets: []float64{0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500},
		}, []string{"site"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern (long polls included).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.checks, m.checkDuration, m.attemptErrors, m.captchaWait, m.captchaAnswers,
		m.verifications, m.verifyOutcomes, m.roundPerson, m.verifyPerson, m.verifyRounds, m.verifyServed,
		m.httpRequests, m.httpDuration,
	)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// CheckRecorded counts a check written to the ledger.
func (m *Metrics) CheckRecorded(o shixincheck.Outcome) {
	m.checks.WithLabelValues(string(o)).Inc()
}

// CheckAttempt observes one attempt: its outcome, or its error kind when err is set.
func (m *Metrics) CheckAttempt(o shixincheck.Outcome, err error, d time.Duration) {
	label := string(o)
	if err != nil {
		kind := string(shixincheck.KindOf(err))
		m.attemptErrors.WithLabelValues(kind).Inc()
		label = "error_" + kind
	}
	m.checkDuration.WithLabelValues(label).Observe(d.Seconds())
}

// CaptchaAnswered observes the wait between a challenge and a person's answer.
func (m *Metrics) CaptchaAnswered(site string, wait time.Duration) {
	m.captchaWait.WithLabelValues(site).Observe(wait.Seconds())
}

// CaptchaReported counts the site's verdict on an answer.
func (m *Metrics) CaptchaReported(site string, accepted bool) {
	result := "rejected"
	if accepted {
		result = "accepted"
	}
	m.captchaAnswers.WithLabelValues(site, result).Inc()
}

// CaptchaUnanswered counts a challenge no person answered in time.
func (m *Metrics) CaptchaUnanswered(site string) {
	m.captchaAnswers.WithLabelValues(site, "unanswered").Inc()
}

// CaptchaVerificationAsked counts a verification asked of people (the
// first round of an interactive captcha, or a text captcha).
func (m *Metrics) CaptchaVerificationAsked(site string) {
	m.verifications.WithLabelValues(site).Inc()
}

// CaptchaRoundAnswered observes the time a person took on one round.
func (m *Metrics) CaptchaRoundAnswered(site string, took time.Duration) {
	m.roundPerson.WithLabelValues(site).Observe(took.Seconds())
}

// CaptchaVerificationEnded counts a verification's outcome and observes the
// rounds people answered and the time they took (when they answered any).
func (m *Metrics) CaptchaVerificationEnded(site, outcome string, rounds int, took time.Duration) {
	m.verifyOutcomes.WithLabelValues(site, outcome).Inc()
	m.verifyRounds.WithLabelValues(site, outcome).Observe(float64(rounds))
	if rounds > 0 {
		m.verifyPerson.WithLabelValues(site, outcome).Observe(took.Seconds())
	}
}

// CaptchaVerificationServed observes the candidates checked under one verification.
func (m *Metrics) CaptchaVerificationServed(site string, candidates int) {
	m.verifyServed.WithLabelValues(site).Observe(float64(candidates))
}

// WatchCaptchaBacklog exposes the number of challenges waiting for a person.
func (m *Metrics) WatchCaptchaBacklog(backlog func(context.Context) (int64, error)) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "captcha_backlog",
		Help: "Captcha challenges waiting for a person.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := backlog(ctx)
		if err != nil {
			return -1 // Redis unreachable: visible on the dashboard, not a silent 0
		}
		return float64(n)
	}))
}

// WatchQueues exposes asynq's queue metrics (sizes, latency, processed, failed).
func (m *Metrics) WatchQueues(inspector *asynq.Inspector) {
	m.Registry.MustRegister(asynqmetrics.NewQueueMetricsCollector(inspector))
}

// Route wraps a handler with request counting under its route pattern (never
// the raw URL, which could carry identifiers).
func (m *Metrics) Route(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		m.httpRequests.WithLabelValues(pattern, strconv.Itoa(rec.code)).Inc()
		m.httpDuration.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer (flushes, deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// FilingStats is the state of the filings with the credit office.
type FilingStats struct {
	Prepared, Submitted int
	Overdue             int
	OldestOverdue       time.Duration // how long since the end of the oldest overdue filing's due date
	DueSoon             int           // prepared, due within the next 2 working days
	UnknownDue          int           // prepared, due date unknown: the calendar lacks the year
}

// WatchFilings exposes the filings' states, read at each scrape.
func (m *Metrics) WatchFilings(read func(context.Context) (FilingStats, error)) {
	m.Registry.MustRegister(&filingCollector{read: read})
}

var (
	filingsDesc       = prometheus.NewDesc(namespace+"_filings", "Filings with the credit office, by state (overdue and due_soon are prepared filings too).", []string{"state"}, nil)
	oldestOverdueDesc = prometheus.NewDesc(namespace+"_filing_oldest_overdue_seconds", "Seconds since the end of the oldest overdue filing's due date (Beijing); 0 when none is overdue.", nil, nil)
	filingsUpDesc     = prometheus.NewDesc(namespace+"_filings_read_ok", "1 when the filings could be read from the ledger at this scrape.", nil, nil)
)

type filingCollector struct {
	read func(context.Context) (FilingStats, error)
}

func (c *filingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- filingsDesc
	ch <- oldestOverdueDesc
	ch <- filingsUpDesc
}

func (c *filingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(filingsUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(filingsUpDesc, prometheus.GaugeValue, 1)
	for state, n := range map[string]int{"prepared": s.Prepared, "submitted": s.Submitted, "overdue": s.Overdue, "due_soon": s.DueSoon, "due_unknown": s.UnknownDue} {
		ch <- prometheus.MustNewConstMetric(filingsDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(oldestOverdueDesc, prometheus.GaugeValue, s.OldestOverdue.Seconds())
}

// WatchCalendar exposes which years the working-day calendar knows, and
// counts due dates it refused to compute for a year it does not know.
func (m *Metrics) WatchCalendar(years []int) (unknownYear func()) {
	known := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "calendar_year_known",
		Help: "1 for each year whose official holidays and make-up days the working-day calendar knows.",
	}, []string{"year"})
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "calendar_unknown_year_total",
		Help: "Due dates not computed because the calendar does not know the year (add the State Council's notice to the rules file).",
	})
	for _, y := range years {
		known.WithLabelValues(strconv.Itoa(y)).Set(1)
	}
	m.Registry.MustRegister(known, refused)
	return refused.Inc
}
