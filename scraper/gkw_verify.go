package scraper

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"

	"github.com/shixincheck/shixincheck"
)

// gkwEnvelope is every JSON answer of the gkw site.
type gkwEnvelope struct {
	Success bool            `json:"success"`
	Code    int             `json:"code"`
	Msg     string          `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

// gkwFlow follows one step of a check in the page (a search, a page turn,
// a detail) until the site answered it: the network answers to its requests
// and to the captcha's, and the page's state. Whenever the page opens the
// captcha widget, the flow has a person verify.
type gkwFlow struct {
	g        *gkw
	t        *tab
	r        *run
	what     string     // the step, for errors
	path     string     // the step's endpoint
	evidence string     // URL its answers are kept under: path and page or record id only
	want     url.Values // parameters its requests must carry
	w        *netWatch
	handled  map[proto.NetworkRequestID]bool

	answered int           // answers to the step's requests read
	replies  []gkwEnvelope // answers to the step's requests, not yet taken
	checks   []gkwEnvelope // answers to captcha checks, not yet taken
	state    gkwState      // the page as last seen
	prev     string        // the same, as JSON
	// knownID is the challenge id the page held before the widget opened, or
	// the last one passed: a widget is ready with a challenge of another id.
	knownID string
}

// follow starts following a step; call it before acting, stop it after.
func (g *gkw) follow(ctx context.Context, t *tab, r *run, what, path, evidence string, want url.Values) (*gkwFlow, error) {
	f := &gkwFlow{g: g, t: t, r: r, what: what, path: path, evidence: evidence, want: want,
		handled: map[proto.NetworkRequestID]bool{}}
	f.w = t.net.watch(func(method, u string, _ proto.NetworkResourceType) bool {
		p := pathOf(u)
		return method == "POST" && (p == path || p == g.site.CreatePath || p == g.site.CheckPath)
	})
	if err := f.poll(ctx, 0); err != nil {
		f.stop()
		return nil, err
	}
	f.knownID = f.state.Challenge
	return f, nil
}

func (f *gkwFlow) stop() { f.t.net.unwatch(f.w) }

// poll takes the answers that arrived and describes the page, waiting up to
// wait for the page to change or an answer to arrive.
func (f *gkwFlow) poll(ctx context.Context, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, f.g.step+wait)
	defer cancel()
	finished, err := f.takeAll(ctx)
	if err != nil {
		return err
	}
	// Answers change the page a moment later, or not at all (a detail, an
	// answer the page does not know): an answer ends the wait too.
	lctx, stopLooking := context.WithCancel(ctx)
	news := make(chan bool, 1)
	go func() {
		_, _, err := f.t.net.wait(lctx, f.w, func(done []exchange, _ int) bool { return len(done) > finished })
		stopLooking()
		news <- err == nil
	}()
	st, raw, err := f.g.look(lctx, f.t, f.prev, wait)
	stopLooking()
	if <-news && ctx.Err() == nil {
		if _, err := f.takeAll(ctx); err != nil {
			return err
		}
		st, raw, err = f.g.look(ctx, f.t, f.prev, 0)
	}
	if err != nil {
		return stepError(f.what+": read the page", err)
	}
	if len(st.Missing) > 0 {
		return unrecognised(fmt.Sprintf("%s: the search page changed (missing %s)", f.what, strings.Join(st.Missing, ", ")), nil)
	}
	f.state, f.prev = st, raw
	return nil
}

// takeAll takes the answers that arrived and not yet taken. It returns how
// many requests of the flow have finished.
func (f *gkwFlow) takeAll(ctx context.Context) (int, error) {
	done, _, err := f.t.net.wait(ctx, f.w, func([]exchange, int) bool { return true })
	if err != nil {
		return 0, stepError(f.what, err)
	}
	for _, ex := range done {
		if f.handled[ex.id] {
			continue
		}
		f.handled[ex.id] = true
		if err := f.take(ctx, ex); err != nil {
			return 0, err
		}
	}
	return len(done), nil
}

// take reads one answer: the step's own (kept as evidence and checked
// against what was asked) or the captcha's. An answer that is not the
// site's JSON (a WAF or busy page, garbage) ends the check with its kind.
func (f *gkwFlow) take(ctx context.Context, ex exchange) error {
	p := pathOf(ex.url)
	what := f.what
	switch p {
	case f.g.site.CreatePath:
		what = "new captcha"
	case f.g.site.CheckPath:
		what = "captcha check"
	}
	if ex.failed != "" {
		return stepError(what, f.g.site.failure(ex, nil))
	}
	body, err := f.t.body(ctx, ex)
	if err != nil {
		return stepError(what, err)
	}
	if p == f.path {
		f.answered++
		f.r.evidence = append(f.r.evidence, evidence{URL: f.evidence, Status: ex.status, Body: string(body)})
	}
	if err := f.g.site.failure(ex, body); err != nil {
		return stepError(what, err)
	}
	var env gkwEnvelope
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil || dec.More() {
		return stepError(what, unrecognised("answer is not the site's JSON", err))
	}
	switch p {
	case f.path:
		form, err := f.t.postData(ctx, ex)
		if err != nil {
			return stepError(what, err)
		}
		for k, v := range f.want {
			if form.Get(k) != v[0] {
				return unrecognised(what+": the page asked the site for something else", nil)
			}
		}
		f.replies = append(f.replies, env)
	case f.g.site.CreatePath:
		if !env.Success {
			return unrecognised(fmt.Sprintf("captcha: a new challenge was refused (code %d)", env.Code), nil)
		}
	case f.g.site.CheckPath:
		f.checks = append(f.checks, env)
	}
	return nil
}

// until polls until cond holds for the page, for the profile's render time.
func (f *gkwFlow) until(ctx context.Context, what string, cond func(gkwState) bool) error {
	deadline := time.Now().Add(f.g.site.RenderTimeout)
	for !cond(f.state) {
		if time.Now().After(deadline) {
			st := f.state
			return unrecognised(fmt.Sprintf("%s: waited %s for %s (popup %v, widget %q, pill %q, warning %q, %d rows, page %s/%s)",
				f.what, f.g.site.RenderTimeout, what, st.Popup, st.Widget, st.Pill, st.Warning, len(st.Rows), st.Page, st.Pages), nil)
		}
		if err := f.poll(ctx, f.g.site.Poll); err != nil {
			return err
		}
	}
	return nil
}

// answer waits for the site's answer to the step, having a person verify
// whenever the page asks. A refused token is not an answer: the page shows
// the expiry, opens a new challenge and, once verified, sends the step again.
func (f *gkwFlow) answer(ctx context.Context, list bool) (gkwEnvelope, error) {
	g := f.g
	deadline := time.Now().Add(g.step)
	for {
		if err := f.poll(ctx, g.site.Poll); err != nil {
			return gkwEnvelope{}, err
		}
		if len(f.replies) > 0 {
			env := f.replies[0]
			f.replies = f.replies[1:]
			if env.Success || env.Code != g.site.CodeRefused {
				return env, nil
			}
			if err := f.until(ctx, "the page to show the expiry", func(st gkwState) bool {
				return st.Popup && st.Pill == g.site.Texts.Expired &&
					(!list || st.Warning == g.site.Texts.Warning && st.TheadHidden && st.PagerHidden)
			}); err != nil {
				return gkwEnvelope{}, err
			}
			g.log.Debug("gkw token refused", "tab", f.t.index, "step", f.what)
			deadline = time.Now().Add(g.step)
			continue
		}
		// A widget opened by a refused answer comes after that answer: read it first.
		if f.state.Popup && f.t.net.sent(f.w, f.path) == f.answered {
			if err := f.verify(ctx); err != nil {
				return gkwEnvelope{}, err
			}
			deadline = time.Now().Add(g.step)
			continue
		}
		if time.Now().After(deadline) {
			return gkwEnvelope{}, shixincheck.Errorf(shixincheck.KindTimeout, "%s: no answer in %s", f.what, g.step)
		}
	}
}

// verdict is what the widget made of a person's actions.
type verdict int

const (
	verdictWaiting verdict = iota // no check sent: the widget wants more input
	verdictPassed
	verdictFailed
	verdictExpired // the check came after the challenge expired on the site
)

// verify has a person pass the widget the page opened: a picture of the
// widget's box goes to the solver, the person's actions are replayed with
// the mouse, and a new picture follows until the site accepts a check. All
// rounds share one session. The site's verdict on each check ends the
// verification in the captcha queue: accepted, rejected, or expired when the
// challenge died before the person's answer reached it (the next round then
// starts another). After maxRefused refused checks (expired ones included),
// MaxRounds pictures or MaxVerifications in the check, the widget is closed
// and the check ends with an error. Whenever verify gives up (those limits,
// a page error, a timeout, the check ending) after a round was answered
// with no verdict since, that verification ends "abandoned".
func (f *gkwFlow) verify(ctx context.Context) error {
	g, r := f.g, f.r
	if r.verifications++; r.verifications > g.site.MaxVerifications {
		f.abandon(ctx)
		return shixincheck.Errorf(shixincheck.KindCaptchaRejected, "%d verifications in one check", r.verifications-1)
	}
	session, err := newSession()
	if err != nil {
		return shixincheck.Errorf(shixincheck.KindInternal, "captcha session: %w", err)
	}
	start := time.Now()
	prevID := f.knownID
	acted := map[string]bool{}
	var lastAction time.Time // when the last actions were replayed, for the time to the new picture
	rejected, refreshes := 0, 0
	// unjudged is the last answered round the site gave no verdict on yet.
	unjudged := ""
	defer func() {
		if unjudged != "" {
			g.solver.ReportOutcome(ctx, unjudged, captchaAbandoned)
		}
	}()
	for round := 1; ; round++ {
		if round > g.site.MaxRounds {
			f.abandon(ctx)
			return shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "no verdict after %d pictures", g.site.MaxRounds)
		}
		id, err := f.ready(ctx, prevID)
		if err != nil {
			f.abandon(ctx)
			return err
		}
		shot := time.Now()
		pic, box, err := f.picture(ctx)
		if err != nil {
			f.abandon(ctx)
			return stepError("captcha picture", err)
		}
		if !lastAction.IsZero() {
			g.log.Debug("gkw new picture", "tab", f.t.index, "round", round,
				"picture_ms", ms(time.Since(shot)), "action_to_picture_ms", ms(time.Since(lastAction)))
		}
		sol, err := g.solver.Solve(ctx, shixincheck.Challenge{
			Site: g.site.Name, Kind: shixincheck.ChallengeInteractive, Image: pic,
			Width: box.W, Height: box.H, SiteRef: id, Session: session,
		})
		switch {
		case errors.Is(err, shixincheck.ErrCaptchaRefresh):
			if refreshes++; refreshes > maxRefreshes {
				f.abandon(ctx)
				return shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "%d new images asked for", refreshes-1)
			}
			if err := f.click(ctx, g.site.Page.Refresh); err != nil {
				return err
			}
			prevID, lastAction = id, time.Time{}
			continue
		case err != nil:
			f.abandon(ctx)
			return stepError("solve captcha", err)
		}
		acted[id] = true
		unjudged = sol.ChallengeID
		checks := f.t.net.sent(f.w, g.site.CheckPath)
		replayed := time.Now()
		if err := f.replay(ctx, box, sol.Actions); err != nil {
			f.abandon(ctx)
			return err
		}
		lastAction = time.Now()
		g.log.Debug("gkw actions replayed", "tab", f.t.index, "round", round, "widget", f.state.Widget,
			"actions", len(sol.Actions), "replay_ms", ms(lastAction.Sub(replayed)), "trajectory_ms", trajectoryMS(sol.Actions))
		v, err := f.verdict(ctx, checks)
		if err != nil {
			f.abandon(ctx)
			return err
		}
		switch v {
		case verdictPassed:
			g.solver.ReportOutcome(ctx, sol.ChallengeID, captchaAccepted)
			unjudged = ""
			r.captchas += len(acted)
			f.knownID = id
			f.t.verified(ctx, g.solver, session)
			g.log.Debug("gkw verification passed", "tab", f.t.index, "rounds", round, "refused", rejected,
				"ms", ms(time.Since(start)))
			return nil
		case verdictFailed, verdictExpired:
			outcome := captchaRejected
			if v == verdictExpired {
				outcome = captchaExpired
			}
			g.solver.ReportOutcome(ctx, sol.ChallengeID, outcome)
			unjudged = ""
			if rejected++; rejected >= g.maxRefused {
				f.abandon(ctx)
				return shixincheck.Errorf(shixincheck.KindCaptchaRejected, "site refused %d answers in one verification", rejected)
			}
			prevID = id
		}
	}
}

// ready waits until the widget shows a challenge other than prevID and
// returns its id. The stale expiry text may stay on the pill meanwhile.
func (f *gkwFlow) ready(ctx context.Context, prevID string) (string, error) {
	deadline := time.Now().Add(f.g.step)
	for {
		st := f.state
		switch {
		case !st.Popup:
			return "", unrecognised(f.what+": the captcha popup closed", nil)
		case st.Widget != "" && !st.Loading && st.Challenge != "" && st.Challenge != prevID:
			return st.Challenge, nil
		case time.Now().After(deadline):
			return "", shixincheck.Errorf(shixincheck.KindTimeout, "captcha widget not ready in %s", f.g.step)
		}
		if err := f.poll(ctx, f.g.site.Poll); err != nil {
			return "", err
		}
	}
}

// verdict waits for what the widget makes of the replayed actions: the
// site's answer to its check and the page agreeing (success: the pill's
// text and the popup closed; failure or expiry: the pill's text or the
// error tip), or no check within Settle. checks is the count of checks
// sent before.
func (f *gkwFlow) verdict(ctx context.Context, checks int) (verdict, error) {
	g := f.g
	settle := time.Now().Add(g.site.Settle)
	var sent time.Time
	for {
		if err := f.poll(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
		if len(f.checks) > 0 {
			env := f.checks[0]
			f.checks = f.checks[1:]
			if env.Success {
				err := f.until(ctx, "the page to show the passed check", func(st gkwState) bool {
					return st.Pill == g.site.Texts.Passed && !st.Popup
				})
				return verdictPassed, err
			}
			err := f.until(ctx, "the page to show the refused check", func(st gkwState) bool {
				return st.Pill == g.site.Texts.Failed || st.TipError
			})
			if env.Code == g.site.CodeChallengeExpired {
				return verdictExpired, err
			}
			return verdictFailed, err
		}
		if sent.IsZero() && f.t.net.sent(f.w, g.site.CheckPath) > checks {
			sent = time.Now()
		}
		switch {
		case !sent.IsZero():
			if time.Since(sent) > g.step {
				return 0, shixincheck.Errorf(shixincheck.KindTimeout, "captcha check: no answer in %s", g.step)
			}
		case !f.state.Popup:
			return 0, unrecognised(f.what+": the captcha popup closed without a check", nil)
		case time.Now().After(settle):
			return verdictWaiting, nil
		}
	}
}

// abandon closes the widget (its waiting step is dropped), so the tab is
// left as a person would leave it.
func (f *gkwFlow) abandon(ctx context.Context) {
	_ = f.click(ctx, f.g.site.Page.Close)
}

// click clicks an element of the widget (refresh, close) by its script.
func (f *gkwFlow) click(ctx context.Context, selector string) error {
	ctx, cancel := context.WithTimeout(ctx, f.g.step)
	defer cancel()
	var ok bool
	if err := f.t.eval(ctx, &ok, `(s) => { const e = document.querySelector(s); if (e) e.click(); return !!e; }`, selector); err != nil {
		return stepError("captcha "+selector, err)
	}
	if !ok {
		return unrecognised("captcha: no "+selector, nil)
	}
	return nil
}

// boxRect is an element's box in CSS px of the viewport, with the
// document's scroll offset and the viewport's size.
type boxRect struct {
	X, Y, W, H       float64
	ScrollX, ScrollY float64
	VW, VH           float64
}

// box measures the widget's box now.
func (f *gkwFlow) box(ctx context.Context) (boxRect, error) {
	var b boxRect
	err := f.t.eval(ctx, &b, `(s) => { const e = document.querySelector(s); if (!e) return null;
		const r = e.getBoundingClientRect();
		return {X: r.left, Y: r.top, W: r.width, H: r.height, ScrollX: scrollX, ScrollY: scrollY, VW: innerWidth, VH: innerHeight}; }`,
		f.g.site.Page.Box)
	if err != nil {
		return b, err
	}
	if b.W < 1 || b.H < 1 {
		return b, unrecognised("captcha: the widget's box is not shown", nil)
	}
	return b, nil
}

// picture is a PNG of the widget's box only, as the browser shows it.
func (f *gkwFlow) picture(ctx context.Context) ([]byte, boxRect, error) {
	ctx, cancel := context.WithTimeout(ctx, f.g.step)
	defer cancel()
	b, err := f.box(ctx)
	if err != nil {
		return nil, b, err
	}
	shot, err := proto.PageCaptureScreenshot{
		Format:           proto.PageCaptureScreenshotFormatPng,
		Clip:             &proto.PageViewport{X: b.X + b.ScrollX, Y: b.Y + b.ScrollY, Width: b.W, Height: b.H, Scale: 1},
		OptimizeForSpeed: true,
	}.Call(f.t.page.Context(ctx))
	if err != nil {
		return nil, b, fmt.Errorf("screenshot: %w", err)
	}
	return shot.Data, b, nil
}

// replay performs a person's actions on the widget with the mouse and the
// keyboard through CDP, mapping points from the picture (pic, in CSS px)
// onto the box where it is now. A drag presses at its first point, moves
// through every point at its time and releases at the last. Actions that
// make no sense are skipped: the person gets a new picture.
func (f *gkwFlow) replay(ctx context.Context, pic boxRect, actions []shixincheck.Action) error {
	ctx, cancel := context.WithTimeout(ctx, f.g.step+time.Duration(trajectoryMS(actions))*time.Millisecond)
	defer cancel()
	now, err := f.box(ctx)
	if err != nil {
		return stepError("captcha replay", err)
	}
	// The active tab of its window: input waits for a frame, which a hidden tab never gets.
	if err := (proto.TargetActivateTarget{TargetID: f.t.page.TargetID}).Call(f.t.br.rod.Context(ctx)); err != nil {
		return stepError("captcha replay", err)
	}
	page := f.t.page.Context(ctx)
	at := func(p shixincheck.Point, inBox bool) (float64, float64) {
		x, y := now.X+p.X*now.W/pic.W, now.Y+p.Y*now.H/pic.H
		if inBox { // a click lands on the widget, never beside it (on the popup's close button)
			x, y = clamp(x, now.X, now.X+now.W-1), clamp(y, now.Y, now.Y+now.H-1)
		}
		return clamp(x, 0, now.VW-1), clamp(y, 0, now.VH-1)
	}
	for _, a := range actions {
		var err error
		switch {
		case a.Type == shixincheck.ActionClick && len(a.Points) == 1:
			x, y := at(a.Points[0], true)
			if err = mouse(page, proto.InputDispatchMouseEventTypeMouseMoved, x, y, 0); err == nil {
				if err = mouse(page, proto.InputDispatchMouseEventTypeMousePressed, x, y, 1); err == nil {
					err = mouse(page, proto.InputDispatchMouseEventTypeMouseReleased, x, y, 0)
				}
			}
		case a.Type == shixincheck.ActionDrag && len(a.Points) >= 2:
			err = drag(ctx, page, a.Points, at)
		case a.Type == shixincheck.ActionTypeText:
			err = typeText(page, a.Text)
		default:
			f.g.log.Warn("gkw: action skipped", "type", a.Type, "points", len(a.Points))
		}
		if err != nil {
			return stepError("captcha replay", err)
		}
	}
	return nil
}

// drag presses at the first point, moves through the others at their
// times (ms after the first) and releases at the last.
func drag(ctx context.Context, page cdpClient, points []shixincheck.Point, at func(shixincheck.Point, bool) (float64, float64)) error {
	x, y := at(points[0], true)
	if err := mouse(page, proto.InputDispatchMouseEventTypeMouseMoved, x, y, 0); err != nil {
		return err
	}
	if err := mouse(page, proto.InputDispatchMouseEventTypeMousePressed, x, y, 1); err != nil {
		return err
	}
	start := time.Now()
	for _, p := range points[1:] {
		if d := time.Until(start.Add(time.Duration(p.T-points[0].T) * time.Millisecond)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		x, y = at(p, false)
		if err := mouse(page, proto.InputDispatchMouseEventTypeMouseMoved, x, y, 1); err != nil {
			return err
		}
	}
	return mouse(page, proto.InputDispatchMouseEventTypeMouseReleased, x, y, 0)
}

// cdpClient is a page to send input events to.
type cdpClient = proto.Client

// mouse sends one mouse event of the left button; buttons is the state of
// the buttons after it (1: left held).
func mouse(page cdpClient, kind proto.InputDispatchMouseEventType, x, y float64, buttons int) error {
	e := proto.InputDispatchMouseEvent{Type: kind, X: x, Y: y, Buttons: &buttons}
	if kind != proto.InputDispatchMouseEventTypeMouseMoved {
		e.Button, e.ClickCount = proto.InputMouseButtonLeft, 1
	} else if buttons == 1 {
		e.Button = proto.InputMouseButtonLeft
	}
	return e.Call(page)
}

// typeText types text: printable ASCII as key presses, anything else as
// inserted text (as an input method would).
func typeText(page cdpClient, text string) error {
	for _, r := range text {
		var err error
		switch {
		case r == '\n':
			err = pressKey(page, input.Enter)
		case r >= 0x20 && r < 0x7f:
			err = pressKey(page, input.Key(r))
		default:
			err = proto.InputInsertText{Text: string(r)}.Call(page)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func pressKey(page cdpClient, k input.Key) error {
	if err := k.Encode(proto.InputDispatchKeyEventTypeKeyDown, 0).Call(page); err != nil {
		return err
	}
	return k.Encode(proto.InputDispatchKeyEventTypeKeyUp, 0).Call(page)
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// newSession is the id shared by the rounds of one verification.
func newSession() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// trajectoryMS is how long the actions' drags take by their own timing.
func trajectoryMS(actions []shixincheck.Action) int {
	total := 0
	for _, a := range actions {
		if a.Type == shixincheck.ActionDrag && len(a.Points) > 1 {
			total += a.Points[len(a.Points)-1].T - a.Points[0].T
		}
	}
	return total
}
