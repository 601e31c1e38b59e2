package scraper

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

func TestFaults(t *testing.T) {
	// The step timeout leaves room for a slow step on a loaded machine; the
	// slow faults take well past it.
	e := newEnv(t, simConfig(), Config{Tabs: 1, StepTimeout: 4 * time.Second})
	ctx := context.Background()
	listed := e.people(t, "listed", 1)[0]

	// The captcha image loads with the page: each case on a fresh browser
	// profile. Any page in place of the image is the site's overload answer.
	for _, mode := range []string{"busy", "garbage", "waf"} {
		t.Run(mode+"_captchaNew.do", func(t *testing.T) {
			s := e.newScraper(t, Config{BaseURL: e.srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"), Tabs: 1, Pace: -1, FetchPace: -1})
			e.sim.InjectFault(courtsim.Fault{Mode: mode, Path: "captchaNew.do", Count: 1})
			res, err := s.Check(ctx, listed.Name, listed.IDNumber)
			if shixincheck.KindOf(err) != shixincheck.KindBlocked || res.Records != nil || res.Evidence != nil {
				t.Fatalf("err %v, result %+v; want kind blocked and no result", err, res)
			}
			if res, err := s.Check(ctx, listed.Name, listed.IDNumber); err != nil || res.Hits() != listed.Records {
				t.Fatalf("after the fault: %v, %d hits", err, res.Hits())
			}
		})
	}

	// A page that shows other rows than the network answered is not read,
	// whatever the network said: a page script of the site's own that
	// hides a row, on a page freshly loaded with it.
	t.Run("render_mismatch_search.js", func(t *testing.T) {
		s := e.newScraper(t, Config{BaseURL: e.srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"), Tabs: 1, Pace: -1, FetchPace: -1})
		e.sim.InjectFault(courtsim.Fault{Mode: "render_mismatch", Path: "search.js", Count: 1})
		res, err := s.Check(ctx, listed.Name, listed.IDNumber)
		if shixincheck.KindOf(err) != shixincheck.KindUnrecognised || res.Records != nil || res.Evidence != nil {
			t.Fatalf("err %v, %d records; want kind unrecognised and no result", err, len(res.Records))
		}
		if res, err := s.Check(ctx, listed.Name, listed.IDNumber); err != nil || res.Hits() != listed.Records {
			t.Fatalf("after the fault (page reloaded): %v, %d hits", err, res.Hits())
		}
	})

	tests := []struct {
		mode, path string
		want       shixincheck.ErrorKind
	}{
		{"waf", "searchSX.do", shixincheck.KindBlocked},
		{"busy", "searchSX.do", shixincheck.KindBlocked},
		{"garbage", "searchSX.do", shixincheck.KindUnrecognised},
		{"bad_json", "searchSX.do", shixincheck.KindUnrecognised},
		{"waf", "disDetailNew", shixincheck.KindBlocked},
		{"busy", "disDetailNew", shixincheck.KindBlocked},
		{"garbage", "disDetailNew", shixincheck.KindUnrecognised},
		{"bad_json", "disDetailNew", shixincheck.KindUnrecognised},
		{"slow", "searchSX.do", shixincheck.KindTimeout},
		{"slow", "disDetailNew", shixincheck.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"_"+tt.path, func(t *testing.T) {
			e.sim.InjectFault(courtsim.Fault{Mode: tt.mode, Path: tt.path, Count: 1, Delay: 8 * time.Second})
			res, err := e.scraper.Check(ctx, listed.Name, listed.IDNumber)
			if res.Records != nil || res.Evidence != nil || err == nil {
				t.Fatalf("err %v, result %+v; want an error and no result", err, res)
			}
			kind := shixincheck.KindOf(err)
			// The fault is spent: the tab recovers (reloaded if its state was unknown).
			if res, err := e.scraper.Check(ctx, listed.Name, listed.IDNumber); err != nil || res.Hits() != listed.Records {
				t.Fatalf("after the fault: %v, %d hits", err, res.Hits())
			}
			if kind != tt.want {
				t.Fatalf("err %v; want kind %s", err, tt.want)
			}
		})
	}
}

func TestConcurrentTabs(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 4})
	checkAtOnce(t, e.scraper, append(e.people(t, "listed", 8), e.people(t, "clean", 4)...))
	if solved, _ := e.solver.state(); solved != 4 {
		t.Errorf("solver asked %d times, want once per tab (4)", solved)
	}
}

func TestCheckWaitsForATab(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	e.sim.InjectFault(courtsim.Fault{Mode: "slow", Path: "searchSX.do", Count: 1, Delay: 2 * time.Second})
	p := e.people(t, "clean", 1)[0]
	done := make(chan error, 1)
	go func() {
		_, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the first check holds the only tab
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
	if shixincheck.KindOf(err) != shixincheck.KindTimeout {
		t.Fatalf("check without a free tab: %v, want timeout", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("slow check: %v", err)
	}
}

func TestWAFCookieSurvivesRestart(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	p := e.people(t, "clean", 1)[0]
	if _, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	challenges := e.book.responses(412)
	if challenges == 0 {
		t.Fatal("the WAF never challenged the fresh profile")
	}
	if err := e.scraper.Close(); err != nil {
		t.Fatal(err)
	}
	s := e.newScraper(t, Config{BaseURL: e.srv.URL, ProfileDir: e.profile, Tabs: 1, Pace: -1, FetchPace: -1})
	if _, err := s.Check(context.Background(), p.Name, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	if n := e.book.responses(412); n != challenges {
		t.Fatalf("the WAF challenged the persistent profile again (%d challenges, %d before)", n, challenges)
	}
}

func TestBrowserRelaunched(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 2})
	p := e.people(t, "listed", 1)[0]
	if _, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	br := e.scraper.br
	killGroup(br.pgid, br.pid)
	<-br.exited
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil || res.Hits() != p.Records {
		t.Fatalf("check after the browser died: %v, %d hits", err, res.Hits())
	}
	if e.scraper.br == br || e.scraper.br.gen != 2 {
		t.Fatal("browser not relaunched")
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	sim, err := courtsim.New(simConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: sim, book: &imageBook{sim: sim, codes: map[[32]byte]string{}}}
	e.solver = &testSolver{book: e.book}
	srv := httptest.NewServer(e.book)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "profile")
	s, err := New(context.Background(), Config{BaseURL: srv.URL, ProfileDir: dir, Tabs: 3, Pace: -1, FetchPace: -1}, e.solver, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, p := range e.people(t, "listed", 3) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Check(context.Background(), p.Name, p.IDNumber); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	pgid, err := syscall.Getpgid(s.br.pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(ourProcesses(dir)) == 0 || len(groupPIDs(pgid)) < 3 {
		t.Fatal("browser processes not found: the check below proves nothing")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close killed what was left; a killed process takes a moment to go.
	left := func() []int { return running(append(ourProcesses(dir), groupPIDs(pgid)...)) }
	if !waitFor(2*time.Second, func() bool { return len(left()) == 0 }) {
		t.Fatalf("processes left after Close: %v", left())
	}
	if _, err := s.Check(context.Background(), "张三", "420202198001011234"); err == nil {
		t.Fatal("check after Close did not fail")
	}
	srv.Close()
	if !waitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }) {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after Close\n%s", goroutines, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

func TestNewErrors(t *testing.T) {
	solver := &testSolver{}
	dir := t.TempDir()
	if _, err := New(context.Background(), Config{ProfileDir: dir, BrowserBin: "/nonexistent/chromium"}, solver, nil); err == nil {
		t.Error("New with a missing browser binary succeeded")
	}
	if _, err := New(context.Background(), Config{}, solver, nil); err == nil {
		t.Error("New without ProfileDir succeeded")
	}
	if _, err := New(context.Background(), Config{ProfileDir: dir, Site: "nonsense"}, solver, nil); err == nil {
		t.Error("New with an unknown site profile succeeded")
	}
}
