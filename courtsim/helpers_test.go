package courtsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSite is a simulator behind a real HTTP server.
type testSite struct {
	t   *testing.T
	sim *Sim
	srv *httptest.Server
}

func newTestSite(t *testing.T, cfg Config) *testSite {
	t.Helper()
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &testSite{t: t, sim: sim, srv: srv}
}

// plainConfig is the default site without the WAF and with the side door.
func plainConfig() Config {
	cfg := DefaultConfig()
	cfg.WAF = false
	cfg.SideDoor = true
	return cfg
}

// answer is a read HTTP answer.
type answer struct {
	Status      int
	ContentType string
	Body        string
}

func (s *testSite) do(req *http.Request) answer {
	s.t.Helper()
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(b)}
}

func (s *testSite) get(path string) answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do(req)
}

func (s *testSite) post(path string, form url.Values) answer {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	return s.do(req)
}

var captchaIDRe = regexp.MustCompile(`<input type="hidden" id="captchaId" name="captchaId" value="([0-9A-Za-z]{32})">`)

// openPage loads the search page and returns its captchaId.
func (s *testSite) openPage() string {
	s.t.Helper()
	a := s.get("/shixin/")
	m := captchaIDRe.FindStringSubmatch(a.Body)
	if a.Status != http.StatusOK || m == nil {
		s.t.Fatalf("search page: status %d, no captchaId", a.Status)
	}
	return m[1]
}

// loadCaptcha loads the image for id, as the page does, and returns the code.
func (s *testSite) loadCaptcha(id string) string {
	s.t.Helper()
	a := s.get("/shixin/captchaNew.do?captchaId=" + id + "&random=0.5")
	if a.Status != http.StatusOK || a.ContentType != "image/png" {
		s.t.Fatalf("captcha image: status %d, %s", a.Status, a.ContentType)
	}
	code, ok := s.sim.CaptchaAnswer(id)
	if !ok {
		s.t.Fatal("no code after loading the image")
	}
	return code
}

// session opens the page and solves its captcha.
func (s *testSite) session() (id, code string) {
	s.t.Helper()
	id = s.openPage()
	return id, s.loadCaptcha(id)
}

func (s *testSite) search(id, code, name string, page int) answer {
	s.t.Helper()
	return s.post("/shixin/searchSX.do", url.Values{
		"pName": {name}, "pCardNum": {""}, "pProvince": {"0"}, "pCode": {code}, "captchaId": {id},
		"currentPage": {strconv.Itoa(page)},
	})
}

// searchPage searches and decodes the answer, failing on anything else.
func (s *testSite) searchPage(id, code, name string, page int) classicResultPage {
	s.t.Helper()
	a := s.search(id, code, name, page)
	return decodeSearch(s.t, a)
}

func decodeSearch(t *testing.T, a answer) classicResultPage {
	t.Helper()
	var pages []classicResultPage
	if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "application/json") {
		t.Fatalf("search: status %d, %s: %.80s", a.Status, a.ContentType, a.Body)
	}
	if err := json.Unmarshal([]byte(a.Body), &pages); err != nil || len(pages) != 1 {
		t.Fatalf("search: %v, %d pages: %.80s", err, len(pages), a.Body)
	}
	return pages[0]
}

func (s *testSite) detail(id, code, recID, caseCode string) answer {
	s.t.Helper()
	q := url.Values{"id": {recID}, "caseCode": {caseCode}, "pCode": {code}, "captchaId": {id}}
	return s.get("/shixin/disDetailNew?" + q.Encode())
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
