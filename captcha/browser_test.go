package captcha

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/launcher"

	"github.com/shixincheck/shixincheck"
)

// strictCSP is the policy the review page must work under: no inline script
// or style, images only from the page's origin or data: URLs.
const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func withCSP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strictCSP)
		h.ServeHTTP(w, r)
	})
}

// newBrowser starts the installed headless Chromium; rod never downloads one.
func newBrowser(t testing.TB) *rod.Browser {
	t.Helper()
	l := launcher.New().Bin("/usr/bin/chromium").NoSandbox(true).Headless(true)
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch chromium: %v", err)
	}
	t.Cleanup(l.Cleanup) // waits for the browser to exit, removes its profile
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		l.Kill()
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestReviewPageInBrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, withCSP)
	page := newBrowser(t).MustPage(srv.URL + "/captcha").Timeout(30 * time.Second)
	page.MustWaitLoad()
	page.MustEval(`() => { window.notReloaded = true }`)

	page.MustElementR("#status", "暂无待处理的验证码，正在等待")

	// showing waits until the page shows img, twice its size, with the
	// input empty and focused, and without a reload.
	showing := func(img []byte) {
		t.Helper()
		want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
		page.MustWait(`(want) => {
			const img = document.getElementById('captcha');
			return window.notReloaded && img.src === want && img.complete && img.width === 320 &&
				!document.getElementById('work').hidden &&
				document.activeElement.id === 'answer' && document.activeElement.value === '';
		}`, want)
	}
	text := func(id string) string {
		return page.MustElement("#" + id).MustText()
	}

	first := testPNG(t, 20)
	done := startSolve(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: first})
	showing(first)
	page.Keyboard.MustType('a', 'b', '3', 'd', input.Enter)
	if r := result(t, done); r.err != nil || r.sol.Text != "ab3d" {
		t.Fatalf("Solve = %+v, %v; want the typed ab3d", r.sol, r.err)
	}

	second := testPNG(t, 21)
	done = startSolve(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: second})
	showing(second)
	if got := text("answered"); got != "1" {
		t.Fatalf("answered count = %q, want 1", got)
	}

	// Esc skips: the only challenge comes straight back.
	page.Keyboard.MustType(input.Escape)
	page.MustWait(`() => document.getElementById('skipped').textContent === '1'`)
	showing(second)

	// Alt+R asks the tab for a new image.
	if err := page.KeyActions().Press(input.AltLeft).Type(input.KeyR).Do(); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done); !errors.Is(r.err, shixincheck.ErrCaptchaRefresh) {
		t.Fatalf("Solve after Alt+R: err = %v, want ErrCaptchaRefresh", r.err)
	}
	page.MustElementR("#status", "暂无待处理的验证码，正在等待")

	// An answer to a challenge that expired meanwhile: a notice, and on.
	third := testPNG(t, 22)
	done = startSolve(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: third})
	showing(third)
	id := page.MustEval(`() => document.getElementById('captcha').dataset.id`).Str()
	operator := page.MustEval(`() => sessionStorage.getItem('captcha-operator')`).Str()
	if err := q.Refresh(ctx, id, operator); err != nil { // another way for it to go away
		t.Fatal(err)
	}
	result(t, done)
	page.Keyboard.MustType('x', 'y', 'z', 'w', input.Enter)
	page.MustElementR("#notice", "已过期")
	page.MustElementR("#status", "暂无待处理的验证码，正在等待")
	if got := text("expired"); got != "1" {
		t.Fatalf("expired count = %q, want 1", got)
	}
	if got := text("answered"); got != "1" {
		t.Fatalf("answered count = %q, want still 1", got)
	}
}
