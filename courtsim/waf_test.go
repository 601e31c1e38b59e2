package courtsim

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// fnv1a is FNV-1a 32 written out, as the challenge page's script computes it.
func fnv1a(s string, rounds int) uint32 {
	h := uint32(2166136261)
	for range rounds {
		for i := 0; i < len(s); i++ {
			h ^= uint32(s[i])
			h *= 16777619
		}
	}
	return h
}

var challengeRe = regexp.MustCompile(`var n = "([0-9a-f]{32})", rounds = (\d+)`)

// solveChallenge reads the challenge page and computes the cookie.
func solveChallenge(t *testing.T, page string) string {
	t.Helper()
	m := challengeRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no nonce in the challenge page: %.200s", page)
	}
	var rounds int
	fmt.Sscan(m[2], &rounds)
	return fmt.Sprintf("%s.%x", m[1], fnv1a(m[1], rounds))
}

func TestWAF(t *testing.T) {
	cfg := plainConfig()
	cfg.WAF = true
	s := newTestSite(t, cfg)

	for _, path := range []string{"/shixin/", "/shixin/js/search.js", "/shixin/captchaNew.do?captchaId=x", "/shixin/disDetailNew"} {
		a := s.get(path)
		if a.Status != http.StatusPreconditionFailed || !strings.HasPrefix(a.ContentType, "text/html") ||
			!strings.Contains(a.Body, `document.cookie = "lqWVdQzgOVyaO/P=" + n`) || !strings.Contains(a.Body, "location.reload()") {
			t.Fatalf("%s without the cookie: %d %s %.100q", path, a.Status, a.ContentType, a.Body)
		}
	}
	if a := s.post("/shixin/searchSX.do", nil); a.Status != http.StatusPreconditionFailed {
		t.Errorf("searchSX.do without the cookie: %d", a.Status)
	}

	cookie := solveChallenge(t, s.get("/shixin/").Body)
	withCookie := func(path, header string) answer {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
		req.Header.Set("Cookie", header)
		return s.do(req)
	}
	if a := withCookie("/shixin/", "other=1; lqWVdQzgOVyaO/P="+cookie+"; x=y"); a.Status != http.StatusOK || !strings.Contains(a.Body, "btn-zxgk") {
		t.Errorf("with the computed cookie: %d", a.Status)
	}

	nonce, sum, _ := strings.Cut(cookie, ".")
	forged := strings.Repeat("0", 32)
	for name, header := range map[string]string{
		"wrong hash":       "lqWVdQzgOVyaO/P=" + nonce + ".1234",
		"forged nonce":     fmt.Sprintf("lqWVdQzgOVyaO/P=%s.%x", forged, fnv1a(forged, wafRounds)),
		"old cookie name":  "lqWVdQzgOVyaS/T=" + cookie,
		"hash only":        "lqWVdQzgOVyaO/P=" + sum,
		"name as a prefix": "xlqWVdQzgOVyaO/P=" + cookie,
	} {
		if a := withCookie("/shixin/", header); a.Status != http.StatusPreconditionFailed {
			t.Errorf("%s: status %d, want 412", name, a.Status)
		}
	}

	// Another simulator's cookie is not valid here.
	s2 := newTestSite(t, cfg)
	req, _ := http.NewRequest(http.MethodGet, s2.srv.URL+"/shixin/", nil)
	req.Header.Set("Cookie", "lqWVdQzgOVyaO/P="+cookie)
	if a := s2.do(req); a.Status != http.StatusPreconditionFailed {
		t.Errorf("cookie of another simulator: %d", a.Status)
	}
}

func TestWAFOff(t *testing.T) {
	s := newTestSite(t, plainConfig())
	if a := s.get("/shixin/"); a.Status != http.StatusOK {
		t.Errorf("WAF off: %d", a.Status)
	}
}
