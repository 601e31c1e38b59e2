package scraper

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// tab is one long-lived browser tab of the pool. Only the check holding the
// tab touches its fields (the event loop only touches net).
type tab struct {
	index int
	key   string // name of our scripts' state in the page

	verification string // the verification the tab searches with ("" for none)
	served       int    // candidates checked with it

	br   *browser  // the browser the page lives in
	page *rod.Page // nil until opened
	net  *netLog

	ready      bool      // shows the search page in a known state
	solved     *solution // captcha answer held for the next searches
	imageUsed  bool      // the captcha image shown was already given to the solver
	lastSearch time.Time // when the last search was answered (sent, if unanswered), for pacing
	lastAnswer time.Time // when the site's last answer to a search, page or detail came, for pacing
}

// pacing is how long a tab leaves the site alone between its requests,
// counted from the site's answer, so the site sees at least that gap.
type pacing struct {
	search time.Duration // least time between two searches (one per candidate)
	fetch  time.Duration // least time between any two requests: further pages, details
}

// wait waits until the tab may send its next request, a new search when
// search is set.
func (p pacing) wait(ctx context.Context, t *tab, search bool) error {
	at := t.lastAnswer.Add(p.fetch)
	if next := t.lastSearch.Add(p.search); search && next.After(at) {
		at = next
	}
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return stepError("pace", ctx.Err())
	}
}

// solution is a captcha answer with the captcha it answers.
type solution struct {
	challengeID string // the solver's id, for Report
	code        string // pCode
	captchaID   string // the site's captchaId the code belongs to
	accepted    bool   // a search succeeded with it (and it was reported)
}

// verified records that the tab now searches with a new verification (""
// for none), and tells the solver how many candidates the previous one served.
func (t *tab) verified(ctx context.Context, solver Solver, verification string) {
	if t.verification != "" && t.served > 0 {
		solver.Served(ctx, t.verification, t.served)
	}
	t.verification, t.served = verification, 0
}

func newTab(index int) *tab {
	return &tab{index: index, key: fmt.Sprintf("__sx%08x", rand.Uint32())}
}

// open creates the tab's page in br and starts following its events. With
// window, the tab gets a window of its own, which keeps it visible: a hidden
// tab gets no frames, and mouse input through CDP (the gkw captcha) waits for
// one. The classic site needs no mouse, and one window is much cheaper.
func (t *tab) open(ctx context.Context, br *browser, loops *sync.WaitGroup, window bool) error {
	t.discard()
	page, err := br.rod.Page(proto.TargetCreateTarget{NewWindow: window})
	if err != nil {
		return fmt.Errorf("new tab: %w", err)
	}
	n := newNetLog()
	t.br, t.page, t.net = br, page, n
	events := page.Event() // subscribe before enabling, to miss nothing
	loops.Add(1)
	go func() {
		defer loops.Done()
		follow(page, events, n)
	}()
	p := page.Context(ctx)
	// Answers are read as soon as they arrive: a small buffer of bodies will do.
	total, each := 4<<20, 1<<20
	if err := (proto.NetworkEnable{MaxTotalBufferSize: &total, MaxResourceBufferSize: &each}).Call(p); err != nil {
		return fmt.Errorf("enable network events: %w", err)
	}
	if err := (proto.InspectorEnable{}).Call(p); err != nil {
		return fmt.Errorf("enable inspector events: %w", err)
	}
	return nil
}

// discard forgets the page (after its browser died or it crashed) and closes
// it when its browser still runs.
func (t *tab) discard() {
	if t.page != nil && t.br.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = (proto.TargetCloseTarget{TargetID: t.page.TargetID}).Call(t.br.rod.Context(ctx))
		cancel()
	}
	t.page, t.br, t.net = nil, nil, nil
	t.ready, t.solved, t.imageUsed = false, nil, false
}

// usable tells whether the page can run a search in browser br.
func (t *tab) usable(br *browser) bool {
	return t.page != nil && t.br == br && !t.net.isBroken()
}

// follow turns the page's CDP events into network log entries until the page
// or its browser goes away.
func follow(page *rod.Page, events <-chan *rod.Message, n *netLog) {
	defer n.broke("tab closed")
	for msg := range events {
		switch msg.Method {
		case "Network.requestWillBeSent":
			var e proto.NetworkRequestWillBeSent
			msg.Load(&e)
			n.requestSent(&e)
		case "Network.responseReceived":
			var e proto.NetworkResponseReceived
			msg.Load(&e)
			n.responseReceived(&e)
		case "Network.loadingFinished":
			var e proto.NetworkLoadingFinished
			msg.Load(&e)
			n.finished(e.RequestID, "")
		case "Network.loadingFailed":
			var e proto.NetworkLoadingFailed
			msg.Load(&e)
			reason := e.ErrorText
			if reason == "" {
				reason = "failed"
			}
			n.finished(e.RequestID, reason)
		case "Page.loadEventFired":
			n.loaded()
		case "Page.javascriptDialogOpening":
			// An alert would freeze the page's scripts: dismiss it.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = (proto.PageHandleJavaScriptDialog{Accept: false}).Call(page.Context(ctx))
			cancel()
		case "Inspector.targetCrashed":
			n.broke("tab crashed")
		}
	}
}

// eval runs a JS function with args in the page, awaits its promise and
// decodes its JSON value into out.
func (t *tab) eval(ctx context.Context, out any, js string, args ...any) error {
	res, err := t.page.Context(ctx).Evaluate(rod.Eval(js, args...).ByPromise())
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := res.Value.Unmarshal(out); err != nil {
		return fmt.Errorf("script result: %w", err)
	}
	return nil
}

// body returns the response body of a finished request, as the browser received it.
func (t *tab) body(ctx context.Context, ex exchange) ([]byte, error) {
	res, err := proto.NetworkGetResponseBody{RequestID: ex.id}.Call(t.page.Context(ctx))
	if err != nil {
		return nil, fmt.Errorf("response body: %w", err)
	}
	if res.Base64Encoded {
		return base64.StdEncoding.DecodeString(res.Body)
	}
	return []byte(res.Body), nil
}

// postData returns the form a request sent.
func (t *tab) postData(ctx context.Context, ex exchange) (url.Values, error) {
	res, err := proto.NetworkGetRequestPostData{RequestID: ex.id}.Call(t.page.Context(ctx))
	if err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	v, err := url.ParseQuery(res.PostData)
	if err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	return v, nil
}

// bodies fetches the bodies of several requests at once.
func (t *tab) bodies(ctx context.Context, exs []exchange) ([][]byte, error) {
	out := make([][]byte, len(exs))
	errs := make([]error, len(exs))
	var wg sync.WaitGroup
	for i, ex := range exs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = t.body(ctx, ex)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
