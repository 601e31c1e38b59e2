package scraper

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// gkwEnv is a simulator serving the gkw site behind an httptest server, a
// scraper on profile "gkw" against it and a person answering its captchas.
type gkwEnv struct {
	sim     *courtsim.Sim
	srv     *httptest.Server
	person  *gkwPerson
	scraper *Scraper
}

// gkwSimConfig is the simulator the gkw tests use: WAF and side door on, a
// widget that loads quickly, the verification's default lifetime.
func gkwSimConfig() courtsim.Config {
	c := courtsim.DefaultConfig()
	c.SideDoor = true
	c.Sites = []string{courtsim.SiteGkw}
	c.GkwCaptchaDelay = 50 * time.Millisecond
	return c
}

func newGkwEnv(t testing.TB, simCfg courtsim.Config, cfg Config) *gkwEnv {
	t.Helper()
	sim, err := courtsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &gkwEnv{sim: sim, srv: srv, person: newGkwPerson(sim)}
	if cfg.Site == "" {
		cfg.Site = "gkw"
	}
	cfg.BaseURL = srv.URL
	if cfg.ProfileDir == "" {
		cfg.ProfileDir = filepath.Join(t.TempDir(), "profile")
	}
	if cfg.Pace == 0 {
		cfg.Pace = -1
	}
	if cfg.FetchPace == 0 {
		cfg.FetchPace = -1
	}
	e.scraper = startScraper(t, cfg, e.person)
	t.Cleanup(func() {
		if err := e.person.problem(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// startScraper starts a scraper whose log goes to the test, closed with the test.
func startScraper(t testing.TB, cfg Config, solver Solver) *Scraper {
	t.Helper()
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	s, err := New(context.Background(), cfg, solver, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func (e *gkwEnv) people(t testing.TB, kind string, n int) []courtsim.Person {
	t.Helper()
	p, err := e.sim.People(kind, n)
	if err != nil || len(p) < n {
		t.Fatalf("people %s: %d of %d, %v", kind, len(p), n, err)
	}
	return p
}

// The widget's layout as a person sees it on the picture, in CSS px from the
// picture's top-left: the captcha image below a line of instructions, the
// slider's button below the image. A person finds these by looking;
// TestGkwWrongDragThenWords checks them against the page.
const (
	gkwImageTop   = 36                 // top of the captcha image (#tianai-captcha-slider-bg-img)
	gkwButtonX    = 27.5               // centre of the slider's button at rest
	gkwButtonY    = 36 + 180 + 12 + 20 // below the image and a margin, 40 px high
	gkwButtonBlue = 0x3a7bd5
)

// gkwPerson answers gkw challenges as a person at the review page would:
// it looks at the picture (the widget, the slider's button where it should
// be) and knows from the simulator's side door where the slider must go and
// which characters to click. It drags like a hand: at least 12 points over
// at least 400 ms, slowing down at the end.
type gkwPerson struct {
	sim *courtsim.Sim

	mu             sync.Mutex
	wrong          int // answer the next this many challenges wrongly: 40 px off, or clicks in reverse
	wrongFor       map[string]bool
	clicksPerRound int            // word-click: click this many characters a round (0: all)
	refreshes      int            // ask for a new challenge this many times first
	slow           int            // answer the next this many challenges after slowBy
	slowBy         time.Duration  // how long a slow person looks away
	failWith       error          // answer every challenge with this error
	clickGap       int            // ms between two clicks
	n              int            // solutions given
	clicked        map[string]int // word-click: characters clicked so far, by challenge
	actedOn        map[string]bool
	sessions       []string // sessions in the order they began
	rounds         map[string]int
	kinds          []string // type of each challenge acted on, in order
	reports        []string
	returned       map[string]time.Time        // when the last solution of a session was handed back
	gaps           []time.Duration             // from a solution to the next picture of its session
	err            error                       // first thing wrong with a challenge or a report
	inspect        func(shixincheck.Challenge) // called first, with the widget on the page
	served         map[string]int              // candidates each verification served, as told
}

func newGkwPerson(sim *courtsim.Sim) *gkwPerson {
	return &gkwPerson{sim: sim, clickGap: 60, clicked: map[string]int{}, actedOn: map[string]bool{}, wrongFor: map[string]bool{}, rounds: map[string]int{},
		returned: map[string]time.Time{}}
}

func (p *gkwPerson) Solve(ctx context.Context, ch shixincheck.Challenge) (shixincheck.Solution, error) {
	p.mu.Lock()
	inspect := p.inspect
	p.mu.Unlock()
	if inspect != nil {
		inspect(ch)
	}
	p.mu.Lock()
	var slowBy time.Duration
	if p.slow > 0 && !p.actedOn[ch.SiteRef] {
		p.slow--
		slowBy = p.slowBy
	}
	p.mu.Unlock()
	select { // a person who looks away for a while
	case <-time.After(slowBy):
	case <-ctx.Done():
		return shixincheck.Solution{}, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, ok := p.returned[ch.Session]; ok {
		p.gaps = append(p.gaps, time.Since(last))
	}
	if p.rounds[ch.Session] == 0 {
		p.sessions = append(p.sessions, ch.Session)
	}
	p.rounds[ch.Session]++
	if p.failWith != nil {
		return shixincheck.Solution{}, p.failWith
	}
	info, err := p.look(ch)
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("the person saw a wrong challenge: %w", err)
		}
		return shixincheck.Solution{}, err
	}
	if p.refreshes > 0 {
		p.refreshes--
		return shixincheck.Solution{}, shixincheck.ErrCaptchaRefresh
	}
	if !p.actedOn[ch.SiteRef] {
		p.actedOn[ch.SiteRef] = true
		p.kinds = append(p.kinds, info.Type)
		if p.wrong > 0 {
			p.wrong--
			p.wrongFor[ch.SiteRef] = true
		}
	}
	wrong := p.wrongFor[ch.SiteRef]
	var actions []shixincheck.Action
	switch info.Type {
	case "SLIDER":
		dx := info.SliderXCSS
		if wrong { // well off the tolerance of 6 px
			if dx += 40; dx > 240 {
				dx -= 80
			}
		}
		actions = []shixincheck.Action{{Type: shixincheck.ActionDrag, Points: handDrag(gkwButtonX, gkwButtonY, dx)}}
	case "WORD_IMAGE_CLICK":
		points := slices.Clone(info.Points)
		if wrong {
			slices.Reverse(points)
		}
		from := p.clicked[ch.SiteRef]
		to := len(points)
		if p.clicksPerRound > 0 {
			to = min(to, from+p.clicksPerRound)
		}
		for i, pt := range points[from:to] {
			actions = append(actions, shixincheck.Action{Type: shixincheck.ActionClick,
				Points: []shixincheck.Point{{X: pt.CSSX, Y: gkwImageTop + pt.CSSY, T: i * p.clickGap}}})
		}
		p.clicked[ch.SiteRef] = to
	}
	p.n++
	p.returned[ch.Session] = time.Now()
	return shixincheck.Solution{ChallengeID: fmt.Sprintf("g%d", p.n), Actions: actions}, nil
}

// look checks the challenge as a person would see it and returns what the
// side door knows of it.
func (p *gkwPerson) look(ch shixincheck.Challenge) (courtsim.GkwCaptcha, error) {
	if ch.Site != "gkw" || ch.Kind != shixincheck.ChallengeInteractive || ch.Session == "" || ch.SiteRef == "" {
		return courtsim.GkwCaptcha{}, fmt.Errorf("challenge %+v", ch)
	}
	info, ok := p.sim.GkwCaptcha(ch.SiteRef)
	if !ok || info.State != "pending" {
		return info, fmt.Errorf("challenge %s: side door %v, state %q", ch.SiteRef, ok, info.State)
	}
	img, err := png.Decode(bytes.NewReader(ch.Image))
	if err != nil {
		return info, fmt.Errorf("challenge picture: %w", err)
	}
	// The picture is the widget's box at 1 px per CSS px: 300 x 270.
	if b := img.Bounds(); b.Dx() != int(math.Round(ch.Width)) || b.Dy() != int(math.Round(ch.Height)) || ch.Width != 300 || ch.Height != 270 {
		return info, fmt.Errorf("picture %v for a box of %.1f x %.1f", b, ch.Width, ch.Height)
	}
	if info.Type == "SLIDER" && p.clicked[ch.SiteRef] == 0 && !near(img.At(27, gkwButtonY), gkwButtonBlue) {
		return info, fmt.Errorf("no slider button on the picture at (%v, %v): %v", gkwButtonX, gkwButtonY, img.At(27, gkwButtonY))
	}
	return info, nil
}

// near tells whether a pixel has about the colour rgb.
func near(c interface{ RGBA() (r, g, b, a uint32) }, rgb uint32) bool {
	r, g, b, _ := c.RGBA()
	d := func(v uint32, want uint32) bool { return math.Abs(float64(v>>8)-float64(want)) <= 8 }
	return d(r, rgb>>16&0xff) && d(g, rgb>>8&0xff) && d(b, rgb&0xff)
}

// handDrag is a drag from (x0, y0) by dx: 16 points over 480 ms, fast at
// first and slowing down at the end, with a little vertical wobble.
func handDrag(x0, y0, dx float64) []shixincheck.Point {
	const n, total = 16, 480
	pts := []shixincheck.Point{{X: x0, Y: y0}}
	for i := 1; i < n; i++ {
		f := float64(i) / (n - 1)
		ease := 1 - math.Pow(1-f, 3)
		pts = append(pts, shixincheck.Point{X: x0 + dx*ease, Y: y0 + float64(i%3) - 1, T: total * i / (n - 1)})
	}
	return pts
}

func (p *gkwPerson) Served(ctx context.Context, verification string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.served == nil {
		p.served = map[string]int{}
	}
	p.served[verification] += n
}

// ReportOutcome records "id:outcome"; a challenge reported twice or an
// unknown outcome is a problem.
func (p *gkwPerson) ReportOutcome(ctx context.Context, id, outcome string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := checkReport(p.reports, id, outcome); err != nil && p.err == nil {
		p.err = err
	}
	p.reports = append(p.reports, id+":"+outcome)
}

func (p *gkwPerson) set(f func(p *gkwPerson)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// seen returns the sessions begun, the types acted on and the reports.
func (p *gkwPerson) seen() (sessions int, kinds, reports []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions), slices.Clone(p.kinds), slices.Clone(p.reports)
}

func (p *gkwPerson) problem() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
