package courtsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
)

// The gkw site's search and detail answers. Their envelope is gkwAnswer.

// gkwPageSize is the fixed number of rows of a result page.
const gkwPageSize = 10

// gkwExpiredMsg is the server's word for a dead token; the page shows it
// after "验证已失效：".
const gkwExpiredMsg = "安全验证已失效。请重新验证。"

// gkwCodeTokenDead and gkwCodeNotFound are the site's own codes next to Tianai's.
const (
	gkwCodeTokenDead = 401
	gkwCodeNotFound  = 404
)

// gkwResultPage is the data of a search answer.
type gkwResultPage struct {
	CurrentPage int             `json:"currentPage"`
	PageSize    int             `json:"pageSize"`
	TotalPage   int             `json:"totalPage"`
	TotalSize   int             `json:"totalSize"`
	Result      []gkwResultItem `json:"result"`
}

// gkwResultItem is one row; ID is opaque, for the detail only.
type gkwResultItem struct {
	ID       string `json:"id"`
	PName    string `json:"pname"`
	CaseCode string `json:"caseCode"`
	RegDate  string `json:"regDate"`
}

// gkwIDs maps records to the opaque ids the gkw site shows, and back.
type gkwIDs struct {
	toOpaque map[string]string  // record id -> opaque
	toRecord map[string]*record // opaque -> record
}

// newGkwIDs derives an opaque id for every record from a random key, so
// the ids change from run to run like a server-side secret would make them.
func newGkwIDs(d *dataset) (*gkwIDs, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("gkw ids: %w", err)
	}
	ids := &gkwIDs{toOpaque: map[string]string{}, toRecord: map[string]*record{}}
	for _, r := range d.records {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(r.ID))
		o := hex.EncodeToString(m.Sum(nil))[:32]
		ids.toOpaque[r.ID] = o
		ids.toRecord[o] = r
	}
	return ids, nil
}

// gkwRegDate is a record's filing date as gkw shows it: empty for about
// one record in thirteen, as seen on the live site.
func gkwRegDate(r *record) string {
	h := fnv.New32a()
	h.Write([]byte(r.ID))
	if h.Sum32()%13 == 0 {
		return ""
	}
	return r.Reg.Format(classicDate)
}

// gkwRoutes registers the gkw site's pages and endpoints.
func (s *Sim) gkwRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /gkw/html/zhzxgk/index.html", s.gkwPage(gkwZhcxPage))
	mux.HandleFunc("GET /zhzxgk/{$}", s.gkwPage(gkwZhcxPage))
	mux.HandleFunc("GET /gkw/html/shixin/index.html", s.gkwPage(gkwShixinPage))
	// detail.html is opened relative to the page that asked for it.
	for _, dir := range []string{"/gkw/html/zhzxgk/", "/zhzxgk/", "/gkw/html/shixin/"} {
		mux.HandleFunc("GET "+dir+"detail.html", s.gkwDetailPage)
	}
	mux.HandleFunc("GET /gkw/js/{file}", s.gkwStatic)
	mux.HandleFunc("GET /gkw/css/{file}", s.gkwStatic)
	mux.HandleFunc("POST /gkw/zhcx/captcha/captcha", s.gkwCreateCaptcha)
	mux.HandleFunc("POST /gkw/zhcx/captcha/captcha/check", s.gkwCheckCaptcha)
	mux.HandleFunc("POST /gkw/zhcx/searchZhcx", s.gkwSearch)
	mux.HandleFunc("POST /gkw/sx/searchSX", s.gkwSearch)
	mux.HandleFunc("POST /gkw/zhcx/detailZhcx", s.gkwDetail)
}

// gkwSearch answers both searches: one page of the loose name search, or
// the dead-token answer. searchSX also narrows by pProvince.
func (s *Sim) gkwSearch(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeStatusJSON(w, http.StatusBadRequest, gkwAnswer{Code: http.StatusBadRequest, Msg: "无效参数"})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("pName"))
	if name == "" {
		writeStatusJSON(w, http.StatusBadRequest, gkwAnswer{Code: http.StatusBadRequest, Msg: "请输入被执行人姓名/名称"})
		return
	}
	if !s.gkw.search(r.PostForm.Get("captchaId"), r.PostForm.Get("pCode")) {
		writeJSON(w, gkwAnswer{Code: gkwCodeTokenDead, Msg: gkwExpiredMsg})
		return
	}
	// pCardNum is ignored on purpose, as on the classic site.
	found := s.data.search(name, r.PostForm.Get("pProvince"))
	page, totalPage, rows := pageOf(found, r.PostForm.Get("currentPage"), gkwPageSize)
	out := gkwResultPage{
		CurrentPage: page,
		PageSize:    gkwPageSize,
		TotalPage:   totalPage,
		TotalSize:   len(found),
		Result:      []gkwResultItem{},
	}
	for _, rec := range rows {
		out.Result = append(out.Result, gkwResultItem{
			ID: s.gkwIDs.toOpaque[rec.ID], PName: rec.Person.Name, CaseCode: rec.CaseCode, RegDate: gkwRegDate(rec),
		})
	}
	writeJSON(w, gkwAnswer{Success: true, Code: gkwCodeOK, Msg: "OK", Data: out})
}

// gkwDetail answers one record for a live token; details spend no search.
func (s *Sim) gkwDetail(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeStatusJSON(w, http.StatusBadRequest, gkwAnswer{Code: http.StatusBadRequest, Msg: "无效参数"})
		return
	}
	if !s.gkw.live(r.PostForm.Get("captchaId"), r.PostForm.Get("pCode")) {
		writeJSON(w, gkwAnswer{Code: gkwCodeTokenDead, Msg: gkwExpiredMsg})
		return
	}
	opaque := r.PostForm.Get("id")
	rec, ok := s.gkwIDs.toRecord[opaque]
	if !ok || rec.CaseCode != r.PostForm.Get("caseCode") {
		writeJSON(w, gkwAnswer{Code: gkwCodeNotFound, Msg: "未查询到该案件的详细信息。"})
		return
	}
	d := detailOf(rec)
	d.ID = opaque
	d.RegDate = gkwRegDate(rec)
	writeJSON(w, gkwAnswer{Success: true, Code: gkwCodeOK, Msg: "OK", Data: d})
}
