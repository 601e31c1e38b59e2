package courtsim

import (
	"bytes"
	"encoding/json"
	"image/png"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSearchPageElements(t *testing.T) {
	s := newTestSite(t, plainConfig())
	for _, path := range []string{"/shixin/", "/shixin/index_form.do"} {
		a := s.get(path)
		if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "text/html") {
			t.Fatalf("%s: %d %s", path, a.Status, a.ContentType)
		}
		for _, want := range []string{
			`<meta charset="utf-8">`,
			`<title>失信被执行人</title>`,
			`id="pName" name="pName"`,
			`id="pCardNum" name="pCardNum"`,
			`身份证号码/组织机构代码`,
			`<select name="pProvince">`,
			`<option value="0" selected>全部</option>`,
			`<option value="11">北京</option>`,
			`<option value="42">湖北</option>`,
			`id="yzm" name="pCode" maxlength="4"`,
			`<img id="captchaImg" width="160" height="70"`,
			`<button type="button" class="btn-zxgk">查询</button>`,
			`<div id="frameImg">`,
			`class="close"`,
			`<div id="result-block">`,
			`<thead id="result-thead"><tr><th>序号</th><th>姓名/名称</th><th>立案时间</th><th>案号</th><th>查看</th></tr></thead>`,
			`<tbody id="tbody-result"></tbody>`,
			`<div id="result-pager">`,
			`<div id="show">`,
			`<table id="partyDetail">`,
			`<div id="layui-layer1"`,
			`验证码错误或验证码已过期。`,
			`<script src="/shixin/js/search.js"></script>`,
		} {
			if !strings.Contains(a.Body, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		if strings.Contains(a.Body, `id="pProvince"`) {
			t.Errorf("%s: the province select has an id; the real page is known only by its name", path)
		}
		if n := strings.Count(a.Body, "<option "); n != 32 {
			t.Errorf("%s: %d province options, want 全部 + 31", path, n)
		}
		if regexp.MustCompile(`<script>|<script[^>]*>[^<]`).MatchString(a.Body) || strings.Contains(a.Body, " onclick=") {
			t.Errorf("%s has inline script", path)
		}
	}
	// Every load gets its own captchaId.
	if s.openPage() == s.openPage() {
		t.Error("two page loads got the same captchaId")
	}
	js := s.get("/shixin/js/search.js")
	if js.Status != http.StatusOK || !strings.Contains(js.ContentType, "javascript") || !strings.Contains(js.Body, "/shixin/searchSX.do") {
		t.Errorf("search.js: %d %s", js.Status, js.ContentType)
	}
}

func TestCaptchaImage(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id := s.openPage()
	a := s.get("/shixin/captchaNew.do?captchaId=" + id + "&random=0.123")
	img, err := png.Decode(bytes.NewReader([]byte(a.Body)))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 160 || b.Dy() != 70 {
		t.Errorf("image %v, want 160x70", b)
	}
	code, _ := s.sim.CaptchaAnswer(id)
	if !regexp.MustCompile(`^[a-km-np-zA-HJ-NP-Z2-9]{4}$`).MatchString(code) {
		t.Errorf("code %q: want 4 characters without look-alikes", code)
	}
	for _, bad := range []string{"short", strings.Repeat("a", 31) + "!", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"} {
		if a := s.get("/shixin/captchaNew.do?captchaId=" + url.QueryEscape(bad)); a.Status != http.StatusBadRequest {
			t.Errorf("captchaId %q: status %d, want 400", bad, a.Status)
		}
	}
}

func TestCaptchaReloadCaseAndCheck(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id := s.openPage()
	check := func(code string) string {
		return s.get("/shixin/checkyzm.do?captchaId=" + id + "&pCode=" + code).Body
	}
	if got := check("abcd"); got != "0" {
		t.Errorf("checkyzm before any image = %q, want 0", got)
	}
	old := s.loadCaptcha(id)
	if check(old) != "1" || check(strings.ToLower(old)) != "1" || check(strings.ToUpper(old)) != "1" {
		t.Errorf("checkyzm of the live code %q (any case) is not 1", old)
	}
	var fresh string
	for fresh = s.loadCaptcha(id); fresh == old; fresh = s.loadCaptcha(id) {
	}
	if check(old) != "0" {
		t.Error("the old code still works after a reload")
	}
	if a := s.search(id, old, "王", 1); a.Body != "error" {
		t.Errorf("search with the old code: %.40q", a.Body)
	}
	if check(fresh) != "1" {
		t.Error("the new code does not work")
	}
	decodeSearch(t, s.search(id, swapCase(fresh), "王", 1))
	// Another page's id with this code is wrong.
	other := s.openPage()
	if a := s.search(other, fresh, "王", 1); a.Body != "error" {
		t.Errorf("code of another captchaId accepted: %.40q", a.Body)
	}
}

func swapCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestCaptchaExpiresByTTL(t *testing.T) {
	cfg := plainConfig()
	cfg.CaptchaTTL = time.Minute
	s := newTestSite(t, cfg)
	clock := &fakeClock{now: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
	s.sim.captchas.now = clock.Now

	id, code := s.session()
	clock.Advance(59 * time.Second)
	decodeSearch(t, s.search(id, code, "王", 1))
	clock.Advance(2 * time.Second)
	if a := s.search(id, code, "王", 1); a.Status != http.StatusOK || a.Body != "error" || !strings.HasPrefix(a.ContentType, "text/html") {
		t.Errorf("search after the TTL: %d %s %.40q", a.Status, a.ContentType, a.Body)
	}
	if a := s.get("/shixin/checkyzm.do?captchaId=" + id + "&pCode=" + code); a.Body != "0" {
		t.Errorf("checkyzm after the TTL = %q", a.Body)
	}
	// A reload starts a new lifetime.
	code = s.loadCaptcha(id)
	decodeSearch(t, s.search(id, code, "王", 1))
}

func TestCaptchaUsedUp(t *testing.T) {
	cfg := plainConfig()
	cfg.CaptchaUses = 3
	s := newTestSite(t, cfg)
	id, code := s.session()
	// checkyzm uses nothing up.
	for range 5 {
		s.get("/shixin/checkyzm.do?captchaId=" + id + "&pCode=" + code)
	}
	page := s.searchPage(id, code, "王", 1)
	item := page.Result[0]
	if a := s.detail(id, code, item.ID, item.CaseCode); !strings.Contains(a.Body, `"iname"`) {
		t.Fatalf("detail (use 2): %.60q", a.Body)
	}
	s.searchPage(id, code, "王", 2)
	if a := s.search(id, code, "王", 1); a.Body != "error" {
		t.Errorf("use 4 of 3: %.40q", a.Body)
	}
	if a := s.detail(id, code, item.ID, item.CaseCode); a.Body != "{}" {
		t.Errorf("detail after the code is used up: %.40q", a.Body)
	}
}

func TestSearchWrongCaptcha(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()
	for name, a := range map[string]answer{
		"wrong code":   s.search(id, "0000", "王", 1),
		"empty code":   s.search(id, "", "王", 1),
		"unknown id":   s.search(strings.Repeat("A", 32), code, "王", 1),
		"no image yet": s.search(s.openPage(), code, "王", 1),
		"wrong length": s.search(id, code+"x", "王", 1),
		"empty id":     s.search("", code, "王", 1),
	} {
		if a.Status != http.StatusOK || a.Body != "error" || !strings.HasPrefix(a.ContentType, "text/html") {
			t.Errorf("%s: %d %s %.40q", name, a.Status, a.ContentType, a.Body)
		}
	}
	if a := s.search(id, code, " ", 1); a.Status != http.StatusBadRequest || a.Body != "pName required" {
		t.Errorf("empty pName: %d %q", a.Status, a.Body)
	}
	if a := s.get("/shixin/searchSX.do"); a.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET searchSX.do: %d", a.Status)
	}
}

func TestSearchJSONShape(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()
	a := s.search(id, code, "王", 1)
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(a.Body), &raw); err != nil || len(raw) != 1 {
		t.Fatalf("answer is not a one-element array: %v", err)
	}
	if got, want := sortedKeys(raw[0]), []string{"currentPage", "pageSize", "result", "totalPage", "totalSize"}; !reflect.DeepEqual(got, want) {
		t.Errorf("page keys %v, want %v", got, want)
	}
	if !strings.HasPrefix(a.Body, `[{"currentPage":1,"pageSize":10,"totalPage":`) {
		t.Errorf("answer starts %.60q", a.Body)
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw[0]["result"], &items); err != nil || len(items) != 10 {
		t.Fatalf("result: %v, %d items", err, len(items))
	}
	if got, want := sortedKeys(items[0]), []string{"caseCode", "id", "iname", "regDate"}; !reflect.DeepEqual(got, want) {
		t.Errorf("item keys %v, want %v", got, want)
	}
	page := decodeSearch(t, a)
	dateRe := regexp.MustCompile(`^20\d\d年\d\d月\d\d日$`)
	caseRe := regexp.MustCompile(`^\(20\d\d\)\p{Han}\d+执\d+号$`)
	for _, it := range page.Result {
		if !dateRe.MatchString(it.RegDate) || !caseRe.MatchString(it.CaseCode) || !strings.Contains(it.IName, "王") || it.ID == "" {
			t.Errorf("item %+v", it)
		}
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestSearchPaging(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()

	clean, _ := s.sim.People("clean", 1)
	if p := s.searchPage(id, code, clean[0].Name, 1); p.TotalSize != 0 || p.TotalPage != 1 || p.Result == nil || len(p.Result) != 0 {
		t.Errorf("no match: %+v", p)
	}
	if !strings.Contains(s.search(id, code, clean[0].Name, 1).Body, `"result":[]`) {
		t.Error("an empty result is not []")
	}

	// A name with a single page of results.
	listed, _ := s.sim.People("listed", 200)
	single := false
	for _, p := range listed {
		if n := len(s.sim.data.search(p.Name, "0")); n >= 1 && n <= 10 {
			got := s.searchPage(id, code, p.Name, 1)
			if got.TotalPage != 1 || got.TotalSize != n || len(got.Result) != n {
				t.Errorf("one page: %d results gave %+v", n, got)
			}
			single = true
			break
		}
	}
	if !single {
		t.Fatal("no listed name with a single page of results")
	}

	multi, _ := s.sim.People("multipage", 1)
	first := s.searchPage(id, code, multi[0].Name, 1)
	if first.TotalSize < multi[0].Records || first.TotalPage != (first.TotalSize+9)/10 || first.TotalPage < 2 || len(first.Result) != 10 {
		t.Fatalf("multipage first page: total %d pages %d rows %d", first.TotalSize, first.TotalPage, len(first.Result))
	}
	seen := map[string]bool{}
	var all []classicResultItem
	for n := 1; n <= first.TotalPage; n++ {
		p := s.searchPage(id, code, multi[0].Name, n)
		if p.CurrentPage != n || p.TotalSize != first.TotalSize {
			t.Errorf("page %d: %+v", n, p)
		}
		want := 10
		if n == first.TotalPage {
			want = first.TotalSize - 10*(n-1)
		}
		if len(p.Result) != want {
			t.Errorf("page %d: %d rows, want %d", n, len(p.Result), want)
		}
		for _, it := range p.Result {
			if seen[it.ID] {
				t.Errorf("record %s on two pages", it.ID)
			}
			seen[it.ID] = true
			all = append(all, it)
		}
	}
	if len(all) != first.TotalSize {
		t.Errorf("pages hold %d records, totalSize %d", len(all), first.TotalSize)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.RegDate < b.RegDate || (a.RegDate == b.RegDate && a.ID > b.ID) {
			t.Errorf("order: %s/%s before %s/%s", a.RegDate, a.ID, b.RegDate, b.ID)
		}
	}
	if p := s.searchPage(id, code, multi[0].Name, first.TotalPage+1); len(p.Result) != 0 || p.TotalSize != first.TotalSize {
		t.Errorf("past the last page: %+v", p)
	}
}

func TestSearchLooseMatching(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()
	d := s.sim.data
	// A two-character listed name that another listed name contains.
	var base, longer string
	for _, p := range d.people {
		if len([]rune(p.Name)) != 2 {
			continue
		}
		for other := range d.byName {
			if other != p.Name && strings.Contains(other, p.Name) {
				base, longer = p.Name, other
				break
			}
		}
		if base != "" {
			break
		}
	}
	if base == "" {
		t.Fatal("no contained name in the data set")
	}
	names := map[string]bool{}
	page := s.searchPage(id, code, base, 1)
	for n := 1; n <= page.TotalPage; n++ {
		for _, it := range s.searchPage(id, code, base, n).Result {
			names[it.IName] = true
			if !strings.Contains(it.IName, base) {
				t.Errorf("search %s returned %s", base, it.IName)
			}
		}
	}
	if !names[base] || !names[longer] {
		t.Errorf("search %s: names %v, want %s and %s", base, names, base, longer)
	}

	// pCardNum is ignored.
	listed, _ := s.sim.People("listed", 1)
	other, _ := s.sim.People("clean", 1)
	plain := s.searchPage(id, code, listed[0].Name, 1)
	withID := decodeSearch(t, s.post("/shixin/searchSX.do", url.Values{
		"pName": {listed[0].Name}, "pCardNum": {other[0].IDNumber}, "pProvince": {"0"},
		"pCode": {code}, "captchaId": {id}, "currentPage": {"1"},
	}))
	if !reflect.DeepEqual(plain, withID) {
		t.Error("pCardNum changed the answer")
	}

	// pProvince narrows by the court's province.
	all := s.searchPage(id, code, "王", 1)
	hubei := decodeSearch(t, s.post("/shixin/searchSX.do", url.Values{
		"pName": {"王"}, "pProvince": {"42"}, "pCode": {code}, "captchaId": {id}, "currentPage": {"1"},
	}))
	if hubei.TotalSize == 0 || hubei.TotalSize >= all.TotalSize {
		t.Errorf("province 42: %d of %d", hubei.TotalSize, all.TotalSize)
	}
	for _, it := range hubei.Result {
		if !strings.Contains(it.CaseCode, ")鄂") {
			t.Errorf("province 42 returned %s", it.CaseCode)
		}
	}
}

func TestDetail(t *testing.T) {
	s := newTestSite(t, plainConfig())
	id, code := s.session()
	listed, _ := s.sim.People("listed", 1)
	person := listed[0]
	item := s.searchPage(id, code, person.Name, 1).Result[0]
	a := s.detail(id, code, item.ID, item.CaseCode)
	if a.Status != http.StatusOK || !strings.HasPrefix(a.ContentType, "application/json") {
		t.Fatalf("detail: %d %s", a.Status, a.ContentType)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(a.Body), &raw); err != nil {
		t.Fatal(err)
	}
	want := []string{"age", "areaName", "businessEntity", "cardNum", "caseCode", "courtName", "disruptTypeName", "duty",
		"gistId", "gistUnit", "id", "iname", "partyTypeName", "performance", "performedPart", "publishDate", "qysler",
		"regDate", "sexy", "unperformPart"}
	if got := sortedKeys(raw); !reflect.DeepEqual(got, want) {
		t.Errorf("detail keys %v, want %v", got, want)
	}
	if !strings.HasPrefix(a.Body, `{"id":"`+item.ID+`","iname":`) || !strings.HasSuffix(a.Body, `"qysler":[]}`) {
		t.Errorf("detail field order: %.60q ... ", a.Body)
	}
	var d classicDetail
	if err := json.Unmarshal([]byte(a.Body), &d); err != nil {
		t.Fatal(err)
	}
	rec := s.sim.data.byID[item.ID]
	wantSex := "女性"
	if (rec.Person.ID[16]-'0')%2 == 1 {
		wantSex = "男性"
	}
	if d.ID != item.ID || d.IName != item.IName || d.CaseCode != item.CaseCode || d.RegDate != item.RegDate {
		t.Errorf("detail %+v does not match the list item %+v", d, item)
	}
	if !regexp.MustCompile(`^\d{10}\*\*\*\*\d{3}[\dX]$`).MatchString(d.CardNum) ||
		d.CardNum != rec.Person.ID[:10]+"****"+rec.Person.ID[14:] {
		t.Errorf("cardNum %q for %s", d.CardNum, rec.Person.ID)
	}
	if d.Sexy != wantSex || d.AreaName != rec.Court.Province.Name || d.BusinessEntity != "" || d.PartyTypeName != "580" ||
		d.Age < 14 || d.Age > 77 || (d.Performance != "全部未履行" && d.Performance != "部分未履行") ||
		!strings.HasSuffix(d.CourtName, "人民法院") || d.GistID == "" || d.GistUnit == "" || d.Duty == "" ||
		d.DisruptTypeName == "" || d.PublishDate < d.RegDate || d.Qysler == nil {
		t.Errorf("detail %+v", d)
	}

	for name, a := range map[string]answer{
		"bad id":         s.detail(id, code, "123", item.CaseCode),
		"wrong caseCode": s.detail(id, code, item.ID, "(2019)鄂0202执1号"),
		"wrong captcha":  s.detail(id, "0000", item.ID, item.CaseCode),
	} {
		if a.Status != http.StatusOK || a.Body != "{}" {
			t.Errorf("%s: %d %q", name, a.Status, a.Body)
		}
	}
	s.loadCaptcha(id) // the old code is gone
	if a := s.detail(id, code, item.ID, item.CaseCode); a.Body != "{}" {
		t.Errorf("detail with a replaced code: %q", a.Body)
	}
}

func TestLatency(t *testing.T) {
	cfg := plainConfig()
	cfg.Latency = 150 * time.Millisecond
	s := newTestSite(t, cfg)
	start := time.Now()
	s.get("/shixin/js/search.js")
	if d := time.Since(start); d < cfg.Latency {
		t.Errorf("answer after %s, want at least %s", d, cfg.Latency)
	}
}

func TestConcurrentSearches(t *testing.T) {
	s := newTestSite(t, plainConfig())
	listed, _ := s.sim.People("listed", 8)
	type session struct{ id, code, name string }
	var sessions []session
	for _, p := range listed {
		id, code := s.session()
		sessions = append(sessions, session{id, code, p.Name})
	}
	done := make(chan string, len(sessions))
	for _, ss := range sessions {
		go func() {
			form := url.Values{"pName": {ss.name}, "pProvince": {"0"}, "pCode": {ss.code}, "captchaId": {ss.id}, "currentPage": {"1"}}
			resp, err := s.srv.Client().PostForm(s.srv.URL+"/shixin/searchSX.do", form)
			if err != nil {
				done <- err.Error()
				return
			}
			defer resp.Body.Close()
			done <- resp.Header.Get("Content-Type")
		}()
	}
	for range sessions {
		if got := <-done; !strings.HasPrefix(got, "application/json") {
			t.Errorf("concurrent search answered %s", got)
		}
	}
}
