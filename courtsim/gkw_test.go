package courtsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGkwPages(t *testing.T) {
	s := newTestSite(t, gkwTestConfig())
	common := []string{
		`<meta charset="utf-8">`,
		`id="pName" name="pName"`,
		`<input type="hidden" id="captchaId" name="captchaId" value="">`,
		`<input type="hidden" id="pCode" name="pCode" value="">`,
		`<button type="button" class="btn btn-zxgk" onclick="submitCaptcha()">查询</button>`,
		`<span id="tianai-rest-captcha-status" class="captcha-status"></span>`,
		`<div id="result-block">`,
		`<thead id="result-thead" class="hide"><tr><th>序号</th><th>姓名</th><th>立案时间</th><th>案号</th><th>查看</th></tr></thead>`,
		`<tbody id="tbody-result"></tbody>`,
		`<div id="page-div" class="hide">`,
		`id="first-btn"`, `id="pre-btn"`, `id="next-btn"`, `id="last-btn"`, `id="goto"`,
		`<input type="hidden" id="currentPage" name="currentPage" value="1">`,
		`<span class="page-text"><span id="currentPage-show">1</span>/<span id="totalPage-show">1</span>页</span>`,
		`<span id="totalSize-show" class="hide">0</span>`,
		`<div id="tianai-captcha-parent">`,
		`<div id="tianai-captcha-box">`,
		`<div id="tianai-captcha-loading" class="loading">`,
		`<script src="/gkw/js/tac.js"></script>`,
		`<script src="/gkw/js/search.js"></script>`,
	}
	for path, own := range map[string][]string{
		"/gkw/html/zhzxgk/index.html": {`<form id="zhcx-search-form" class="search-form" data-search-url="/gkw/zhcx/searchZhcx"`},
		"/zhzxgk/":                    {`<form id="zhcx-search-form"`},
		"/gkw/html/shixin/index.html": {`<form id="myform" class="search-form" data-search-url="/gkw/sx/searchSX"`,
			`<select id="pProvince" name="pProvince">`, `<option value="0" selected>全部</option>`, `id="pCardNum" name="pCardNum"`},
	} {
		a := s.get(path)
		if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "text/html") {
			t.Fatalf("%s: %d %s", path, a.Status, a.ContentType)
		}
		for _, want := range append(own, common...) {
			if !strings.Contains(a.Body, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		// The widget is made by the script, never served ready.
		for _, absent := range []string{`id="tianai-captcha"`, `tianai-captcha-ui-overlay"`, "<iframe", "<canvas"} {
			if strings.Contains(a.Body, absent) {
				t.Errorf("%s has %s", path, absent)
			}
		}
		if n := strings.Count(a.Body, ">查询</button>"); n != 2 {
			t.Errorf("%s: %d 查询 buttons, want the visible one and a hidden one", path, n)
		}
		// #currentPage lives in the 失信 form, in the pager of the combined page.
		form := a.Body[strings.Index(a.Body, "<form"):strings.Index(a.Body, "</form>")]
		if strings.Contains(form, `id="currentPage"`) != (path == "/gkw/html/shixin/index.html") {
			t.Errorf("%s: #currentPage in the form: %v", path, strings.Contains(form, `id="currentPage"`))
		}
	}
	for _, path := range []string{"/gkw/html/zhzxgk/detail.html", "/zhzxgk/detail.html", "/gkw/html/shixin/detail.html"} {
		a := s.get(path)
		for _, want := range []string{`<div id="detail-error" class="bg-warning warning-result hide"></div>`, `<div id="detail-sections"></div>`,
			`<button type="button" class="btn" onclick="goBack()">关闭</button>`, `<script src="/gkw/js/detail.js"></script>`} {
			if a.Status != http.StatusOK || !strings.Contains(a.Body, want) {
				t.Errorf("%s: %d, lacks %s", path, a.Status, want)
			}
		}
	}
	for path, want := range map[string]string{
		"/gkw/js/tac.js":    "/gkw/zhcx/captcha/captcha/check",
		"/gkw/js/search.js": "验证已通过，正在查询…",
		"/gkw/js/detail.js": "#detail-sections",
		"/gkw/css/gkw.css":  ".tianai-captcha-ui-overlay",
	} {
		a := s.get(path)
		if a.Status != http.StatusOK || (!strings.Contains(a.Body, want) && !strings.Contains(a.Body, strings.TrimPrefix(want, "#"))) {
			t.Errorf("%s: %d %s", path, a.Status, a.ContentType)
		}
	}
	for _, path := range []string{"/gkw/js/gkw.css", "/gkw/css/tac.js", "/gkw/js/nothing.js"} {
		if a := s.get(path); a.Status != http.StatusNotFound {
			t.Errorf("%s: %d", path, a.Status)
		}
	}
}

func TestSitesServed(t *testing.T) {
	for _, tt := range []struct {
		sites         []string
		classic, gkw  bool
		wantNewFailed bool
	}{
		{nil, true, true, false},
		{[]string{"classic"}, true, false, false},
		{[]string{"gkw"}, false, true, false},
		{[]string{"classic", "gkw"}, true, true, false},
		{[]string{"modern"}, false, false, true},
	} {
		cfg := gkwTestConfig()
		cfg.Sites = tt.sites
		if tt.wantNewFailed {
			if _, err := New(cfg); err == nil {
				t.Errorf("sites %q: no error", tt.sites)
			}
			continue
		}
		s := newTestSite(t, cfg)
		if got := s.get("/shixin/").Status == http.StatusOK; got != tt.classic {
			t.Errorf("sites %q: classic served %v", tt.sites, got)
		}
		if got := s.get("/gkw/html/zhzxgk/index.html").Status == http.StatusOK; got != tt.gkw {
			t.Errorf("sites %q: gkw served %v", tt.sites, got)
		}
		if got := s.post("/gkw/zhcx/captcha/captcha", nil).Status == http.StatusOK; got != tt.gkw {
			t.Errorf("sites %q: gkw captcha served %v", tt.sites, got)
		}
	}
}

func TestGkwCaptchaCreate(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwCaptchaType = gkwSlider
	s := newTestSite(t, cfg)
	decode := func(uri, mime string) image.Image {
		t.Helper()
		prefix := "data:" + mime + ";base64,"
		if !strings.HasPrefix(uri, prefix) {
			t.Fatalf("image %.40q, want %s", uri, prefix)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(uri, prefix))
		if err != nil {
			t.Fatal(err)
		}
		var img image.Image
		if mime == "image/jpeg" {
			img, err = jpeg.Decode(bytes.NewReader(b))
		} else {
			img, err = png.Decode(bytes.NewReader(b))
		}
		if err != nil {
			t.Fatalf("%s: %v", mime, err)
		}
		return img
	}

	a := s.post("/gkw/zhcx/captcha/captcha", nil)
	var raw map[string]any
	json.Unmarshal([]byte(a.Body), &raw)
	data, _ := raw["data"].(map[string]any)
	for _, k := range []string{"id", "type", "backgroundImage", "templateImage", "backgroundImageWidth", "backgroundImageHeight", "templateImageWidth", "templateImageHeight"} {
		if _, ok := data[k]; !ok {
			t.Errorf("create answer lacks data.%s", k)
		}
	}
	if raw["success"] != true || raw["code"] != 200.0 || raw["msg"] != "OK" {
		t.Errorf("create envelope: %v %v %v", raw["success"], raw["code"], raw["msg"])
	}

	slider := s.gkwCreate("")
	if slider.Type != gkwSlider || !validCaptchaID(slider.ID) {
		t.Fatalf("create: type %s id %q", slider.Type, slider.ID)
	}
	bg := decode(slider.BackgroundImage, "image/jpeg")
	tpl := decode(slider.TemplateImage, "image/png")
	if bg.Bounds().Dx() != 600 || bg.Bounds().Dy() != 360 || tpl.Bounds().Dx() != 110 || tpl.Bounds().Dy() != 360 {
		t.Errorf("slider images %v %v", bg.Bounds(), tpl.Bounds())
	}
	if slider.BackgroundImageWidth != 600 || slider.TemplateImageWidth != 110 || slider.TemplateImageHeight != 360 {
		t.Errorf("slider sizes: %+v", slider)
	}
	// The piece is opaque inside its box at the side door's y, transparent far from it.
	in := s.info(slider.ID)
	if in.State != "pending" || in.SliderX < 130 || in.SliderX > 480 || in.SliderXCSS != float64(in.SliderX)/2 || len(in.Points) != 0 {
		t.Errorf("slider info %+v", in)
	}
	ch := s.sim.gkw.m[slider.ID]
	if _, _, _, a := tpl.At(55, ch.sliderY+55).RGBA(); a != 0xffff {
		t.Errorf("piece centre alpha %d", a)
	}
	if _, _, _, a := tpl.At(55, (ch.sliderY+200)%360).RGBA(); a != 0 {
		t.Errorf("outside the piece alpha %d", a)
	}

	cfg.GkwCaptchaType = gkwWordClick
	s = newTestSite(t, cfg)
	words := s.gkwCreate("")
	wi := s.info(words.ID)
	if words.Type != gkwWordClick || len(wi.Points) != 4 || len([]rune(wi.Words)) != 4 || wi.SliderX != 0 {
		t.Fatalf("word click: %s %+v", words.Type, wi)
	}
	tip := decode(words.TemplateImage, "image/png")
	if tip.Bounds().Dx() != 240 || tip.Bounds().Dy() != 60 || words.TemplateImageWidth != 240 {
		t.Errorf("tip image %v", tip.Bounds())
	}
	var extra struct{ WordCount int }
	b, _ := json.Marshal(words.Data)
	json.Unmarshal(b, &extra)
	if extra.WordCount != 4 {
		t.Errorf("data.wordCount = %d", extra.WordCount)
	}
	for i, p := range wi.Points {
		if p.X < 0 || p.X >= 600 || p.Y < 0 || p.Y >= 360 || p.CSSX != float64(p.X)/2 || p.CSSY != float64(p.Y)/2 {
			t.Errorf("point %d: %+v", i, p)
		}
	}

	// Left to the server, both types come up.
	cfg.GkwCaptchaType = ""
	s = newTestSite(t, cfg)
	seen := map[string]bool{}
	for range 20 {
		seen[s.gkwCreate("").Type] = true
	}
	if !seen[gkwSlider] || !seen[gkwWordClick] || len(seen) != 2 {
		t.Errorf("random types seen: %v", seen)
	}
}

func TestGkwCaptchaDelay(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwCaptchaDelay = 300 * time.Millisecond
	s := newTestSite(t, cfg)
	start := time.Now()
	s.gkwCreate("")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("create answered after %s, want the 300ms delay", d)
	}
}

func TestGkwSliderCheck(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwCaptchaType = gkwSlider
	s := newTestSite(t, cfg)
	for _, tt := range []struct {
		name   string
		dx     float64 // CSS px off the target
		points int
		ms     int64
		ok     bool
	}{
		{"exact", 0, 15, 600, true},
		{"minimum drag", 0, 10, 300, true},
		{"within tolerance", 5.5, 12, 500, true},
		{"within tolerance, short", -5.5, 12, 500, true},
		{"too far", 7, 15, 600, false},
		{"too short", -7, 15, 600, false},
		{"too quick", 0, 15, 299, false},
		{"too few points", 0, 9, 600, false},
		{"no track", 0, 0, 0, false},
	} {
		c := s.gkwCreate("")
		in := s.info(c.ID)
		var track []gkwTrackPoint
		if tt.points > 0 {
			track = dragTrack(in.SliderXCSS+tt.dx, tt.points, tt.ms)
		}
		got := s.gkwCheck(c.ID, track)
		if got.Success != tt.ok {
			t.Errorf("%s: %+v", tt.name, got)
			continue
		}
		state := s.info(c.ID).State
		if tt.ok && (got.Code != 200 || state != "passed") || !tt.ok && (got.Code != 4001 || got.Msg != "基础校验失败" || state != "failed") {
			t.Errorf("%s: code %d msg %q state %s", tt.name, got.Code, got.Msg, state)
		}
	}

	// One check per challenge; unknown ids and old challenges are expired.
	c := s.gkwCreate("")
	s.solve(c)
	if got := s.solve(c); got.Success || got.Code != 4000 || got.Msg != "验证码已失效" {
		t.Errorf("second check: %+v", got)
	}
	if got := s.gkwCheck(strings.Repeat("A", 32), dragTrack(100, 15, 600)); got.Code != 4000 {
		t.Errorf("unknown id: %+v", got)
	}
	clock := &fakeClock{now: time.Now()}
	s.sim.gkw.now = clock.Now
	c = s.gkwCreate("")
	clock.Advance(5*time.Minute + time.Second)
	if got := s.solve(c); got.Code != 4000 {
		t.Errorf("challenge past its TTL: %+v", got)
	}
	// Bad bodies.
	for _, body := range []string{"", "{", `{"id":""}`} {
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/gkw/zhcx/captcha/captcha/check", strings.NewReader(body))
		if a := s.do(req); a.Status != http.StatusBadRequest || !strings.Contains(a.Body, `"code":403`) {
			t.Errorf("check %q: %d %s", body, a.Status, a.Body)
		}
	}
}

func TestGkwWordClickCheck(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwCaptchaType = gkwWordClick
	s := newTestSite(t, cfg)
	for _, tt := range []struct {
		name  string
		track func(p []GkwPoint) []gkwTrackPoint
		ok    bool
	}{
		{"in order", func(p []GkwPoint) []gkwTrackPoint { return clickTrack(p, 0, 0) }, true},
		{"within tolerance", func(p []GkwPoint) []gkwTrackPoint { return clickTrack(p, 9, 9) }, true},
		{"off", func(p []GkwPoint) []gkwTrackPoint { return clickTrack(p, 12, 10) }, false},
		{"wrong order", func(p []GkwPoint) []gkwTrackPoint {
			return clickTrack([]GkwPoint{p[1], p[0], p[2], p[3]}, 0, 0)
		}, false},
		{"one missing", func(p []GkwPoint) []gkwTrackPoint { return clickTrack(p[:3], 0, 0) }, false},
		{"one more", func(p []GkwPoint) []gkwTrackPoint { return clickTrack(append(p, p[0]), 0, 0) }, false},
		{"moves are not clicks", func(p []GkwPoint) []gkwTrackPoint {
			tr := clickTrack(p, 0, 0)
			tr[3].Type = "move"
			return tr
		}, false},
	} {
		c := s.gkwCreate("")
		got := s.gkwCheck(c.ID, tt.track(s.info(c.ID).Points))
		if got.Success != tt.ok || !tt.ok && got.Code != 4001 {
			t.Errorf("%s: %+v", tt.name, got)
		}
	}
}

func TestGkwTypeSwitchAfterFailure(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwCaptchaType = gkwSlider
	s := newTestSite(t, cfg)
	first := s.gkwCreate("")
	s.gkwCheck(first.ID, dragTrack(1, 15, 600)) // wrong
	second := s.gkwCreate(first.ID)
	if second.Type != gkwWordClick {
		t.Fatalf("after a failed slider: %s", second.Type)
	}
	s.gkwCheck(second.ID, nil) // wrong
	third := s.gkwCreate(second.ID)
	if third.Type != gkwSlider {
		t.Errorf("after a failed word click: %s", third.Type)
	}
	// A refresh (previous not failed) or a passed one does not switch.
	if c := s.gkwCreate(third.ID); c.Type != gkwSlider {
		t.Errorf("after a refresh: %s", c.Type)
	}
	s.solve(third)
	if c := s.gkwCreate(third.ID); c.Type != gkwSlider {
		t.Errorf("after a success: %s", c.Type)
	}
	// Random mode switches too.
	cfg.GkwCaptchaType = ""
	s = newTestSite(t, cfg)
	for range 10 {
		c := s.gkwCreate("")
		s.gkwCheck(c.ID, nil)
		if next := s.gkwCreate(c.ID); next.Type == c.Type {
			t.Errorf("random mode: %s after a failed %s", next.Type, c.Type)
		}
	}
}

func TestGkwTokenUses(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwTokenUses = 3
	s := newTestSite(t, cfg)
	multi, _ := s.sim.People("multipage", 1)
	id, token := s.verify()
	page := s.gkwPage(id, token, multi[0].Name, 1)
	// Details spend nothing.
	for _, it := range page.Result {
		if got := decodeGkw(t, s.gkwDetail(id, token, it.ID, it.CaseCode), nil); !got.Success {
			t.Fatalf("detail: %+v", got)
		}
	}
	s.gkwPage(id, token, multi[0].Name, 2)
	s.gkwPage(id, token, "王", 1)
	wantDead(t, "search 4 of 3", s.gkwSearch("/gkw/zhcx/searchZhcx", id, token, "王", 1))
	wantDead(t, "detail after the token died", s.gkwDetail(id, token, page.Result[0].ID, page.Result[0].CaseCode))
	wantDead(t, "searchSX after the token died", s.gkwSearch("/gkw/sx/searchSX", id, token, "王", 1))
	// A new verification serves again.
	id2, token2 := s.verify()
	s.gkwPage(id2, token2, "王", 1)
}

func TestGkwTokenTTL(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.GkwTokenTTL = time.Minute
	s := newTestSite(t, cfg)
	clock := &fakeClock{now: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
	s.sim.gkw.now = clock.Now
	id, token := s.verify()
	clock.Advance(59 * time.Second)
	page := s.gkwPage(id, token, "王", 1)
	it := page.Result[0]
	if got := decodeGkw(t, s.gkwDetail(id, token, it.ID, it.CaseCode), nil); !got.Success {
		t.Fatalf("detail within the TTL: %+v", got)
	}
	clock.Advance(2 * time.Second)
	wantDead(t, "detail after the TTL", s.gkwDetail(id, token, it.ID, it.CaseCode))
	wantDead(t, "search after the TTL", s.gkwSearch("/gkw/zhcx/searchZhcx", id, token, "王", 1))
}

func TestGkwSearchRefusesBadTokens(t *testing.T) {
	s := newTestSite(t, gkwTestConfig())
	id, token := s.verify()
	pending := s.gkwCreate("")
	failed := s.gkwCreate("")
	s.gkwCheck(failed.ID, nil)
	for name, a := range map[string]answer{
		"wrong pCode":     s.gkwSearch("/gkw/zhcx/searchZhcx", id, strings.Repeat("x", 32), "王", 1),
		"empty pCode":     s.gkwSearch("/gkw/zhcx/searchZhcx", id, "", "王", 1),
		"unknown id":      s.gkwSearch("/gkw/zhcx/searchZhcx", strings.Repeat("A", 32), token, "王", 1),
		"unsolved id":     s.gkwSearch("/gkw/zhcx/searchZhcx", pending.ID, "", "王", 1),
		"failed id":       s.gkwSearch("/gkw/zhcx/searchZhcx", failed.ID, "", "王", 1),
		"classic captcha": s.gkwSearch("/gkw/sx/searchSX", s.openPage(), "abcd", "王", 1),
	} {
		wantDead(t, name, a)
	}
	// The token is still good: refusals of others do not spend it.
	s.gkwPage(id, token, "王", 1)
	a := s.gkwSearch("/gkw/zhcx/searchZhcx", id, token, "  ", 1)
	if got := decodeGkw(t, a, nil); a.Status != http.StatusBadRequest || got.Success || got.Code != 400 {
		t.Errorf("empty name: %d %+v", a.Status, got)
	}
	if s.sim.gkw.m[id].searches != 1 {
		t.Errorf("searches spent: %d, want 1", s.sim.gkw.m[id].searches)
	}
}

func TestGkwSearchAndDetail(t *testing.T) {
	s := newTestSite(t, gkwTestConfig())
	id, token := s.verify()
	multi, _ := s.sim.People("multipage", 1)
	person := multi[0]
	first := s.gkwPage(id, token, person.Name, 1)
	want := s.sim.data.search(person.Name, "")
	if first.TotalSize != len(want) || first.TotalPage != (len(want)+9)/10 || first.PageSize != 10 || first.CurrentPage != 1 || len(first.Result) != 10 {
		t.Fatalf("first page: %+v of %d", first, len(want))
	}
	var all []gkwResultItem
	for p := 1; p <= first.TotalPage; p++ {
		page := s.gkwPage(id, token, person.Name, p)
		if page.CurrentPage != p || (p < first.TotalPage && len(page.Result) != 10) {
			t.Errorf("page %d: %d rows", p, len(page.Result))
		}
		all = append(all, page.Result...)
	}
	if len(all) != len(want) {
		t.Fatalf("%d rows over all pages, want %d", len(all), len(want))
	}
	opaque := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for i, it := range all {
		rec := want[i]
		if it.PName != rec.Person.Name || it.CaseCode != rec.CaseCode || it.RegDate != gkwRegDate(rec) || !opaque.MatchString(it.ID) || it.ID == rec.ID {
			t.Errorf("row %d: %+v", i, it)
		}
	}
	if past := s.gkwPage(id, token, person.Name, first.TotalPage+1); len(past.Result) != 0 || past.TotalSize != len(want) {
		t.Errorf("page past the last: %+v", past)
	}

	// The detail: real field names, masked ID, the same filing date as the list.
	it := all[0]
	var d map[string]any
	got := decodeGkw(t, s.gkwDetail(id, token, it.ID, it.CaseCode), &d)
	masked := person.IDNumber[:10] + "****" + person.IDNumber[14:]
	if !got.Success || d["id"] != it.ID || d["iname"] != person.Name || d["cardNum"] != masked || d["caseCode"] != it.CaseCode ||
		d["regDate"] != it.RegDate || d["businessEntity"] != "" {
		t.Errorf("detail: %+v %v", got, d)
	}
	for _, k := range []string{"sexy", "age", "courtName", "areaName", "gistId", "gistUnit", "duty", "performance", "performedPart", "unperformPart", "disruptTypeName", "publishDate"} {
		if _, ok := d[k]; !ok {
			t.Errorf("detail lacks %s", k)
		}
	}
	for name, a := range map[string]answer{
		"unknown id":     s.gkwDetail(id, token, strings.Repeat("0", 32), it.CaseCode),
		"site record id": s.gkwDetail(id, token, want[0].ID, it.CaseCode),
		"wrong caseCode": s.gkwDetail(id, token, it.ID, all[1].CaseCode),
	} {
		if got := decodeGkw(t, a, nil); got.Success || got.Code != 404 {
			t.Errorf("detail %s: %+v", name, got)
		}
	}

	// Some filing dates are empty, as on the live site.
	empty := 0
	for _, r := range s.sim.data.records {
		if gkwRegDate(r) == "" {
			empty++
		}
	}
	if n := len(s.sim.data.records); empty < n/20 || empty > n/8 {
		t.Errorf("%d of %d filing dates empty", empty, n)
	}

	// No match; searchSX narrows by province, searchZhcx ignores it.
	clean, _ := s.sim.People("clean", 1)
	if p := s.gkwPage(id, token, clean[0].Name, 1); p.TotalSize != 0 || p.TotalPage != 1 || len(p.Result) != 0 {
		t.Errorf("no match: %+v", p)
	}
	form := func(path, province string) int {
		a := s.post(path, map[string][]string{"pName": {"王"}, "pProvince": {province}, "captchaId": {id}, "pCode": {token}, "currentPage": {"1"}})
		var p gkwResultPage
		decodeGkw(t, a, &p)
		return p.TotalSize
	}
	if all, hubei := form("/gkw/sx/searchSX", "0"), form("/gkw/sx/searchSX", "42"); hubei == 0 || hubei >= all || form("/gkw/zhcx/searchZhcx", "0") != all {
		t.Errorf("province: all %d, Hubei %d", all, hubei)
	}
}

func TestGkwSideDoor(t *testing.T) {
	cfg := gkwTestConfig()
	cfg.SideDoor = false
	off := newTestSite(t, cfg)
	c := off.gkwCreate("")
	if a := off.get("/__sim/gkw/captcha?id=" + c.ID); a.Status != http.StatusNotFound {
		t.Errorf("side door off: %d", a.Status)
	}

	cfg = gkwTestConfig()
	cfg.WAF = true
	s := newTestSite(t, cfg)
	// With the WAF on, make challenges straight through the handler.
	for _, kind := range []string{gkwSlider, gkwWordClick} {
		ch := &gkwChallenge{kind: kind, sliderX: 222, words: []rune("AB"), points: []image.Point{{101, 51}, {300, 200}}}
		id := s.sim.gkw.add(ch)
		a := s.get("/__sim/gkw/captcha?id=" + id)
		var got GkwCaptcha
		if err := json.Unmarshal([]byte(a.Body), &got); err != nil || a.Status != http.StatusOK {
			t.Fatalf("side door %s: %d %v", kind, a.Status, err)
		}
		want, _ := s.sim.GkwCaptcha(id)
		if got.ID != want.ID || got.Type != kind || got.DisplayWidth != 300 || got.DisplayHeight != 180 || got.ImageWidth != 600 {
			t.Errorf("side door %s: %+v", kind, got)
		}
		if kind == gkwSlider && (got.SliderX != 222 || got.SliderXCSS != 111) {
			t.Errorf("slider: %+v", got)
		}
		if len(got.Points) != 2 || got.Points[0] != (GkwPoint{X: 101, Y: 51, CSSX: 50.5, CSSY: 25.5}) || got.Words != "AB" {
			t.Errorf("points: %+v", got)
		}
	}
	var keys map[string]any
	json.Unmarshal([]byte(s.get("/__sim/gkw/captcha?id="+s.sim.gkw.add(&gkwChallenge{kind: gkwSlider})).Body), &keys)
	for _, k := range []string{"id", "type", "state", "imageWidth", "imageHeight", "displayWidth", "displayHeight", "sliderX", "sliderXCss", "words", "points"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("side door JSON lacks %s", k)
		}
	}
	if a := s.get("/__sim/gkw/captcha?id=nope"); a.Status != http.StatusNotFound {
		t.Errorf("unknown id: %d", a.Status)
	}
}

func TestGkwFaults(t *testing.T) {
	s := newTestSite(t, gkwTestConfig())
	id, token := s.verify()
	s.sim.InjectFault(Fault{Mode: "busy", Path: "captcha"})
	if a := s.post("/gkw/zhcx/captcha/captcha", nil); !strings.Contains(a.Body, "网站当前访问量较大") {
		t.Errorf("busy create: %.60q", a.Body)
	}
	s.sim.InjectFault(Fault{Mode: "bad_json", Path: "searchZhcx"})
	if a := s.gkwSearch("/gkw/zhcx/searchZhcx", id, token, "王", 1); json.Valid([]byte(a.Body)) {
		t.Errorf("bad_json search: %.60q", a.Body)
	}
	s.sim.InjectFault(Fault{Mode: "waf", Path: "detailZhcx"})
	if a := s.gkwDetail(id, token, "x", "y"); a.Status != http.StatusPreconditionFailed {
		t.Errorf("waf detail: %d", a.Status)
	}
	// Faults use nothing up: the token has served no search yet.
	if n := s.sim.gkw.m[id].searches; n != 0 {
		t.Errorf("searches spent by faults: %d", n)
	}
	s.gkwPage(id, token, "王", 1)
}

func TestNewGkwConfig(t *testing.T) {
	sim, err := New(Config{People: 100})
	if err != nil {
		t.Fatal(err)
	}
	c := sim.cfg
	if c.GkwTokenTTL != time.Minute || c.GkwTokenUses != 20 || c.GkwChallengeTTL != 5*time.Minute || c.GkwCaptchaDelay != 0 ||
		c.GkwCaptchaType != "" || !sim.Serves(SiteClassic) || !sim.Serves(SiteGkw) {
		t.Errorf("zero config became %+v", c)
	}
	if def := DefaultConfig(); def.GkwCaptchaDelay != time.Second || len(def.Sites) != 2 {
		t.Errorf("defaults %+v", def)
	}
	for name, cfg := range map[string]Config{
		"token TTL":     {GkwTokenTTL: -time.Second},
		"token uses":    {GkwTokenUses: -1},
		"challenge TTL": {GkwChallengeTTL: -time.Second},
		"delay":         {GkwCaptchaDelay: -time.Second},
		"type":          {GkwCaptchaType: "ROTATE"},
		"site":          {Sites: []string{"gkw", "2019"}},
	} {
		cfg.People = 100
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
