// Package scraper checks candidates on the court site in a real headless
// Chromium driven by go-rod: a bounded pool of long-lived tabs on one
// persistent browser profile, one site profile per version of the site
// ("classic", "gkw", or detected), the site's answers read from the network
// and cross-checked with the page, and the records matched to the candidate.
//
// Every failure is a *shixincheck.CheckError with a kind; a check is "clear"
// only when the site's answer was positively read as having no record of the
// person. Names and ID numbers never appear in log lines.
package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/shixincheck/shixincheck"
)

// Solver hands a captcha to a person and relays the answer.
type Solver interface {
	// Solve returns the answer to ch, shixincheck.ErrCaptchaRefresh when the
	// person asked for another image, or an error (a CheckError of kind
	// KindCaptchaUnanswered when nobody answered in time).
	Solve(ctx context.Context, ch shixincheck.Challenge) (shixincheck.Solution, error)
	// ReportOutcome tells how the site took the answer of challengeID (the
	// last round answered): "accepted", "rejected" or "expired" (the
	// challenge died before the answer reached the site), or "abandoned"
	// when the tab gave up before it had the site's verdict (a page error,
	// a timeout, too many pictures, the check ending: ctx may be done). It
	// ends that verification, so it comes once per challenge; a token that
	// expires after it served is not another outcome (Served ends its life).
	ReportOutcome(ctx context.Context, challengeID, outcome string)
	// Served tells how many candidates one verification served (the
	// challenge id of a typed captcha, the session of an interactive one),
	// once, when the tab moves on to another verification or closes.
	Served(ctx context.Context, verification string, n int)
}

// Outcomes of a verification, as the captcha queue names them.
const (
	captchaAccepted  = "accepted"  // the site accepted the answer
	captchaRejected  = "rejected"  // the site refused the answer: wrong, or maybe expired where the site cannot tell
	captchaExpired   = "expired"   // the site said the challenge expired before the answer reached it
	captchaAbandoned = "abandoned" // the tab gave up on an answer before it had the site's verdict
)

// Config configures a Scraper. Zero values take the defaults.
type Config struct {
	BaseURL     string        // default "https://zxgk.court.gov.cn"
	Site        string        // "classic" (default), "gkw" or "auto" (see detect)
	BrowserBin  string        // default: found on PATH
	ProfileDir  string        // persistent browser profile; required
	Tabs        int           // default 2
	StepTimeout time.Duration // default 20s
	// Pace is the least time from the site's answer to one search to the
	// tab's next search. Default 3s; negative: no pacing (simulator).
	Pace time.Duration
	// FetchPace is the least time from any answer of the site to the tab's
	// next request (further result pages, details, the code check): a
	// person does not click faster. Default 1s; negative: none.
	FetchPace          time.Duration
	MaxCaptchaAttempts int // default 3: refused answers per check (gkw: per verification)
}

const (
	defaultBaseURL = "https://zxgk.court.gov.cn"
	siteAuto       = "auto"
	// maxRefreshes bounds the new images a person may ask for in one check,
	// so that a solver answering "refresh" at once cannot hammer the site.
	maxRefreshes = 10
	// maxExpired bounds the captchas one check may wear out, so a site whose
	// captchas die at once cannot keep a check going for ever.
	maxExpired = 20
)

// profile runs searches on one version of the site. The pool, matching and
// result assembly do not depend on it.
type profile interface {
	name() string
	// open loads the search page into the tab and waits until it is usable.
	open(ctx context.Context, t *tab) error
	// search runs one search for the run's candidate in a tab that is open.
	search(ctx context.Context, t *tab, r *run) (answer, error)
}

// run is one check of one candidate, as the profile sees it.
type run struct {
	name, idNumber string
	captchas       int        // answers a person gave during this check
	evidence       []evidence // every answer of the site, in order
	// What was read before a captcha expired, so the check resumes with the
	// next captcha instead of starting over (a person's answer buys only so
	// many requests).
	pages   map[int][]listItem
	details map[string]shixincheck.Record

	files         []shixincheck.EvidenceFile // pages as the browser showed them
	verifications int                        // gkw: verifications asked of a person during this check
}

// answer is what a profile read for a search.
type answer struct {
	at        time.Time            // when the site answered the search
	totalSize int                  // records the site reported
	records   []shixincheck.Record // every record, with details for the candidate's name
}

// evidence is one answer of the site, as kept in SiteResult.Evidence. URL
// holds only the path and the page number or record id, never the query.
type evidence struct {
	URL    string `json:"url"`
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// Scraper checks candidates on the court site. Safe for concurrent use.
type Scraper struct {
	cfg    Config
	solver Solver
	log    *slog.Logger
	bin    string

	ctx    context.Context // cancelled by Close: ends running checks
	cancel context.CancelFunc
	tabs   []*tab
	free   chan *tab
	loops  sync.WaitGroup // tab event loops

	mu     sync.Mutex // guards br, closed
	br     *browser
	closed bool

	siteMu sync.Mutex // guards site; held while a tab detects the site
	site   profile    // nil until detected when Config.Site is "auto"
	sites  []profile  // the profiles "auto" tries, in order
}

// New launches the browser and prepares cfg.Tabs tabs, opened on first use.
func New(ctx context.Context, cfg Config, solver Solver, log *slog.Logger) (*Scraper, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL
	}
	if cfg.Site == "" {
		cfg.Site = classicSite.Name
	}
	if cfg.Tabs <= 0 {
		cfg.Tabs = 2
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 20 * time.Second
	}
	switch {
	case cfg.Pace == 0:
		cfg.Pace = 3 * time.Second
	case cfg.Pace < 0:
		cfg.Pace = 0 // pacing off, for the simulator
	}
	switch {
	case cfg.FetchPace == 0:
		cfg.FetchPace = time.Second
	case cfg.FetchPace < 0:
		cfg.FetchPace = 0
	}
	if cfg.MaxCaptchaAttempts <= 0 {
		cfg.MaxCaptchaAttempts = 3
	}
	if cfg.ProfileDir == "" {
		return nil, errors.New("scraper: ProfileDir is required")
	}
	if solver == nil {
		return nil, errors.New("scraper: no Solver")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pace := pacing{search: cfg.Pace, fetch: cfg.FetchPace}
	classicP := &classic{site: classicSite, base: cfg.BaseURL, step: cfg.StepTimeout, pace: pace,
		maxRefused: cfg.MaxCaptchaAttempts, solver: solver}
	gkwP := &gkw{site: gkwSite, base: cfg.BaseURL, step: cfg.StepTimeout, pace: pace,
		maxRefused: cfg.MaxCaptchaAttempts, solver: solver, log: log}
	var site profile
	var sites []profile
	switch cfg.Site {
	case classicSite.Name:
		site = classicP
	case gkwSite.Name:
		site = gkwP
	case siteAuto:
		sites = []profile{gkwP, classicP} // the current front end first
	default:
		return nil, fmt.Errorf("scraper: unknown site profile %q", cfg.Site)
	}
	bin, err := findBrowser(cfg.BrowserBin)
	if err != nil {
		return nil, fmt.Errorf("scraper: %w", err)
	}
	if err := os.MkdirAll(cfg.ProfileDir, 0o700); err != nil {
		return nil, fmt.Errorf("scraper: profile dir: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Scraper{cfg: cfg, site: site, sites: sites, solver: solver, log: log, bin: bin,
		ctx: sctx, cancel: cancel, free: make(chan *tab, cfg.Tabs)}
	for i := range cfg.Tabs {
		t := newTab(i)
		s.tabs = append(s.tabs, t)
		s.free <- t
	}
	if _, err := s.browser(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("scraper: %w", err)
	}
	return s, nil
}

// browser returns the running browser, launching it when it is not running
// (first use, or it died).
func (s *Scraper) browser(ctx context.Context) (*browser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("scraper closed")
	}
	if s.br != nil && s.br.alive() {
		return s.br, nil
	}
	gen := 1
	if s.br != nil {
		gen = s.br.gen + 1
		s.log.Warn("browser exited, relaunching", "launch", gen)
		s.br.cancel()
		killGroup(s.br.pgid, 0) // its helpers, if any outlived it
	}
	br, err := launchBrowser(ctx, s.bin, s.cfg.ProfileDir, s.cfg.StepTimeout, gen)
	if err != nil {
		s.br = nil
		return nil, err
	}
	s.br = br
	return br, nil
}

// Check searches the site for one candidate. It blocks until a tab is free
// or ctx is done. Every error is a *shixincheck.CheckError.
func (s *Scraper) Check(ctx context.Context, name, idNumber string) (shixincheck.SiteResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close ends running checks
	defer stop()

	var t *tab
	select {
	case t = <-s.free:
	case <-ctx.Done():
		return shixincheck.SiteResult{}, stepError("wait for a tab", ctx.Err())
	}
	defer func() { s.free <- t }()

	start := time.Now()
	res, err := s.check(ctx, t, name, idNumber)
	ms := time.Since(start).Milliseconds()
	if err != nil {
		s.log.Warn("check failed", "tab", t.index, "kind", shixincheck.KindOf(err), "ms", ms, "err", err)
		return shixincheck.SiteResult{}, err
	}
	s.log.Debug("check done", "tab", t.index, "ms", ms, "records", len(res.Records), "captchas", res.Captchas)
	return res, nil
}

func (s *Scraper) check(ctx context.Context, t *tab, name, idNumber string) (shixincheck.SiteResult, error) {
	br, err := s.browser(ctx)
	if err != nil {
		return shixincheck.SiteResult{}, shixincheck.Errorf(shixincheck.KindInternal, "browser: %w", err)
	}
	if !t.usable(br) {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
		err := t.open(sctx, br, &s.loops, s.cfg.Site != classicSite.Name)
		cancel()
		if err != nil {
			t.discard()
			return shixincheck.SiteResult{}, stepError("open tab", err)
		}
	}
	site, err := s.siteFor(ctx, t)
	if err != nil {
		return shixincheck.SiteResult{}, s.failed(t, err)
	}
	if !t.ready {
		if err := site.open(ctx, t); err != nil {
			return shixincheck.SiteResult{}, s.failed(t, err)
		}
		t.ready = true
	}
	r := &run{name: name, idNumber: idNumber}
	ans, err := site.search(ctx, t, r)
	if err != nil {
		return shixincheck.SiteResult{}, s.failed(t, err)
	}
	t.served++
	res := shixincheck.SiteResult{
		Site:      site.name(),
		QueriedAt: ans.at,
		TotalSize: ans.totalSize,
		Records:   ans.records,
		Files:     r.files,
		Captchas:  r.captchas,
	}
	for i := range res.Records {
		res.Records[i].Match = Match(name, idNumber, res.Records[i])
	}
	res.Evidence, err = json.Marshal(struct {
		Site    string     `json:"site"`
		Answers []evidence `json:"answers"`
	}{site.name(), r.evidence})
	if err != nil {
		return shixincheck.SiteResult{}, shixincheck.Errorf(shixincheck.KindInternal, "evidence: %w", err)
	}
	return res, nil
}

// siteFor returns the site profile; with Config.Site "auto" the first tab to
// check detects it (other tabs wait) and is left open on its search page.
func (s *Scraper) siteFor(ctx context.Context, t *tab) (profile, error) {
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	if s.site != nil {
		return s.site, nil
	}
	p, err := detect(ctx, t, s.sites)
	if err != nil {
		return nil, err
	}
	s.site = p
	t.ready = true
	s.log.Info("site version detected", "site", p.name())
	return p, nil
}

// detect opens each profile's search page at the base URL in turn and keeps
// the first one that is there: the gkw search page (/gkw/html/...) with its
// form and captcha widget, else the classic one (/shixin/) with its form and
// captcha image. A page that is not a profile's search page (a 404, another
// page) means "not this version"; a block or a timeout leaves the question
// open and fails the check, to be tried again.
func detect(ctx context.Context, t *tab, sites []profile) (profile, error) {
	var errs []error
	for _, p := range sites {
		err := p.open(ctx, t)
		if err == nil {
			return p, nil
		}
		if shixincheck.KindOf(err) != shixincheck.KindUnrecognised {
			return nil, stepError("detect site version", err)
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.name(), err))
	}
	return nil, shixincheck.Errorf(shixincheck.KindUnrecognised, "no known site version at the base URL: %w", errors.Join(errs...))
}

// failed decides what a failed search leaves behind: a tab in an unknown
// state is reloaded before its next search (captcha failures leave the page
// as the site meant it), and a dead browser makes the error internal.
func (s *Scraper) failed(t *tab, err error) error {
	kind := shixincheck.KindOf(err)
	if kind != shixincheck.KindCaptchaRejected && kind != shixincheck.KindCaptchaUnanswered {
		t.ready = false
	}
	if t.br == nil || !t.br.alive() || t.net.isBroken() {
		t.discard()
		if kind != shixincheck.KindInternal {
			return shixincheck.Errorf(shixincheck.KindInternal, "browser tab lost: %w", err)
		}
	}
	return err
}

// Close ends running checks, closes the tabs and the browser and waits for
// the browser's processes and the tab goroutines to end.
func (s *Scraper) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	for range s.tabs { // wait for running checks to hand their tabs back
		<-s.free
	}
	for _, t := range s.tabs {
		t.verified(context.Background(), s.solver, "")
	}
	s.mu.Lock()
	br := s.br
	s.mu.Unlock()
	var err error
	if br != nil {
		err = br.close(10 * time.Second)
	}
	s.loops.Wait()
	if err != nil {
		return fmt.Errorf("scraper: close: %w", err)
	}
	return nil
}

// stepError turns an error of a step into a CheckError: CheckErrors keep
// their kind, expired deadlines are timeouts, anything else is internal.
func stepError(step string, err error) error {
	var ce *shixincheck.CheckError
	switch {
	case errors.As(err, &ce):
		return &shixincheck.CheckError{Kind: ce.Kind, Err: fmt.Errorf("%s: %w", step, ce.Err)}
	case errors.Is(err, context.DeadlineExceeded):
		return shixincheck.Errorf(shixincheck.KindTimeout, "%s: %w", step, err)
	default:
		return shixincheck.Errorf(shixincheck.KindInternal, "%s: %w", step, err)
	}
}
