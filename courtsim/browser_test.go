package courtsim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
)

const chromiumBin = "/usr/bin/chromium"

// TestClassicPageInChromium drives the search page in a real headless
// Chromium: through the WAF, captcha loaded, search, detail, wrong code.
func TestClassicPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Fatalf("chromium is required: %v", err)
	}
	cfg := DefaultConfig()
	cfg.SideDoor = true // WAF stays on: the browser must pass it on its own
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

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

	page := browser.MustPage("").Timeout(20 * time.Second)
	page.MustNavigate(srv.URL + "/shixin/")
	waitSearchPage(t, page)
	page.MustWait(`() => { const i = document.querySelector('#captchaImg');
		return i.complete && i.naturalWidth === 160 && i.naturalHeight === 70 }`)
	src := page.MustElement("#captchaImg").MustProperty("src").String()
	if !regexp.MustCompile(`/shixin/captchaNew\.do\?captchaId=[0-9A-Za-z]{32}&random=0\.\d+$`).MatchString(src) {
		t.Errorf("captcha src %q", src)
	}
	captchaID := page.MustElement("#captchaId").MustProperty("value").String()
	answer := func() string {
		resp, err := http.Get(srv.URL + "/__sim/captcha?captchaId=" + captchaID)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("side door captcha: %d", resp.StatusCode)
		}
		return string(b)
	}
	code := answer()

	// The notice window covers the search button.
	covered := page.MustEval(`() => { const r = document.querySelector('button.btn-zxgk').getBoundingClientRect();
		const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return document.querySelector('#frameImg').contains(e) }`).Bool()
	if !covered {
		t.Error("#frameImg does not cover the search button")
	}
	page.MustEval(`() => { document.querySelector('#frameImg').style.display = 'none' }`)

	multi, _ := sim.People("multipage", 1)
	person := multi[0]
	page.MustEval(`(name, code) => { document.querySelector('#pName').value = name;
		document.querySelector('#yzm').value = code }`, person.Name, code)
	if answer() != code {
		t.Error("setting values from script loaded a new captcha")
	}
	page.MustElement("button.btn-zxgk").MustClick()
	page.MustElement("#tbody-result a.View")
	if n := len(page.MustElements("#tbody-result tr")); n != 10 {
		t.Errorf("%d rows on the first page, want 10", n)
	}
	first := page.MustElement("#tbody-result tr").MustText()
	if !strings.HasPrefix(first, "1") || !strings.Contains(first, person.Name) || !strings.Contains(first, "查看") {
		t.Errorf("first row %q", first)
	}
	if pager := page.MustElement("#result-pager").MustText(); !regexp.MustCompile(`第 1/\d+ 页，共 \d+ 条`).MatchString(pager) {
		t.Errorf("pager %q", pager)
	}

	page.MustElement("#tbody-result a.View").MustClick()
	page.MustElement("#show").MustWaitVisible()
	detail := page.MustElement("#partyDetail").MustText()
	for _, want := range []string{"被执行人姓名/名称：", person.Name, "身份证号码/组织机构代码：", person.IDNumber[:10] + "****" + person.IDNumber[14:], "执行法院：", "发布时间："} {
		if !strings.Contains(detail, want) {
			t.Errorf("#partyDetail lacks %q", want)
		}
	}
	page.MustElement("#show .close-show").MustClick()

	// A wrong code gives the error text and popup.
	page.MustEval(`() => { document.querySelector('#yzm').value = '0000' }`)
	page.MustElement("button.btn-zxgk").MustClick()
	page.MustWait(`() => document.querySelector('#tbody-result').textContent === '验证码错误或验证码已过期。'`)
	page.MustElement("#layui-layer1").MustWaitVisible()
	if page.MustHas("#tbody-result a.View") {
		t.Error("rows left after the error")
	}
	page.MustElement("#layui-layer1 .layui-layer-btn0").MustClick()

	// Clicking the image, or clearing the name, issues a new code.
	waitNewCode := func(old string) string {
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if c := answer(); c != old {
				return c
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("no new captcha code")
		return ""
	}
	page.MustElement("#captchaImg").MustClick()
	code = waitNewCode(code)
	page.MustEval(`() => { const n = document.querySelector('#pName'); n.value = ''; n.dispatchEvent(new Event('input')) }`)
	waitNewCode(code)
}

// waitSearchPage waits for the search page behind the WAF. The first answer
// is the WAF's 412 page, whose script sets the cookie and reloads; a query
// made during that reload fails, so poll with Has, which does not wait.
func waitSearchPage(t *testing.T, page *rod.Page) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if has, _, err := page.Has("button.btn-zxgk"); err == nil && has {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the search page did not come up behind the WAF")
}
