package scraper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// env is a simulator behind an httptest server and a scraper against it.
type env struct {
	sim     *courtsim.Sim
	srv     *httptest.Server
	book    *imageBook
	solver  *testSolver
	scraper *Scraper
	profile string
}

// newEnv starts a simulator and a scraper; both end with the test.
func newEnv(t testing.TB, simCfg courtsim.Config, cfg Config) *env {
	t.Helper()
	sim, err := courtsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	book := &imageBook{sim: sim, codes: map[[32]byte]string{}}
	srv := httptest.NewServer(book)
	t.Cleanup(srv.Close)
	e := &env{sim: sim, srv: srv, book: book, solver: &testSolver{book: book}}
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
	e.profile = cfg.ProfileDir
	e.scraper = e.newScraper(t, cfg)
	t.Cleanup(func() {
		if err := e.solver.problem(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// newScraper starts a scraper on cfg, closed with the test.
func (e *env) newScraper(t testing.TB, cfg Config) *Scraper {
	t.Helper()
	level := slog.LevelDebug
	if _, bench := t.(*testing.B); bench {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	s, err := New(context.Background(), cfg, e.solver, log)
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

// simConfig is the simulator the tests use: WAF on, side door on.
func simConfig() courtsim.Config {
	c := courtsim.DefaultConfig()
	c.SideDoor = true
	return c
}

func (e *env) people(t testing.TB, kind string, n int) []courtsim.Person {
	t.Helper()
	p, err := e.sim.People(kind, n)
	if err != nil || len(p) < n {
		t.Fatalf("people %s: %d of %d, %v", kind, len(p), n, err)
	}
	return p
}

// imageBook serves the simulator and remembers every captcha image it
// served with its code, so the test solver can answer from the image alone,
// as a person does.
type imageBook struct {
	sim *courtsim.Sim

	mu     sync.Mutex
	codes  map[[32]byte]string // pixel hash -> code
	status map[int]int         // responses by status
	last   map[string]string   // last body served, by path
}

func (b *imageBook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &teeWriter{ResponseWriter: w, status: 200}
	b.sim.ServeHTTP(rec, r)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status == nil {
		b.status = map[int]int{}
	}
	b.status[rec.status]++
	if b.last == nil {
		b.last = map[string]string{}
	}
	b.last[r.URL.Path] = rec.body.String()
	if r.URL.Path != classicSite.CaptchaPath || rec.status != 200 {
		return
	}
	img, err := png.Decode(bytes.NewReader(rec.body.Bytes()))
	if err != nil {
		return // a fault's page
	}
	if code, ok := b.sim.CaptchaAnswer(r.URL.Query().Get("captchaId")); ok {
		b.codes[pixelHash(img)] = code
	}
}

// answer returns the code of an image served before.
func (b *imageBook) answer(pngData []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return "", fmt.Errorf("challenge image: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	code, ok := b.codes[pixelHash(img)]
	if !ok {
		return "", errors.New("challenge image was never served")
	}
	return code, nil
}

// lastBody returns the last body served for a path.
func (b *imageBook) lastBody(path string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[path]
}

func (b *imageBook) responses(status int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status[status]
}

func pixelHash(img image.Image) [32]byte {
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Bounds(), img, img.Bounds().Min, draw.Src)
	return sha256.Sum256(n.Pix)
}

type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// testSolver answers captchas like a person who reads the image: right,
// or wrong / "new image" / no answer as the test asks.
type testSolver struct {
	book *imageBook

	mu         sync.Mutex
	wrong      int            // answer the next this many challenges wrongly
	refreshes  int            // ask for a new image this many times first
	failWith   error          // answer every challenge with this error
	solved     int            // challenges answered
	challenges int            // challenges seen
	reports    []string       // "id:outcome", in order
	err        error          // first wrong report
	served     map[string]int // candidates each verification served, as told
}

func (s *testSolver) Solve(ctx context.Context, ch shixincheck.Challenge) (shixincheck.Solution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challenges++
	if ch.Site != "classic" {
		return shixincheck.Solution{}, fmt.Errorf("challenge of site %q", ch.Site)
	}
	if s.failWith != nil {
		return shixincheck.Solution{}, s.failWith
	}
	if s.refreshes > 0 {
		s.refreshes--
		return shixincheck.Solution{}, shixincheck.ErrCaptchaRefresh
	}
	code, err := s.book.answer(ch.Image)
	if err != nil {
		return shixincheck.Solution{}, err
	}
	if s.wrong > 0 {
		s.wrong--
		code = "zzzz" // z is in the alphabet, four of them never drawn in a row by chance... nearly
		if c, _ := s.book.answer(ch.Image); strings.EqualFold(c, code) {
			code = "yyyy"
		}
	}
	s.solved++
	return shixincheck.Solution{ChallengeID: "c" + strconv.Itoa(s.challenges), Text: code}, nil
}

// Served records how many candidates each verification served.
func (s *testSolver) Served(ctx context.Context, verification string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.served == nil {
		s.served = map[string]int{}
	}
	s.served[verification] += n
}

// ReportOutcome records "id:outcome"; a challenge reported twice or an
// outcome the queue does not know is an error (see problem).
func (s *testSolver) ReportOutcome(ctx context.Context, id, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkReport(s.reports, id, outcome); err != nil && s.err == nil {
		s.err = err
	}
	s.reports = append(s.reports, id+":"+outcome)
}

// checkReport refuses a second outcome for one challenge (one verification
// ends once) and an outcome the captcha queue does not take.
func checkReport(reports []string, id, outcome string) error {
	switch outcome {
	case captchaAccepted, captchaRejected, captchaExpired, captchaAbandoned:
	default:
		return fmt.Errorf("challenge %s reported with outcome %q", id, outcome)
	}
	for _, r := range reports {
		if strings.HasPrefix(r, id+":") {
			return fmt.Errorf("challenge %s reported twice: %s, then %s", id, r, outcome)
		}
	}
	return nil
}

func (s *testSolver) problem() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *testSolver) state() (solved int, reports []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.solved, append([]string(nil), s.reports...)
}

func (s *testSolver) set(f func(s *testSolver)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ourProcesses lists the pids of processes whose command line names dir
// (Chromium passes --user-data-dir to its helpers too).
func ourProcesses(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmd, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupPIDs lists the processes of a process group.
func groupPIDs(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, err := syscall.Getpgid(pid); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running keeps the pids of processes that have not exited: an exited
// helper of the browser may stay a zombie for a moment, until init reaps it.
func running(pids []int) []int {
	var out []int
	for _, pid := range pids {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// waitFor polls cond for a while; tests only.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// checkAtOnce checks people all at once, each in its own goroutine, and
// fails the test for any error or wrong hit count.
func checkAtOnce(t *testing.T, s *Scraper, people []courtsim.Person) {
	t.Helper()
	errs := make([]error, len(people))
	var wg sync.WaitGroup
	for i, p := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Check(context.Background(), p.Name, p.IDNumber)
			switch {
			case err != nil:
				errs[i] = err
			case res.Hits() != p.Records:
				errs[i] = fmt.Errorf("%d hits, want %d", res.Hits(), p.Records)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("check %d: %v", i, err)
		}
	}
}
