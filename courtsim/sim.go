package courtsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Config sets up a simulator.
type Config struct {
	Seed        int64         // data set seed, default 1
	People      int           // listed people, default 5000
	CaptchaTTL  time.Duration // a captcha code's lifetime, default 2m
	CaptchaUses int           // searches+details one code allows, default 50
	WAF         bool          // JavaScript cookie challenge in front, default true
	SideDoor    bool          // /__sim/ endpoints, default false
	Latency     time.Duration // added to every answer, default 0
}

// DefaultConfig returns the defaults listed on Config.
func DefaultConfig() Config {
	return Config{Seed: 1, People: 5000, CaptchaTTL: 2 * time.Minute, CaptchaUses: 50, WAF: true}
}

// Sim is the simulated court site. It is safe for concurrent use.
type Sim struct {
	cfg      Config
	data     *dataset
	captchas *captchaStore
	painter  *captchaPainter
	waf      *waf
	faults   faultQueue
	site     *http.ServeMux // the site's own pages, behind WAF and faults
	side     *http.ServeMux // the side door
}

// New builds the data set and the site. Zero People, CaptchaTTL and
// CaptchaUses take their defaults; Seed, WAF, SideDoor and Latency are used as given.
func New(cfg Config) (*Sim, error) {
	def := DefaultConfig()
	if cfg.People == 0 {
		cfg.People = def.People
	}
	if cfg.CaptchaTTL == 0 {
		cfg.CaptchaTTL = def.CaptchaTTL
	}
	if cfg.CaptchaUses == 0 {
		cfg.CaptchaUses = def.CaptchaUses
	}
	switch {
	case cfg.CaptchaTTL < 0:
		return nil, fmt.Errorf("courtsim: captcha TTL must be positive, got %s", cfg.CaptchaTTL)
	case cfg.CaptchaUses < 0:
		return nil, fmt.Errorf("courtsim: captcha uses must be positive, got %d", cfg.CaptchaUses)
	case cfg.Latency < 0:
		return nil, fmt.Errorf("courtsim: latency must not be negative, got %s", cfg.Latency)
	}
	data, err := newDataset(cfg.Seed, cfg.People)
	if err != nil {
		return nil, fmt.Errorf("courtsim: %w", err)
	}
	painter, err := newCaptchaPainter()
	if err != nil {
		return nil, fmt.Errorf("courtsim: %w", err)
	}
	w, err := newWAF()
	if err != nil {
		return nil, fmt.Errorf("courtsim: %w", err)
	}
	s := &Sim{
		cfg:      cfg,
		data:     data,
		captchas: newCaptchaStore(cfg.CaptchaTTL, cfg.CaptchaUses, time.Now),
		painter:  painter,
		waf:      w,
		site:     http.NewServeMux(),
		side:     http.NewServeMux(),
	}
	s.classicRoutes(s.site)
	s.sideDoorRoutes(s.side)
	return s, nil
}

// ServeHTTP serves the site: side door first (never delayed, never behind
// the WAF), then latency, the WAF, injected faults and the page handlers.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__sim/") {
		if !s.cfg.SideDoor {
			http.NotFound(w, r)
			return
		}
		s.side.ServeHTTP(w, r)
		return
	}
	if !sleepCtx(r, s.cfg.Latency) {
		return
	}
	if s.cfg.WAF && !s.waf.passes(r) {
		s.waf.challenge(w)
		return
	}
	// Faults only hit pages the site has, so a stray /favicon.ico does not use one up.
	if _, pattern := s.site.Handler(r); pattern != "" {
		if f, ok := s.faults.take(r.URL.Path); ok && s.serveFault(w, r, f) {
			return
		}
	}
	s.site.ServeHTTP(w, r)
}

// CaptchaAnswer returns the current code of a captchaId (live or not).
func (s *Sim) CaptchaAnswer(captchaID string) (string, bool) {
	return s.captchas.answer(captchaID)
}

// People returns up to n people of a kind, the same for the same seed:
// "listed" (in the data set, Records >= 1), "namesake" (a made-up person
// sharing a listed name, with an ID whose masked form matches none of that
// name's records; Records 0), "clean" (a name no listed name contains;
// Records 0), "multipage" (listed people with more than 10 records).
// Fewer than n come back when the kind has fewer.
func (s *Sim) People(kind string, n int) ([]Person, error) {
	return s.data.peopleOf(kind, n)
}

// InjectFault queues a fault for the next f.Count matching requests (at
// least one). Faults queue in order; a request takes the first that matches.
func (s *Sim) InjectFault(f Fault) {
	s.faults.add(f)
}

// writeText writes a complete answer with a content type.
func writeText(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
