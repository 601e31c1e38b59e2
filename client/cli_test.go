package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/captcha"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/vault"
	"github.com/shixincheck/shixincheck/web"
	"github.com/shixincheck/shixincheck/workdays"
)

// testRedisDB is this package's Redis database: tests flush it, and only it.
const testRedisDB = 15

// testDaemon is the daemon's HTTP side with its real ledger and captcha
// queue. No worker runs: a test records checks in the ledger itself, as a
// worker would.
type testDaemon struct {
	*httptest.Server
	ledger *ledger.Store
	token  string // an API token of a clerk's account
	clerk  ledger.Account

	mu   sync.Mutex
	auth []string // Authorization headers received
}

// The checks' task queue is not under test here.
func (d *testDaemon) Enqueue(context.Context, []int64) error { return nil }
func (d *testDaemon) Wake([]int64)                           {}
func (d *testDaemon) Drop([]int64)                           {}

func newTestDaemon(t *testing.T) *testDaemon {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("redis at 127.0.0.1:6379 (run scripts/setup.sh): %v", err)
	}
	t.Cleanup(func() { rdb.Close() })
	store, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), vault.Random())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cal, err := workdays.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &testDaemon{ledger: store}
	srv := &web.Server{
		Ledger: store, Rules: rules.Default(), Captcha: captcha.New(rdb, captcha.Config{Operator: web.Operator, CSRFToken: web.CSRFToken}),
		Metrics: http.NotFoundHandler(), Tasks: d, Calendar: cal,
		DueDate: func(done time.Time) (*time.Time, error) {
			due, err := cal.AddWorkdays(done, 7)
			return &due, err
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	d.clerk, d.token = newToken(t, store, "clerk1", shixincheck.RoleClerk)
	h := srv.Handler()
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.auth = append(d.auth, r.Header.Get("Authorization"))
		d.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

// newToken makes an account with roles (or takes the one of that login) and
// an API token for it, as a clerk would on the daemon's /account page.
func newToken(t *testing.T, store *ledger.Store, login string, roles ...shixincheck.Role) (ledger.Account, string) {
	t.Helper()
	ctx := context.Background()
	a, err := store.Account(ctx, login)
	if errors.Is(err, ledger.ErrNotFound) {
		hash, herr := access.HashPassword("a-password-" + login)
		if herr != nil {
			t.Fatal(herr)
		}
		a, err = store.CreateAccount(ctx, ledger.Account{Login: login, DisplayName: login, Roles: roles, PasswordHash: hash})
	}
	if err != nil {
		t.Fatal(err)
	}
	secret := access.NewSecret("sxc_")
	if _, err := store.CreateToken(ctx, a.ID, "cli test", access.HashSecret(secret)); err != nil {
		t.Fatal(err)
	}
	return a, secret
}

// people of the test lists: names and valid ID numbers, which must never
// appear in what the command line writes.
var people = []struct{ name, id string }{
	{"张三", "110105199003071239"},
	{"李四", "420202198506151235"},
	{"王芳", "330106199201011234"},
	{"赵六", "440305198812121235"},
}

func writeList(t *testing.T, rows ...[2]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("姓名,身份证号\n")
	for _, r := range rows {
		b.WriteString(r[0] + "," + r[1] + "\n")
	}
	path := filepath.Join(t.TempDir(), "名单.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func goodList(t *testing.T) string {
	var rows [][2]string
	for _, p := range people {
		rows = append(rows, [2]string{p.name, p.id})
	}
	return writeList(t, rows...)
}

var submitFlags = []string{"--item", "公职人员招录资格审查", "--unit", "政协黄石市委员会办公室", "--handler", "王经办", "--phone", "0714-6666666"}

// cli runs one command against the daemon, with the server and token from
// the environment as a clerk would set them.
func (d *testDaemon) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	env := map[string]string{"SHIXINCHECK_SERVER": d.URL, "SHIXINCHECK_TOKEN": d.token}
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args[0], args[1:], func(k string) string { return env[k] }, &out, &errOut)
	stdout, stderr = out.String(), errOut.String()
	for _, p := range people {
		if strings.Contains(stdout+stderr, p.name) || strings.Contains(stdout+stderr, p.id) {
			t.Errorf("%s: the output holds personal data:\n%s\n%s", args[0], stdout, stderr)
		}
	}
	return stdout, stderr, err
}

// record saves a check for every candidate of the batch, as a worker would;
// outcome picks each one's outcome by its position.
func (d *testDaemon) record(t *testing.T, batchID string, gap time.Duration, outcome func(i int) shixincheck.Outcome) {
	t.Helper()
	ctx := context.Background()
	cands, err := d.ledger.Candidates(ctx, batchID)
	if err != nil {
		t.Error(err)
		return
	}
	for i, c := range cands {
		time.Sleep(gap)
		check := shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel, Site: "classic",
			Outcome: outcome(i), Measure: "按正常政策程序办理", RuleVersion: "v"}
		switch check.Outcome {
		case shixincheck.OutcomeListed:
			check.HitCount, check.Measure = 1, "取消报名资格"
		case shixincheck.OutcomeFailed:
			check.Measure, check.ErrorKind = "需人工核查", shixincheck.KindTimeout
		}
		if _, _, err := d.ledger.SaveCheck(ctx, check); err != nil {
			t.Error(err)
			return
		}
	}
}

func allClear(int) shixincheck.Outcome { return shixincheck.OutcomeClear }

// onlyBatch waits for the one batch the daemon holds and returns its id.
func (d *testDaemon) onlyBatch(t *testing.T) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		bs, err := d.ledger.Batches(context.Background(), 0)
		if err != nil {
			t.Error(err)
			return ""
		}
		if len(bs) == 1 {
			return bs[0].ID
		}
	}
	t.Error("no batch was stored")
	return ""
}

func TestSubmitPrintsBatchAndURL(t *testing.T) {
	d := newTestDaemon(t)
	list := goodList(t)
	stdout, stderr, err := d.cli(t, append([]string{"submit", list}, submitFlags...)...)
	if err != nil {
		t.Fatalf("submit: %v\n%s", err, stderr)
	}
	id := d.onlyBatch(t)
	if want := id + "\n" + d.URL + "/batches/" + id + "\n"; stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "已提交：4 人") {
		t.Errorf("stderr = %q", stderr)
	}
	b, err := d.ledger.Batch(context.Background(), id)
	if err != nil || b.Item != "公职人员招录（聘）及考核" || b.Phone != "0714-6666666" {
		t.Errorf("batch = %+v, %v", b, err)
	}
	d.mu.Lock()
	if len(d.auth) != 1 || d.auth[0] != "Bearer "+d.token {
		t.Errorf("Authorization headers %q, want the token from SHIXINCHECK_TOKEN", d.auth)
	}
	d.mu.Unlock()

	// Flags first and the file last work too; the same list again is the same batch.
	_, flagToken := newToken(t, d.ledger, d.clerk.Login)
	stdout, stderr, err = d.cli(t, append(append([]string{"submit"}, submitFlags...), "--token", flagToken, list)...)
	if err != nil || !strings.HasPrefix(stdout, id+"\n") || !strings.Contains(stderr, "不重复核查") {
		t.Errorf("second submit: %v, %q, %q", err, stdout, stderr)
	}
	d.mu.Lock()
	if last := d.auth[len(d.auth)-1]; last != "Bearer "+flagToken {
		t.Errorf("--token: Authorization %q", last)
	}
	d.mu.Unlock()
}

func TestSubmitBadFileListsEveryProblem(t *testing.T) {
	d := newTestDaemon(t)
	list := writeList(t, [2]string{"张三", "110105199003071230"}, [2]string{"李四", "420202198506151235"}, [2]string{"王芳1", "330106199201011234"})
	flags := []string{"--item", "公职人员招录资格审查", "--unit", "政协黄石市委员会办公室", "--handler", "王经办"} // no --phone
	_, stderr, err := d.cli(t, append([]string{"submit", list}, flags...)...)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(err.Error(), "未提交") {
		t.Fatalf("err = %v, want exit code 1", err)
	}
	for _, want := range []string{
		"  联系电话: 联系电话不能为空\n",
		"  第2行 身份证号: 校验位错误（最后一位与前17位不符），请核对是否录错\n",
		"  第4行 姓名: ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if bs, _ := d.ledger.Batches(context.Background(), 0); len(bs) != 0 {
		t.Errorf("a refused file stored %d batches", len(bs))
	}

	// The same person twice is refused, or merged on request.
	twice := writeList(t, [2]string{"张三", "110105199003071239"}, [2]string{"李四", "420202198506151235"}, [2]string{"张三", "110105199003071239"})
	if _, stderr, err := d.cli(t, append([]string{"submit", twice}, submitFlags...)...); err == nil || !strings.Contains(stderr, "第4行") {
		t.Errorf("duplicate row: %v\n%s", err, stderr)
	}
	_, stderr, err = d.cli(t, append([]string{"submit", twice, "--merge-duplicates"}, submitFlags...)...)
	if err != nil || !strings.Contains(stderr, "已提交：2 人") || !strings.Contains(stderr, "第4行与第2行是同一人，已合并") {
		t.Errorf("--merge-duplicates: %v\n%s", err, stderr)
	}

	// Usage errors: no file, an unreadable one.
	if _, _, err := d.cli(t, append([]string{"submit"}, submitFlags...)...); err == nil || !strings.Contains(err.Error(), "名单文件") {
		t.Errorf("no file: %v", err)
	}
	if _, _, err := d.cli(t, append([]string{"submit", filepath.Join(t.TempDir(), "none.csv")}, submitFlags...)...); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSubmitWaitFollowsToTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		outcome  func(int) shixincheck.Outcome
		wantCode int // 0: no error
		wantLast string
	}{
		{"all clear", allClear, 0, "[####################] 4/4 失信 0 需人工 0 待验证码 0"},
		{"failures", func(i int) shixincheck.Outcome {
			return []shixincheck.Outcome{shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeFailed, shixincheck.OutcomeReview}[i]
		}, ExitFailures, "[####################] 4/4 失信 1 需人工 2 待验证码 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDaemon(t)
			var workers sync.WaitGroup
			workers.Add(1)
			go func() {
				defer workers.Done()
				d.record(t, d.onlyBatch(t), 60*time.Millisecond, tc.outcome)
			}()
			_, stderr, err := d.cli(t, append([]string{"submit", goodList(t), "--wait", "--interval", "20ms"}, submitFlags...)...)
			workers.Wait()
			var exit *ExitError
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("err = %v\n%s", err, stderr)
			case tc.wantCode != 0 && (!errors.As(err, &exit) || exit.Code != tc.wantCode):
				t.Fatalf("err = %v, want exit code %d\n%s", err, tc.wantCode, stderr)
			}
			// Not a terminal: plain lines, no carriage return; the first
			// one at once, the last one when the batch is done.
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if strings.Contains(stderr, "\r") || len(lines) < 3 {
				t.Fatalf("stderr = %q", stderr)
			}
			if !strings.HasPrefix(lines[1], "[") || !strings.HasPrefix(lines[len(lines)-1], tc.wantLast) {
				t.Errorf("progress lines = %q, want the last to start %q", lines[1:], tc.wantLast)
			}
		})
	}
}

// ttyRecorder stands in for a terminal: it keeps each write apart.
type ttyRecorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *ttyRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func TestProgressBarRedrawsOneLineOnATerminal(t *testing.T) {
	tty := &ttyRecorder{}
	bar := &progressBar{w: tty, tty: true}
	now := time.Now()
	b := Batch{Progress: Progress{Total: 100, Done: 35, Listed: 2, Review: 1}, CaptchaBacklog: 13, StateText: "核查中"}
	bar.update(b, now)
	bar.update(b, now) // unchanged: nothing drawn
	b.Progress.Done, b.CaptchaBacklog = 36, 3
	bar.update(b, now)
	b.Progress.Done, b.Progress.Failed, b.CaptchaBacklog, b.StateText = 100, 1, 0, "已完成"
	bar.update(b, now)
	bar.finish()
	want := []string{
		"\r[#######-------------] 35/100 失信 2 需人工 1 待验证码 13 核查中\x1b[K",
		"\r[#######-------------] 36/100 失信 2 需人工 1 待验证码 3 核查中\x1b[K",
		"\r[####################] 100/100 失信 2 需人工 2 待验证码 0 已完成\x1b[K",
		"\n",
	}
	if strings.Join(tty.writes, "|") != strings.Join(want, "|") {
		t.Errorf("writes =\n%q\nwant\n%q", tty.writes, want)
	}
	if progressLine(Batch{}) != "[--------------------] 0/0 失信 0 需人工 0 待验证码 0" {
		t.Errorf("empty batch: %q", progressLine(Batch{}))
	}
}

func TestProgressLinesWhenNotATerminal(t *testing.T) {
	var out bytes.Buffer
	bar := &progressBar{w: &out, every: time.Minute}
	t0 := time.Now()
	b := Batch{Progress: Progress{Total: 4}}
	for i, at := range []time.Duration{0, time.Second, 2 * time.Second, 61 * time.Second, 62 * time.Second} {
		b.Progress.Done = i
		bar.update(b, t0.Add(at))
	}
	bar.finish()
	// Written: the first, the one a minute later, and the last held back.
	want := "[--------------------] 0/4 失信 0 需人工 0 待验证码 0\n" +
		"[###############-----] 3/4 失信 0 需人工 0 待验证码 0\n" +
		"[####################] 4/4 失信 0 需人工 0 待验证码 0\n"
	if out.String() != want {
		t.Errorf("lines =\n%s\nwant\n%s", out.String(), want)
	}

	// Nothing changes for a long while: a line every minute all the same.
	out.Reset()
	bar = &progressBar{w: &out, every: time.Minute}
	for _, at := range []time.Duration{0, 30 * time.Second, 60 * time.Second, 90 * time.Second} {
		bar.update(b, t0.Add(at))
	}
	bar.finish()
	if n := strings.Count(out.String(), "] 4/4 "); n != 2 {
		t.Errorf("an unchanged batch over 90 s gave %d lines, want 2:\n%s", n, out.String())
	}
}

// TestFollowDrawsOnATerminal runs --wait's loop against the daemon with a
// terminal: one line redrawn until the batch is done, then a newline.
func TestFollowDrawsOnATerminal(t *testing.T) {
	d := newTestDaemon(t)
	if _, _, err := d.cli(t, append([]string{"submit", goodList(t)}, submitFlags...)...); err != nil {
		t.Fatal(err)
	}
	id := d.onlyBatch(t)
	go d.record(t, id, 50*time.Millisecond, allClear)
	tty := &ttyRecorder{}
	b, err := follow(context.Background(), New(d.URL, d.token, 5*time.Second), id, tty, true, 10*time.Millisecond, 0)
	if err != nil || b.State != StateDone {
		t.Fatalf("follow: %+v, %v", b, err)
	}
	tty.mu.Lock()
	defer tty.mu.Unlock()
	n := len(tty.writes)
	if n < 3 || tty.writes[n-1] != "\n" || !strings.Contains(tty.writes[n-2], "] 4/4 ") {
		t.Fatalf("writes = %q", tty.writes)
	}
	for _, w := range tty.writes[:n-1] {
		if !strings.HasPrefix(w, "\r[") || strings.Contains(w, "\n") {
			t.Errorf("write %q is not a redraw of the line", w)
		}
	}
}

func TestStatus(t *testing.T) {
	d := newTestDaemon(t)
	if _, _, err := d.cli(t, append([]string{"submit", goodList(t)}, submitFlags...)...); err != nil {
		t.Fatal(err)
	}
	id := d.onlyBatch(t)
	d.record(t, id, 0, func(i int) shixincheck.Outcome {
		return []shixincheck.Outcome{shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeClear, shixincheck.OutcomeFailed}[i]
	})
	stdout, _, err := d.cli(t, "status", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"批次     " + id + "\n", "（done_with_failures）\n", "进度     4/4\n", "失信     1 人（1 条记录）\n",
		"无记录   2 人\n", "需人工   1 人（待判断 0，未能查询 1）\n", "应用事项 公职人员招录（聘）及考核\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, err = d.cli(t, "status", "--json", id)
	var raw struct {
		ID         string            `json:"id"`
		Candidates []json.RawMessage `json:"candidates"`
	}
	if err != nil || json.Unmarshal([]byte(stdout), &raw) != nil || raw.ID != id || len(raw.Candidates) != 4 {
		t.Errorf("status --json: %v, %.200s", err, stdout)
	}

	_, _, err = d.cli(t, "status", "bnope")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || !strings.Contains(err.Error(), "没有找到") {
		t.Errorf("unknown batch: %v", err)
	}
}

func TestWorkbookDownload(t *testing.T) {
	d := newTestDaemon(t)
	if _, _, err := d.cli(t, append([]string{"submit", goodList(t)}, submitFlags...)...); err != nil {
		t.Fatal(err)
	}
	id := d.onlyBatch(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "登记表.xlsx")

	// Still running: refused, with the way out named; no file left behind.
	_, _, err := d.cli(t, "workbook", id, "-o", path)
	if err == nil || !strings.Contains(err.Error(), "尚未核查完毕") || !strings.Contains(err.Error(), "--partial") {
		t.Fatalf("running batch: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused download left %d files", len(entries))
	}

	if _, _, err := d.cli(t, "workbook", id, "-o", path, "--partial"); err != nil {
		t.Fatalf("--partial: %v", err)
	}
	isXLSX := func() {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			t.Fatalf("%s is not a workbook: %v", path, err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("workbook mode %v, want 0600: it holds full ID numbers", st.Mode().Perm())
		}
	}
	isXLSX()
	partial, _ := os.ReadFile(path)

	d.record(t, id, 0, allClear)
	_, stderr, err := d.cli(t, "workbook", id, "-o", path)
	if err != nil || !strings.Contains(stderr, "登记表已保存") {
		t.Fatalf("done batch: %v, %q", err, stderr)
	}
	isXLSX()
	if full, _ := os.ReadFile(path); bytes.Equal(full, partial) {
		t.Error("the workbook of the done batch is the partial one")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the workbook only", len(entries))
	}
}

func TestDaemonOutOfReach(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), "status", []string{"b1", "--server", addr}, func(string) string { return "" }, &out, &errOut)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "无法连接 "+addr) || !strings.Contains(err.Error(), "--server") {
		t.Errorf("daemon down: %v", err)
	}

	// A daemon that does not answer in time.
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer stuck.Close()
	err = Run(context.Background(), "status", []string{"b1", "--server", stuck.URL, "--timeout", "100ms"}, func(string) string { return "" }, &out, &errOut)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "100ms 内没有应答") {
		t.Errorf("daemon stuck: %v", err)
	}
}

func TestHelpIsNoError(t *testing.T) {
	for _, cmd := range []string{"submit", "status", "workbook"} {
		var out, errOut bytes.Buffer
		env := map[string]string{"SHIXINCHECK_TOKEN": "secret-token"}
		if err := Run(context.Background(), cmd, []string{"-h"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
			t.Errorf("%s -h: %v", cmd, err)
		}
		if !strings.Contains(errOut.String(), "-server") || strings.Contains(errOut.String(), "secret-token") {
			t.Errorf("%s -h (must not show the token): %q", cmd, errOut.String())
		}
	}
}

// TestTokenRefused: without a valid token, or with one of an account that
// is not a clerk's, the daemon refuses and the CLI says to fix the token.
func TestTokenRefused(t *testing.T) {
	d := newTestDaemon(t)
	_, auditorToken := newToken(t, d.ledger, "auditor1", shixincheck.RoleAuditor)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "sxc_" + strings.Repeat("A", 43), http.StatusUnauthorized},
		{"an auditor's token", auditorToken, http.StatusForbidden},
	} {
		var out, errOut bytes.Buffer
		env := map[string]string{"SHIXINCHECK_SERVER": d.URL, "SHIXINCHECK_TOKEN": tc.token}
		err := Run(context.Background(), "submit", append([]string{goodList(t)}, submitFlags...), func(k string) string { return env[k] }, &out, &errOut)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != tc.status || !strings.Contains(err.Error(), "SHIXINCHECK_TOKEN") {
			t.Errorf("%s: %v, want %d naming the token", tc.name, err, tc.status)
		}
		if tc.token != "" && strings.Contains(err.Error()+errOut.String(), tc.token) {
			t.Errorf("%s: the token is printed", tc.name)
		}
	}
	if bs, _ := d.ledger.Batches(context.Background(), 0); len(bs) != 0 {
		t.Errorf("refused submissions stored %d batches", len(bs))
	}
}
