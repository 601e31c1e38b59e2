package courtsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
)

// The texts the gkw page shows, as on the live site.
const (
	gkwPassedText  = "验证已通过，正在查询…"
	gkwExpiredText = "验证已失效：安全验证已失效。请重新验证。"
	gkwFailedText  = "验证未通过，请重新验证。"
	gkwWarningHTML = `<p class="bg-warning warning-result"><span class="important">验证码错误或验证码已过期。</span></p>`
)

// TestGkwInChromium drives the gkw pages in a real headless Chromium
// behind the WAF, solving the captcha with real mouse events through CDP.
// Set COURTSIM_SHOTS to a directory to keep screenshots of the widget.
func TestGkwInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Fatalf("chromium is required: %v", err)
	}
	l := launcher.New().Bin(chromiumBin).NoSandbox(true).Headless(true)
	defer l.Cleanup()
	controlURL, err := l.Launch()
	if err != nil {
		t.Fatal(err)
	}
	browser := rod.New().ControlURL(controlURL)
	if err := browser.Connect(); err != nil {
		t.Fatal(err)
	}
	defer browser.MustClose()

	t.Run("slider, pages, detail, no match", func(t *testing.T) { gkwSliderPagesDetail(t, browser) })
	t.Run("wrong drag switches to word click", func(t *testing.T) { gkwWrongDragThenWords(t, browser) })
	t.Run("token expiry", func(t *testing.T) { gkwTokenExpiry(t, browser) })
	t.Run("shixin page", func(t *testing.T) { gkwShixin(t, browser) })
}

// gkwTab is one tab on its own simulator.
type gkwTab struct {
	t    *testing.T
	sim  *Sim
	srv  *httptest.Server
	page *rod.Page
}

// gkwBrowserConfig keeps the WAF on (the browser must pass it on its own),
// opens the side door, serves sliders first and shortens the widget's load.
func gkwBrowserConfig() Config {
	cfg := DefaultConfig()
	cfg.SideDoor = true
	cfg.GkwCaptchaType = gkwSlider
	cfg.GkwCaptchaDelay = 300 * time.Millisecond
	return cfg
}

func openGkwTab(t *testing.T, browser *rod.Browser, cfg Config) *gkwTab {
	t.Helper()
	return openGkwPage(t, browser, cfg, "/gkw/html/zhzxgk/index.html")
}

// openGkwPage opens one of the gkw search pages on its own simulator.
func openGkwPage(t *testing.T, browser *rod.Browser, cfg Config, path string) *gkwTab {
	t.Helper()
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	page := browser.MustPage("")
	t.Cleanup(func() { page.Close() })
	page.MustNavigate(srv.URL + path)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if has, _, err := page.Has("form .buttons .btn-zxgk"); err == nil && has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gkw page did not come up behind the WAF")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &gkwTab{t: t, sim: sim, srv: srv, page: page}
}

// p is the tab with a fresh budget for one step.
func (g *gkwTab) p() *rod.Page { return g.page.Timeout(15 * time.Second) }

// text is an element's textContent, "" when it is absent.
func (g *gkwTab) text(selector string) string {
	return g.p().MustEval(`s => { const e = document.querySelector(s); return e ? e.textContent : '' }`, selector).Str()
}

func (g *gkwTab) status() string { return g.text("#tianai-rest-captcha-status") }

// waitJS waits until a predicate over the page holds, polling every 30 ms
// so that short states (a loading widget) are seen.
func (g *gkwTab) waitJS(what, js string, args ...any) {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, err := g.p().Eval(js, args...)
		if err == nil && v.Value.Bool() {
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("waiting for %s: %v (pill %q)", what, err, g.status())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// search types a name and clicks the one visible 查询 button.
func (g *gkwTab) search(name string) {
	g.t.Helper()
	g.p().MustElement("#pName").MustSelectAllText().MustInput(name)
	g.p().MustElement("form .buttons .btn-zxgk").MustClick()
}

// waitWidget waits for a ready widget of a challenge other than notID and
// returns the challenge as the side door tells it.
func (g *gkwTab) waitWidget(notID string) GkwCaptcha {
	g.t.Helper()
	g.waitJS("a ready widget", `(old) => !!document.querySelector('#tianai-captcha') &&
		document.querySelector('#captchaId').value !== old && document.querySelector('#captchaId').value !== ''`, notID)
	id := g.p().MustElement("#captchaId").MustProperty("value").Str()
	resp, err := http.Get(g.srv.URL + "/__sim/gkw/captcha?id=" + id)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	var c GkwCaptcha
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
		g.t.Fatalf("side door for %s: %d %v", id, resp.StatusCode, err)
	}
	if loading := g.p().MustEval(`() => getComputedStyle(document.querySelector('#tianai-captcha-loading')).display`).Str(); loading != "none" {
		g.t.Errorf("ready widget with the loading element shown (%s)", loading)
	}
	if !g.p().MustHas(".tianai-captcha-ui-overlay") {
		g.t.Error("no overlay while the popup is open")
	}
	return c
}

// rect is an element's box in CSS px of the viewport.
type rect struct{ X, Y, W, H float64 }

func (g *gkwTab) rect(selector string) rect {
	g.t.Helper()
	var r rect
	v := g.p().MustEval(`s => { const b = document.querySelector(s).getBoundingClientRect();
		return {X: b.left, Y: b.top, W: b.width, H: b.height} }`, selector)
	if err := v.Unmarshal(&r); err != nil {
		g.t.Fatal(err)
	}
	return r
}

// drag holds the slider button and moves it dx CSS px to the right in
// steps over about 600 ms, slowing down near the end, as a hand does.
func (g *gkwTab) drag(dx float64) {
	g.t.Helper()
	b := g.rect("#tianai-captcha-slider-move-btn")
	x0, y0 := b.X+b.W/2, b.Y+b.H/2
	m := g.page.Mouse
	must := func(err error) {
		if err != nil {
			g.t.Fatal(err)
		}
	}
	must(m.MoveTo(proto.Point{X: x0, Y: y0}))
	must(m.Down(proto.InputMouseButtonLeft, 1))
	const steps = 24
	for i := 1; i <= steps; i++ {
		f := float64(i) / steps
		ease := 1 - (1-f)*(1-f)*(1-f)
		must(m.MoveTo(proto.Point{X: x0 + dx*ease, Y: y0 + float64(i%3) - 1}))
		time.Sleep(25 * time.Millisecond)
	}
	must(m.Up(proto.InputMouseButtonLeft, 1))
}

// clickPoints clicks points given in CSS px of the captcha background.
func (g *gkwTab) clickPoints(points []GkwPoint) {
	g.t.Helper()
	bg := g.rect("#tianai-captcha-slider-bg-img")
	for _, p := range points {
		if err := g.page.Mouse.MoveTo(proto.Point{X: bg.X + p.CSSX, Y: bg.Y + p.CSSY}); err != nil {
			g.t.Fatal(err)
		}
		if err := g.page.Mouse.Click(proto.InputMouseButtonLeft, 1); err != nil {
			g.t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// shoot screenshots the widget, checks it is a picture of the widget's
// size and keeps it when COURTSIM_SHOTS names a directory.
func (g *gkwTab) shoot(name string) {
	g.t.Helper()
	b, err := g.p().MustElement("#tianai-captcha-parent").Screenshot(proto.PageCaptureScreenshotFormatPng, 0)
	if err != nil {
		g.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		g.t.Fatal(err)
	}
	if w := img.Bounds().Dx(); w < 300 || w > 340 {
		g.t.Errorf("widget screenshot %v", img.Bounds())
	}
	if dir := os.Getenv("COURTSIM_SHOTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
			g.t.Error(err)
		}
		page, err := g.p().Screenshot(true, nil)
		if err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-page.png"), page, 0o644); err != nil {
			g.t.Error(err)
		}
	}
}

// waitRows waits for a result page: page n shown, with real rows.
func (g *gkwTab) waitRows(n int) {
	g.t.Helper()
	g.waitJS(fmt.Sprintf("result page %d", n), `(n) => document.querySelector('#currentPage-show').textContent === String(n) &&
		!document.querySelector('#page-div').classList.contains('hide') && !!document.querySelector('#tbody-result a.View')`, n)
}

func gkwSliderPagesDetail(t *testing.T, browser *rod.Browser) {
	cfg := gkwBrowserConfig()
	cfg.GkwCaptchaDelay = time.Second // the default: long enough to see the loading state
	g := openGkwTab(t, browser, cfg)
	multi, _ := g.sim.People("multipage", 20)
	person := multi[0]
	for _, p := range multi {
		if p.Records > person.Records {
			person = p // the one with 23 records: three pages
		}
	}
	total := len(g.sim.data.search(person.Name, ""))
	pages := (total + 9) / 10

	if g.p().MustHas("#tianai-captcha") || g.p().MustHas(".tianai-captcha-ui-overlay") || g.status() != "" {
		t.Fatal("widget or pill before any search")
	}
	start := time.Now()
	g.search(person.Name)
	// The widget is loading (the create answer takes 1 s): no #tianai-captcha yet.
	g.waitJS("the loading widget", `() => document.querySelector('#tianai-captcha-parent').style.display === 'block'`)
	if g.p().MustHas("#tianai-captcha") {
		t.Errorf("#tianai-captcha present before its images loaded (%s after the click)", time.Since(start))
	}
	c := g.waitWidget("")
	if c.Type != gkwSlider || !g.p().MustHas("#tianai-captcha.tianai-captcha-slider #tianai-captcha-slider-img-div #tianai-captcha-slider-move-img") {
		t.Fatalf("slider widget: %+v", c)
	}
	if g.status() != "" {
		t.Errorf("pill while the first widget waits: %q", g.status())
	}
	g.shoot("slider")
	g.drag(c.SliderXCSS)
	g.waitJS("the success pill", `(s) => document.querySelector('#tianai-rest-captcha-status').textContent === s`, gkwPassedText)
	g.waitRows(1)
	if g.p().MustHas(".tianai-captcha-ui-overlay") || g.p().MustHas("#tianai-captcha") {
		t.Error("widget left open after success")
	}
	if got, _ := g.sim.GkwCaptcha(c.ID); got.State != "passed" {
		t.Errorf("challenge state %s", got.State)
	}

	// Page 1: ten real rows, the pager text and the hidden total.
	if n := len(g.p().MustElements("#tbody-result a.View")); n != 10 {
		t.Errorf("%d rows with a.View on page 1", n)
	}
	if got, want := g.text("#page-div .page-text"), fmt.Sprintf("1/%d页", pages); got != want {
		t.Errorf("pager text %q, want %q", got, want)
	}
	if got := g.text("#totalSize-show"); got != fmt.Sprint(total) {
		t.Errorf("#totalSize-show %q, want %d", got, total)
	}
	onclick := g.p().MustElement("#tbody-result a.View").MustAttribute("onclick")
	if onclick == nil || !strings.HasPrefix(*onclick, "openZhcxDetail('"+person.Name+"','(") {
		t.Errorf("onclick %v", onclick)
	}

	// Further pages reuse the token; serial numbers restart; the last page is padded.
	g.p().MustElement("#next-btn").MustClick()
	g.waitRows(2)
	if dir := os.Getenv("COURTSIM_SHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "results-page.png"), g.p().MustScreenshotFullPage(), 0o644)
	}
	if first := g.p().MustElement("#tbody-result tr td").MustText(); first != "1" {
		t.Errorf("first serial on page 2: %q", first)
	}
	if pages < 3 {
		t.Fatalf("the multipage person has %d pages, want 3 or more", pages)
	}
	g.p().MustElement("#last-btn").MustClick()
	g.waitRows(pages)
	real := total - (pages-1)*10
	rows := g.p().MustEval(`() => Array.from(document.querySelectorAll('#tbody-result tr')).map(r =>
		({view: !!r.querySelector('a.View'), hidden: getComputedStyle(r).visibility === 'hidden'}))`).Arr()
	if len(rows) != 10 {
		t.Errorf("%d rows on the last page, want 10 with placeholders", len(rows))
	}
	for i, r := range rows {
		if view, hidden := r.Get("view").Bool(), r.Get("hidden").Bool(); view != (i < real) || hidden != (i >= real) {
			t.Errorf("last page row %d: a.View %v, hidden %v", i, view, hidden)
		}
	}
	if !g.p().MustEval(`() => document.querySelector('#next-btn').disabled`).Bool() {
		t.Error("#next-btn enabled on the last page")
	}
	if g.p().MustEval(`() => document.querySelector('#pre-btn').disabled`).Bool() {
		t.Error("#pre-btn disabled on the last page")
	}
	if id := g.p().MustElement("#captchaId").MustProperty("value").Str(); id != c.ID {
		t.Errorf("a page turn made a new challenge: %s", id)
	}

	// A detail opens in a new tab through sessionStorage.
	wait := g.p().WaitOpen()
	g.p().MustElement("#tbody-result a.View").MustClick()
	tab, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	tab = tab.Timeout(15 * time.Second)
	tab.MustElement("#detail-sections table")
	sections := tab.MustElement("#detail-sections").MustText()
	masked := person.IDNumber[:10] + "****" + person.IDNumber[14:]
	for _, want := range []string{"被执行人姓名/名称：", person.Name, "身份证号码/组织机构代码：", masked, "法定代表人或者负责人姓名：", "—", "执行法院：", "失信被执行人行为具体情形：", "发布时间："} {
		if !strings.Contains(sections, want) {
			t.Errorf("#detail-sections lacks %q", want)
		}
	}
	if cells := tab.MustEval(`() => document.querySelector('#detail-sections tr').innerHTML`).Str(); !strings.HasPrefix(cells, "<td><strong>被执行人姓名/名称：</strong></td><td>") {
		t.Errorf("detail row %q", cells)
	}
	if !tab.MustEval(`() => document.querySelector('#detail-error').classList.contains('hide')`).Bool() {
		t.Error("#detail-error shown")
	}
	if !strings.HasSuffix(tab.MustInfo().URL, "/gkw/html/zhzxgk/detail.html") {
		t.Errorf("detail URL %s", tab.MustInfo().URL)
	}
	tabID := tab.TargetID
	// The click closes the tab, so its own answer may never come: the loop below checks the effect.
	tab.MustElementR("button", "关闭").Click(proto.InputMouseButtonLeft, 1)
	closed := false
	for range 50 {
		still := false
		for _, p := range browser.MustPages() {
			still = still || p.TargetID == tabID
		}
		if !still {
			closed = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !closed {
		t.Error("关闭 did not close the detail tab")
	}

	// No match, on the same token: the sentence with the name.
	clean, _ := g.sim.People("clean", 1)
	g.search(clean[0].Name)
	want := "在全国法院（包含地方各级法院）范围内没有找到 " + clean[0].Name + " 相关的结果。"
	g.waitJS("the no-match sentence", `(s) => document.querySelector('#tbody-result').textContent === s`, want)
	if g.p().MustHas("#tbody-result a.View") || g.p().MustHas(".tianai-captcha-ui-overlay") {
		t.Error("rows or a widget with the no-match sentence")
	}
}

func gkwWrongDragThenWords(t *testing.T, browser *rod.Browser) {
	g := openGkwTab(t, browser, gkwBrowserConfig())
	listed, _ := g.sim.People("listed", 1)
	g.search(listed[0].Name)
	slider := g.waitWidget("")
	// Well off the target (the tolerance is 6 CSS px).
	off := slider.SliderXCSS + 40
	if off > 240 {
		off = slider.SliderXCSS - 40
	}
	g.drag(off)
	g.waitJS("the failure pill", `(s) => document.querySelector('#tianai-rest-captcha-status').textContent === s`, gkwFailedText)
	if got, _ := g.sim.GkwCaptcha(slider.ID); got.State != "failed" {
		t.Errorf("state after a wrong drag: %s", got.State)
	}
	words := g.waitWidget(slider.ID)
	if words.Type != gkwWordClick || !g.p().MustHas("#tianai-captcha.tianai-captcha-word-click #tianai-captcha-tip-img") {
		t.Fatalf("after a failed slider: %+v", words)
	}
	if g.p().MustHas("#tianai-captcha-slider-img-div") {
		t.Error("slider parts in a word-click widget")
	}
	g.shoot("word-click")
	g.clickPoints(words.Points)
	g.waitJS("the success pill", `(s) => document.querySelector('#tianai-rest-captcha-status').textContent === s`, gkwPassedText)
	g.waitRows(1)
	if got, _ := g.sim.GkwCaptcha(words.ID); got.State != "passed" {
		t.Errorf("word click state %s", got.State)
	}
}

func gkwTokenExpiry(t *testing.T, browser *rod.Browser) {
	cfg := gkwBrowserConfig()
	cfg.GkwTokenUses = 1
	cfg.GkwCaptchaDelay = time.Second // long enough to look at the loading state
	g := openGkwTab(t, browser, cfg)
	multi, _ := g.sim.People("multipage", 1)
	g.search(multi[0].Name)
	first := g.waitWidget("")
	g.drag(first.SliderXCSS)
	g.waitRows(1)

	// The second search (a page turn) is one too many: failed markup, stale pill, a new widget.
	g.p().MustElement("#next-btn").MustClick()
	g.waitJS("the failed-search markup", `(w) => document.querySelector('#tbody-result').innerHTML.includes(w)`, gkwWarningHTML)
	for _, sel := range []string{"#page-div", "#result-thead"} {
		if !g.p().MustEval(`s => document.querySelector(s).classList.contains('hide')`, sel).Bool() {
			t.Errorf("%s not hidden after a failed search", sel)
		}
	}
	if g.status() != gkwExpiredText {
		t.Errorf("pill after expiry %q", g.status())
	}
	// While the new widget loads, and once it is ready, the stale text stays.
	if g.p().MustEval(`() => getComputedStyle(document.querySelector('#tianai-captcha-loading')).display`).Str() == "none" {
		t.Error("the new widget is not loading")
	}
	if g.status() != gkwExpiredText {
		t.Errorf("pill while the new widget loads %q", g.status())
	}
	second := g.waitWidget(first.ID)
	g.shoot("expired")
	if g.status() != gkwExpiredText {
		t.Errorf("pill with the new widget ready %q", g.status())
	}
	g.drag(second.SliderXCSS)
	// The page turn runs by itself once verified.
	g.waitJS("the success pill", `(s) => document.querySelector('#tianai-rest-captcha-status').textContent === s`, gkwPassedText)
	g.waitRows(2)

	// A detail on a dead token: the list stays visible behind the new widget.
	g.sim.gkw.mu.Lock()
	g.sim.gkw.m[second.ID].dead = true
	g.sim.gkw.mu.Unlock()
	wait := g.p().WaitOpen()
	g.p().MustElement("#tbody-result a.View").MustClick()
	third := g.waitWidget(second.ID)
	if g.status() != gkwExpiredText {
		t.Errorf("pill after a detail on a dead token %q", g.status())
	}
	if n := len(g.p().MustElements("#tbody-result a.View")); n == 0 {
		t.Error("old results gone after a detail on a dead token")
	}
	g.drag(third.SliderXCSS)
	tab, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	tab.Timeout(15 * time.Second).MustElement("#detail-sections table")
}

func gkwShixin(t *testing.T, browser *rod.Browser) {
	g := openGkwPage(t, browser, gkwBrowserConfig(), "/gkw/html/shixin/index.html")
	multi, _ := g.sim.People("multipage", 1)
	g.p().MustElement("#pProvince").MustSelect("全部")
	g.search(multi[0].Name)
	c := g.waitWidget("")
	g.drag(c.SliderXCSS)
	g.waitRows(1)
	g.p().MustElement("#next-btn").MustClick()
	g.waitRows(2)
	if v := g.p().MustElement("#myform #currentPage").MustProperty("value").Str(); v != "2" {
		t.Errorf("#currentPage in #myform = %q", v)
	}
}
