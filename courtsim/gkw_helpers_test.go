package courtsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// gkwTestConfig is the default site without the WAF, with the side door
// and without the captcha delay.
func gkwTestConfig() Config {
	cfg := plainConfig()
	cfg.GkwCaptchaDelay = 0
	return cfg
}

// rawAnswer is a gkw envelope whose data is decoded later.
type rawAnswer struct {
	Success bool            `json:"success"`
	Code    int             `json:"code"`
	Msg     string          `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

func decodeGkw(t *testing.T, a answer, data any) rawAnswer {
	t.Helper()
	var out rawAnswer
	if !strings.HasPrefix(a.ContentType, "application/json") {
		t.Fatalf("answer: %d %s: %.80s", a.Status, a.ContentType, a.Body)
	}
	if err := json.Unmarshal([]byte(a.Body), &out); err != nil {
		t.Fatalf("answer: %v: %.80s", err, a.Body)
	}
	if data != nil && out.Success {
		if err := json.Unmarshal(out.Data, data); err != nil {
			t.Fatalf("answer data: %v: %.80s", err, out.Data)
		}
	}
	return out
}

// gkwCreate asks for a new challenge, as the widget does.
func (s *testSite) gkwCreate(previousID string) gkwCaptchaData {
	s.t.Helper()
	a := s.post("/gkw/zhcx/captcha/captcha", url.Values{"previousId": {previousID}})
	var d gkwCaptchaData
	if got := decodeGkw(s.t, a, &d); a.Status != http.StatusOK || !got.Success || got.Code != 200 || d.ID == "" {
		s.t.Fatalf("create: %d %+v", a.Status, got)
	}
	return d
}

// gkwCheck sends a check body as the widget does.
func (s *testSite) gkwCheck(id string, track []gkwTrackPoint) rawAnswer {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"id": id, "data": map[string]any{
		"bgImageWidth": 300, "bgImageHeight": 180, "templateImageWidth": 55, "templateImageHeight": 180,
		"startTime": 1, "stopTime": 2, "trackList": track,
	}})
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/gkw/zhcx/captcha/captcha/check", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	return decodeGkw(s.t, s.do(req), nil)
}

// info reads the side door's view of a challenge.
func (s *testSite) info(id string) GkwCaptcha {
	s.t.Helper()
	c, ok := s.sim.GkwCaptcha(id)
	if !ok {
		s.t.Fatalf("no challenge %s", id)
	}
	return c
}

// dragTrack is a drag to x CSS px with n points over ms milliseconds.
func dragTrack(x float64, n int, ms int64) []gkwTrackPoint {
	track := []gkwTrackPoint{{X: 0, Y: 0, Type: "down", T: 0}}
	for i := 1; i < n-1; i++ {
		f := float64(i) / float64(n-1)
		track = append(track, gkwTrackPoint{X: x * f, Y: 1, Type: "move", T: ms * int64(i) / int64(n-1)})
	}
	return append(track, gkwTrackPoint{X: x, Y: 1, Type: "up", T: ms})
}

// clickTrack clicks the points in order, with offsets in CSS px.
func clickTrack(points []GkwPoint, dx, dy float64) []gkwTrackPoint {
	var track []gkwTrackPoint
	for i, p := range points {
		track = append(track, gkwTrackPoint{X: p.CSSX + dx, Y: p.CSSY + dy, Type: "click", T: int64(500 * (i + 1))})
	}
	return track
}

// solve answers a challenge correctly, whatever its type.
func (s *testSite) solve(c gkwCaptchaData) rawAnswer {
	s.t.Helper()
	in := s.info(c.ID)
	if in.Type == gkwSlider {
		return s.gkwCheck(c.ID, dragTrack(in.SliderXCSS, 15, 600))
	}
	return s.gkwCheck(c.ID, clickTrack(in.Points, 0, 0))
}

// verify gets a token: (captchaId, pCode).
func (s *testSite) verify() (string, string) {
	s.t.Helper()
	c := s.gkwCreate("")
	got := s.solve(c)
	var d struct{ ID, ValidToken string }
	if err := json.Unmarshal(got.Data, &d); err != nil || !got.Success || d.ID != c.ID || len(d.ValidToken) != 32 {
		s.t.Fatalf("verify: %+v", got)
	}
	return d.ID, d.ValidToken
}

func (s *testSite) gkwSearch(path, id, token, name string, page int) answer {
	s.t.Helper()
	return s.post(path, url.Values{
		"pName": {name}, "pCardNum": {""}, "captchaId": {id}, "pCode": {token}, "currentPage": {strconv.Itoa(page)},
	})
}

// gkwPage searches /gkw/zhcx/searchZhcx and fails on anything but a result page.
func (s *testSite) gkwPage(id, token, name string, page int) gkwResultPage {
	s.t.Helper()
	var p gkwResultPage
	a := s.gkwSearch("/gkw/zhcx/searchZhcx", id, token, name, page)
	if got := decodeGkw(s.t, a, &p); !got.Success || got.Code != 200 || got.Msg != "OK" {
		s.t.Fatalf("search: %d %+v", a.Status, got)
	}
	return p
}

func (s *testSite) gkwDetail(id, token, opaque, caseCode string) answer {
	s.t.Helper()
	return s.post("/gkw/zhcx/detailZhcx", url.Values{
		"id": {opaque}, "caseCode": {caseCode}, "pName": {"x"}, "captchaId": {id}, "pCode": {token},
	})
}

// wantDead fails unless a is the dead-token answer.
func wantDead(t *testing.T, what string, a answer) {
	t.Helper()
	got := decodeGkw(t, a, nil)
	if a.Status != http.StatusOK || got.Success || got.Code != 401 || got.Msg != "安全验证已失效。请重新验证。" {
		t.Errorf("%s: %d %+v, want the dead-token answer", what, a.Status, got)
	}
}
