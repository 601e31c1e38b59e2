package web

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
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/captcha"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/vault"
	"github.com/shixincheck/shixincheck/workdays"
)

// testRedisDB is this package's Redis database: tests flush it, and only it.
const testRedisDB = 14

type testServer struct {
	*httptest.Server
	ledger *ledger.Store
	dbPath string // the ledger's SQLite file
	srv    *Server
	clerk  *client // a logged-in clerk: send and postBatch use it

	mu       sync.Mutex
	enqueued []int64
	woken    []int64
	dropped  []int64
	now      time.Time // the server's clock: setNow changes it
	accounts int       // accounts made, for unique logins
	// hold, when set, is called before each request is served: a test
	// holds a request in flight to see the page while it waits.
	hold func(*http.Request)
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(func() { rdb.Close() })
	dbPath := filepath.Join(t.TempDir(), "ledger.db")
	store, err := ledger.Open(ctx, dbPath, vault.Random())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ts := &testServer{ledger: store, dbPath: dbPath}
	cal, err := workdays.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.now = time.Now()
	srv := &Server{
		Calendar: cal,
		DueDate: func(done time.Time) (*time.Time, error) {
			d, err := cal.AddWorkdays(done, 7)
			return &d, err
		},
		Now: func() time.Time {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			return ts.now
		},
		Ledger:  store,
		Rules:   rules.Default(),
		Captcha: captcha.New(rdb, captcha.Config{Operator: Operator, CSRFToken: CSRFToken}),
		Metrics: http.NotFoundHandler(),
		Tasks:   ts,
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ts.srv = srv
	handler := srv.Handler()
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		hold := ts.hold
		ts.mu.Unlock()
		if hold != nil {
			hold(r)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	ts.clerk = ts.login(t, shixincheck.RoleClerk)
	return ts
}

// setNow sets the server's clock.
func (ts *testServer) setNow(now time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.now = now
}

// testServer stands in for asynq's queue: it records what it is asked.
func (ts *testServer) Enqueue(ctx context.Context, ids []int64) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.enqueued = append(ts.enqueued, ids...)
	return nil
}

func (ts *testServer) Wake(ids []int64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.woken = append(ts.woken, ids...)
}

func (ts *testServer) Drop(ids []int64) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.dropped = append(ts.dropped, ids...)
}

func multipartBody(t *testing.T, fields map[string]string, filename, content string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		io.WriteString(fw, content)
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

var goodFields = map[string]string{"item": "公职人员招录资格审查", "unit": "政协黄石市委员会办公室", "handler": "王经办", "phone": "0714-6666666"}

const goodCSV = "姓名,身份证号\n张三,11010519491231002X\n李四,420202198001011237\n"

func (ts *testServer) postBatch(t *testing.T, fields map[string]string, filename, content string) (int, map[string]any) {
	t.Helper()
	body, ct := multipartBody(t, fields, filename, content)
	resp := ts.clerk.do(t, "POST", "/api/v1/batches", ct, body)
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestUploadCreatesBatchAndQueuesEveryone(t *testing.T) {
	ts := newTestServer(t)
	code, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	if code != http.StatusCreated || out["candidates"] != 2.0 || out["created"] != true {
		t.Fatalf("status %d, %v", code, out)
	}
	id := out["id"].(string)
	b, err := ts.ledger.Batch(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	// The alias was stored under the item's official name.
	if b.Item != "公职人员招录（聘）及考核" || b.Unit != goodFields["unit"] || b.Handler != "王经办" || b.Phone != "0714-6666666" {
		t.Errorf("batch = %+v", b)
	}
	if len(ts.enqueued) != 2 {
		t.Errorf("enqueued %v, want 2 candidates", ts.enqueued)
	}

	// The same upload again is the same batch, and its queued candidates are handed to the queue again (stable task ids make that harmless).
	code, again := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	if code != http.StatusOK || again["id"] != id || again["created"] != false {
		t.Errorf("re-upload: status %d, %v", code, again)
	}

	_, body := ts.send(t, "GET", "/api/v1/batches/"+id, "")
	var v batchView
	json.Unmarshal(body, &v)
	if v.State != "queued" || v.Progress.Total != 2 || len(v.Candidates) != 2 {
		t.Fatalf("batch view = %+v", v)
	}
	if c := v.Candidates[0]; c.Name != "张*" || c.IDNumber != "110105********002X" || c.Row != 2 {
		t.Errorf("candidate not masked: %+v", c)
	}
}

func TestUploadProblemsNameRowAndField(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		name    string
		fields  map[string]string
		file    string
		content string
		want    []string // "row|field|message-fragment"
	}{
		{"bad check digit", goodFields, "list.csv", "姓名,身份证号\n张三,110105194912310021\n李四,420202198001011237\n",
			[]string{"2|身份证号|校验位"}},
		{"empty name", goodFields, "list.csv", "姓名,身份证号\n,11010519491231002X\n",
			[]string{"2|姓名|"}},
		{"missing fields", map[string]string{"item": "不存在的事项"}, "list.csv", goodCSV,
			[]string{"0|单位|单位不能为空", "0|经办人|经办人不能为空", "0|联系电话|联系电话不能为空", "0|应用事项|未知的应用事项"}},
		{"no file", goodFields, "", "", []string{"0|file|请选择"}},
		{"xls", goodFields, "list.xls", "whatever", []string{"0||.xlsx"}},
		{"unknown row item", goodFields, "list.csv", "姓名,身份证号,应用事项\n张三,11010519491231002X,买房\n",
			[]string{"2|应用事项|未知的应用事项：买房"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := ts.postBatch(t, tc.fields, tc.file, tc.content)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, %v", code, out)
			}
			raw, _ := json.Marshal(out["problems"])
			var problems []struct {
				Row     int
				Field   string
				Message string
			}
			json.Unmarshal(raw, &problems)
			for _, w := range tc.want {
				parts := strings.SplitN(w, "|", 3)
				found := false
				for _, p := range problems {
					if strings.Contains(p.Message, parts[2]) && (parts[1] == "" || p.Field == parts[1]) && parts[0] == strconv.Itoa(p.Row) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem %q in %s", w, raw)
				}
			}
		})
	}
	batches, _ := ts.ledger.Batches(context.Background(), 0)
	if len(batches) != 0 || len(ts.enqueued) != 0 {
		t.Errorf("bad uploads stored %d batches, queued %d", len(batches), len(ts.enqueued))
	}
}

func TestWorkbookWaitsForTheBatch(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	get := func(path string) *http.Response {
		resp := ts.clerk.do(t, "GET", path, "", nil)
		resp.Body.Close()
		return resp
	}
	if resp := get("/api/v1/batches/" + id + "/workbook"); resp.StatusCode != http.StatusConflict {
		t.Errorf("workbook of a running batch: status %d, want 409", resp.StatusCode)
	}
	if resp := get("/api/v1/batches/" + id + "/workbook?partial=1"); resp.StatusCode != http.StatusOK {
		t.Errorf("partial workbook: status %d, want 200", resp.StatusCode)
	}
	cands, _ := ts.ledger.Candidates(context.Background(), id)
	for _, c := range cands {
		ts.ledger.SaveCheck(context.Background(), shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "v"})
	}
	resp := get("/api/v1/batches/" + id + "/workbook")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), id+".xlsx") {
		t.Errorf("workbook: status %d, disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if resp := get("/api/v1/batches/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown batch: status %d", resp.StatusCode)
	}
	if resp := get("/batches/" + id); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("batch page: status %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestAnnotatedCopyAndMergedDuplicates(t *testing.T) {
	ts := newTestServer(t)
	bad := "姓名,身份证号\n张三,110105194912310021\n李四,420202198001011237\n"
	body, ct := multipartBody(t, goodFields, "list.csv", bad)
	resp := ts.clerk.do(t, "POST", "/api/v1/batches/annotate", ct, body)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !cellsContain(t, data, "校验位") || !cellsContain(t, data, "李四") {
		t.Fatalf("annotated copy: status %d", resp.StatusCode)
	}
	body, ct = multipartBody(t, goodFields, "list.csv", goodCSV)
	resp = ts.clerk.do(t, "POST", "/api/v1/batches/annotate", ct, body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("annotate a good file: status %d, want 204", resp.StatusCode)
	}

	dup := goodCSV + "张三,11010519491231002X\n"
	if code, out := ts.postBatch(t, goodFields, "list.csv", dup); code != http.StatusUnprocessableEntity {
		t.Errorf("duplicate without merging: status %d, %v", code, out)
	}
	merge := map[string]string{"merge_duplicates": "1"}
	for k, v := range goodFields {
		merge[k] = v
	}
	code, out := ts.postBatch(t, merge, "list.csv", dup)
	if code != http.StatusCreated || out["candidates"] != 2.0 || !strings.Contains(fmt.Sprint(out["merged"]), "into:2") {
		t.Errorf("merged upload: status %d, %v", code, out)
	}
}

func TestTemplateDownloadIsAccepted(t *testing.T) {
	ts := newTestServer(t)
	code, xlsx := ts.send(t, "GET", "/api/v1/batches/template.xlsx", "")
	if code != http.StatusOK || !cellsContain(t, xlsx, "优秀政协委员评选") && !cellsContain(t, xlsx, "身份证号") {
		t.Fatalf("template: status %d", code)
	}
	// The template as downloaded still has its example row: the upload says to delete it.
	body, ct := multipartBody(t, goodFields, "template.xlsx", string(xlsx))
	resp := ts.clerk.do(t, "POST", "/api/v1/batches", ct, body)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(out), "示例") {
		t.Errorf("template with its example row: %d %s", resp.StatusCode, out)
	}
}
