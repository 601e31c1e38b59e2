package courtsim

import (
	"fmt"
	"net/http"
	"slices"
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

	// Sites are the versions served, each under its own paths: "classic"
	// (/shixin/) and "gkw" (/gkw/, /zhzxgk/). Empty means both.
	Sites []string

	// The gkw site's behavioural captcha.
	GkwTokenTTL     time.Duration // a verification's lifetime, default 60s
	GkwTokenUses    int           // searches one verification allows (page turns count, details do not), default 20
	GkwChallengeTTL time.Duration // how long a challenge waits for its one check, default 5m
	GkwCaptchaDelay time.Duration // how long a new challenge takes to arrive (the widget loads meanwhile), default 1s
	GkwCaptchaType  string        // type of a fresh challenge: "SLIDER", "WORD_IMAGE_CLICK" or "" (random, the default)
}

// Site versions.
const (
	SiteClassic = "classic"
	SiteGkw     = "gkw"
)

// DefaultConfig returns the defaults listed on Config.
func DefaultConfig() Config {
	return Config{
		Seed: 1, People: 5000, CaptchaTTL: 2 * time.Minute, CaptchaUses: 50, WAF: true,
		Sites:       []string{SiteClassic, SiteGkw},
		GkwTokenTTL: 60 * time.Second, GkwTokenUses: 20, GkwChallengeTTL: 5 * time.Minute,
		GkwCaptchaDelay: time.Second,
	}
}

// Sim is the simulated court site. It is safe for concurrent use.
type Sim struct {
	cfg      Config
	data     *dataset
	captchas *captchaStore
	gkw      *gkwStore
	gkwIDs   *gkwIDs
	painter  *captchaPainter
	waf      *waf
	faults   faultQueue
	site     *http.ServeMux // the site's own pages, behind WAF and faults
	side     *http.ServeMux // the side door
}

// New builds the data set and the site. Zero People, CaptchaTTL,
// CaptchaUses, GkwTokenTTL, GkwTokenUses and GkwChallengeTTL and empty Sites
// take their defaults; Seed, WAF, SideDoor, Latency, GkwCaptchaDelay and
// GkwCaptchaType are used as given.
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
	if len(cfg.Sites) == 0 {
		cfg.Sites = def.Sites
	}
	if cfg.GkwTokenTTL == 0 {
		cfg.GkwTokenTTL = def.GkwTokenTTL
	}
	if cfg.GkwTokenUses == 0 {
		cfg.GkwTokenUses = def.GkwTokenUses
	}
	if cfg.GkwChallengeTTL == 0 {
		cfg.GkwChallengeTTL = def.GkwChallengeTTL
	}
	switch {
	case cfg.CaptchaTTL < 0:
		return nil, fmt.Errorf("courtsim: captcha TTL must be positive, got %s", cfg.CaptchaTTL)
	case cfg.CaptchaUses < 0:
		return nil, fmt.Errorf("courtsim: captcha uses must be positive, got %d", cfg.CaptchaUses)
	case cfg.Latency < 0:
		return nil, fmt.Errorf("courtsim: latency must not be negative, got %s", cfg.Latency)
	case cfg.GkwTokenTTL < 0:
		return nil, fmt.Errorf("courtsim: gkw token TTL must be positive, got %s", cfg.GkwTokenTTL)
	case cfg.GkwTokenUses < 0:
		return nil, fmt.Errorf("courtsim: gkw token uses must be positive, got %d", cfg.GkwTokenUses)
	case cfg.GkwChallengeTTL < 0:
		return nil, fmt.Errorf("courtsim: gkw challenge TTL must be positive, got %s", cfg.GkwChallengeTTL)
	case cfg.GkwCaptchaDelay < 0:
		return nil, fmt.Errorf("courtsim: gkw captcha delay must not be negative, got %s", cfg.GkwCaptchaDelay)
	case cfg.GkwCaptchaType != "" && cfg.GkwCaptchaType != gkwSlider && cfg.GkwCaptchaType != gkwWordClick:
		return nil, fmt.Errorf("courtsim: gkw captcha type: want SLIDER, WORD_IMAGE_CLICK or empty, got %q", cfg.GkwCaptchaType)
	}
	for _, site := range cfg.Sites {
		if site != SiteClassic && site != SiteGkw {
			return nil, fmt.Errorf("courtsim: site: want classic or gkw, got %q", site)
		}
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
	ids, err := newGkwIDs(data)
	if err != nil {
		return nil, fmt.Errorf("courtsim: %w", err)
	}
	s := &Sim{
		cfg:      cfg,
		data:     data,
		captchas: newCaptchaStore(cfg.CaptchaTTL, cfg.CaptchaUses, time.Now),
		gkw:      newGkwStore(cfg.GkwChallengeTTL, cfg.GkwTokenTTL, cfg.GkwTokenUses, time.Now),
		gkwIDs:   ids,
		painter:  painter,
		waf:      w,
		site:     http.NewServeMux(),
		side:     http.NewServeMux(),
	}
	if s.Serves(SiteClassic) {
		s.classicRoutes(s.site)
	}
	if s.Serves(SiteGkw) {
		s.gkwRoutes(s.site)
	}
	s.sideDoorRoutes(s.side)
	return s, nil
}

// Serves tells whether the simulator serves a site version.
func (s *Sim) Serves(site string) bool {
	return slices.Contains(s.cfg.Sites, site)
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

// GkwCaptcha tells where a gkw challenge is solved: the slider's target
// offset or the points to click in order. id is the challenge id, which the
// page keeps in #captchaId.
func (s *Sim) GkwCaptcha(id string) (GkwCaptcha, bool) {
	return s.gkw.info(id)
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
