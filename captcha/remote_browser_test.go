package captcha

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"

	"github.com/shixincheck/shixincheck"
)

// widgetPNG draws a w x h picture of a made-up widget: a noisy background
// (as a photo would be, so the PNG has a realistic size), a track and a knob.
func widgetPNG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := byte(rnd.IntN(40))
			img.Set(x, y, color.RGBA{byte(x*200/w) + n, byte(y*200/h) + n, byte(seed*40) + n, 255})
		}
	}
	for y := h * 4 / 5; y < h*9/10; y++ {
		for x := range w {
			img.Set(x, y, color.RGBA{230, 230, 230, 255})
			if x < h/5 {
				img.Set(x, y, color.RGBA{40, 120, 220, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dataURLOf(img []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
}

// box is where the page shows the picture, in CSS px of the page.
type box struct{ Left, Top, Width, Height float64 }

// showingRound waits until page shows img as an interactive picture that can
// be acted on, without a reload, and returns where it is.
func showingRound(t testing.TB, page *rod.Page, img []byte) box {
	t.Helper()
	page.MustWait(`(want) => {
		const img = document.getElementById('captcha');
		const board = document.getElementById('board');
		return window.notReloaded && img.src === want && img.complete &&
			!document.getElementById('work').hidden && board.classList.contains('interactive') &&
			!board.classList.contains('stale');
	}`, dataURLOf(img))
	var b box
	if err := page.MustEval(`() => document.getElementById('captcha').getBoundingClientRect().toJSON()`).Unmarshal(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// at is the page position of the challenge's CSS point (x, y).
func (b box) at(ch shixincheck.Challenge, x, y float64) (float64, float64) {
	return b.Left + x*b.Width/ch.Width, b.Top + y*b.Height/ch.Height
}

func near(p shixincheck.Point, x, y float64) bool {
	// The page rounds to 0.1 CSS px of the challenge.
	return math.Abs(p.X-x) <= 0.11 && math.Abs(p.Y-y) <= 0.11
}

func openReviewPage(t testing.TB, b *rod.Browser, url string) *rod.Page {
	t.Helper()
	page := b.MustPage(url).Timeout(30 * time.Second)
	page.MustWaitLoad()
	page.MustEval(`() => { window.notReloaded = true }`)
	page.MustElementR("#status", "暂无待处理的验证码，正在等待")
	return page
}

// A person drags and clicks on the picture of a remote widget; the tab gets
// the real trajectory and timing in the widget's CSS space, and each next
// round replaces the picture on that person's page, not on another's.
func TestRemoteWidgetInBrowser(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, withCSP)
	browser := newBrowser(t)
	alice := openReviewPage(t, browser, srv.URL+"/captcha")

	// The tab's picture has twice the pixels of the widget's CSS size (a HiDPI screenshot).
	round := func(seed uint64) shixincheck.Challenge {
		return shixincheck.Challenge{Site: "gkw", Kind: shixincheck.ChallengeInteractive,
			Image: widgetPNG(t, 600, 400, seed), Width: 300, Height: 200, Session: "sess-remote"}
	}
	r1 := round(1)
	done := startSolve(t, ctx, q, r1)
	pos := showingRound(t, alice, r1.Image)
	if pos.Width != 600 || pos.Height != 400 {
		t.Fatalf("picture shown at %vx%v, want the 300x200 widget scaled 2x", pos.Width, pos.Height)
	}
	// Bob opens the page too: two people work the queue.
	bob := openReviewPage(t, browser, srv.URL+"/captcha")

	// A drag of 12 moves over about 480 ms, slowing down at the end.
	path := [][2]float64{{40, 150}, {52, 150.5}, {68, 151}, {86, 151.5}, {104, 152}, {120, 152},
		{134, 152.5}, {146, 153}, {155, 153}, {161, 153.2}, {165, 153.4}, {167, 153.4}, {168, 153.5}}
	alice.MustActivate() // bob's tab came to the front; input goes to alice's
	m := alice.Mouse
	m.MustMoveTo(pos.at(r1, path[0][0], path[0][1]))
	m.MustDown(proto.InputMouseButtonLeft)
	for _, p := range path[1:] {
		time.Sleep(40 * time.Millisecond)
		m.MustMoveTo(pos.at(r1, p[0], p[1]))
	}
	time.Sleep(40 * time.Millisecond)
	m.MustUp(proto.InputMouseButtonLeft)

	res := result(t, done)
	if res.err != nil || len(res.sol.Actions) != 1 || res.sol.Actions[0].Type != shixincheck.ActionDrag {
		t.Fatalf("Solve = %+v, %v; want one drag", res.sol, res.err)
	}
	pts := res.sol.Actions[0].Points
	if len(pts) < len(path) {
		t.Fatalf("drag has %d points, want at least the %d positions the mouse went through", len(pts), len(path))
	}
	j := 0 // every position, in order, in the challenge's CSS space
	for _, p := range pts {
		if j < len(path) && near(p, path[j][0], path[j][1]) {
			j++
		}
	}
	if j != len(path) || !near(pts[0], path[0][0], path[0][1]) || !near(pts[len(pts)-1], 168, 153.5) {
		t.Fatalf("drag points %v do not follow the path %v", pts, path)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].T <= pts[i-1].T {
			t.Fatalf("t not increasing at point %d: %v", i, pts)
		}
	}
	if span := pts[len(pts)-1].T - pts[0].T; pts[0].T != 0 || span < 300 || span > 2000 {
		t.Fatalf("drag lasts %d ms from t %d, want the real ~500 ms from 0", span, pts[0].T)
	}

	// The tab replays it and posts the next round: it replaces the picture on
	// alice's page, without a reload, and bob keeps waiting.
	r2 := round(2)
	done = startSolve(t, ctx, q, r2)
	pos = showingRound(t, alice, r2.Image)
	alice.MustElementR("#round", "第 2 步")
	if bob.MustElement("#work").MustProperty("hidden").Bool() != true {
		t.Fatal("bob's page shows something: alice's round went to him")
	}
	// Bob leaves. (A challenge that reaches a page in the very moment it
	// closes is lost to its lease; leave time for the server to see him go.)
	bob.MustClose()

	// Alt+R asks for a new picture: the tab's next round comes back to alice.
	if err := alice.KeyActions().Press(input.AltLeft).Type(input.KeyR).Do(); err != nil {
		t.Fatal(err)
	}
	if res := result(t, done); !errors.Is(res.err, shixincheck.ErrCaptchaRefresh) {
		t.Fatalf("Solve after Alt+R: err = %v, want ErrCaptchaRefresh", res.err)
	}
	r3 := round(3)
	done = startSolve(t, ctx, q, r3)
	pos = showingRound(t, alice, r3.Image)

	// A click on a character.
	m.MustMoveTo(pos.at(r3, 150, 60))
	m.MustClick(proto.InputMouseButtonLeft)
	res = result(t, done)
	if res.err != nil || len(res.sol.Actions) != 1 || res.sol.Actions[0].Type != shixincheck.ActionClick ||
		len(res.sol.Actions[0].Points) != 1 || !near(res.sol.Actions[0].Points[0], 150, 60) || res.sol.Actions[0].Points[0].T != 0 {
		t.Fatalf("Solve = %+v, %v; want a click at (150, 60)", res.sol, res.err)
	}
	alice.MustWait(`() => document.getElementById('answered').textContent === '2'`)

	// Typed text into the widget, with Enter.
	r4 := round(4)
	done = startSolve(t, ctx, q, r4)
	showingRound(t, alice, r4.Image)
	alice.MustElement("#answer").MustInput("京A")
	alice.Keyboard.MustType(input.Enter)
	res = result(t, done)
	if res.err != nil || len(res.sol.Actions) != 1 || res.sol.Actions[0].Type != shixincheck.ActionTypeText || res.sol.Actions[0].Text != "京A" {
		t.Fatalf("Solve = %+v, %v; want the typed text", res.sol, res.err)
	}

	// The site accepts: alice is free for anything at once. A text
	// challenge of the classic site still works on the same page.
	q.ReportOutcome(ctx, res.sol.ChallengeID, OutcomeAccepted)
	text := testPNG(t, 80)
	done = startSolve(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: text})
	alice.MustWait(`(want) => {
		const img = document.getElementById('captcha');
		return window.notReloaded && img.src === want && img.complete && img.width === 320 &&
			!document.getElementById('board').classList.contains('interactive') &&
			document.activeElement.id === 'answer' && document.activeElement.value === '';
	}`, dataURLOf(text))
	alice.Keyboard.MustType('a', 'b', '3', 'd', input.Enter)
	if res := result(t, done); res.err != nil || res.sol.Text != "ab3d" {
		t.Fatalf("Solve = %+v, %v; want the typed ab3d", res.sol, res.err)
	}
}

// BenchmarkRemoteRound measures, on the page, the time from a person's
// release of the mouse on a round's picture to the next round's picture
// being painted, with a tab that posts the next round at once (no replay):
// the POST, the queue, the waiting Solve, the next Solve, the long poll,
// the image decode and paint.
//
//	go test ./captcha -run '^$' -bench RemoteRound -benchtime 40x
func BenchmarkRemoteRound(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(b, Config{})
	srv := newServer(b, q, withCSP)
	page := openReviewPage(b, newBrowser(b), srv.URL+"/captcha")
	page.MustEval(`() => {
		window.rt = { t0: 0, shown: 0, took: 0 };
		document.addEventListener('pointerup', () => { window.rt.t0 = performance.now(); }, true);
		document.getElementById('captcha').addEventListener('load', () => {
			requestAnimationFrame(() => { window.rt.took = performance.now() - window.rt.t0; window.rt.shown++; });
		});
	}`)

	// Two 300x200 pictures at 1x, alternated so that each round is a new image.
	pics := [][]byte{widgetPNG(b, 300, 200, 7), widgetPNG(b, 300, 200, 8)}
	tabDone := make(chan struct{})
	go func() {
		defer close(tabDone)
		for i := 0; ctx.Err() == nil; i++ {
			q.Solve(ctx, shixincheck.Challenge{Site: "gkw", Kind: shixincheck.ChallengeInteractive,
				Image: pics[i%2], Width: 300, Height: 200, Session: "sess-bench"})
		}
	}()
	b.Cleanup(func() { cancel(); <-tabDone })

	page.MustWait(`() => window.rt.shown === 1`)
	var took []float64
	b.ResetTimer()
	for i := range b.N {
		pos := showingRound(b, page, pics[i%2])
		page.Mouse.MustMoveTo(pos.Left+pos.Width/2, pos.Top+pos.Height/2)
		page.Mouse.MustClick(proto.InputMouseButtonLeft)
		page.MustWait(`(n) => window.rt.shown === n`, i+2)
		took = append(took, page.MustEval(`() => window.rt.took`).Num())
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2], "ms-median")
	b.ReportMetric(took[len(took)*9/10], "ms-p90")
	b.ReportMetric(float64(len(pics[0])), "png-bytes")
}
