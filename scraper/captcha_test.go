package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// TestServedCountsCandidatesPerVerification: when a tab moves on to a new
// captcha, the solver hears how many candidates the old one served.
func TestServedCountsCandidatesPerVerification(t *testing.T) {
	cfg := simConfig()
	cfg.CaptchaUses = 3 // one clean check uses one: three checks per captcha
	e := newEnv(t, cfg, Config{Tabs: 1})
	for _, p := range e.people(t, "clean", 5) {
		if _, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber); err != nil {
			t.Fatal(err)
		}
	}
	e.solver.mu.Lock()
	served := maps.Clone(e.solver.served)
	e.solver.mu.Unlock()
	if len(served) != 1 || slices.Collect(maps.Values(served))[0] != 3 {
		t.Fatalf("served before close = %v, want one captcha that served 3", served)
	}
	e.scraper.Close()
	e.solver.mu.Lock()
	defer e.solver.mu.Unlock()
	total := 0
	for _, n := range e.solver.served {
		total += n
	}
	if len(e.solver.served) != 2 || total != 5 {
		t.Errorf("served after close = %v, want 3 + 2", e.solver.served)
	}
}

func TestCaptchaReusedAcrossCandidates(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	ctx := context.Background()
	people := append(e.people(t, "listed", 2), e.people(t, "clean", 2)...)
	for i, p := range people {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if want := min(i, 1) ^ 1; res.Captchas != want {
			t.Fatalf("check %d solved %d captchas, want %d", i, res.Captchas, want)
		}
	}
	solved, reports := e.solver.state()
	if solved != 1 || !slices.Equal(reports, []string{"c1:accepted"}) {
		t.Fatalf("solver asked %d times, reports %v; want once, [c1:accepted]", solved, reports)
	}
}

func TestCaptchaWrongThenRight(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	e.solver.set(func(s *testSolver) { s.wrong = 1 })
	p := e.people(t, "listed", 1)[0]
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	solved, reports := e.solver.state()
	if res.Captchas != 2 || solved != 2 || !slices.Equal(reports, []string{"c1:rejected", "c2:accepted"}) {
		t.Fatalf("captchas %d, solver asked %d times, reports %v", res.Captchas, solved, reports)
	}
	if res.Outcome() != shixincheck.OutcomeListed {
		t.Fatalf("outcome %s", res.Outcome())
	}
}

func TestCaptchaRejectedTooOften(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1, MaxCaptchaAttempts: 3})
	e.solver.set(func(s *testSolver) { s.wrong = 100 })
	p := e.people(t, "listed", 1)[0]
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if shixincheck.KindOf(err) != shixincheck.KindCaptchaRejected || res.Records != nil {
		t.Fatalf("err %v, result %+v; want captcha_rejected and no result", err, res)
	}
	_, reports := e.solver.state()
	if !slices.Equal(reports, []string{"c1:rejected", "c2:rejected", "c3:rejected"}) {
		t.Fatalf("reports %v", reports)
	}
	// The tab is still usable: a right answer works.
	e.solver.set(func(s *testSolver) { s.wrong = 0 })
	if _, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber); err != nil {
		t.Fatalf("check after rejections: %v", err)
	}
}

func TestCaptchaExpiresByUses(t *testing.T) {
	cfg := simConfig()
	cfg.CaptchaUses = 3 // one clean check uses one
	e := newEnv(t, cfg, Config{Tabs: 1})
	ctx := context.Background()
	for i, p := range e.people(t, "clean", 5) {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if want := map[int]int{0: 1, 3: 1}[i]; res.Captchas != want {
			t.Fatalf("check %d solved %d captchas, want %d", i, res.Captchas, want)
		}
	}
	solved, reports := e.solver.state()
	if solved != 2 || !slices.Equal(reports, []string{"c1:accepted", "c2:accepted"}) {
		t.Fatalf("solver asked %d times, reports %v", solved, reports)
	}
}

func TestCaptchaExpiresDuringDetails(t *testing.T) {
	ctx := context.Background()
	// People whose check reads one list page and one detail (two uses of a code).
	first := newEnv(t, simConfig(), Config{Tabs: 1})
	var people []courtsim.Person
	for _, p := range first.people(t, "listed", 12) {
		res, err := first.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatal(err)
		}
		if len(answers(t, res)) == 2 {
			people = append(people, p)
		}
	}
	if len(people) < 3 {
		t.Fatalf("only %d people with one list page and one detail", len(people))
	}

	cfg := simConfig()
	cfg.CaptchaUses = 3 // the second check's detail finds the code used up
	e := newEnv(t, cfg, Config{Tabs: 1})
	expired := false
	for i, p := range people[:3] {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if res.Hits() != p.Records {
			t.Fatalf("check %d: %d hits, want %d", i, res.Hits(), p.Records)
		}
		ans := answers(t, res)
		for j, a := range ans {
			if a.Body == "{}" && j+1 < len(ans) && ans[j+1].URL == classicSite.CheckPath && ans[j+1].Body == "0" {
				expired = true
			}
		}
	}
	if !expired {
		t.Fatal("no detail answered {} for a used-up code")
	}
	_, reports := e.solver.state()
	for _, r := range reports {
		if strings.HasSuffix(r, ":rejected") {
			t.Fatalf("an expired answer was reported as wrong: %v", reports)
		}
	}
}

// answers returns the site's answers kept as evidence.
func answers(t *testing.T, res shixincheck.SiteResult) []evidence {
	t.Helper()
	var ev struct{ Answers []evidence }
	if err := json.Unmarshal(res.Evidence, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Answers
}

func TestCaptchaRefreshAndUnanswered(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	ctx := context.Background()
	p := e.people(t, "listed", 1)[0]

	e.solver.set(func(s *testSolver) { s.refreshes = 2 })
	res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if res.Captchas != 1 {
		t.Fatalf("captchas %d, want 1 (new images are not answers)", res.Captchas)
	}
	if _, reports := e.solver.state(); !slices.Equal(reports, []string{"c3:accepted"}) {
		t.Fatalf("reports %v", reports)
	}

	e2 := newEnv(t, simConfig(), Config{Tabs: 1})
	e2.solver.set(func(s *testSolver) {
		s.failWith = shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "nobody answered")
	})
	res, err = e2.scraper.Check(ctx, p.Name, p.IDNumber)
	if shixincheck.KindOf(err) != shixincheck.KindCaptchaUnanswered || res.Records != nil {
		t.Fatalf("err %v; want captcha_unanswered and no result", err)
	}
	var ce *shixincheck.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("not a CheckError: %T", err)
	}
}

// TestCheckResumesAfterExpiry reads a person with several pages of records
// and a detail for each with captchas that last a few requests only: each new
// captcha continues where the last one stopped, and nothing is read twice.
func TestCheckResumesAfterExpiry(t *testing.T) {
	ctx := context.Background()
	cfg := simConfig()
	cfg.CaptchaUses = 5 // a first page plus four more requests per captcha
	e := newEnv(t, cfg, Config{Tabs: 1})
	p := e.people(t, "multipage", 1)[0]
	res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	if res.Hits() != p.Records || res.TotalSize < 11 {
		t.Fatalf("%d hits of %d records (total %d)", res.Hits(), p.Records, res.TotalSize)
	}
	details := map[string]int{}
	for _, a := range answers(t, res) {
		if strings.HasPrefix(a.URL, classicSite.DetailPath) && a.Body != "{}" {
			details[a.URL]++
		}
	}
	for u, n := range details {
		if n > 1 {
			t.Errorf("detail %s read %d times", u, n)
		}
	}
	if min := p.Records/4 + 1; res.Captchas < min {
		t.Errorf("%d captchas for %d records with 5 uses each; want at least %d", res.Captchas, p.Records, min)
	}
	_, reports := e.solver.state()
	for _, r := range reports {
		if strings.HasSuffix(r, ":rejected") {
			t.Fatalf("an expired answer was reported as wrong: %v", reports)
		}
	}
}

// TestCaptchaAbandonedWithoutVerdict fails checks between a person's answer
// and the site's verdict on it (a garbage and a slow first list page): each
// such answer is reported abandoned, once, and never used again.
func TestCaptchaAbandonedWithoutVerdict(t *testing.T) {
	// The step timeout leaves room for a slow step on a loaded machine; the
	// slow fault takes well past it.
	e := newEnv(t, simConfig(), Config{Tabs: 1, StepTimeout: 4 * time.Second})
	ctx := context.Background()
	p := e.people(t, "listed", 1)[0]
	for _, mode := range []string{"garbage", "slow"} {
		e.scraper.tabs[0].ready = false // a fresh page: the check needs a new answer
		e.sim.InjectFault(courtsim.Fault{Mode: mode, Path: "searchSX.do", Count: 1, Delay: 8 * time.Second})
		if _, err := e.scraper.Check(ctx, p.Name, p.IDNumber); err == nil {
			t.Fatalf("%s list page: no error", mode)
		}
		if res, err := e.scraper.Check(ctx, p.Name, p.IDNumber); err != nil || res.Hits() != p.Records {
			t.Fatalf("after the %s fault: %v, %d hits", mode, err, res.Hits())
		}
	}
	solved, reports := e.solver.state()
	if want := []string{"c1:abandoned", "c2:accepted", "c3:abandoned", "c4:accepted"}; solved != 4 || !slices.Equal(reports, want) {
		t.Fatalf("solver asked %d times, reports %v; want 4, %v", solved, reports, want)
	}
}
