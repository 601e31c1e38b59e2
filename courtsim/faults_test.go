package courtsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()
	captchaPath := "/shixin/captchaNew.do?captchaId=" + id
	injectHTTP := func(query string) {
		if a := s.post("/__sim/fault?"+query, nil); a.Status != http.StatusOK {
			t.Fatalf("fault %s: %d", query, a.Status)
		}
	}

	t.Run("busy", func(t *testing.T) {
		injectHTTP("mode=busy&count=2&path=captchaNew.do")
		// Another path does not take it.
		decodeSearch(t, s.search(id, code, "王", 1))
		for range 2 {
			a := s.get(captchaPath)
			if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "text/html") || !strings.Contains(a.Body, "网站当前访问量较大，请稍后再试") {
				t.Errorf("busy captcha: %d %s %.60q", a.Status, a.ContentType, a.Body)
			}
		}
		if a := s.get(captchaPath); a.ContentType != "image/png" {
			t.Errorf("after the fault ran out: %s", a.ContentType)
		}
		code, _ = s.sim.CaptchaAnswer(id)
	})

	t.Run("busy search", func(t *testing.T) {
		s.sim.InjectFault(Fault{Mode: "busy", Path: "searchSX.do"})
		if a := s.search(id, code, "王", 1); !strings.Contains(a.Body, "网站当前访问量较大") {
			t.Errorf("busy search: %.60q", a.Body)
		}
	})

	t.Run("waf", func(t *testing.T) {
		cfg := plainConfig()
		cfg.WAF = true
		w := newTestSite(t, cfg)
		cookie := solveChallenge(t, w.get("/shixin/").Body)
		get := func() int {
			req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/shixin/", nil)
			req.Header.Set("Cookie", "lqWVdQzgOVyaO/P="+cookie)
			return w.do(req).Status
		}
		w.sim.InjectFault(Fault{Mode: "waf"})
		if got := get(); got != http.StatusPreconditionFailed {
			t.Errorf("waf fault with a valid cookie: %d", got)
		}
		if got := get(); got != http.StatusOK {
			t.Errorf("after the waf fault: %d", got)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		s.sim.InjectFault(Fault{Mode: "garbage", Path: "disDetailNew"})
		a := s.detail(id, code, "1", "x")
		if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "text/html") || !strings.Contains(a.Body, "<html>") {
			t.Errorf("garbage: %d %s %.60q", a.Status, a.ContentType, a.Body)
		}
	})

	t.Run("bad_json", func(t *testing.T) {
		injectHTTP("mode=bad_json&path=searchSX.do")
		a := s.search(id, code, "王", 1)
		var v any
		if a.Status != http.StatusOK || json.Unmarshal([]byte(a.Body), &v) == nil || !strings.HasPrefix(a.Body, `[{"currentPage"`) {
			t.Errorf("bad_json: %d %q", a.Status, a.Body)
		}
		decodeSearch(t, s.search(id, code, "王", 1))
	})

	t.Run("render_mismatch", func(t *testing.T) {
		if mismatchSearchJS == classicSearchJS {
			t.Fatal("the changed search.js is the same as the real one")
		}
		injectHTTP("mode=render_mismatch&path=search.js")
		if a := s.get("/shixin/js/search.js"); a.Body != mismatchSearchJS {
			t.Errorf("render_mismatch served the real script")
		}
		if a := s.get("/shixin/js/search.js"); a.Body != classicSearchJS {
			t.Errorf("after the fault: not the real script")
		}
	})

	t.Run("slow", func(t *testing.T) {
		injectHTTP("mode=slow&path=any&delay=300ms")
		start := time.Now()
		page := decodeSearch(t, s.search(id, code, "王", 1))
		if d := time.Since(start); d < 300*time.Millisecond || page.TotalSize == 0 {
			t.Errorf("slow: answered after %s with %d results", d, page.TotalSize)
		}
	})

	t.Run("slow gives up with the client", func(t *testing.T) {
		s.sim.InjectFault(Fault{Mode: "slow", Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.srv.URL+"/shixin/js/search.js", nil)
		if resp, err := s.srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Error("a one-minute delay answered within 100ms")
		}
	})

	t.Run("unknown pages take no fault", func(t *testing.T) {
		s.sim.InjectFault(Fault{Mode: "busy"})
		if a := s.get("/favicon.ico"); a.Status != http.StatusNotFound {
			t.Errorf("favicon: %d", a.Status)
		}
		if a := s.get("/shixin/js/search.js"); !strings.Contains(a.Body, "网站当前访问量较大") {
			t.Error("the fault was used up by an unknown page")
		}
	})
}
