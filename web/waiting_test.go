package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// A batch waits for captchas only while one of its own checks waits for a
// person's answer, not whenever any batch does.
func TestWaitingCaptchaIsPerBatch(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	waitingID := out["id"].(string)
	_, out = ts.postBatch(t, goodFields, "other.csv", "姓名,身份证号\n张三,11010519491231002X\n")
	otherID := out["id"].(string)

	view := func(id string) batchView {
		t.Helper()
		code, body := ts.send(t, "GET", "/api/v1/batches/"+id, "")
		var v batchView
		if err := json.Unmarshal(body, &v); code != http.StatusOK || err != nil {
			t.Fatalf("batch %s: %d %s", id, code, body)
		}
		return v
	}
	if v := view(waitingID); v.State != stateQueued || v.WaitingCaptcha != 0 {
		t.Fatalf("before any captcha: state %s, waiting %d", v.State, v.WaitingCaptcha)
	}

	// A tab checking one of the batch's people asks for a captcha.
	ctx, cancel := context.WithCancel(shixincheck.WithBatch(context.Background(), waitingID))
	solved := make(chan error, 1)
	img := tinyPNG(t)
	go func() {
		_, err := ts.srv.Captcha.Solve(ctx, shixincheck.Challenge{Site: "classic", Image: img})
		solved <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for view(waitingID).WaitingCaptcha == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the batch never counted its check waiting for a captcha")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := view(waitingID); v.State != stateWaitingCaptcha || v.WaitingCaptcha != 1 || v.CaptchaBacklog != 1 {
		t.Fatalf("while its check waits: state %s, waiting %d, backlog %d", v.State, v.WaitingCaptcha, v.CaptchaBacklog)
	}
	if v := view(otherID); v.State != stateQueued || v.WaitingCaptcha != 0 || v.CaptchaBacklog != 1 {
		t.Fatalf("the other batch: state %s, waiting %d, backlog %d", v.State, v.WaitingCaptcha, v.CaptchaBacklog)
	}
	_, body := ts.send(t, "GET", "/api/v1/batches?state=waiting_captcha", "")
	if !strings.Contains(string(body), waitingID) || strings.Contains(string(body), otherID) {
		t.Fatalf("waiting_captcha filter: %s", body)
	}
	code, page := ts.clerk.get(t, "/batches/"+waitingID)
	if code != http.StatusOK || !strings.Contains(string(page), `data-count="waiting_captcha">1<`) {
		t.Fatalf("batch page: %d, no waiting count of 1", code)
	}

	// The check stops waiting (its tab gave up): the batch is queued again.
	cancel()
	if err := <-solved; err == nil {
		t.Fatal("Solve answered after its context was cancelled")
	}
	if v := view(waitingID); v.State != stateQueued || v.WaitingCaptcha != 0 {
		t.Fatalf("after the check stopped waiting: state %s, waiting %d", v.State, v.WaitingCaptcha)
	}
}
