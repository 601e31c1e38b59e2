package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"

	shixincheck "github.com/shixincheck/shixincheck"
)

// TestUploadPagesInChromium drives the clerk's pages in a real browser: a bad
// list shows every problem by row and column, a good one leads to the batch
// page with masked names and a download link.
func TestUploadPagesInChromium(t *testing.T) {
	ts := newTestServer(t)
	bin, ok := launcher.LookPath()
	if !ok {
		t.Fatal("no Chromium on PATH (scripts/setup.sh installs Debian's)")
	}
	u := launcher.New().Bin(bin).Headless(true).NoSandbox(true).Set("disable-gpu").Leakless(false).MustLaunch()
	browser := rod.New().ControlURL(u).MustConnect()
	defer browser.MustClose()
	page := browser.MustPage(ts.URL + "/batches").Timeout(30 * time.Second)

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
	for i, c := range cands {
		check := shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel, Site: "classic",
			Outcome: shixincheck.OutcomeClear, Measure: "同等条件优先推荐", RuleVersion: "seed"}
		if i == 1 {
			check.Outcome, check.ErrorKind, check.Measure = shixincheck.OutcomeFailed, shixincheck.KindBlocked, shixincheck.NeedsPerson
		}
		ts.ledger.SaveCheck(context.Background(), check)
	}
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
