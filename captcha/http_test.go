package captcha

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shixincheck/shixincheck"
)

// newServer serves q's handlers on the routes the web package gives them.
func newServer(t testing.TB, q *Queue, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /captcha", q.HandleReviewPage)
	mux.HandleFunc("GET /captcha/static/", q.HandleStatic)
	mux.HandleFunc("GET /api/v1/captcha/next", q.HandleNext)
	mux.HandleFunc("POST /api/v1/captcha/{id}", q.HandleAnswer)
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func postAnswer(t *testing.T, srv *httptest.Server, id, contentType, body string) int {
	t.Helper()
	resp, err := http.Post(srv.URL+"/api/v1/captcha/"+id, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHandleNext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)

	resp, body := get(t, srv.URL+"/api/v1/captcha/next?wait=0s")
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("empty queue: %d %q, want 204 without body", resp.StatusCode, body)
	}
	if got := resp.Header.Get(backlogHeader); got != "0" {
		t.Fatalf("backlog header = %q, want 0", got)
	}

	for _, wait := range []string{"soon", "-1s", "25"} {
		if resp, _ := get(t, srv.URL+"/api/v1/captcha/next?wait="+wait); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("wait=%s: status %d, want 400", wait, resp.StatusCode)
		}
	}

	img := testPNG(t, 10)
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: img, SiteRef: "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH"})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 11)})
	resp, body = get(t, srv.URL+"/api/v1/captcha/next?wait=1s")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %s, want 200", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("cache control %q, want no-store", cc)
	}
	if got := resp.Header.Get(backlogHeader); got != "1" {
		t.Fatalf("backlog header = %q, want 1", got)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "site", "site_ref", "kind", "round", "created_at", "expires_at", "image"} {
		if _, ok := got[k]; !ok {
			t.Errorf("field %q missing in %s", k, body)
		}
	}
	if len(got) != 8 {
		t.Errorf("fields = %v, want exactly id site site_ref kind round created_at expires_at image", got)
	}
	if got["site"] != "classic" || got["kind"] != "text" || got["round"] != 1.0 || got["site_ref"] != "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH" || len(got["id"].(string)) != 32 {
		t.Errorf("challenge = %v", got)
	}
	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
	if got["image"] != want {
		t.Errorf("image = %.60q…, want the posted PNG as a data URL", got["image"])
	}
	if _, err := time.Parse(time.RFC3339, got["expires_at"].(string)); err != nil {
		t.Errorf("expires_at: %v", err)
	}
}

func TestHandleNextLongPoll(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/api/v1/captcha/next?wait=10s")
		if err != nil {
			t.Error(err)
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond)
	startSolve(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 12)})
	select {
	case status := <-got:
		if status != http.StatusOK {
			t.Fatalf("status %d, want 200", status)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not return the new challenge")
	}
}

func TestHandleNextGivesBackWhenClientLeft(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb := newRedis(t)
	q := New(rdb, Config{Prefix: testPrefix(t, rdb)})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 13)})

	// The person's request ends right when Next has claimed the challenge.
	reqCtx, reqCancel := context.WithCancel(context.Background())
	rdb.AddHook(afterScript{hash: claimScript.Hash(), then: reqCancel})
	req := httptest.NewRequestWithContext(reqCtx, http.MethodGet, "/api/v1/captcha/next?wait=0s", nil)
	q.HandleNext(httptest.NewRecorder(), req)
	if reqCtx.Err() == nil {
		t.Fatal("the claim did not run")
	}
	if n := backlog(t, q); n != 1 {
		t.Fatalf("backlog = %d, want the challenge back in the queue", n)
	}
}

// afterScript is a go-redis hook that calls then after the script with the
// given hash ran.
type afterScript struct {
	hash string
	then func()
}

func (h afterScript) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h afterScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); cmd.Name() == "evalsha" && len(args) > 1 && args[1] == h.hash {
			h.then()
		}
		return err
	}
}

func (h afterScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestHandleAnswer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)
	const js = "application/json"

	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 14)})
	p := next(t, q, 0)

	bad := []struct{ contentType, body string }{
		{js, `not json`},
		{js, `{"answer":"ab3d"} {"answer":"x"}`},
		{js, `{"answer":"ab3d","action":"skip"}`},
		{js, `{"action":"dance"}`},
		{js, `{}`},
		{js, `{"answer":"ab3d","extra":1}`},
		{"text/plain", `{"answer":"ab3d"}`},
		{"application/x-www-form-urlencoded", `answer=ab3d`},
		{js, `{"answer":"` + strings.Repeat("a", maxAnswerBody) + `"}`},
	}
	for _, b := range bad {
		if status := postAnswer(t, srv, p.ID, b.contentType, b.body); status != http.StatusBadRequest {
			t.Errorf("%s %.40q: status %d, want 400", b.contentType, b.body, status)
		}
	}
	if status := postAnswer(t, srv, p.ID, js, `{"answer":"  "}`); status != http.StatusUnprocessableEntity {
		t.Errorf("empty answer: status %d, want 422", status)
	}
	if status := postAnswer(t, srv, newID(), js, `{"answer":"ab3d"}`); status != http.StatusNotFound {
		t.Errorf("unknown id: status %d, want 404", status)
	}
	if status := postAnswer(t, srv, "next", js, `{"answer":"ab3d"}`); status != http.StatusNotFound {
		t.Errorf("malformed id: status %d, want 404", status)
	}

	if status := postAnswer(t, srv, p.ID, "application/json; charset=utf-8", `{"answer":"ab3d"}`); status != http.StatusNoContent {
		t.Fatalf("answer: status %d, want 204", status)
	}
	if r := result(t, done); r.err != nil || r.sol.Text != "ab3d" {
		t.Fatalf("Solve = %+v, %v; want ab3d", r.sol, r.err)
	}
	if status := postAnswer(t, srv, p.ID, js, `{"answer":"ab3d"}`); status != http.StatusNotFound {
		t.Errorf("answered twice: status %d, want 404", status)
	}
}

func TestHandleAnswerActions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)

	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 15)})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 16)})
	first := next(t, q, 0)
	if status := postAnswer(t, srv, first.ID, "application/json", `{"action":"skip"}`); status != http.StatusNoContent {
		t.Fatalf("skip: status %d, want 204", status)
	}
	next(t, q, 0) // the second challenge
	if again := next(t, q, 0); again.ID != first.ID {
		t.Fatalf("after skip Next = %s, want the skipped %s last", again.ID, first.ID)
	}
	if status := postAnswer(t, srv, first.ID, "application/json", `{"action":"refresh"}`); status != http.StatusNoContent {
		t.Fatalf("refresh: status %d, want 204", status)
	}
	if r := result(t, done); !errors.Is(r.err, shixincheck.ErrCaptchaRefresh) {
		t.Fatalf("Solve err = %v, want ErrCaptchaRefresh", r.err)
	}
	if status := postAnswer(t, srv, first.ID, "application/json", `{"action":"skip"}`); status != http.StatusNotFound {
		t.Fatalf("skip after refresh: status %d, want 404", status)
	}
}

func TestHandleReviewPageAndStatic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 17)})

	resp, page := get(t, srv.URL+"/captcha")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("review page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>验证码审核</title>",
		`<strong id="backlog">1</strong>`,
		`<script src="/captcha/static/review.js" defer></script>`,
		`href="/captcha/static/review.css"`,
		"跳过", "换一张", "autofocus", `autocomplete="off"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("review page lacks %q", want)
		}
	}
	// No inline script or style, so that a strict CSP can apply.
	if strings.Count(page, "<script") != 1 || strings.Contains(page, "<style") ||
		strings.Contains(page, "style=") || strings.Contains(page, " on") {
		t.Errorf("review page has inline script or style:\n%s", page)
	}

	for name, ct := range map[string]string{"review.js": "text/javascript", "review.css": "text/css"} {
		resp, body := get(t, srv.URL+"/captcha/static/"+name)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || body == "" {
			t.Errorf("%s: %d %q, %d bytes", name, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	for _, p := range []string{"", "nope.js", "../review.html", "static/review.js"} {
		if resp, _ := get(t, srv.URL+"/captcha/static/"+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/captcha/static/%s: status %d, want 404", p, resp.StatusCode)
		}
	}
}

// request sends method url with body as operator ("" for none); it returns
// the status and the body, 0 after a failure it reports (it may run in a
// goroutine of its own).
func request(t *testing.T, method, url, operator, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if operator != "" {
		req.Header.Set(OperatorHeader, operator)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	return resp.StatusCode, string(b)
}

func TestHandleInteractive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	srv := newServer(t, q, nil)
	const alice, bob = "3f9a0c1e5b7d4a2f8c6e1b3d5f7a9c0e", "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"

	done := solveAsync(t, ctx, q, widget(t, "sess-J", 70))
	status, body := request(t, "GET", srv.URL+"/api/v1/captcha/next?wait=0s", alice, "")
	if status != http.StatusOK {
		t.Fatalf("next: %d %s", status, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"site": "gkw", "kind": "interactive", "width": 300.0, "height": 200.0,
		"session": "sess-J", "round": 1.0, "site_ref": "tianai-sess-J"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	id := got["id"].(string)
	answer := srv.URL + "/api/v1/captcha/" + id

	drag := `{"actions":[{"type":"drag","points":[{"x":20,"y":100,"t":0},{"x":80.5,"y":101,"t":150},{"x":140,"y":102,"t":340}]}]}`
	for _, c := range []struct {
		operator, body string
		status         int
	}{
		{alice, `{"answer":"ab3d"}`, http.StatusUnprocessableEntity},
		{alice, `{"actions":[]}`, http.StatusUnprocessableEntity},
		{alice, `{"actions":[{"type":"click","points":[{"x":301,"y":10,"t":0}]}]}`, http.StatusUnprocessableEntity},
		{alice, `{"actions":[{"type":"drag","points":[{"x":1,"y":1,"t":9},{"x":2,"y":1,"t":3}]}]}`, http.StatusUnprocessableEntity},
		{alice, `{"actions":[{"type":"hover","points":[{"x":1,"y":1,"t":0}]}]}`, http.StatusUnprocessableEntity},
		{alice, `{"actions":[{"type":"click","points":[{"x":1,"y":1,"t":0,"pressure":1}]}]}`, http.StatusBadRequest},
		{alice, `{"actions":[{"type":"click","points":[{"x":"1","y":1,"t":0}]}]}`, http.StatusBadRequest},
		{alice, `{"actions":[],"action":"skip"}`, http.StatusBadRequest},
		{alice, `{"actions":[],"answer":"x"}`, http.StatusBadRequest},
		{alice, `{"actions":null}`, http.StatusBadRequest},
		{strings.Repeat("x", maxOperatorLen+1), drag, http.StatusBadRequest},
		{bob, drag, http.StatusConflict},
		{bob, `{"action":"skip"}`, http.StatusConflict},
		{"", `{"action":"refresh"}`, http.StatusConflict},
	} {
		if status, body := request(t, "POST", answer, c.operator, c.body); status != c.status {
			t.Errorf("%.20s %s: %d %s, want %d", c.operator, c.body, status, body, c.status)
		}
	}
	if status, body := request(t, "POST", answer, alice, drag); status != http.StatusNoContent {
		t.Fatalf("drag: %d %s", status, body)
	}
	r := result(t, done)
	want := []shixincheck.Action{{Type: shixincheck.ActionDrag, Points: []shixincheck.Point{{X: 20, Y: 100, T: 0}, {X: 80.5, Y: 101, T: 150}, {X: 140, Y: 102, T: 340}}}}
	if r.err != nil || r.sol.ChallengeID != id || !reflect.DeepEqual(r.sol.Actions, want) {
		t.Fatalf("Solve = %+v, %v; want the drag", r.sol, r.err)
	}

	// Alice asks for the next at once; the session's next round comes to her, not to bob.
	type reply struct {
		status int
		body   string
	}
	alices := make(chan reply, 1)
	go func() {
		s, b := request(t, "GET", srv.URL+"/api/v1/captcha/next?wait=5s", alice, "")
		alices <- reply{s, b}
	}()
	time.Sleep(200 * time.Millisecond)
	done = startSolve(t, ctx, q, widget(t, "sess-J", 71))
	rep := <-alices
	if rep.status != http.StatusOK || !strings.Contains(rep.body, `"round":2`) {
		t.Fatalf("alice's next: %d %.200s", rep.status, rep.body)
	}
	if status, _ := request(t, "GET", srv.URL+"/api/v1/captcha/next?wait=0s", bob, ""); status != http.StatusNoContent {
		t.Fatalf("bob's next: %d, want 204", status)
	}
	if err := json.Unmarshal([]byte(rep.body), &got); err != nil {
		t.Fatal(err)
	}
	// A person typing into the widget, and the most points an answer may carry.
	var sb strings.Builder
	sb.WriteString(`{"actions":[{"type":"type","text":"验证"}`)
	for range maxPoints / maxDragPoints {
		sb.WriteString(`,{"type":"drag","points":[`)
		for i := range maxDragPoints {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"x":%d.25,"y":199.75,"t":%d}`, 100+i%200, 10000+i)
		}
		sb.WriteString("]}")
	}
	sb.WriteString("]}")
	if status, body := request(t, "POST", srv.URL+"/api/v1/captcha/"+got["id"].(string), alice, sb.String()); status != http.StatusNoContent {
		t.Fatalf("longest answer (%d bytes): %d %s", sb.Len(), status, body)
	}
	if r := result(t, done); r.err != nil || len(r.sol.Actions) != 1+maxPoints/maxDragPoints || r.sol.Actions[0].Text != "验证" {
		t.Fatalf("Solve = %d actions, %v", len(r.sol.Actions), r.err)
	}
}
