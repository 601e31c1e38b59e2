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
