package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
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

	fill(good)
	if !strings.Contains(page.MustInfo().URL, "/batches/b") {
		t.Fatalf("after upload at %s", page.MustInfo().URL)
	}
	rows := page.MustElement("#candidates").MustText()
	if !strings.Contains(rows, "张*") || !strings.Contains(rows, "110105********002X") || strings.Contains(rows, "11010519491231002X") {
		t.Errorf("candidates table = %q", rows)
	}
	if page.MustElement("#state").MustText() != "核查中" {
		t.Errorf("state = %q", page.MustElement("#state").MustText())
	}
	if href := page.MustElement(`a.button`).MustProperty("href").String(); !strings.Contains(href, "/workbook") {
		t.Errorf("download link = %q", href)
	}
}
