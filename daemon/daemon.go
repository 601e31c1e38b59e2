// Package daemon wires the parts together and runs them: the ledger, Redis,
// the captcha queue, the browser pool, the asynq workers and the HTTP server,
// started in that order and stopped in the reverse one.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/captcha"
	"github.com/shixincheck/shixincheck/courtsim"
	"github.com/shixincheck/shixincheck/jobs"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/metrics"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/scraper"
	"github.com/shixincheck/shixincheck/vault"
	"github.com/shixincheck/shixincheck/web"
	"github.com/shixincheck/shixincheck/workdays"
)

// filingWorkdays is the plan's deadline: filed with the credit office within
// 7 working days of the check.
const filingWorkdays = 7

// sweepInterval is how often queued candidates are handed to asynq again, in
// case their task was lost (Redis restarted without persistence, say).
const sweepInterval = time.Minute

// recentBatches is how many of the newest batches the sweep looks at for filing.
const recentBatches = 200

// Daemon is a running shixincheck.
type Daemon struct {
	cfg Config
	log *slog.Logger

	ledger    *ledger.Store
	rdb       *redis.Client
	queue     *captcha.Queue
	scraper   *scraper.Scraper
	client    *asynq.Client
	inspector *asynq.Inspector
	workers   *asynq.Server
	http      *http.Server
	listener  net.Listener
	sim       *http.Server // demo mode only

	recorded     chan struct{} // a check was recorded
	lastPurge    time.Time     // the retention purge's last run
	demoPassword string        // demo mode: the demo account's password, shown once
	stop         context.CancelFunc
	wg           sync.WaitGroup
}

// Start opens every part and starts serving. On error, whatever was started
// is closed again.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (_ *Daemon, err error) {
	d := &Daemon{cfg: cfg, log: log, recorded: make(chan struct{}, 1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("daemon: data dir: %w", err)
	}
	if cfg.Demo {
		if err := d.startSimulator(); err != nil {
			return nil, err
		}
		cfg = d.cfg
	}
	var keys *vault.Keys
	if d.ledger, keys, err = openLedger(ctx, cfg, log); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if err := d.firstAccount(ctx); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}

	redisOpt, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("daemon: redis url: %w", err)
	}
	d.rdb = redis.NewClient(redisOpt)
	if err := d.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("daemon: redis at %s: %w", redisOpt.Addr, err)
	}

	m := metrics.New()
	d.queue = captcha.New(d.rdb, captcha.Config{
		AnswerTimeout: cfg.CaptchaTimeout,
		Operator:      web.Operator,
		CSRFToken:     web.CSRFToken,
		Hooks: captcha.Hooks{
			Answered:           m.CaptchaAnswered,
			Reported:           m.CaptchaReported,
			Unanswered:         m.CaptchaUnanswered,
			VerificationAsked:  m.CaptchaVerificationAsked,
			RoundAnswered:      m.CaptchaRoundAnswered,
			VerificationEnded:  m.CaptchaVerificationEnded,
			VerificationServed: m.CaptchaVerificationServed,
		},
	})
	m.WatchCaptchaBacklog(d.queue.Backlog)

	pace := cfg.Pace
	if pace == 0 {
		pace = -1 // the scraper reads 0 as "its default"; here 0 means no pacing
	}
	d.scraper, err = scraper.New(ctx, scraper.Config{
		BaseURL:     cfg.SiteURL,
		Site:        cfg.Site,
		BrowserBin:  cfg.Browser,
		ProfileDir:  filepath.Join(cfg.DataDir, "browser"),
		Tabs:        cfg.Tabs,
		StepTimeout: cfg.StepTimeout,
		Pace:        pace,
		FetchPace:   scraperPace(cfg.FetchPace),
	}, d.queue, log.With("part", "scraper"))
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}

	asynqRedis := asynq.RedisClientOpt{Addr: redisOpt.Addr, Username: redisOpt.Username, Password: redisOpt.Password, DB: redisOpt.DB, TLSConfig: redisOpt.TLSConfig}
	d.client = asynq.NewClient(asynqRedis)
	d.inspector = asynq.NewInspector(asynqRedis)
	m.WatchQueues(d.inspector)
	tasks := &jobs.Queue{Client: d.client, Inspector: d.inspector, MaxRetry: cfg.MaxRetry}

	rs, err := loadRules(cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if _, err := d.ledger.Audit(ctx, ledger.AuditEntry{Actor: "system", Action: shixincheck.AuditRulesLoaded,
		Target: "rules " + rs.Stamp(), Detail: rulesSource(cfg.Rules)}); err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	cal, err := calendar(rs)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	unknownYear := m.WatchCalendar(cal.KnownYears())
	due := calendarDue(cal)
	dueDate := func(checked time.Time) (*time.Time, error) {
		day, err := due(checked)
		if err != nil {
			unknownYear()
			log.Warn("no due date for a filing", "err", err)
		}
		return day, err
	}
	// The calendar may know more (or other days) than when the prepared
	// filings were made: their due dates are worked out again.
	changed, err := d.ledger.RefreshDueDates(ctx, due)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	log.Info("filing due dates recomputed", "changed", changed)
	m.WatchFilings(func(ctx context.Context) (metrics.FilingStats, error) {
		return filingStats(ctx, d.ledger, cal, time.Now())
	})
	handler := &jobs.Handler{
		Store: d.ledger, Checker: d.scraper, Rules: rs, Log: log.With("part", "jobs"),
		Attempt: m.CheckAttempt,
		Recorded: func(o shixincheck.Outcome) {
			m.CheckRecorded(o)
			select { // the batch may be done: let the sweep prepare its filing now
			case d.recorded <- struct{}{}:
			default:
			}
		},
	}
	d.workers = asynq.NewServer(asynqRedis, asynq.Config{
		Concurrency:     cfg.Tabs,
		RetryDelayFunc:  jobs.RetryDelay,
		Logger:          asynqLogger{log.With("part", "asynq")},
		ShutdownTimeout: 10 * time.Second,
		IsFailure:       jobs.IsFailure,
	})
	mux := asynq.NewServeMux()
	mux.Handle(jobs.TypeCheck, handler)
	if err := d.workers.Start(mux); err != nil {
		return nil, fmt.Errorf("daemon: start workers: %w", err)
	}

	srv := &web.Server{
		Ledger: d.ledger, Rules: rs, Captcha: d.queue, Metrics: m.Handler(),
		Tasks: tasks, Instrument: m.Route, Log: log.With("part", "web"),
		Calendar: cal, DueDate: dueDate,
		SessionIdle: cfg.SessionIdle, InsecureCookies: cfg.InsecureCookies, TrustForwardedFor: cfg.TrustForwardedFor,
		Settings: webSettings(cfg, keys),
	}
	if d.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("daemon: listen: %w", err)
	}
	d.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if cfg.TLSCert != "" {
		// Loaded here, so a bad certificate stops the start instead of
		// leaving a daemon that serves nothing.
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("daemon: tls: %w", err)
		}
		d.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	go func() {
		serve := d.http.Serve
		if d.http.TLSConfig != nil {
			serve = func(ln net.Listener) error { return d.http.ServeTLS(ln, "", "") }
		}
		if err := serve(d.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()

	sweepCtx, stop := context.WithCancel(context.Background())
	d.stop = stop
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.sweep(sweepCtx, tasks, dueDate)
	}()
	log.Info("shixincheck started", "url", d.URL(), "site", cfg.SiteURL, "tabs", cfg.Tabs, "demo", cfg.Demo)
	return d, nil
}

// URL is where the daemon's HTTP server listens.
func (d *Daemon) URL() string {
	if d.cfg.TLSCert != "" {
		return "https://" + d.listener.Addr().String()
	}
	return "http://" + d.listener.Addr().String()
}

// sweep queues every unfinished candidate at start and then periodically (the
// stable task ids make this harmless for candidates already queued), and
// prepares the filing of every batch that has finished, so its deadline is
// tracked from then on.
func (d *Daemon) sweep(ctx context.Context, tasks *jobs.Queue, due web.DueDate) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for tick := true; ; {
		if tick {
			if err := d.requeue(ctx, tasks); err != nil && ctx.Err() == nil {
				d.log.Error("sweep unfinished candidates", "err", err)
			}
		}
		if err := d.fileFinishedBatches(ctx, due); err != nil && ctx.Err() == nil {
			d.log.Error("sweep finished batches", "err", err)
		}
		if tick {
			d.housekeeping(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			tick = true
		case <-d.recorded:
			tick = false
		}
	}
}

func (d *Daemon) requeue(ctx context.Context, tasks *jobs.Queue) error {
	cands, err := d.ledger.Unfinished(ctx)
	if err != nil || len(cands) == 0 {
		return err
	}
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.ID
	}
	if err := tasks.Enqueue(ctx, ids); err != nil {
		return err
	}
	d.log.Info("unfinished candidates queued", "count", len(ids))
	return nil
}

// housekeeping ends expired sessions and, once a day, purges what the
// retention period says must go.
func (d *Daemon) housekeeping(ctx context.Context) {
	now := time.Now()
	if _, err := d.ledger.DeleteExpiredSessions(ctx, now.Add(-d.cfg.SessionIdle), now.Add(-web.SessionMax)); err != nil && ctx.Err() == nil {
		d.log.Error("expire sessions", "err", err)
	}
	if d.cfg.RetentionDays == 0 || now.Sub(d.lastPurge) < 24*time.Hour {
		return
	}
	report, err := purge(ctx, d.ledger, now, d.cfg.RetentionDays, false, "system")
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("retention purge", "err", err)
		}
		return
	}
	d.lastPurge = now
	if len(report.Batches) > 0 || len(report.HeldBack) > 0 {
		d.log.Info("retention purge", "purged", len(report.Batches), "held_back", len(report.HeldBack))
	}
}

// fileFinishedBatches files the checks of each recent batch that is done:
// its filing is prepared, or brought up to date with retried checks (see
// ledger.CreateBatchFiling). An office that files by period (filing:
// period) has nothing filed here: its clerks file each department's checks.
func (d *Daemon) fileFinishedBatches(ctx context.Context, due web.DueDate) error {
	if d.cfg.Filing != "batch" {
		return nil
	}
	batches, err := d.ledger.Batches(ctx, recentBatches)
	if err != nil {
		return err
	}
	for _, b := range batches {
		f, err := d.ledger.CreateBatchFiling(ctx, b.ID, due)
		switch {
		case err == nil:
			d.log.Info("batch filed", "filing", f.ID, "batch", b.ID)
		case errors.Is(err, ledger.ErrAlreadyFiled), errors.Is(err, ledger.ErrBatchRunning), errors.Is(err, ledger.ErrNothingToFile):
		default:
			return err
		}
	}
	return nil
}

// Close stops the daemon in order: no new requests, running checks finished
// or handed back to the queue, then the browser, Redis and the ledger.
func (d *Daemon) Close() error {
	var errs []error
	if d.stop != nil {
		d.stop()
		d.wg.Wait()
	}
	if d.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := d.http.Shutdown(ctx); err != nil {
			d.http.Close() // long polls still open: cut them
		}
		cancel()
	}
	if d.workers != nil {
		d.workers.Shutdown()
	}
	if d.scraper != nil {
		errs = append(errs, d.scraper.Close())
	}
	if d.inspector != nil {
		errs = append(errs, d.inspector.Close())
	}
	if d.client != nil {
		errs = append(errs, d.client.Close())
	}
	if d.rdb != nil {
		errs = append(errs, d.rdb.Close())
	}
	if d.ledger != nil {
		errs = append(errs, d.ledger.Close())
	}
	if d.sim != nil {
		errs = append(errs, d.sim.Close())
	}
	return errors.Join(errs...)
}

// startSimulator serves the court-site simulator on a free loopback port and
// points the scraper at it (demo mode: the whole flow offline).
func (d *Daemon) startSimulator() error {
	cfg := courtsim.DefaultConfig()
	sim, err := courtsim.New(cfg)
	if err != nil {
		return fmt.Errorf("daemon: simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("daemon: simulator: %w", err)
	}
	d.sim = &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go d.sim.Serve(ln)
	d.cfg.SiteURL = "http://" + ln.Addr().String()
	d.cfg.Pace, d.cfg.FetchPace = 0, 0
	if err := writeDemoRoster(filepath.Join(d.cfg.DataDir, "demo-candidates.csv"), sim); err != nil {
		return err
	}
	d.log.Info("demo mode: court-site simulator", "url", d.cfg.SiteURL, "sample_list", filepath.Join(d.cfg.DataDir, "demo-candidates.csv"))
	return nil
}

// loadRules reads the office's rules file, or gives the seed plan's rules.
func loadRules(path string) (*rules.Rules, error) {
	if path == "" {
		return rules.Default(), nil
	}
	return rules.Load(path)
}

// calendar builds the working-day calendar with the office's corrections
// from the rules file.
// A day in a year the calendar does not know would be half a notice
// entered: it is refused, with its line in the rules file.
func calendar(rs *rules.Rules) (*workdays.Calendar, error) {
	plain, err := workdays.New(nil, rs.KnownYears)
	if err != nil {
		return nil, err
	}
	known := plain.KnownYears()
	var overrides []workdays.Override
	for _, day := range rs.Calendar {
		if y, _ := strconv.Atoi(day.Date[:4]); !slices.Contains(known, y) {
			return nil, fmt.Errorf("%s: calendar: date %s is in %d, a year the calendar does not know: add %d to calendar.known_years and enter that year's whole notice",
				rs.Where(day.Date), day.Date, y, y)
		}
		overrides = append(overrides, workdays.Override{Date: day.Date, Work: day.Work, Name: day.Name})
	}
	return workdays.New(overrides, rs.KnownYears)
}

// calendarDue is the filing deadline on cal: the 7th working day after the
// day of the check.
func calendarDue(cal *workdays.Calendar) func(checked time.Time) (*time.Time, error) {
	return func(checked time.Time) (*time.Time, error) {
		due, err := cal.AddWorkdays(checked, filingWorkdays)
		if err != nil {
			return nil, err
		}
		return &due, nil
	}
}

// filingStats counts the filings by what a clerk has to do about them at now.
func filingStats(ctx context.Context, store *ledger.Store, cal *workdays.Calendar, now time.Time) (metrics.FilingStats, error) {
	fs, err := store.Filings(ctx)
	if err != nil {
		return metrics.FilingStats{}, err
	}
	var s metrics.FilingStats
	for _, f := range fs {
		status, _ := f.Status(now, cal)
		switch status {
		case shixincheck.StatusSubmitted:
			s.Submitted++
			continue
		case shixincheck.StatusOverdue:
			s.Overdue++
			// Late since the end of the due date, in time rather than
			// working days: the age keeps growing over a weekend.
			if late := now.Sub(f.DueDate.AddDate(0, 0, 1)); late > s.OldestOverdue {
				s.OldestOverdue = late
			}
		case shixincheck.StatusDueSoon:
			s.DueSoon++
		case shixincheck.StatusDueUnknown:
			s.UnknownDue++
		}
		s.Prepared++
	}
	return s, nil
}

// asynqLogger sends asynq's logs to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)); os.Exit(1) }
