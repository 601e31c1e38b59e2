package scraper

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/shixincheck/shixincheck"
)

// classic runs searches on the classic site, as its page's own script does:
// the first page by filling the form and clicking 查询, further pages and
// details with fetch() from inside the page; every answer read from the
// browser's network events.
type classic struct {
	site       classicProfile
	base       string
	step       time.Duration // budget of one step
	pace       pacing        // gaps between the tab's requests
	maxRefused int           // refused captcha answers before a check gives up
	solver     Solver
}

func (c *classic) name() string { return c.site.Name }

// Clicks are the element's click(): a synthetic mouse event through CDP
// waits for a rendered frame, and a tab in the background gets none.

// imageScript checks that the search form is there, clicks the captcha
// image for a new code when asked, waits until the image shows a loaded src
// (another than before the click) and returns it, as a PNG data URL drawn
// from the loaded pixels when draw is set.
const imageScript = `(s, click, draw, ms) => new Promise((resolve) => {
	const q = (x) => document.querySelector(x);
	const missing = [s.name, s.cardNum, s.province, s.code, s.captchaId, s.captchaImg, s.button, s.results].filter((x) => !q(x));
	if (missing.length) return resolve({missing});
	const img = q(s.captchaImg);
	const before = click ? img.src : '';
	const settled = () => !!img.getAttribute('src') && img.src !== before && img.complete;
	let timer = null;
	const finish = () => {
		clearTimeout(timer);
		img.removeEventListener('load', on);
		img.removeEventListener('error', on);
		const r = {src: img.src, id: q(s.captchaId).value, width: img.naturalWidth, settled: settled()};
		if (draw && r.settled && r.width > 0) {
			const c = document.createElement('canvas');
			c.width = img.naturalWidth;
			c.height = img.naturalHeight;
			c.getContext('2d').drawImage(img, 0, 0);
			r.png = c.toDataURL('image/png');
		}
		resolve(r);
	};
	const on = () => { if (settled()) finish(); };
	img.addEventListener('load', on);
	img.addEventListener('error', on);
	timer = setTimeout(finish, ms);
	if (click) {
		document.querySelectorAll(s.overlays).forEach((e) => { e.style.display = 'none'; });
		img.click();
	}
	on();
})`

// fillScript sets the form by value (no input event, so the captcha stays),
// hides the floating windows, starts watching the results for the answer
// and clicks 查询.
const fillScript = `(s, v) => {
	const q = (x) => document.querySelector(x);
	const el = {name: q(s.name), card: q(s.cardNum), prov: q(s.province), code: q(s.code), id: q(s.captchaId), btn: q(s.button), res: q(s.results)};
	for (const k in el) if (!el[k]) return {err: 'missing ' + k};
	if (el.id.value !== v.captchaId) return {err: "the page's captchaId changed"};
	document.querySelectorAll(s.overlays).forEach((e) => { e.style.display = 'none'; });
	el.name.value = v.name;
	el.card.value = v.card;
	el.prov.value = v.province;
	el.code.value = v.code;
	if (el.prov.value !== v.province) return {err: 'province not selectable'};
	const old = window[v.key];
	if (old) old.mo.disconnect();
	const st = {changed: false, onchange: null};
	st.mo = new MutationObserver(() => { st.changed = true; if (st.onchange) st.onchange(); });
	st.mo.observe(el.res, {childList: true, subtree: true, characterData: true});
	window[v.key] = st;
	el.btn.click();
	return {};
}`

// renderedScript waits until the results changed after the click and show
// what the network answer says (v.rows rows, or the refusal text). When they
// do and v.keep is set, it returns the page as evidence too (pageScript), in
// the same call into the page.
const renderedScript = `(s, v) => new Promise((resolve) => {
	const keep = ` + pageScript + `;
	const st = window[v.key];
	if (!st) return resolve({ok: false, rows: -1});
	const state = () => {
		const res = document.querySelector(s.results);
		return {rows: res ? res.querySelectorAll(s.resultRow).length : -1, rejected: !!res && res.textContent.includes(s.rejected)};
	};
	const good = () => {
		if (!st.changed) return false;
		const x = state();
		return v.rejected ? x.rejected : (!x.rejected && x.rows === v.rows);
	};
	let timer = null;
	const finish = (ok) => {
		st.mo.disconnect();
		st.onchange = null;
		clearTimeout(timer);
		delete window[v.key];
		resolve(Object.assign(state(), {ok, changed: st.changed}, ok && v.keep ? {page: keep()} : {}));
	};
	if (good()) return finish(true);
	st.onchange = () => { if (good()) finish(true); };
	timer = setTimeout(() => finish(false), v.ms);
})`

// fetchScript sends requests one after the other, as the page's own script
// would, reading each body, gap ms after the last answer; it stops after a
// failure or a refusal.
const fetchScript = `async (reqs, stop, ms, gap) => {
	const out = [];
	let last = 0;
	for (const r of reqs) {
		while (last && performance.now() < last + gap) {
			await new Promise((ok) => setTimeout(ok, last + gap - performance.now()));
		}
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), ms);
		try {
			const res = await fetch(r.url, {method: r.method, headers: r.headers || {}, body: r.body || undefined,
				credentials: 'same-origin', cache: 'no-store', signal: ctl.signal});
			const text = await res.text();
			out.push({status: res.status});
			if (res.status !== 200 || stop.includes(text.trim())) break;
		} catch (e) {
			out.push({error: e.name === 'AbortError' ? 'timeout' : String(e)});
			break;
		} finally {
			clearTimeout(timer);
			last = performance.now();
		}
	}
	return out;
}`

// open loads the search page, lets the WAF's challenge page set its cookie
// and reload, and waits for the captcha image.
func (c *classic) open(ctx context.Context, t *tab) error {
	ctx, cancel := context.WithTimeout(ctx, c.step)
	defer cancel()
	t.ready, t.solved, t.imageUsed = false, nil, false
	w := t.net.watch(func(string, string, proto.NetworkResourceType) bool { return true })
	defer t.net.unwatch(w)
	doc, err := loadPage(ctx, t, w, c.base+c.site.SearchPath, &c.site.blocking)
	if err != nil {
		return err
	}
	img, err := c.image(ctx, t, false, false)
	var missing *missingForm
	switch {
	case err == nil:
		return nil
	case errors.As(err, &missing): // another page: a known blocking page or an unknown one
		if body, berr := t.body(ctx, *doc); berr == nil {
			if perr := c.site.pageInstead(body); shixincheck.KindOf(perr) == shixincheck.KindBlocked {
				return stepError("load search page", perr)
			}
		}
		return stepError("load search page", unrecognised(err.Error(), nil))
	case img.width == 0: // the image did not load: say what came instead
		if perr := c.imageFailure(ctx, t, w); perr != nil {
			return stepError("load captcha image", perr)
		}
	}
	return stepError("load captcha image", err)
}

// captured is the captcha image a tab shows.
type captured struct {
	captchaID string
	width     int
	png       []byte
}

// missingForm means the page is not the search form.
type missingForm struct{ missing []string }

func (e *missingForm) Error() string {
	return fmt.Sprintf("not the search page (missing %s)", strings.Join(e.missing, ", "))
}

var captchaIDPattern = regexp.MustCompile(`^[0-9A-Za-z]+$`)

// image waits for the captcha image (a new one when click is set) and checks it.
func (c *classic) image(ctx context.Context, t *tab, click, draw bool) (captured, error) {
	var r struct {
		Missing []string `json:"missing"`
		Src     string   `json:"src"`
		ID      string   `json:"id"`
		Width   int      `json:"width"`
		Settled bool     `json:"settled"`
		PNG     string   `json:"png"`
	}
	if err := t.eval(ctx, &r, imageScript, c.site.Page, click, draw, c.site.RenderTimeout.Milliseconds()); err != nil {
		return captured{}, err
	}
	img := captured{captchaID: r.ID, width: r.Width}
	switch {
	case len(r.Missing) > 0:
		return img, &missingForm{r.Missing}
	case !r.Settled:
		return img, unrecognised("no new captcha image", nil)
	case r.Width == 0:
		return img, unrecognised("captcha image did not load", nil)
	case len(r.ID) != c.site.CaptchaIDSize || !captchaIDPattern.MatchString(r.ID):
		return img, unrecognised("captchaId has an unknown form", nil)
	case !strings.Contains(r.Src, c.site.Params.CaptchaID+"="+r.ID):
		return img, unrecognised("captcha image is not for the page's captchaId", nil)
	}
	if draw {
		data, ok := strings.CutPrefix(r.PNG, "data:image/png;base64,")
		png, err := base64.StdEncoding.DecodeString(data)
		if !ok || err != nil || len(png) == 0 {
			return img, unrecognised("captcha image could not be copied", err)
		}
		img.png = png
	}
	return img, nil
}

// imageFailure says what the site sent instead of the captcha image, from
// the last captcha request of the watch; nil when it looks like an image.
// The browser keeps no body of a failed image, and any page in its place is
// the site's overload answer (zxgk-site.md: "an HTML page instead of an image").
func (c *classic) imageFailure(ctx context.Context, t *tab, w *netWatch) error {
	done, _, _ := t.net.wait(ctx, w, func([]exchange, int) bool { return true })
	for i := len(done) - 1; i >= 0; i-- {
		ex := done[i]
		if pathOf(ex.url) != c.site.CaptchaPath {
			continue
		}
		if err := c.site.failure(ex, nil); err != nil {
			return err
		}
		if !strings.HasPrefix(ex.mime, "image/") {
			return shixincheck.Errorf(shixincheck.KindBlocked, "a page (%s) instead of the captcha image", ex.mime)
		}
		return nil
	}
	return nil
}

// search runs the search; a refused captcha answer gets a new image, a new
// answer and the search again, up to maxRefused answers that never worked.
// An answer that worked and then expired is no one's mistake: the check
// resumes where it stopped, up to maxExpired times. Its verification ended
// "accepted" when it first worked; the site's bare "error" cannot tell an
// expired answer from a wrong one, so a refused fresh answer is "rejected".
// A fresh answer the check fails on before the site's verdict is dropped,
// its verification "abandoned".
func (c *classic) search(ctx context.Context, t *tab, r *run) (answer, error) {
	for refused, expired := 0, 0; ; {
		if t.solved == nil {
			if err := c.solve(ctx, t, r); err != nil {
				return answer{}, err
			}
		}
		ans, err := c.read(ctx, t, r)
		if err != nil && !errors.Is(err, errRefused) && !t.solved.accepted {
			c.solver.ReportOutcome(ctx, t.solved.challengeID, captchaAbandoned)
			t.solved = nil
		}
		if !errors.Is(err, errRefused) {
			return ans, err
		}
		sol := t.solved
		t.solved = nil
		if sol.accepted {
			if expired++; expired >= maxExpired {
				return answer{}, shixincheck.Errorf(shixincheck.KindCaptchaRejected, "captcha expired %d times in one check", expired)
			}
			continue
		}
		c.solver.ReportOutcome(ctx, sol.challengeID, captchaRejected)
		if refused++; refused >= c.maxRefused {
			return answer{}, shixincheck.Errorf(shixincheck.KindCaptchaRejected, "site refused %d captcha answers", refused)
		}
	}
}

// solve shows the captcha to the solver until it answers, loading a new
// image when the shown one was already answered or the person asks for one.
func (c *classic) solve(ctx context.Context, t *tab, r *run) error {
	for refreshes := 0; ; refreshes++ {
		var img captured
		var err error
		if t.imageUsed {
			img, err = c.refresh(ctx, t)
		} else {
			sctx, cancel := context.WithTimeout(ctx, c.step)
			img, err = c.image(sctx, t, false, true)
			cancel()
		}
		if err != nil {
			return stepError("captcha image", err)
		}
		t.imageUsed = true
		sol, err := c.solver.Solve(ctx, shixincheck.Challenge{Site: c.site.Name, Image: img.png, SiteRef: img.captchaID})
		switch {
		case errors.Is(err, shixincheck.ErrCaptchaRefresh):
			if refreshes >= maxRefreshes {
				return shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "%d new images asked for", refreshes)
			}
			continue
		case err != nil:
			return stepError("solve captcha", err)
		}
		r.captchas++
		t.solved = &solution{challengeID: sol.ChallengeID, code: strings.TrimSpace(sol.Text), captchaID: img.captchaID}
		t.verified(ctx, c.solver, sol.ChallengeID)
		return nil
	}
}

// refresh clicks the captcha image for a new code and returns the new image.
func (c *classic) refresh(ctx context.Context, t *tab) (captured, error) {
	ctx, cancel := context.WithTimeout(ctx, c.step)
	defer cancel()
	w := t.net.watch(func(method, u string, _ proto.NetworkResourceType) bool {
		return method == "GET" && pathOf(u) == c.site.CaptchaPath
	})
	defer t.net.unwatch(w)
	img, err := c.image(ctx, t, true, true)
	if err != nil && img.width == 0 {
		if perr := c.imageFailure(ctx, t, w); perr != nil {
			return captured{}, perr
		}
	}
	return img, err
}

// read reads the whole answer with the tab's captcha answer: the first page
// by the form, further pages and the details of the candidate's namesakes
// by fetch. errRefused when the site refused the answer.
func (c *classic) read(ctx context.Context, t *tab, r *run) (answer, error) {
	first, at, err := c.firstPage(ctx, t, r)
	if err != nil {
		return answer{}, err
	}
	if !t.solved.accepted {
		t.solved.accepted = true
		c.solver.ReportOutcome(ctx, t.solved.challengeID, captchaAccepted)
	}
	if r.pages == nil {
		r.pages = map[int][]listItem{}
	}
	r.pages[1] = first.items
	var reqs []fetchRequest
	var pageNos []int
	for p := 2; p <= first.totalPage; p++ {
		if _, done := r.pages[p]; !done {
			reqs = append(reqs, c.listRequest(t, r, p))
			pageNos = append(pageNos, p)
		}
	}
	if len(reqs) > 0 {
		bodies, err := c.fetch(ctx, t, r, reqs)
		if err != nil {
			return answer{}, err
		}
		for i, body := range bodies {
			lp, err := c.site.parseList(body, pageNos[i])
			if err != nil { // a refusal (errRefused) keeps the pages read before it
				return answer{}, stepError(fmt.Sprintf("list page %d", pageNos[i]), err)
			}
			if lp.totalSize != first.totalSize {
				return answer{}, unrecognised("totalSize changed between pages", nil)
			}
			r.pages[pageNos[i]] = lp.items
		}
	}
	var items []listItem
	for p := 1; p <= first.totalPage; p++ {
		items = append(items, r.pages[p]...)
	}
	if err := checkRows(items, first.totalSize); err != nil {
		return answer{}, err
	}

	var want []listItem
	for _, it := range items {
		if sameName(it.Name, r.name) {
			want = append(want, it)
		}
	}
	details, err := c.details(ctx, t, r, want)
	if err != nil {
		return answer{}, err
	}
	ans := answer{at: at, totalSize: first.totalSize}
	for _, it := range items {
		rec, ok := details[recordKey(it.ID, it.CaseCode)]
		if !ok {
			rec = shixincheck.Record{SiteID: it.ID, Name: it.Name, CaseCode: it.CaseCode, RegDate: it.RegDate}
		}
		ans.records = append(ans.records, rec)
	}
	return ans, nil
}

// checkRows checks the rows of all pages against totalSize.
func checkRows(items []listItem, totalSize int) error {
	if len(items) != totalSize {
		return unrecognised(fmt.Sprintf("%d rows read for totalSize %d", len(items), totalSize), nil)
	}
	seen := map[string]bool{}
	for _, it := range items {
		k := it.ID + "\x00" + it.CaseCode
		if seen[k] {
			return unrecognised("a row appears twice: the list changed while it was read", nil)
		}
		seen[k] = true
	}
	return nil
}

// firstPage fills the form, clicks 查询 and reads the answer from the
// network, then checks that the page shows the same.
func (c *classic) firstPage(ctx context.Context, t *tab, r *run) (listPage, time.Time, error) {
	if err := c.pace.wait(ctx, t, true); err != nil {
		return listPage{}, time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.step)
	defer cancel()
	w := t.net.watch(func(method, u string, _ proto.NetworkResourceType) bool {
		return method == "POST" && pathOf(u) == c.site.ListPath
	})
	defer t.net.unwatch(w)
	var filled struct {
		Err string `json:"err"`
	}
	t.lastSearch = time.Now()
	err := t.eval(ctx, &filled, fillScript, c.site.Page, map[string]string{
		"name": r.name, "card": r.idNumber, "province": c.site.ProvinceAll,
		"code": t.solved.code, "captchaId": t.solved.captchaID, "key": t.key,
	})
	switch {
	case err != nil:
		return listPage{}, time.Time{}, stepError("search", err)
	case filled.Err != "":
		return listPage{}, time.Time{}, stepError("search", unrecognised(filled.Err, nil))
	}
	exs, err := t.net.waitN(ctx, w, 1)
	if err != nil {
		return listPage{}, time.Time{}, stepError("list page 1", err)
	}
	answered := time.Now()
	t.lastSearch, t.lastAnswer = answered, answered
	body, err := t.body(ctx, exs[0])
	if err != nil {
		return listPage{}, time.Time{}, stepError("list page 1", err)
	}
	r.evidence = append(r.evidence, evidence{URL: c.site.ListPath + "?" + query(c.site.Params.Page, "1"),
		Status: exs[0].status, Body: string(body)})
	if err := c.site.failure(exs[0], body); err != nil {
		return listPage{}, time.Time{}, stepError("list page 1", err)
	}
	lp, perr := c.site.parseList(body, 1)
	if perr != nil && !errors.Is(perr, errRefused) {
		return listPage{}, time.Time{}, stepError("list page 1", perr)
	}
	var shown struct {
		OK       bool   `json:"ok"`
		Rows     int    `json:"rows"`
		Rejected bool   `json:"rejected"`
		Page     string `json:"page"`
	}
	err = t.eval(ctx, &shown, renderedScript, c.site.Page, map[string]any{
		"key": t.key, "rows": len(lp.items), "rejected": perr != nil, "ms": c.site.RenderTimeout.Milliseconds(),
		"keep": perr == nil,
	})
	switch {
	case err != nil:
		return listPage{}, time.Time{}, stepError("page shows answer", err)
	case !shown.OK:
		return listPage{}, time.Time{}, unrecognised(fmt.Sprintf(
			"page and network disagree: page shows %d rows (refusal %v), network %d rows (refusal %v)",
			shown.Rows, shown.Rejected, len(lp.items), perr != nil), nil)
	case perr == nil && shown.Page == "":
		return listPage{}, time.Time{}, stepError("evidence list-1", errors.New("page html: empty"))
	case perr == nil:
		// Only the first page is shown; further pages and details are read by fetch.
		r.keepFile("list-1.html", pageMIME, []byte(shown.Page))
	}
	return lp, answered, perr
}

// fetchRequest is one request sent from the page with fetch().
type fetchRequest struct {
	Method   string            `json:"method"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     string            `json:"body,omitempty"`
	evidence string            // URL kept as evidence: path and page or id only
}

// listRequest is the request for page p of the list, as the page's script sends it.
func (c *classic) listRequest(t *tab, r *run, p int) fetchRequest {
	f := c.site.Params
	form := query(f.Name, r.name, f.CardNum, r.idNumber, f.Province, c.site.ProvinceAll,
		f.Code, t.solved.code, f.CaptchaID, t.solved.captchaID, f.Page, fmt.Sprint(p))
	return fetchRequest{Method: "POST", URL: c.base + c.site.ListPath, Headers: c.site.ListHeaders, Body: form,
		evidence: c.site.ListPath + "?" + query(f.Page, fmt.Sprint(p))}
}

// query encodes name, value pairs in the order given.
func query(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(pairs[i]) + "=" + url.QueryEscape(pairs[i+1]))
	}
	return b.String()
}

// details reads the detail of every row in want. A `{}` answer is a dead
// captcha (errRefused) when checkyzm.do says the code is no longer valid,
// else an unreadable record.
func (c *classic) details(ctx context.Context, t *tab, r *run, want []listItem) (map[string]shixincheck.Record, error) {
	if r.details == nil {
		r.details = map[string]shixincheck.Record{}
	}
	var reqs []fetchRequest
	var todo []listItem
	for _, it := range want {
		if _, done := r.details[recordKey(it.ID, it.CaseCode)]; done {
			continue
		}
		f := c.site.Params
		q := query(f.ID, it.ID, f.CaseCode, it.CaseCode, f.Code, t.solved.code, f.CaptchaID, t.solved.captchaID)
		reqs = append(reqs, fetchRequest{Method: "GET", URL: c.base + c.site.DetailPath + "?" + q,
			Headers: c.site.GetHeaders, evidence: c.site.DetailPath + "?" + query(f.ID, it.ID)})
		todo = append(todo, it)
	}
	if len(reqs) == 0 {
		return r.details, nil
	}
	bodies, err := c.fetch(ctx, t, r, reqs)
	if err != nil {
		return nil, err
	}
	for i, body := range bodies {
		rec, err := c.site.parseDetail(body, todo[i])
		if errors.Is(err, errRefused) { // details read before it are kept
			return nil, c.deadCode(ctx, t, r)
		}
		if err != nil {
			return nil, stepError("detail", err)
		}
		r.details[recordKey(rec.SiteID, rec.CaseCode)] = rec
	}
	return r.details, nil
}

func recordKey(id, caseCode string) string { return id + "\x00" + caseCode }

// deadCode asks checkyzm.do whether the tab's code still works: errRefused
// if not; if it does, the `{}` was for the record itself.
func (c *classic) deadCode(ctx context.Context, t *tab, r *run) error {
	q := query(c.site.Params.CaptchaID, t.solved.captchaID, c.site.Params.Code, t.solved.code)
	bodies, err := c.fetch(ctx, t, r, []fetchRequest{{Method: "GET", URL: c.base + c.site.CheckPath + "?" + q,
		Headers: c.site.GetHeaders, evidence: c.site.CheckPath}})
	if err != nil {
		return err
	}
	switch strings.TrimSpace(string(bodies[0])) {
	case c.site.CodeInvalid:
		return errRefused
	case c.site.CodeValid:
		return unrecognised("the site has no detail for a record of its list", nil)
	default:
		return stepError("captcha check", c.site.pageInstead(bodies[0]))
	}
}

// fetch sends reqs from the page one after the other, paced, and returns
// their bodies as the network delivered them, all with status 200; an
// answer that refuses the captcha ends the batch early (the caller sees it last).
func (c *classic) fetch(ctx context.Context, t *tab, r *run, reqs []fetchRequest) ([][]byte, error) {
	if err := c.pace.wait(ctx, t, false); err != nil {
		return nil, err
	}
	n := time.Duration(len(reqs))
	ctx, cancel := context.WithTimeout(ctx, c.step*(n+1)+c.pace.fetch*n)
	defer cancel()
	w := t.net.watch(func(method, u string, _ proto.NetworkResourceType) bool {
		for _, rq := range reqs {
			if method == rq.Method && pathOf(u) == pathOf(rq.URL) {
				return true
			}
		}
		return false
	})
	defer t.net.unwatch(w)
	var results []struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	stop := []string{c.site.RejectedList, c.site.RejectedDetail}
	err := t.eval(ctx, &results, fetchScript, reqs, stop, c.step.Milliseconds(), c.pace.fetch.Milliseconds())
	t.lastAnswer = time.Now()
	if err != nil {
		return nil, stepError("fetch", err)
	}
	if len(results) == 0 || len(results) > len(reqs) {
		return nil, unrecognised("fetch answered nothing", nil)
	}
	exs, err := t.net.waitN(ctx, w, len(results))
	if err != nil {
		return nil, stepError("fetch", err)
	}
	for i, ex := range exs {
		if ex.method != reqs[i].Method || !sameURL(ex.url, reqs[i].URL) {
			return nil, unrecognised("the network saw other requests than the page sent", nil)
		}
	}
	bodies, err := t.bodies(ctx, exs)
	for i, ex := range exs {
		if i < len(bodies) && bodies[i] != nil {
			r.evidence = append(r.evidence, evidence{URL: reqs[i].evidence, Status: ex.status, Body: string(bodies[i])})
		}
	}
	last := results[len(results)-1]
	switch {
	case last.Error == "timeout":
		return nil, shixincheck.Errorf(shixincheck.KindTimeout, "fetch %s: no answer in %s", pathOf(reqs[len(results)-1].URL), c.step)
	case last.Error != "":
		return nil, stepError("fetch", c.site.failure(exs[len(exs)-1], nil))
	case err != nil:
		return nil, stepError("fetch", err)
	}
	for i, ex := range exs {
		if err := c.site.failure(ex, bodies[i]); err != nil {
			return nil, stepError("fetch "+pathOf(ex.url), err)
		}
		if results[i].Status != ex.status {
			return nil, unrecognised("page and network disagree on an answer", nil)
		}
	}
	return bodies, nil
}

// pathOf returns the path of a URL, "" when it does not parse.
func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Path
}

// sameURL compares two URLs by path and decoded query.
func sameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Path == ub.Path && reflect.DeepEqual(ua.Query(), ub.Query())
}
