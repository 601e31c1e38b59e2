package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/input"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// TestGkwOneVerificationServesMany checks listed people, a namesake and a
// person with no record in one tab: one verification serves them all.
func TestGkwOneVerificationServesMany(t *testing.T) {
	e := newGkwEnv(t, gkwSimConfig(), Config{Tabs: 1})
	ctx := context.Background()
	listed := e.people(t, "listed", 2)
	namesake := e.people(t, "namesake", 1)[0]
	clean := e.people(t, "clean", 1)[0]
	for i, p := range listed {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("listed check: %v", err)
		}
		if res.Site != "gkw" || res.Outcome() != shixincheck.OutcomeListed || res.Hits() != p.Records ||
			len(res.Records) != res.TotalSize || res.QueriedAt.IsZero() {
			t.Fatalf("%s: outcome %s with %d hits, %d records of %d; want listed with %d hits",
				res.Site, res.Outcome(), res.Hits(), len(res.Records), res.TotalSize, p.Records)
		}
		for _, rec := range res.Records {
			if rec.Match == shixincheck.MatchHit && (rec.CardNum == "" || rec.CourtName == "" || rec.Performance == "") {
				t.Fatalf("hit without its detail: %+v", rec)
			}
		}
		if want := 1 - min(i, 1); res.Captchas != want {
			t.Fatalf("check %d: %d captchas, want %d", i, res.Captchas, want)
		}
		gkwCheckEvidence(t, res, p.Name, p.IDNumber)
	}

	res, err := e.scraper.Check(ctx, namesake.Name, namesake.IDNumber)
	if err != nil {
		t.Fatalf("namesake check: %v", err)
	}
	namesakes := 0
	for _, rec := range res.Records {
		switch rec.Match {
		case shixincheck.MatchNamesake:
			namesakes++
			if rec.CardNum == "" {
				t.Fatalf("namesake without its detail: %+v", rec)
			}
		case shixincheck.MatchOther:
		default:
			t.Fatalf("a namesake's record matched as %s", rec.Match)
		}
	}
	if namesakes == 0 || res.Outcome() != shixincheck.OutcomeClear {
		t.Fatalf("%d namesake records, outcome %s", namesakes, res.Outcome())
	}
	gkwCheckEvidence(t, res, namesake.Name, namesake.IDNumber)

	res, err = e.scraper.Check(ctx, clean.Name, clean.IDNumber)
	if err != nil {
		t.Fatalf("clean check: %v", err)
	}
	if res.TotalSize != 0 || len(res.Records) != 0 || res.Outcome() != shixincheck.OutcomeClear {
		t.Fatalf("clean person: totalSize %d, %d records, %s", res.TotalSize, len(res.Records), res.Outcome())
	}
	gkwCheckEvidence(t, res, clean.Name, clean.IDNumber)

	sessions, kinds, reports := e.person.seen()
	if sessions != 1 || len(kinds) != 1 || !slices.Equal(reports, []string{"g1:accepted"}) {
		t.Fatalf("%d verifications (%v), reports %v; want one for four people", sessions, kinds, reports)
	}
}

// gkwCheckEvidence checks the raw answers (no query data in their URLs, one
// per list page and detail read) and the printed pages.
func gkwCheckEvidence(t *testing.T, res shixincheck.SiteResult, name, id string) {
	t.Helper()
	var ev struct {
		Site    string     `json:"site"`
		Answers []evidence `json:"answers"`
	}
	if err := json.Unmarshal(res.Evidence, &ev); err != nil {
		t.Fatalf("evidence: %v", err)
	}
	lists, details := map[string]bool{}, map[string]bool{}
	for _, a := range ev.Answers {
		if strings.Contains(a.URL, "pName") || strings.Contains(a.URL, name) || strings.Contains(a.URL, id) ||
			strings.Contains(a.URL, "pCode") || strings.Contains(a.URL, "captchaId") {
			t.Fatalf("evidence URL with query data: %s", a.URL)
		}
		if a.Status != 200 || a.Body == "" {
			t.Fatalf("evidence answer %s: status %d, %d bytes", a.URL, a.Status, len(a.Body))
		}
		if refused(a) {
			continue // the page verified again and redid the step
		}
		switch {
		case strings.HasPrefix(a.URL, gkwSite.Search.ListPath+"?currentPage="):
			if lists[a.URL] {
				t.Fatalf("%s read twice", a.URL)
			}
			lists[a.URL] = true
		case strings.HasPrefix(a.URL, gkwSite.DetailPath+"?id="):
			if details[a.URL] {
				t.Fatalf("%s read twice", a.URL)
			}
			details[a.URL] = true
		default:
			t.Fatalf("evidence of an unknown answer: %s", a.URL)
		}
	}
	wantDetails := 0
	for _, rec := range res.Records {
		if rec.Match != shixincheck.MatchOther {
			wantDetails++
		}
	}
	pages := max(1, (res.TotalSize+9)/10)
	if ev.Site != "gkw" || len(lists) != pages || len(details) != wantDetails {
		t.Fatalf("evidence of %s: %d list pages of %d, %d details of %d", ev.Site, len(lists), pages, len(details), wantDetails)
	}
	var names, want []string
	for _, f := range res.Files {
		names = append(names, f.Name)
		evidencePage(t, f)
	}
	for i := 1; i <= pages; i++ {
		want = append(want, fmt.Sprintf("list-%d.html", i))
	}
	for i := 1; i <= wantDetails; i++ {
		want = append(want, fmt.Sprintf("detail-%02d.html", i))
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
}

// refused tells whether an answer refused the token.
func refused(a evidence) bool {
	var env gkwEnvelope
	return json.Unmarshal([]byte(a.Body), &env) == nil && !env.Success && env.Code == gkwSite.CodeRefused
}

// smallestMultipage is the person with more than 10 records who has the
// fewest: two pages, the second one not full.
func (e *gkwEnv) smallestMultipage(t *testing.T) courtsim.Person {
	t.Helper()
	all, err := e.sim.People("multipage", 100)
	if err != nil || len(all) == 0 {
		t.Fatalf("multipage people: %d, %v", len(all), err)
	}
	p := all[0]
	for _, q := range all {
		if q.Records < p.Records {
			p = q
		}
	}
	return p
}

// TestGkwMultipage reads a person with two pages of records, with
// verifications that serve one search each: the page turn is refused, the
// page verifies again and turns the page itself.
func TestGkwMultipage(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwTokenUses = 1
	e := newGkwEnv(t, cfg, Config{Tabs: 1})
	p := e.smallestMultipage(t)
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if res.TotalSize <= 10 || len(res.Records) != res.TotalSize || res.Hits() != p.Records {
		t.Fatalf("%d records of %d, %d hits; want > 10 records and %d hits", len(res.Records), res.TotalSize, res.Hits(), p.Records)
	}
	seen := map[string]bool{}
	for _, rec := range res.Records {
		if seen[rec.SiteID] {
			t.Fatalf("record %s twice", rec.SiteID)
		}
		seen[rec.SiteID] = true
	}
	gkwCheckEvidence(t, res, p.Name, p.IDNumber)
	var refusedPages []string
	for _, a := range answers(t, res) {
		if refused(a) {
			refusedPages = append(refusedPages, a.URL)
		}
	}
	sessions, _, reports := e.person.seen()
	if want := gkwSite.Search.ListPath + "?currentPage=2"; !slices.Equal(refusedPages, []string{want}) || sessions != 2 ||
		!slices.Equal(reports, []string{"g1:accepted", "g2:accepted"}) {
		t.Fatalf("refused %v, %d verifications, reports %v; want page 2 refused once, 2 verifications", refusedPages, sessions, reports)
	}
}

// TestGkwWrongDragThenWords drags a slider wrongly: the site refuses it and
// the widget loads a word-click challenge, which the person clicks in two
// rounds of two clicks, all in one session. The pictures show the widget
// as the person expects it.
func TestGkwWrongDragThenWords(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwCaptchaType = "SLIDER"
	e := newGkwEnv(t, cfg, Config{Tabs: 1})
	layout := map[string]string{}
	e.person.set(func(p *gkwPerson) {
		p.wrong, p.clicksPerRound = 1, 2
		p.inspect = func(ch shixincheck.Challenge) { // the layout the person reads off the picture
			var got struct{ Kind, Image, Button string }
			v, err := e.scraper.tabs[0].page.Eval(`(box) => {
				const b = document.querySelector(box).getBoundingClientRect();
				const rel = (s) => { const e = document.querySelector(s); if (!e) return '';
					const r = e.getBoundingClientRect(); return (r.left - b.left) + ',' + (r.top - b.top) + ',' + r.width + ',' + r.height; };
				return {Kind: document.querySelector('#tianai-captcha').className, Image: rel('#tianai-captcha-slider-bg-img'),
					Button: rel('#tianai-captcha-slider-move-btn')}; }`, gkwSite.Page.Box)
			if err != nil || v.Value.Unmarshal(&got) != nil {
				t.Errorf("layout: %v", err)
				return
			}
			layout[got.Kind] = got.Image + " " + got.Button
		}
	})
	p := e.people(t, "listed", 1)[0]
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if res.Outcome() != shixincheck.OutcomeListed || res.Hits() != p.Records || res.Captchas != 2 {
		t.Fatalf("outcome %s, %d hits, %d captchas; want listed, %d hits, 2 captchas", res.Outcome(), res.Hits(), res.Captchas, p.Records)
	}
	sessions, kinds, reports := e.person.seen()
	if sessions != 1 || !slices.Equal(kinds, []string{"SLIDER", "WORD_IMAGE_CLICK"}) ||
		!slices.Equal(reports, []string{"g1:rejected", "g3:accepted"}) {
		t.Fatalf("%d sessions, challenge types %v, reports %v", sessions, kinds, reports)
	}
	want := map[string]string{
		"tianai-captcha-slider":     fmt.Sprintf("0,%d,300,180 0,%d,55,40", gkwImageTop, gkwButtonY-20),
		"tianai-captcha-word-click": fmt.Sprintf("0,%d,300,180 ", gkwImageTop),
	}
	for kind, w := range want {
		if layout[kind] != w {
			t.Errorf("%s widget: image and button at %q, the person reads %q", kind, layout[kind], w)
		}
	}
}

// TestGkwTokenExpires uses verifications that serve three searches: the
// token dies between checks, and the next check verifies again.
func TestGkwTokenExpires(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwTokenUses = 3
	e := newGkwEnv(t, cfg, Config{Tabs: 1})
	ctx := context.Background()
	listed, clean := e.people(t, "listed", 3), e.people(t, "clean", 2)
	people := []courtsim.Person{listed[0], clean[0], listed[1], clean[1], listed[2]}
	var refusals []int
	for i, p := range people {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if res.Hits() != p.Records || len(res.Records) != res.TotalSize {
			t.Fatalf("check %d: %d hits of %d records (total %d), want %d hits", i, res.Hits(), len(res.Records), res.TotalSize, p.Records)
		}
		gkwCheckEvidence(t, res, p.Name, p.IDNumber)
		for _, a := range answers(t, res) {
			if refused(a) {
				refusals = append(refusals, i)
			}
		}
	}
	sessions, _, reports := e.person.seen()
	if !slices.Equal(refusals, []int{3}) || sessions != 2 || !slices.Equal(reports, []string{"g1:accepted", "g2:accepted"}) {
		t.Fatalf("refused in checks %v, %d verifications, reports %v; want the 4th search refused", refusals, sessions, reports)
	}
}

// TestGkwChallengeExpires has the person look away longer than a challenge
// lives, in a batch whose token also expires mid-way: the site answers the
// late check as expired (Tianai's 4000), that verification ends "expired"
// and the next picture passes; the token that dies later ended "accepted"
// when it was bought and is not reported again.
func TestGkwChallengeExpires(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwChallengeTTL = 4 * time.Second // room for a prompt answer under load
	cfg.GkwTokenUses = 2
	cfg.GkwCaptchaType = "WORD_IMAGE_CLICK" // an expired challenge does not switch the type
	e := newGkwEnv(t, cfg, Config{Tabs: 1})
	e.person.set(func(p *gkwPerson) { p.slow, p.slowBy = 1, cfg.GkwChallengeTTL+500*time.Millisecond })
	ctx := context.Background()
	for i, p := range e.people(t, "clean", 3) {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if want := map[int]int{0: 2, 2: 1}[i]; res.Captchas != want || res.TotalSize != 0 {
			t.Fatalf("check %d: %d captchas, total %d; want %d, clear", i, res.Captchas, res.TotalSize, want)
		}
	}
	sessions, kinds, reports := e.person.seen()
	if want := []string{"g1:expired", "g2:accepted", "g3:accepted"}; sessions != 2 || len(kinds) != 3 || !slices.Equal(reports, want) {
		t.Fatalf("%d verifications, challenges %v, reports %v; want 2 verifications, 3 challenges, reports %v", sessions, kinds, reports, want)
	}
}

// TestGkwTokenExpiresDuringDetails uses verifications that live less than
// it takes to read a person's details: a detail is refused, the page
// verifies again and opens it.
func TestGkwTokenExpiresDuringDetails(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwTokenTTL = 700 * time.Millisecond
	cfg.GkwCaptchaType = "WORD_IMAGE_CLICK"
	// 5 or more details, each at least 150 ms after the answer before it,
	// outlast the token however fast the machine: one of them is refused.
	e := newGkwEnv(t, cfg, Config{Tabs: 1, FetchPace: 150 * time.Millisecond})
	e.person.set(func(p *gkwPerson) { p.clickGap = 50 })
	var p courtsim.Person
	for _, q := range e.people(t, "listed", 200) {
		if q.Records >= 5 && q.Records <= 10 {
			p = q
			break
		}
	}
	if p.Name == "" {
		t.Fatal("no listed person with 5 to 10 records")
	}
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if res.Hits() != p.Records {
		t.Fatalf("%d hits, want %d", res.Hits(), p.Records)
	}
	gkwCheckEvidence(t, res, p.Name, p.IDNumber)
	refusedDetails := 0
	for _, a := range answers(t, res) {
		if refused(a) && strings.HasPrefix(a.URL, gkwSite.DetailPath) {
			refusedDetails++
		}
	}
	if refusedDetails == 0 {
		t.Fatal("no detail was refused: the test proves nothing")
	}
	// Each token died after it served: its verification ended when it passed.
	_, _, reports := e.person.seen()
	for _, r := range reports {
		if !strings.HasSuffix(r, ":"+captchaAccepted) {
			t.Fatalf("reports %v; want every verification accepted once", reports)
		}
	}
}

// TestGkwFaults injects every fault mode on the paths of the gkw site: each
// ends the check with its kind, and the next check works. A fault on the
// captcha check leaves the person's answer without a verdict: that
// verification is reported abandoned, once.
func TestGkwFaults(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwCaptchaType = "WORD_IMAGE_CLICK" // quick to verify
	// The step timeout leaves room for a slow step on a loaded machine; the
	// slow faults take well past it.
	e := newGkwEnv(t, cfg, Config{Tabs: 1, StepTimeout: 4 * time.Second})
	e.person.set(func(p *gkwPerson) { p.clickGap = 30 })
	ctx := context.Background()
	listed := e.people(t, "listed", 1)[0]
	clean := e.people(t, "clean", 1)[0]
	tests := []struct {
		mode, path string
		want       shixincheck.ErrorKind
		abandoned  bool // the fault comes between a person's answer and the site's verdict
	}{
		{"bad_json", "searchSX", shixincheck.KindUnrecognised, false},
		{"slow", "searchSX", shixincheck.KindTimeout, false},
		{"waf", "detailZhcx", shixincheck.KindBlocked, false},
		{"garbage", "detailZhcx", shixincheck.KindUnrecognised, false},
		{"busy", "captcha", shixincheck.KindBlocked, false},
		{"slow", "captcha", shixincheck.KindTimeout, false},
		{"garbage", "check", shixincheck.KindUnrecognised, true},
		{"slow", "check", shixincheck.KindTimeout, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"_"+tt.path, func(t *testing.T) {
			_, _, before := e.person.seen()
			p := clean
			switch tt.path {
			case "detailZhcx":
				p = listed
			case "captcha", "check":
				e.scraper.tabs[0].ready = false // a fresh page has no token: the check verifies
			}
			e.sim.InjectFault(courtsim.Fault{Mode: tt.mode, Path: tt.path, Count: 1, Delay: 8 * time.Second})
			res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
			if res.Records != nil || res.Evidence != nil || res.Files != nil || err == nil {
				t.Fatalf("err %v, result %+v; want an error and no result", err, res)
			}
			kind := shixincheck.KindOf(err)
			_, _, reports := e.person.seen()
			var abandoned []string
			for _, r := range reports[len(before):] {
				if strings.HasSuffix(r, ":"+captchaAbandoned) {
					abandoned = append(abandoned, r)
				}
			}
			e.person.mu.Lock()
			last := fmt.Sprintf("g%d:%s", e.person.n, captchaAbandoned)
			e.person.mu.Unlock()
			if tt.abandoned && (len(abandoned) != 1 || reports[len(reports)-1] != last) {
				t.Fatalf("reports of the check %v; want the last answer, and only it, abandoned (%s)", reports[len(before):], last)
			}
			if !tt.abandoned && len(abandoned) > 0 {
				t.Fatalf("reports of the check %v; want none abandoned", reports[len(before):])
			}
			// The fault is spent: the tab recovers.
			if res, err := e.scraper.Check(ctx, p.Name, p.IDNumber); err != nil || res.Hits() != p.Records {
				t.Fatalf("after the fault: %v, %d hits", err, res.Hits())
			}
			if kind != tt.want {
				t.Fatalf("err %v; want kind %s", err, tt.want)
			}
		})
	}
}

// TestGkwAbandoned gives up on verifications a person answered and the
// site never judged: too many pictures, then the check's context ending
// while the person works. Each ends abandoned, once, through its last
// answered round; the tab verifies afresh after.
func TestGkwAbandoned(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwCaptchaType = "WORD_IMAGE_CLICK" // four characters
	e := newGkwEnv(t, cfg, Config{Tabs: 1})
	e.scraper.site.(*gkw).site.MaxRounds = 2
	e.person.set(func(p *gkwPerson) { p.clicksPerRound, p.clickGap = 1, 30 })
	p := e.people(t, "clean", 1)[0]

	// Two pictures, one character clicked on each: no check is sent.
	_, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if shixincheck.KindOf(err) != shixincheck.KindCaptchaUnanswered {
		t.Fatalf("two pictures without a verdict: %v, want captcha_unanswered", err)
	}
	if _, _, reports := e.person.seen(); !slices.Equal(reports, []string{"g2:abandoned"}) {
		t.Fatalf("reports %v; want [g2:abandoned]", reports)
	}

	// The check ends as the second picture reaches the person.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pictures := 0
	e.person.set(func(p *gkwPerson) {
		p.inspect = func(shixincheck.Challenge) {
			if pictures++; pictures == 2 {
				cancel()
			}
		}
	})
	if _, err := e.scraper.Check(ctx, p.Name, p.IDNumber); err == nil {
		t.Fatal("a check whose context ended succeeded")
	}
	e.person.mu.Lock()
	last := fmt.Sprintf("g%d:%s", e.person.n, captchaAbandoned) // the second answer, if the person was quicker than the cancel
	e.person.mu.Unlock()
	if _, _, reports := e.person.seen(); !slices.Equal(reports, []string{"g2:abandoned", last}) {
		t.Fatalf("reports %v; want [g2:abandoned %s]", reports, last)
	}

	e.person.set(func(p *gkwPerson) { p.inspect, p.clicksPerRound = nil, 0 })
	if _, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber); err != nil {
		t.Fatalf("check after giving up: %v", err)
	}
	if _, _, reports := e.person.seen(); len(reports) != 3 || !strings.HasSuffix(reports[2], ":"+captchaAccepted) {
		t.Fatalf("reports %v; want a third verification accepted", reports)
	}
}

// TestGkwTabs checks people in two tabs at once: one verification per tab.
func TestGkwTabs(t *testing.T) {
	e := newGkwEnv(t, gkwSimConfig(), Config{Tabs: 2})
	checkAtOnce(t, e.scraper, append(e.people(t, "listed", 4), e.people(t, "clean", 2)...))
	if sessions, _, _ := e.person.seen(); sessions != 2 {
		t.Errorf("%d verifications, want one per tab", sessions)
	}
}

// TestGkwCaptchaGivesUp ends checks whose verification cannot succeed
// with the captcha's error kinds, and closes the widget.
func TestGkwCaptchaGivesUp(t *testing.T) {
	cfg := gkwSimConfig()
	cfg.GkwCaptchaType = "SLIDER"
	e := newGkwEnv(t, cfg, Config{Tabs: 1, MaxCaptchaAttempts: 2})
	ctx := context.Background()
	p := e.people(t, "clean", 1)[0]

	e.person.set(func(p *gkwPerson) { p.wrong = 2 })
	_, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
	if shixincheck.KindOf(err) != shixincheck.KindCaptchaRejected {
		t.Fatalf("two wrong answers: %v, want captcha_rejected", err)
	}
	if _, _, reports := e.person.seen(); !slices.Equal(reports, []string{"g1:rejected", "g2:rejected"}) {
		t.Fatalf("reports %v", reports)
	}
	if open, err := e.scraper.tabs[0].page.Eval(`(s) => !!document.querySelector(s)`, gkwSite.Page.Overlay); err != nil || open.Value.Bool() {
		t.Fatalf("widget left open after giving up: %v", err)
	}

	e.person.set(func(p *gkwPerson) {
		p.failWith = shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "nobody answered")
	})
	if _, err := e.scraper.Check(ctx, p.Name, p.IDNumber); shixincheck.KindOf(err) != shixincheck.KindCaptchaUnanswered {
		t.Fatalf("no answer: %v, want captcha_unanswered", err)
	}

	e.person.set(func(p *gkwPerson) { p.failWith, p.refreshes = nil, 1 })
	res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
	if err != nil || res.Captchas != 1 {
		t.Fatalf("after a new image: %v, %d captchas", err, res.Captchas)
	}
}

// TestGkwCombinedSearch runs the same checks on the combined search page,
// whose form has no province.
func TestGkwCombinedSearch(t *testing.T) {
	e := newGkwEnv(t, gkwSimConfig(), Config{Tabs: 1})
	e.scraper.site.(*gkw).site.Search = gkwSearchPage{
		Path: "/gkw/html/zhzxgk/index.html", Form: "#zhcx-search-form", ListPath: "/gkw/zhcx/searchZhcx"}
	p := e.people(t, "listed", 1)[0]
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil || res.Hits() != p.Records {
		t.Fatalf("check: %v, %d hits, want %d", err, res.Hits(), p.Records)
	}
}

// TestSiteAuto detects the site version from the page at the base URL.
func TestSiteAuto(t *testing.T) {
	ctx := context.Background()
	t.Run("both versions: gkw", func(t *testing.T) {
		cfg := gkwSimConfig()
		cfg.Sites = nil
		e := newGkwEnv(t, cfg, Config{Tabs: 1, Site: "auto"})
		p := e.people(t, "listed", 1)[0]
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil || res.Site != "gkw" || res.Hits() != p.Records {
			t.Fatalf("check: %v, site %q, %d hits", err, res.Site, res.Hits())
		}
	})
	t.Run("classic only", func(t *testing.T) {
		cfg := simConfig()
		cfg.Sites = []string{courtsim.SiteClassic}
		e := newEnv(t, cfg, Config{Tabs: 1, Site: "auto"})
		p := e.people(t, "listed", 1)[0]
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil || res.Site != "classic" || res.Hits() != p.Records {
			t.Fatalf("check: %v, site %q, %d hits", err, res.Site, res.Hits())
		}
		if len(res.Files) != 1 || res.Files[0].Name != "list-1.html" {
			t.Fatalf("classic files: %d", len(res.Files))
		}
		evidencePage(t, res.Files[0])
	})
	t.Run("neither", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		s := startScraper(t, Config{BaseURL: srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"), Site: "auto", Pace: -1, FetchPace: -1},
			newGkwPerson(nil))
		if _, err := s.Check(ctx, "张三", "420202198001011234"); shixincheck.KindOf(err) != shixincheck.KindUnrecognised {
			t.Fatalf("check: %v, want unrecognised", err)
		}
	})
}

// TestGkwShows checks the page-agrees rules on made-up page states.
func TestGkwShows(t *testing.T) {
	g := &gkw{site: gkwSite}
	items := []listItem{{ID: "0123456789abcdef0123456789abcdef", Name: "张三", CaseCode: "(2019)鄂0203执1号", RegDate: ""}}
	one := listPage{totalPage: 1, totalSize: 1, items: items}
	row := gkwRow{Cells: []string{"1", "张三", "", "(2019)鄂0203执1号", "查看"},
		Onclick: "openZhcxDetail('张三','(2019)鄂0203执1号','0123456789abcdef0123456789abcdef')"}
	good := gkwState{Rows: []gkwRow{row}, Page: "1", Pages: "1", Total: "1", PageText: "1/1页", NextDisabled: true}
	none := listPage{totalPage: 1, totalSize: 0}
	noMatch := gkwState{NoResult: true, ResultsText: "在全国法院（包含地方各级法院）范围内没有找到 张三 相关的结果。",
		TheadHidden: true, PagerHidden: true}
	tests := []struct {
		name string
		st   func(s *gkwState)
		base gkwState
		lp   listPage
		want bool
	}{
		{"rows as answered", func(*gkwState) {}, good, one, true},
		{"another record", func(s *gkwState) {
			s.Rows = []gkwRow{{Cells: row.Cells, Onclick: strings.Replace(row.Onclick, "0123", "9999", 1)}}
		}, good, one, false},
		{"placeholder row", func(s *gkwState) { s.Rows = []gkwRow{{Cells: row.Cells, Onclick: row.Onclick, Placeholder: true}} }, good, one, false},
		{"pager of another page", func(s *gkwState) { s.PageText = "2/1页" }, good, one, false},
		{"total differs", func(s *gkwState) { s.Total = "2" }, good, one, false},
		{"next enabled on the last page", func(s *gkwState) { s.NextDisabled = false }, good, one, false},
		{"widget open", func(s *gkwState) { s.Popup = true }, good, one, false},
		{"no-match sentence", func(*gkwState) {}, noMatch, none, true},
		{"no-match for another name", func(s *gkwState) { s.ResultsText = strings.Replace(s.ResultsText, "张三", "李四", 1) }, noMatch, none, false},
		{"failed-search markup", func(s *gkwState) {
			s.NoResult, s.ResultsText, s.Warning = false, "验证码错误或验证码已过期。", "验证码错误或验证码已过期。"
		}, noMatch, none, false},
		{"old rows for no match", func(s *gkwState) { s.NoResult, s.ResultsText, s.Rows = false, "", []gkwRow{row} }, noMatch, none, false},
	}
	for _, tt := range tests {
		st := tt.base
		st.Rows = slices.Clone(st.Rows)
		tt.st(&st)
		if got := g.shows(st, tt.lp, 1, " 张三 "); got != tt.want {
			t.Errorf("%s: shows %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestGkwParseList(t *testing.T) {
	g := &gkw{site: gkwSite}
	env := func(data string) gkwEnvelope {
		return gkwEnvelope{Success: true, Code: 200, Data: json.RawMessage(data)}
	}
	lp, err := g.parseList(env(`{"currentPage":1,"pageSize":10,"totalPage":1,"totalSize":1,
		"result":[{"id":"0123456789abcdef0123456789abcdef","pname":"张三","caseCode":"(2019)鄂0203执1号","regDate":""}]}`), 1)
	if err != nil || len(lp.items) != 1 || lp.items[0].Name != "张三" || lp.items[0].RegDate != "" {
		t.Fatalf("parse: %+v, %v", lp, err)
	}
	for name, e := range map[string]gkwEnvelope{
		"refused":       {Code: 401, Msg: "安全验证已失效。请重新验证。"},
		"no result":     env(`{"totalPage":1,"totalSize":0}`),
		"short page":    env(`{"currentPage":1,"totalPage":2,"totalSize":11,"result":[]}`),
		"row sans name": env(`{"totalPage":1,"totalSize":1,"result":[{"id":"x","caseCode":"y"}]}`),
		"data null":     env(`null`),
	} {
		if _, err := g.parseList(e, 1); shixincheck.KindOf(err) != shixincheck.KindUnrecognised {
			t.Errorf("%s: %v, want unrecognised", name, err)
		}
	}
}

// TestTypeKeys: every printable ASCII character has a key to type it with.
func TestTypeKeys(t *testing.T) {
	for r := rune(0x20); r < 0x7f; r++ {
		func() {
			defer func() {
				if recover() != nil {
					t.Errorf("no key for %q", r)
				}
			}()
			input.Key(r).Info()
		}()
	}
}
