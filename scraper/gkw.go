package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/shixincheck/shixincheck"
)

// gkw runs searches on the gkw site as a person at the browser does: fill
// the form and click 查询, turn the pages with the pager, open each detail
// in the new tab the site opens. Whenever the page opens its captcha widget
// a picture of the widget goes to a person and the person's actions are
// replayed with the mouse (gkw_verify.go). The token a verification gives
// stays in the page and serves the next searches of the tab until the site
// refuses it; then the page verifies again and redoes the refused step by
// itself, so nothing read is read again. Every answer is read from the
// network and compared with what the page shows.
type gkw struct {
	site       gkwProfile
	base       string
	step       time.Duration // budget of one answer of the site
	pace       pacing        // gaps between the tab's requests
	maxRefused int           // refused answers in one verification before a check gives up
	solver     Solver
	log        *slog.Logger
}

func (g *gkw) name() string { return g.site.Name }

// selectors are the page's selectors with the profile's search form.
func (g *gkw) selectors() gkwSelectors {
	s := g.site.Page
	s.Form = g.site.Search.Form
	return s
}

// stateScript describes the search page: form, captcha widget, results and
// pager. When the description equals prev it waits up to ms for the page to
// change, so that a caller sees changes at once without polling hard. It
// returns the description as JSON.
const stateScript = `(s, prev, ms) => new Promise((resolve) => {
	const q = (x) => document.querySelector(x);
	const text = (x) => { const e = q(x); return e ? e.textContent : ''; };
	const hidden = (x) => { const e = q(x); return !e || e.classList.contains(s.hidden); };
	const shown = (e) => !!e && getComputedStyle(e).display !== 'none';
	const snap = () => {
		const form = q(s.form);
		const need = [s.name, s.cardNum, s.captchaId, s.token, s.pill, s.parent, s.box, s.loading, s.refresh, s.close,
			s.results, s.thead, s.pager, s.pageText, s.currentPage, s.totalPage, s.totalSize, s.next];
		const missing = need.filter((x) => !q(x));
		if (!form) missing.push(s.form);
		const buttons = form ? Array.from(form.querySelectorAll(s.button)).filter((b) => b.offsetParent !== null) : [];
		if (buttons.length !== 1) missing.push(s.button);
		if (missing.length) return {missing};
		const res = q(s.results);
		const widget = q(s.widget);
		const rows = Array.from(res.querySelectorAll(s.row)).map((a) => {
			const tr = a.closest('tr');
			return {cells: tr ? Array.from(tr.cells).map((c) => c.textContent.trim()) : [],
				onclick: a.getAttribute('onclick') || '', placeholder: !!tr && tr.matches(s.placeholder)};
		});
		return {
			popup: !!q(s.overlay) && shown(q(s.parent)),
			loading: shown(q(s.loading)),
			widget: !widget ? '' : widget.classList.contains(s.slider) ? 'slider' : widget.classList.contains(s.wordClick) ? 'word' : 'other',
			challenge: q(s.captchaId).value,
			pill: text(s.pill),
			tipError: !!q(s.tipError),
			rows,
			warning: text(s.results + ' ' + s.warning),
			noResult: !!res.querySelector(s.noResult),
			resultsText: rows.length ? '' : res.textContent,
			theadHidden: hidden(s.thead),
			pagerHidden: hidden(s.pager),
			page: text(s.currentPage).trim(),
			pages: text(s.totalPage).trim(),
			total: text(s.totalSize).trim(),
			pageText: text(s.pageText).replace(/\s+/g, ''),
			nextDisabled: !!q(s.next).disabled,
		};
	};
	const cur = () => JSON.stringify(snap());
	const now = cur();
	if (now !== prev || ms <= 0) return resolve(now);
	let timer = null;
	const mo = new MutationObserver(() => {
		const x = cur();
		if (x !== prev) { mo.disconnect(); clearTimeout(timer); resolve(x); }
	});
	mo.observe(document.documentElement, {childList: true, subtree: true, attributes: true, characterData: true});
	timer = setTimeout(() => { mo.disconnect(); resolve(cur()); }, ms);
})`

// gkwFillScript fills the form (全部 where it has a province) and clicks the
// one visible 查询.
const gkwFillScript = `(s, v) => {
	const form = document.querySelector(s.form);
	if (!form) return {err: 'no search form'};
	const set = (el, value) => {
		el.value = value;
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
		return el.value === value;
	};
	const name = form.querySelector(s.name), card = form.querySelector(s.cardNum);
	if (!name || !card) return {err: 'no name or ID input in the form'};
	set(name, v.name);
	set(card, v.card);
	const prov = form.querySelector(s.province);
	if (prov && !set(prov, v.province)) return {err: 'province 全部 not selectable'};
	const buttons = Array.from(form.querySelectorAll(s.button)).filter((b) => b.offsetParent !== null);
	if (buttons.length !== 1) return {err: buttons.length + ' visible search buttons'};
	buttons[0].click();
	return {};
}`

// nextScript clicks the pager's next button.
const nextScript = `(s) => {
	const b = document.querySelector(s.next);
	if (!b || b.disabled) return {err: 'no next page button'};
	b.click();
	return {};
}`

// viewScript clicks 查看 of the i-th real row, checking it is the record asked for.
const viewScript = `(s, i, id) => {
	const links = Array.from(document.querySelector(s.results).querySelectorAll(s.row));
	const a = links[i];
	if (!a || !(a.getAttribute('onclick') || '').includes("'" + id + "'")) return {err: 'the row is not on the page'};
	a.click();
	return {};
}`

// detailScript describes a detail tab: its rows, or its error box.
const detailScript = `(s) => {
	const e = document.querySelector(s.detailError);
	const rows = Array.from(document.querySelectorAll(s.sections + ' tr')).map((tr) => {
		const label = tr.cells[0] ? tr.cells[0].querySelector(s.label) : null;
		return {cells: tr.cells.length, labelEl: label ? label.textContent.trim() : '',
			label: tr.cells[0] ? tr.cells[0].textContent.trim() : '', value: tr.cells[1] ? tr.cells[1].textContent.trim() : ''};
	});
	return {ready: document.readyState,
		error: e && !e.classList.contains(s.hidden) ? e.textContent.trim() || 'error' : '', rows};
}`

// gkwState is the search page as stateScript describes it.
type gkwState struct {
	Missing      []string `json:"missing"`
	Popup        bool     `json:"popup"`     // the captcha popup is open
	Loading      bool     `json:"loading"`   // a challenge is loading
	Widget       string   `json:"widget"`    // "slider", "word", "other" when a challenge is ready, else ""
	Challenge    string   `json:"challenge"` // #captchaId
	Pill         string   `json:"pill"`
	TipError     bool     `json:"tipError"`
	Rows         []gkwRow `json:"rows"`
	Warning      string   `json:"warning"`
	NoResult     bool     `json:"noResult"`
	ResultsText  string   `json:"resultsText"` // when there is no row
	TheadHidden  bool     `json:"theadHidden"`
	PagerHidden  bool     `json:"pagerHidden"`
	Page         string   `json:"page"`
	Pages        string   `json:"pages"`
	Total        string   `json:"total"`
	PageText     string   `json:"pageText"`
	NextDisabled bool     `json:"nextDisabled"`
}

// gkwRow is one real row of the results.
type gkwRow struct {
	Cells       []string `json:"cells"` // 序号, 姓名, 立案时间, 案号, 查看
	Onclick     string   `json:"onclick"`
	Placeholder bool     `json:"placeholder"`
}

// look describes the page, waiting up to wait for it to differ from prev.
func (g *gkw) look(ctx context.Context, t *tab, prev string, wait time.Duration) (gkwState, string, error) {
	var raw string
	if err := t.eval(ctx, &raw, stateScript, g.selectors(), prev, wait.Milliseconds()); err != nil {
		return gkwState{}, "", err
	}
	var st gkwState
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return gkwState{}, "", fmt.Errorf("page state: %w", err)
	}
	return st, raw, nil
}

// open loads the search page through the WAF and checks it is the gkw search page.
func (g *gkw) open(ctx context.Context, t *tab) error {
	ctx, cancel := context.WithTimeout(ctx, g.step)
	defer cancel()
	t.ready = false
	w := t.net.watch(func(string, string, proto.NetworkResourceType) bool { return true })
	defer t.net.unwatch(w)
	doc, err := loadPage(ctx, t, w, g.base+g.site.Search.Path, &g.site.blocking)
	if err != nil {
		return err
	}
	st, _, err := g.look(ctx, t, "", 0)
	if err != nil {
		return stepError("search page", err)
	}
	if len(st.Missing) > 0 {
		if body, berr := t.body(ctx, *doc); berr == nil {
			if perr := g.site.pageInstead(body); shixincheck.KindOf(perr) == shixincheck.KindBlocked {
				return stepError("load search page", perr)
			}
		}
		return stepError("load search page", unrecognised(
			fmt.Sprintf("not the gkw search page (missing %s)", strings.Join(st.Missing, ", ")), nil))
	}
	return nil
}

// search reads every result page and the detail of every record with the
// candidate's name.
func (g *gkw) search(ctx context.Context, t *tab, r *run) (answer, error) {
	r.pages, r.details = map[int][]listItem{}, map[string]shixincheck.Record{}
	closeOpened(ctx, t)
	first, at, err := g.listPage(ctx, t, r, 1, -1)
	if err != nil {
		return answer{}, err
	}
	lp := first
	for p := 1; ; p++ {
		r.pages[p] = lp.items
		if err := g.details(ctx, t, r, lp.items); err != nil {
			return answer{}, err
		}
		if p >= first.totalPage {
			break
		}
		if lp, _, err = g.listPage(ctx, t, r, p+1, first.totalSize); err != nil {
			return answer{}, err
		}
	}
	var items []listItem
	for p := 1; p <= first.totalPage; p++ {
		items = append(items, r.pages[p]...)
	}
	if err := checkRows(items, first.totalSize); err != nil {
		return answer{}, err
	}
	ans := answer{at: at, totalSize: first.totalSize}
	for _, it := range items {
		rec, ok := r.details[recordKey(it.ID, it.CaseCode)]
		if !ok {
			rec = shixincheck.Record{SiteID: it.ID, Name: it.Name, CaseCode: it.CaseCode, RegDate: it.RegDate}
		}
		ans.records = append(ans.records, rec)
	}
	return ans, nil
}

// listPage shows page p of the list: page 1 by filling the form and
// clicking 查询, the next ones with the pager. It reads the answer from the
// network, waits until the page shows the same, and keeps the page.
// total is the totalSize of page 1 (-1 for page 1 itself).
func (g *gkw) listPage(ctx context.Context, t *tab, r *run, p, total int) (listPage, time.Time, error) {
	what := fmt.Sprintf("list page %d", p)
	if err := g.pace.wait(ctx, t, p == 1); err != nil {
		return listPage{}, time.Time{}, err
	}
	f, err := g.follow(ctx, t, r, what, g.site.Search.ListPath,
		g.site.Search.ListPath+"?"+query(g.site.Params.Page, strconv.Itoa(p)),
		url.Values{g.site.Params.Name: {r.name}, g.site.Params.Page: {strconv.Itoa(p)}})
	if err != nil {
		return listPage{}, time.Time{}, err
	}
	defer f.stop()
	var acted struct {
		Err string `json:"err"`
	}
	actx, cancel := context.WithTimeout(ctx, g.step)
	defer cancel()
	if p == 1 {
		t.lastSearch = time.Now()
		err = t.eval(actx, &acted, gkwFillScript, g.selectors(), map[string]string{
			"name": r.name, "card": r.idNumber, "province": g.site.ProvinceAll})
	} else {
		err = t.eval(actx, &acted, nextScript, g.selectors())
	}
	switch {
	case err != nil:
		return listPage{}, time.Time{}, stepError(what, err)
	case acted.Err != "":
		return listPage{}, time.Time{}, stepError(what, unrecognised(acted.Err, nil))
	}
	rep, err := f.answer(ctx, true)
	t.lastAnswer = time.Now()
	if p == 1 {
		t.lastSearch = t.lastAnswer
	}
	if err != nil {
		return listPage{}, time.Time{}, err
	}
	at := time.Now()
	lp, err := g.parseList(rep, p)
	if err != nil {
		return listPage{}, time.Time{}, stepError(what, err)
	}
	if total >= 0 && lp.totalSize != total {
		return listPage{}, time.Time{}, unrecognised("totalSize changed between pages", nil)
	}
	if err := f.until(ctx, "the page to show "+what, func(st gkwState) bool { return g.shows(st, lp, p, r.name) }); err != nil {
		return listPage{}, time.Time{}, err
	}
	if err := keepPage(ctx, t.page, r, g.step, fmt.Sprintf("list-%d", p)); err != nil {
		return listPage{}, time.Time{}, err
	}
	return lp, at, nil
}

// parseList reads the data of a search answer for page p.
func (g *gkw) parseList(env gkwEnvelope, p int) (listPage, error) {
	if !env.Success {
		return listPage{}, unrecognised(fmt.Sprintf("search answered code %d", env.Code), nil)
	}
	var data struct {
		Result      *[]map[string]json.RawMessage `json:"result"`
		TotalSize   *int                          `json:"totalSize"`
		TotalPage   *int                          `json:"totalPage"`
		CurrentPage *int                          `json:"currentPage"`
	}
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return listPage{}, unrecognised("search answer data", err)
	}
	if data.Result == nil || data.TotalSize == nil || data.TotalPage == nil {
		return listPage{}, unrecognised("search answer lacks result, totalSize or totalPage", nil)
	}
	lp := listPage{totalSize: *data.TotalSize, totalPage: *data.TotalPage}
	if data.CurrentPage != nil {
		lp.currentPage = *data.CurrentPage
	}
	items, err := listItems(*data.Result, g.site.ListName)
	if err != nil {
		return listPage{}, err
	}
	lp.items = items
	if err := checkPage(lp, p, g.site.PageSize); err != nil {
		return listPage{}, err
	}
	return lp, nil
}

// lastArg is the last quoted argument of an onclick call: the record's id.
var lastArg = regexp.MustCompile(`'([^']*)'\)\s*;?\s*$`)

// shows tells whether the page shows list page p as the network answered
// it: the no-match sentence for the name, or the same rows in the same
// order (placeholder rows aside) and a pager that agrees.
func (g *gkw) shows(st gkwState, lp listPage, p int, name string) bool {
	if st.Popup || st.Warning != "" {
		return false
	}
	if lp.totalSize == 0 {
		return st.NoResult && len(st.Rows) == 0 &&
			st.ResultsText == fmt.Sprintf(g.site.Texts.NoMatch, strings.TrimSpace(name))
	}
	if len(st.Rows) != len(lp.items) || st.TheadHidden || st.PagerHidden ||
		st.Page != strconv.Itoa(p) || st.Pages != strconv.Itoa(lp.totalPage) || st.Total != strconv.Itoa(lp.totalSize) ||
		st.PageText != fmt.Sprintf(g.site.Texts.PageText, p, lp.totalPage) || st.NextDisabled != (p >= lp.totalPage) {
		return false
	}
	for i, row := range st.Rows {
		it := lp.items[i]
		m := lastArg.FindStringSubmatch(row.Onclick)
		if row.Placeholder || len(row.Cells) < 4 || m == nil || m[1] != it.ID || row.Cells[1] != strings.TrimSpace(it.Name) ||
			row.Cells[2] != strings.TrimSpace(it.RegDate) || row.Cells[3] != strings.TrimSpace(it.CaseCode) {
			return false
		}
	}
	return true
}

// details reads the detail of every row of the page shown with the candidate's name.
func (g *gkw) details(ctx context.Context, t *tab, r *run, items []listItem) error {
	for i, it := range items {
		if !sameName(it.Name, r.name) {
			continue
		}
		if _, done := r.details[recordKey(it.ID, it.CaseCode)]; done {
			continue
		}
		rec, err := g.detail(ctx, t, r, i, it)
		if err != nil {
			return err
		}
		r.details[recordKey(it.ID, it.CaseCode)] = rec
	}
	return nil
}

// detail clicks 查看 of row i, reads the record from the network, then from
// the tab the site opens for it, compares both, keeps the tab and closes it.
func (g *gkw) detail(ctx context.Context, t *tab, r *run, i int, it listItem) (shixincheck.Record, error) {
	n := len(r.details) + 1
	what := fmt.Sprintf("detail %d", n)
	if err := g.pace.wait(ctx, t, false); err != nil {
		return shixincheck.Record{}, err
	}
	f, err := g.follow(ctx, t, r, what, g.site.DetailPath, g.site.DetailPath+"?"+query(g.site.Params.ID, it.ID),
		url.Values{g.site.Params.ID: {it.ID}, g.site.Params.CaseCode: {it.CaseCode}})
	if err != nil {
		return shixincheck.Record{}, err
	}
	defer f.stop()
	// The tab opens after the answer, maybe after a new verification: listen from now on.
	octx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	opened := t.page.Context(octx).WaitOpen()
	var acted struct {
		Err string `json:"err"`
	}
	actx, cancel := context.WithTimeout(ctx, g.step)
	defer cancel()
	res, err := t.page.Context(actx).Evaluate(rod.Eval(viewScript, g.selectors(), i, it.ID).ByUser())
	if err == nil {
		err = res.Value.Unmarshal(&acted)
	}
	switch {
	case err != nil:
		return shixincheck.Record{}, stepError(what, err)
	case acted.Err != "":
		return shixincheck.Record{}, stepError(what, unrecognised(acted.Err, nil))
	}
	rep, err := f.answer(ctx, false)
	t.lastAnswer = time.Now()
	if err != nil {
		return shixincheck.Record{}, err
	}
	if !rep.Success {
		if rep.Code == g.site.CodeNotFound {
			return shixincheck.Record{}, unrecognised("the site has no detail for a record of its list", nil)
		}
		return shixincheck.Record{}, unrecognised(fmt.Sprintf("%s answered code %d", what, rep.Code), nil)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(rep.Data, &obj); err != nil || len(obj) == 0 {
		return shixincheck.Record{}, unrecognised(what+": answer data is not a record", err)
	}
	rec, err := recordOf(obj, it)
	if err != nil {
		return shixincheck.Record{}, stepError(what, err)
	}

	timer := time.AfterFunc(g.site.RenderTimeout, stopWaiting)
	defer timer.Stop()
	page, err := opened()
	if err != nil {
		return shixincheck.Record{}, shixincheck.Errorf(shixincheck.KindUnrecognised, "%s: no tab opened: %w", what, err)
	}
	defer closeTab(t, page)
	if err := g.detailTab(ctx, page, obj); err != nil {
		return shixincheck.Record{}, stepError(what, err)
	}
	if err := keepPage(ctx, page, r, g.step, fmt.Sprintf("detail-%02d", n)); err != nil {
		return shixincheck.Record{}, err
	}
	return rec, nil
}

// gkwDetailRow is one row of a detail tab.
type gkwDetailRow struct {
	Cells   int    `json:"cells"`
	LabelEl string `json:"labelEl"` // the text of the label element
	Label   string `json:"label"`
	Value   string `json:"value"`
}

// detailTab waits until the detail tab shows its rows and compares them
// with the network's answer, label by label.
func (g *gkw) detailTab(ctx context.Context, page *rod.Page, obj map[string]json.RawMessage) error {
	ctx, cancel := context.WithTimeout(ctx, g.site.RenderTimeout)
	defer cancel()
	var d struct {
		Ready string         `json:"ready"`
		Error string         `json:"error"`
		Rows  []gkwDetailRow `json:"rows"`
	}
	for {
		// Errors are expected while the tab still navigates from about:blank.
		res, err := page.Context(ctx).Evaluate(rod.Eval(detailScript, g.selectors()))
		if err == nil && res.Value.Unmarshal(&d) == nil && d.Ready == "complete" && (d.Error != "" || len(d.Rows) > 0) {
			break
		}
		select {
		case <-ctx.Done():
			return shixincheck.Errorf(shixincheck.KindUnrecognised, "the detail tab shows no record in %s", g.site.RenderTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if d.Error != "" {
		return unrecognised("the detail tab shows an error for a record the network answered", nil)
	}
	shown := map[string]string{}
	for _, row := range d.Rows {
		if row.Cells != 2 || row.LabelEl != row.Label {
			return unrecognised("a detail row of unknown form", nil)
		}
		v := row.Value
		if v == g.site.Texts.Empty {
			v = ""
		}
		shown[row.Label] = v
	}
	for label, key := range g.site.DetailLabels {
		v, ok := shown[label]
		if !ok {
			return unrecognised("the detail tab lacks "+label, nil)
		}
		want, err := jsonText(obj[key], false)
		if err != nil {
			return unrecognised("detail field "+key, err)
		}
		if v != strings.TrimSpace(want) {
			return unrecognised("the detail tab and the network disagree on "+label, nil)
		}
	}
	return nil
}

// closeOpened closes the tabs the page opened and nobody closed (a detail
// whose answer came after its step had failed): they would hide the page,
// and a hidden page gets no mouse input.
func closeOpened(ctx context.Context, t *tab) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := proto.TargetGetTargets{}.Call(t.br.rod.Context(ctx))
	if err != nil {
		return
	}
	for _, info := range res.TargetInfos {
		if info.OpenerID == t.page.TargetID {
			_, _ = proto.TargetCloseTarget{TargetID: info.TargetID}.Call(t.br.rod.Context(ctx))
		}
	}
}

// closeTab closes a tab the site opened, even when the check is ending.
func closeTab(t *tab, page *rod.Page) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = proto.TargetCloseTarget{TargetID: page.TargetID}.Call(t.br.rod.Context(ctx))
}
