package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/xuri/excelize/v2"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/courtsim"
	"github.com/shixincheck/shixincheck/ledger"
)

// testRedisDB is this package's Redis database: tests flush it, and only it.
const testRedisDB = 12

// syncBuffer collects the daemon's log lines for the personal-data scan.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testEnv struct {
	sim  *courtsim.Sim
	cfg  Config
	logs *syncBuffer
}

func newTestEnv(t *testing.T, simCfg courtsim.Config) *testEnv {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("redis at 127.0.0.1:6379 (run scripts/setup.sh): %v", err)
	}
	rdb.Close()

	simCfg.SideDoor = true
	sim, err := courtsim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)

	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Ledger = cfg.DataDir + "/ledger.db"
	cfg.Redis = fmt.Sprintf("redis://127.0.0.1:6379/%d", testRedisDB)
	cfg.SiteURL = simSrv.URL
	cfg.Pace, cfg.FetchPace = 0, 0
	cfg.Tabs = 2
	cfg.CaptchaTimeout = time.Minute
	return &testEnv{sim: sim, cfg: cfg, logs: &syncBuffer{}}
}

func (e *testEnv) start(t *testing.T) *Daemon {
	t.Helper()
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := Start(context.Background(), e.cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// person acts as the captcha operator through the review API only: it reads
// the simulator's side door for the answer, and answers the first challenge
// wrong on purpose.
func person(ctx context.Context, t *testing.T, op api, sim *courtsim.Sim, answered, wrong *atomic.Int32) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", op.base+"/api/v1/captcha/next?wait=2s", nil)
		resp, err := op.do(req)
		if err != nil {
			return
		}
		if resp.StatusCode == http.StatusNoContent {
			resp.Body.Close()
			continue
		}
		var ch struct {
			ID      string `json:"id"`
			SiteRef string `json:"site_ref"`
			Image   string `json:"image"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ch)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("captcha next: status %d, %v", resp.StatusCode, err)
			return
		}
		if !strings.HasPrefix(ch.Image, "data:image/png;base64,") {
			t.Errorf("captcha image is not a PNG data URL: %.40q", ch.Image)
		}
		answer, ok := sim.CaptchaAnswer(ch.SiteRef)
		if !ok {
			t.Errorf("side door knows no captcha %q", ch.SiteRef)
			return
		}
		if wrong.Load() == 0 {
			wrong.Add(1)
			answer = "zzzz" // the simulator never uses 'z'-only codes of this shape
			if a, _ := sim.CaptchaAnswer(ch.SiteRef); strings.EqualFold(a, answer) {
				answer = "yyyy"
			}
		}
		body := strings.NewReader(fmt.Sprintf(`{"answer":%q}`, answer))
		req, _ = http.NewRequestWithContext(ctx, "POST", op.base+"/api/v1/captcha/"+ch.ID, body)
		req.Header.Set("Content-Type", "application/json")
		resp, err = op.do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("captcha answer: status %d", resp.StatusCode)
		}
		answered.Add(1)
	}
}

func upload(t *testing.T, clerk api, csv string) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{
		"item": "公职人员招录（聘）及考核", "unit": "政协黄石市委员会办公室", "handler": "王经办", "phone": "0714-6666666",
	} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "candidates.csv")
	io.WriteString(fw, csv)
	mw.Close()
	req, _ := http.NewRequest("POST", clerk.base+"/api/v1/batches", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := clerk.do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

type batchJSON struct {
	ID         string          `json:"id"`
	State      string          `json:"state"`
	Progress   ledger.Progress `json:"progress"`
	Candidates []struct {
		Row      int    `json:"row"`
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
		Outcome  string `json:"outcome"`
		Hits     int    `json:"hits"`
		Measure  string `json:"measure"`
		Result   string `json:"result"`
		CheckID  int64  `json:"check_id"`
	} `json:"candidates"`
}

func getBatch(t *testing.T, clerk api, id string) batchJSON {
	t.Helper()
	_, body := get(t, clerk, "/api/v1/batches/"+id)
	var b batchJSON
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// get fetches path as the account of a.
func get(t *testing.T, a api, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.base+path, nil)
	resp, err := a.do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestEndToEnd runs the whole path: upload, queue, Chromium on the simulated
// court site, captchas answered through the review API (one wrong), hit
// counts, measures, ledger, workbook, metrics, restart.
func TestEndToEnd(t *testing.T) {
	simCfg := courtsim.DefaultConfig()
	simCfg.Seed = 7
	simCfg.People = 2000
	simCfg.CaptchaUses = 12 // a few candidates per captcha, so expiry by use happens mid-batch
	env := newTestEnv(t, simCfg)
	d := env.start(t)
	clerk, operator := newAPI(t, d, "clerk", shixincheck.RoleClerk), newAPI(t, d, "operator", shixincheck.RoleOperator)

	type want struct {
		name, id, outcome, measure string
		hits                       int
	}
	var people []want
	add := func(kind string, n int, outcome, measure string, listed bool) {
		ps, err := env.sim.People(kind, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			w := want{name: p.Name, id: p.IDNumber, outcome: outcome, measure: measure}
			if listed {
				w.hits = p.Records
			}
			people = append(people, w)
		}
	}
	add("listed", 2, "listed", "取消报名资格", true)
	add("multipage", 1, "listed", "取消报名资格", true)
	add("namesake", 2, "clear", "按正常政策程序办理", false)
	add("clean", 2, "clear", "按正常政策程序办理", false)
	var csv strings.Builder
	csv.WriteString("姓名,身份证号\n")
	for _, p := range people {
		fmt.Fprintf(&csv, "%s,%s\n", p.name, p.id)
	}

	ctx, stopPerson := context.WithCancel(context.Background())
	var answered, wrong atomic.Int32
	var personDone sync.WaitGroup
	personDone.Add(1)
	go func() { defer personDone.Done(); person(ctx, t, operator, env.sim, &answered, &wrong) }()

	code, out := upload(t, clerk, csv.String())
	if code != http.StatusCreated {
		t.Fatalf("upload: status %d: %v", code, out)
	}
	id := out["id"].(string)

	var b batchJSON
	deadline := time.Now().Add(90 * time.Second)
	for {
		b = getBatch(t, clerk, id)
		if b.Progress.Done == b.Progress.Total && b.Progress.Total > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not finished: %+v\nlogs:\n%s", b.Progress, env.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopPerson()
	personDone.Wait()

	if b.Progress.Total != len(people) || b.Progress.Failed != 0 || b.Progress.Review != 0 {
		t.Fatalf("progress = %+v, want %d done, none failed", b.Progress, len(people))
	}
	if b.State != "done" {
		t.Errorf("state = %q, want done", b.State)
	}
	for i, c := range b.Candidates {
		w := people[i]
		if c.Row != i+2 {
			t.Errorf("candidate %d: row %d, want %d", i, c.Row, i+2)
		}
		if c.Outcome != w.outcome || c.Hits != w.hits || c.Measure != w.measure {
			t.Errorf("row %d: outcome %s hits %d measure %s; want %s %d %s", c.Row, c.Outcome, c.Hits, c.Measure, w.outcome, w.hits, w.measure)
		}
		if strings.Contains(c.IDNumber, w.id[6:14]) || c.Name == w.name {
			t.Errorf("row %d: batch API shows personal data unmasked", c.Row)
		}
	}
	if wrong.Load() != 1 {
		t.Fatalf("the wrong answer was never given")
	}

	// The site rejected the wrong answer: the metric counts it, and a fresh challenge followed.
	_, metricsText := get(t, api{base: clerk.base}, "/metrics")
	for _, m := range []string{
		`shixincheck_captcha_answers_total{result="rejected",site="classic"} 1`,
		`shixincheck_checks_total{outcome="listed"} 3`,
		`shixincheck_checks_total{outcome="clear"} 4`,
		"shixincheck_captcha_backlog 0",
		"asynq_queue_size",
	} {
		if !bytes.Contains(metricsText, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	// The filing workbook.
	code, xlsx := get(t, clerk, "/api/v1/batches/"+id+"/workbook")
	if code != http.StatusOK {
		t.Fatalf("workbook: status %d: %s", code, xlsx)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	sheet := f.GetSheetName(0)
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	header := -1
	for i, r := range rows {
		if len(r) > 0 && r[0] == "应用事项" {
			header = i
			break
		}
	}
	if header < 0 {
		t.Fatalf("workbook has no header row: %q", rows)
	}
	wantHeader := []string{"应用事项", "查询对象", "查询对象身份识别码（个人身份证号码）", "查询渠道", "查询结果", "查询时间", "应用措施"}
	if strings.Join(rows[header], "|") != strings.Join(wantHeader, "|") {
		t.Errorf("header = %q", rows[header])
	}
	if len(rows[0]) == 0 || rows[0][0] != "信用信息核查应用情况登记表" {
		t.Errorf("workbook title row = %q", rows[0])
	}
	today := time.Now().In(time.FixedZone("UTC+8", 8*60*60)).Format("2006年1月2日")
	if top := fmt.Sprint(rows[:header]); !strings.Contains(top, "政协黄石市委员会办公室") || !strings.Contains(top, "王经办") || !strings.Contains(top, "0714-6666666") {
		t.Errorf("workbook header lacks unit, 经办人 or phone: %q", rows[:header])
	}
	data := rows[header+1:]
	if len(data) != len(people) {
		t.Fatalf("workbook has %d rows, want %d", len(data), len(people))
	}
	for i, r := range data {
		w := people[i]
		result := "无“失信被执行人”记录"
		if w.hits > 0 {
			result = fmt.Sprintf("有%d条“失信被执行人”记录", w.hits)
		}
		if r[0] != "公职人员招录（聘）及考核" || r[1] != w.name || r[2] != w.id || r[3] != "失信被执行人信息公开网" || r[4] != result || r[6] != w.measure {
			t.Errorf("workbook row %d = %q, want item, name, id, %s, %s", i, r, result, w.measure)
		}
		// Checked a moment ago: today in Beijing, unless the run crossed midnight.
		if r[5] != today && r[5] != time.Now().In(time.FixedZone("UTC+8", 8*60*60)).Format("2006年1月2日") {
			t.Errorf("workbook row %d 查询时间 = %q, want %s", i, r[5], today)
		}
		cell, _ := excelize.CoordinatesToCellName(3, header+2+i)
		if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
			t.Errorf("ID cell %s has type %v, want text", cell, typ)
		}
	}

	// The finished batch was filed at once, due 7 working days after its checks.
	var filings struct {
		Filings []struct {
			ID      int64      `json:"ID"`
			BatchID string     `json:"BatchID"`
			DueDate *time.Time `json:"DueDate"`
			Status  string     `json:"status"`
		} `json:"filings"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, body := get(t, clerk, "/api/v1/filings")
		if err := json.Unmarshal(body, &filings); err != nil {
			t.Fatal(err)
		}
		if len(filings.Filings) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(filings.Filings) != 1 || filings.Filings[0].BatchID != id || filings.Filings[0].DueDate == nil {
		t.Fatalf("filings = %+v, want the batch's, with a due date", filings)
	}
	if due := *filings.Filings[0].DueDate; !due.After(time.Now().AddDate(0, 0, 6)) || due.After(time.Now().AddDate(0, 0, 21)) {
		t.Errorf("due date %v is not 7 working days ahead", due)
	}
	if code, _ := get(t, clerk, fmt.Sprintf("/api/v1/filings/%d/workbook", filings.Filings[0].ID)); code != http.StatusOK {
		t.Errorf("filing workbook: status %d", code)
	}

	// The same upload again is the same batch: nobody is checked twice.
	code, again := upload(t, clerk, csv.String())
	if code != http.StatusOK || again["id"] != id || again["created"] != false {
		t.Errorf("re-upload: status %d %v, want 200 with the same batch", code, again)
	}

	// Restart: the ledger survives and nothing is queued again.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = env.start(t)
	defer d.Close()
	clerk.base = d.URL() // a new port; the token lives in the ledger
	if again := getBatch(t, clerk, id); again.Progress != b.Progress {
		t.Errorf("after restart progress = %+v, want %+v", again.Progress, b.Progress)
	}

	// No name or ID number in any log line, in the ledger's files on disk
	// (evidence from real Chromium included), or in the audit trail, which
	// holds the upload and the downloads and whose chain holds.
	logs := env.logs.String()
	var disk []byte
	for _, f := range []string{env.cfg.Ledger, env.cfg.Ledger + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	if !bytes.Contains(disk, []byte("王经办")) { // the clerk's own name is kept in the clear: the scan reads data
		t.Error("the ledger's files do not show the batch's 经办人: the scan reads nothing")
	}
	var trail strings.Builder
	if err := d.ledger.AuditEntries(context.Background(), func(e ledger.AuditEntry) error {
		fmt.Fprintf(&trail, "%s %s %s %s\n", e.Actor, e.Action, e.Target, e.Detail)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"clerk upload batch " + id, "clerk download batch " + id} {
		if !strings.Contains(trail.String(), want) {
			t.Errorf("audit trail lacks %q:\n%s", want, trail.String())
		}
	}
	if _, err := d.ledger.VerifyAudit(context.Background()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
	for _, p := range people {
		if strings.Contains(logs, p.name) || strings.Contains(logs, p.id) {
			t.Errorf("logs contain personal data of row with name length %d", len([]rune(p.name)))
		}
		if bytes.Contains(disk, []byte(p.name)) || bytes.Contains(disk, []byte(p.id)) {
			t.Errorf("the ledger's files hold personal data of row with name length %d in the clear", len([]rune(p.name)))
		}
		if strings.Contains(trail.String(), p.name) || strings.Contains(trail.String(), p.id) {
			t.Errorf("the audit trail holds personal data")
		}
		if bytes.Contains(metricsText, []byte(p.name)) || bytes.Contains(metricsText, []byte(p.id)) {
			t.Errorf("/metrics holds personal data")
		}
	}
}

// api is the daemon's HTTP API as one account sees it.
type api struct {
	base  string
	token string // API token; "" for the public routes
}

func (a api) do(req *http.Request) (*http.Response, error) {
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return http.DefaultClient.Do(req)
}

// newAPI makes an account with roles and an API token for it, as an admin
// would, and returns the API as that account.
func newAPI(t *testing.T, d *Daemon, login string, roles ...shixincheck.Role) api {
	t.Helper()
	ctx := context.Background()
	hash, err := access.HashPassword("e2e-password-" + login)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.ledger.CreateAccount(ctx, ledger.Account{Login: login, DisplayName: login, Roles: roles, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	secret := access.NewSecret("sxc_")
	if _, err := d.ledger.CreateToken(ctx, a.ID, "e2e", access.HashSecret(secret)); err != nil {
		t.Fatal(err)
	}
	return api{base: d.URL(), token: secret}
}
