package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
)

// newBrowser starts headless Chromium for one test.
func newBrowser(t *testing.T) *rod.Browser {
	t.Helper()
	bin, ok := launcher.LookPath()
	if !ok {
		t.Fatal("no Chromium on PATH (scripts/setup.sh installs Debian's)")
	}
	u := launcher.New().Bin(bin).Headless(true).NoSandbox(true).Set("disable-gpu").Leakless(false).MustLaunch()
	browser := rod.New().ControlURL(u).MustConnect()
	t.Cleanup(browser.MustClose)
	return browser
}

// browserLogIn makes an account with roles and logs in on the page, which
// shows the log-in form (a page that needs a log-in sends the browser
// there). The cookies are the default ones, Secure and __Host-: Chromium
// keeps them for http://127.0.0.1.
func browserLogIn(t *testing.T, ts *testServer, page *rod.Page, roles ...shixincheck.Role) ledger.Account {
	t.Helper()
	a := ts.newAccount(t, roles...)
	// On a busy machine the log-in page may still be loading: a navigation
	// wait armed now could take its load for the log-in's own.
	page.MustWaitLoad()
	if !strings.Contains(page.MustInfo().URL, "/login") {
		t.Fatalf("expected the log-in page, at %s", page.MustInfo().URL)
	}
	page.MustElement(`input[name=login]`).MustInput(a.Login)
	page.MustElement(`input[name=password]`).MustInput(testPassword(a.Login))
	page.MustElement(`#login button`).MustClick()
	// Away from /login means the log-in went through (a refusal renders
	// /login again). The URL changes when the next page commits.
	for deadline := time.Now().Add(30 * time.Second); strings.Contains(page.MustInfo().URL, "/login"); {
		if time.Now().After(deadline) {
			t.Fatalf("log-in in the browser: still at %s", page.MustInfo().URL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	page.MustWaitLoad()
	return a
}

// TestUploadPagesInChromium drives the clerk's pages in a real browser: a bad
// list shows every problem by row and column, a good one leads to the batch
// page with masked names and a download link.
func TestUploadPagesInChromium(t *testing.T) {
	ts := newTestServer(t)
	browser := newBrowser(t)
	page := browser.MustPage(ts.URL + "/batches").Timeout(60 * time.Second)
	browserLogIn(t, ts, page, shixincheck.RoleClerk)
	if !strings.HasSuffix(page.MustInfo().URL, "/batches") {
		t.Fatalf("after log-in at %s, want back at /batches", page.MustInfo().URL)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(bad, []byte("姓名,身份证号\n<b>张三</b>,110105194912310021\n"), 0o600)
	os.WriteFile(good, []byte(goodCSV), 0o600)

	fill := func(file string) {
		page.MustElement(`select[name=item]`).MustSelect("优秀政协委员评选")
		page.MustElement(`input[name=unit]`).MustSelectAllText().MustInput("政协黄石市委员会办公室")
		page.MustElement(`input[name=handler]`).MustSelectAllText().MustInput("王经办")
		page.MustElement(`input[name=phone]`).MustSelectAllText().MustInput("0714-6666666")
		page.MustElement(`input[type=file]`).MustSetFiles(file)
		wait := page.MustWaitNavigation()
		page.MustElement(`form.upload button`).MustClick()
		wait()
	}

	fill(bad)
	problems := page.MustElement("#problems").MustText()
	if !strings.Contains(problems, "校验位") || !strings.Contains(problems, "身份证号") {
		t.Errorf("problems shown = %q", problems)
	}
	// The form keeps what the clerk typed.
	if v := page.MustElement(`input[name=unit]`).MustProperty("value").String(); v != "政协黄石市委员会办公室" {
		t.Errorf("unit after error = %q", v)
	}
	// The clerk downloads their own list with the errors marked in it.
	downloads := t.TempDir()
	wait := browser.WaitDownload(downloads)
	page.MustElement(`#annotate input[type=file]`).MustSetFiles(bad)
	page.MustElement(`#annotate button`).MustClick()
	info := wait()
	marked, err := os.ReadFile(filepath.Join(downloads, info.GUID))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.SuggestedFilename, ".xlsx") || !cellsContain(t, marked, "校验位") || !cellsContain(t, marked, "错误说明") {
		t.Errorf("annotated download %q lacks the error column", info.SuggestedFilename)
	}

	fill(good)
	if !strings.Contains(page.MustInfo().URL, "/batches/b") {
		t.Fatalf("after upload at %s", page.MustInfo().URL)
	}
	rows := page.MustElement("#candidates").MustText()
	if !strings.Contains(rows, "张*") || !strings.Contains(rows, "110105********002X") || strings.Contains(rows, "11010519491231002X") {
		t.Errorf("candidates table = %q", rows)
	}
	state := func() string { return page.MustElement("#state").MustText() }
	if state() != "排队中" {
		t.Errorf("state = %q", state())
	}
	if href := page.MustElement(`a#download`).MustProperty("href").String(); !strings.Contains(href, "/workbook") {
		t.Errorf("download link = %q", href)
	}

	// Pause and resume with the page's buttons.
	click := func(sel string) {
		wait := page.MustWaitNavigation()
		page.MustElement(sel).MustClick()
		wait()
	}
	if page.MustElement("#resume").MustVisible() {
		t.Error("resume offered for a running batch")
	}
	click("#pause")
	if state() != "已暂停" || !page.MustElement("#resume").MustVisible() || page.MustElement("#pause").MustVisible() {
		t.Errorf("after pause: state %q", state())
	}
	click("#resume")
	if state() != "排队中" {
		t.Errorf("after resume: state %q", state())
	}

	// Checks recorded behind the page's back show up without a reload.
	page.MustEval(`() => { window.sameDocument = true }`)
	id := page.MustElement("#batch").MustAttribute("data-id")
	cands, _ := ts.ledger.Candidates(context.Background(), *id)
	ts.recordChecks(t, *id, func(i int, c *shixincheck.Check) {
		if i == 1 {
			c.Outcome, c.ErrorKind, c.Measure = shixincheck.OutcomeFailed, shixincheck.KindBlocked, shixincheck.NeedsPerson
		}
	})
	page.Timeout(15 * time.Second).MustWait(`() => document.getElementById("state").textContent.startsWith("已完成")`)
	if !page.MustEval(`() => window.sameDocument === true`).Bool() {
		t.Error("the page reloaded instead of updating in place")
	}
	counts := page.MustElement("#counts").MustText()
	if !strings.Contains(counts, "已完成 2 / 2") || !strings.Contains(page.MustElement("#candidates").MustText(), "查询未完成") {
		t.Errorf("counts = %q", counts)
	}
	// Retry the failed one.
	if !page.MustElement("#retry").MustVisible() {
		t.Fatal("no retry button for a batch with a failed check")
	}
	before := len(ts.enqueued)
	click("#retry")
	if state() != "核查中" || len(ts.enqueued) != before+1 || ts.enqueued[before] != cands[1].ID {
		t.Errorf("after retry: state %q, enqueued %v", state(), ts.enqueued[before:])
	}
}

// TestValidatingAndRetryInChromium: while the upload's POST is in flight
// (validation is part of it: the batch exists only once its file is valid)
// the page shows 校验中 and keeps the clerk from sending it twice; a batch
// done with only checks for a person's review offers no retry.
func TestValidatingAndRetryInChromium(t *testing.T) {
	ts := newTestServer(t)
	browser := newBrowser(t)
	page := browser.MustPage(ts.URL + "/batches").Timeout(60 * time.Second)
	browserLogIn(t, ts, page, shixincheck.RoleClerk)
	good := filepath.Join(t.TempDir(), "good.csv")
	os.WriteFile(good, []byte(goodCSV), 0o600)

	// While a navigation is pending Chromium holds back every command to the
	// page's scripts, so the page is seen as the clerk sees it: in
	// screenshots, which the browser takes itself.
	shot := func() image.Image {
		img, err := png.Decode(bytes.NewReader(page.MustScreenshot()))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	same := func(a, b image.Image, r image.Rectangle) bool {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if a.At(x, y) != b.At(x, y) {
					return false
				}
			}
		}
		return true
	}
	page.MustElement(`select[name=item]`).MustSelect("优秀政协委员评选")
	page.MustElement(`input[name=unit]`).MustInput("政协黄石市委员会办公室")
	page.MustElement(`input[name=handler]`).MustInput("王经办")
	page.MustElement(`input[name=phone]`).MustInput("0714-6666666")
	page.MustElement(`input[type=file]`).MustSetFiles(good)
	button, status := page.MustElement("#upload-button"), page.MustElement("#upload-status")
	if status.MustVisible() {
		t.Error("校验中 shown before any upload")
	}
	button.MustHover() // where the click will leave the mouse
	// The page as it should look while validating, drawn by the test, and
	// the area of the button and the status.
	page.MustEval(`() => { document.getElementById("upload-status").hidden = false; document.getElementById("upload-button").disabled = true }`)
	if !strings.Contains(status.MustText(), "校验中") {
		t.Errorf("status text %q", status.MustText())
	}
	area := image.Rectangle{}
	for _, el := range []*rod.Element{button, status} {
		b := el.MustShape().Box()
		area = area.Union(image.Rect(int(b.X), int(b.Y), int(b.X+b.Width)+1, int(b.Y+b.Height)+1))
	}
	validating := shot()
	area = area.Intersect(validating.Bounds())
	page.MustEval(`() => { document.getElementById("upload-status").hidden = true; document.getElementById("upload-button").disabled = false }`)
	if same(shot(), validating, area) {
		t.Fatal("the page looks the same with and without the status: the check below could not fail")
	}

	entered, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	t.Cleanup(func() { released.Do(func() { close(release) }) }) // before the server's Close, which waits for the held request
	ts.mu.Lock()
	ts.hold = func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/batches" {
			close(entered)
			<-release
		}
	}
	ts.mu.Unlock()
	wait := page.MustWaitNavigation()
	button.MustClick()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the upload never reached the server")
	}
	// The request is held: the page shows 校验中 and a disabled button.
	for deadline := time.Now().Add(10 * time.Second); !same(shot(), validating, area); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("while the upload is validated, the page does not show 校验中 with the button disabled")
		}
	}
	if bs, _ := ts.ledger.Batches(context.Background(), 0); len(bs) != 0 {
		t.Errorf("%d batches exist while the upload is validated", len(bs))
	}
	released.Do(func() { close(release) })
	wait()
	ts.mu.Lock()
	ts.hold = nil
	ts.mu.Unlock()
	if !strings.Contains(page.MustInfo().URL, "/batches/b") {
		t.Fatalf("after the upload at %s", page.MustInfo().URL)
	}

	// One check for a person's review, one clear: done with failures, but
	// nothing failed to retry.
	id := page.MustElement("#batch").MustAttribute("data-id")
	ts.recordChecks(t, *id, func(i int, c *shixincheck.Check) {
		if i == 0 {
			c.Outcome, c.Measure = shixincheck.OutcomeReview, shixincheck.NeedsPerson
		}
	})
	page.Timeout(15 * time.Second).MustWait(`() => document.getElementById("batch").dataset.state === "done_with_failures"`)
	if page.MustElement("#retry").MustVisible() {
		t.Error("retry offered live for a batch with no failed check")
	}
	page.MustReload().MustWaitLoad()
	if state := page.MustElement("#batch").MustAttribute("data-state"); *state != "done_with_failures" || page.MustElement("#retry").MustVisible() {
		t.Error("retry offered on the page of a batch with no failed check")
	}
}

// xssPayloads are names and fields that would run script if a page put them
// into its HTML unescaped.
var xssPayloads = []string{
	`<img src=x onerror="window.xss=1">`,
	`<script>window.xss=1</script>`,
	`"><svg onload=window.xss=1>`,
	`<img src=x onerror=alert(1)>`,
}

// TestXSSInertInChromium shows payloads in every field a page renders (a
// batch's item, unit and handler, candidates' names stored behind intake's
// back, a filing, the upload error list echoing a bad file and form) in
// real Chromium: no script runs, no dialog opens, the text shows as typed.
func TestXSSInertInChromium(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ids := []string{"11010519491231002X", "420202198001011237", "330106199201011234", "440305198812121235"}
	var cands []shixincheck.Candidate
	for i, p := range xssPayloads {
		cands = append(cands, shixincheck.Candidate{Row: i + 2, Name: p, IDNumber: ids[i], Item: xssPayloads[2]})
	}
	b, cands, _, err := ts.ledger.CreateBatch(ctx, shixincheck.Batch{ID: "bxss0000000000001", ContentKey: "xss", Item: xssPayloads[2],
		Unit: xssPayloads[0], Handler: xssPayloads[1], Phone: xssPayloads[3], CreatedAt: time.Now()}, cands)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if _, _, err := ts.ledger.SaveCheck(ctx, shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: xssPayloads[3], RuleVersion: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ts.ledger.CreateBatchFiling(ctx, b.ID, func(done time.Time) (*time.Time, error) { return &done, nil })
	if err != nil {
		t.Fatal(err)
	}

	browser := newBrowser(t)
	page := browser.MustPage(ts.URL + "/batches/" + b.ID).Timeout(60 * time.Second)
	var dialogs atomic.Int32
	go page.EachEvent(func(e *proto.PageJavascriptDialogOpening) {
		dialogs.Add(1)
		proto.PageHandleJavaScriptDialog{Accept: true}.Call(page)
	})()
	browserLogIn(t, ts, page, shixincheck.RoleClerk)
	inert := func(where string) {
		t.Helper()
		page.MustWaitLoad()
		if v := page.MustEval(`() => typeof window.xss`).String(); v != "undefined" {
			t.Errorf("%s: window.xss is %s: a payload ran", where, v)
		}
		// The page's policy forbids inline script, so an escaping mistake
		// would not run: look for the payloads' elements instead.
		if n := page.MustEval(`() => document.querySelectorAll('img[src="x"], svg, script:not([src])').length`).Int(); n != 0 {
			t.Errorf("%s: %d payload elements in the page", where, n)
		}
		if n := dialogs.Load(); n != 0 {
			t.Errorf("%s: %d dialogs opened", where, n)
		}
	}
	text := func(sel string) string { return page.MustElement(sel).MustText() }

	// The batch page: item, unit, handler as typed; names masked, then unmasked on request.
	inert("batch page")
	meta := text("dl.meta")
	for _, p := range xssPayloads[:3] {
		if !strings.Contains(meta, p) {
			t.Errorf("batch page does not show %q literally: %q", p, meta)
		}
	}
	for _, btn := range page.MustElements("button.unmask") {
		btn.MustClick()
	}
	page.MustWait(`() => [...document.querySelectorAll("button.unmask")].every(b => b.textContent === "已显示")`)
	names := page.MustElements(`#candidates [data-field="name"]`)
	for i, p := range xssPayloads {
		if got := names[i].MustText(); got != p {
			t.Errorf("unmasked name %d = %q, want %q", i, got, p)
		}
	}
	inert("batch page, unmasked")

	// The ledger's results.
	page.MustNavigate(ts.URL + "/ledger")
	inert("ledger page")
	wait := page.MustWaitNavigation()
	page.MustElement(`#ledger-search button[type=submit]:not([formaction])`).MustClick()
	wait()
	inert("ledger results")
	if rows := text("#results + table"); !strings.Contains(rows, xssPayloads[2]) || !strings.Contains(rows, xssPayloads[3]) {
		t.Errorf("ledger results do not show the item and measure literally: %q", rows)
	}
	page.MustElement("button.unmask").MustClick()
	page.MustWait(`() => document.querySelector("button.unmask").textContent === "已显示"`)
	inert("ledger results, unmasked")

	// The filing page.
	page.MustNavigate(fmt.Sprintf("%s/filings/%d", ts.URL, f.ID))
	inert("filing page")
	if meta := text("dl.meta"); !strings.Contains(meta, xssPayloads[0]) || !strings.Contains(meta, xssPayloads[1]) {
		t.Errorf("filing page does not show unit and handler literally: %q", meta)
	}

	// The upload error list: intake refuses the names and echoes the form.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("姓名,身份证号\n"+strings.ReplaceAll(xssPayloads[0], `"`, `""`)+",11010519491231002X\n"), 0o600)
	page.MustNavigate(ts.URL + "/batches")
	page.MustElement(`input[name=unit]`).MustInput(xssPayloads[2])
	page.MustElement(`input[name=handler]`).MustInput(xssPayloads[1])
	page.MustElement(`input[name=phone]`).MustInput("0714-6666666")
	page.MustElement(`input[type=file]`).MustSetFiles(bad)
	wait = page.MustWaitNavigation()
	page.MustElement(`form.upload button`).MustClick()
	wait()
	inert("upload error list")
	if problems := text("#problems"); !strings.Contains(problems, "姓名含有不能使用的字符“<”") {
		t.Errorf("error list = %q", problems)
	}
	if v := page.MustElement(`input[name=unit]`).MustProperty("value").String(); v != xssPayloads[2] {
		t.Errorf("unit echoed as %q", v)
	}
	if v := page.MustElement(`#annotate input[name=handler]`).MustProperty("value").String(); v != xssPayloads[1] {
		t.Errorf("handler echoed in the annotate form as %q", v)
	}
}

// TestCaptchaReviewWithSessionInChromium: a logged-in operator answers a
// captcha on the review page, whose POST carries the page's CSRF token; the
// queue sees the account as the operator.
func TestCaptchaReviewWithSessionInChromium(t *testing.T) {
	ts := newTestServer(t)
	browser := newBrowser(t)
	page := browser.MustPage(ts.URL + "/captcha").Timeout(60 * time.Second)
	browserLogIn(t, ts, page, shixincheck.RoleOperator)
	if !strings.HasSuffix(page.MustInfo().URL, "/captcha") {
		t.Fatalf("after log-in at %s", page.MustInfo().URL)
	}
	if tok := page.MustElement(`meta[name="csrf-token"]`).MustAttribute("content"); tok == nil || *tok == "" {
		t.Fatal("the review page has no CSRF token")
	}
	solved := make(chan shixincheck.Solution, 1)
	go func() {
		sol, err := ts.srv.Captcha.Solve(context.Background(), shixincheck.Challenge{Site: "classic", SiteRef: "c1", Image: tinyPNG(t)})
		if err != nil {
			t.Error(err)
		}
		solved <- sol
	}()
	page.MustElement("#captcha[data-id]")
	page.MustElement("#answer").MustInput("ab3d")
	page.MustElement("#answer-form button[type=submit]").MustClick()
	select {
	case sol := <-solved:
		if sol.Text != "ab3d" {
			t.Errorf("solution = %+v", sol)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the answer never reached the queue")
	}
}
