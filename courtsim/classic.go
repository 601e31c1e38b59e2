package courtsim

import (
	"net/http"
	"strings"
)

// The classic site's answers, with the real site's field names.

// classicPageSize is the fixed number of rows of a result page.
const classicPageSize = 10

// classicDate is how the site writes dates: 2019年03月05日.
const classicDate = "2006年01月02日"

// classicResultPage is the one element of the searchSX.do answer array.
type classicResultPage struct {
	CurrentPage int                 `json:"currentPage"`
	PageSize    int                 `json:"pageSize"`
	TotalPage   int                 `json:"totalPage"`
	TotalSize   int                 `json:"totalSize"`
	Result      []classicResultItem `json:"result"`
}

type classicResultItem struct {
	ID       string `json:"id"`
	IName    string `json:"iname"`
	CaseCode string `json:"caseCode"`
	RegDate  string `json:"regDate"`
}

// classicDetail is the disDetailNew answer, fields in the site's order.
type classicDetail struct {
	ID              string `json:"id"`
	IName           string `json:"iname"`
	CaseCode        string `json:"caseCode"`
	Age             int    `json:"age"`
	Sexy            string `json:"sexy"`
	CardNum         string `json:"cardNum"`
	BusinessEntity  string `json:"businessEntity"`
	CourtName       string `json:"courtName"`
	AreaName        string `json:"areaName"`
	PartyTypeName   string `json:"partyTypeName"`
	GistID          string `json:"gistId"`
	RegDate         string `json:"regDate"`
	GistUnit        string `json:"gistUnit"`
	Duty            string `json:"duty"`
	Performance     string `json:"performance"`
	PerformedPart   string `json:"performedPart"`
	UnperformPart   string `json:"unperformPart"`
	DisruptTypeName string `json:"disruptTypeName"`
	PublishDate     string `json:"publishDate"`
	Qysler          []any  `json:"qysler"`
}

// classicRoutes registers the classic site's pages.
func (s *Sim) classicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /shixin/{$}", s.classicIndex)
	mux.HandleFunc("GET /shixin/index_form.do", s.classicIndex)
	mux.HandleFunc("GET /shixin/js/search.js", s.classicScript)
	mux.HandleFunc("GET /shixin/captchaNew.do", s.classicCaptcha)
	mux.HandleFunc("GET /shixin/checkyzm.do", s.classicCheck)
	mux.HandleFunc("POST /shixin/searchSX.do", s.classicSearch)
	mux.HandleFunc("GET /shixin/disDetailNew", s.classicDetailHandler)
}

// classicIndex serves the search page with a fresh captchaId.
func (s *Sim) classicIndex(w http.ResponseWriter, r *http.Request) {
	id := s.captchas.register()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := classicIndexTemplate.Execute(w, classicIndexData{CaptchaID: id, Provinces: provinces}); err != nil {
		http.Error(w, "page: "+err.Error(), http.StatusInternalServerError)
	}
}

func (s *Sim) classicScript(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, "application/javascript; charset=utf-8", classicSearchJS)
}

// classicCaptcha issues a new code for the captchaId and draws it.
func (s *Sim) classicCaptcha(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("captchaId")
	if !validCaptchaID(id) {
		http.Error(w, "bad captchaId", http.StatusBadRequest)
		return
	}
	code, ok := s.captchas.issue(id)
	if !ok {
		http.Error(w, "unknown captchaId", http.StatusBadRequest)
		return
	}
	png, err := s.painter.paint(code)
	if err != nil {
		http.Error(w, "captcha: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

// classicCheck answers 1 when the code is live for the id, else 0; it uses nothing up.
func (s *Sim) classicCheck(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	body := "0"
	if s.captchas.valid(q.Get("captchaId"), q.Get("pCode")) {
		body = "1"
	}
	writeText(w, http.StatusOK, "text/plain; charset=utf-8", body)
}

// classicSearch answers searchSX.do: one page of the loose name search.
func (s *Sim) classicSearch(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("pName"))
	if name == "" {
		writeText(w, http.StatusBadRequest, "text/plain; charset=utf-8", "pName required")
		return
	}
	if !s.captchas.use(r.PostForm.Get("captchaId"), r.PostForm.Get("pCode")) {
		writeText(w, http.StatusOK, "text/html; charset=utf-8", "error")
		return
	}
	// pCardNum is ignored on purpose: the worst case of the real site.
	found := s.data.search(name, r.PostForm.Get("pProvince"))
	page, totalPage, rows := pageOf(found, r.PostForm.Get("currentPage"), classicPageSize)
	out := classicResultPage{
		CurrentPage: page,
		PageSize:    classicPageSize,
		TotalPage:   totalPage,
		TotalSize:   len(found),
		Result:      []classicResultItem{},
	}
	for _, rec := range rows {
		out.Result = append(out.Result, classicResultItem{
			ID: rec.ID, IName: rec.Person.Name, CaseCode: rec.CaseCode, RegDate: rec.Reg.Format(classicDate),
		})
	}
	writeJSON(w, []classicResultPage{out})
}

// classicDetailHandler answers disDetailNew: one record, or {} for a bad
// id or a dead captcha.
func (s *Sim) classicDetailHandler(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.captchas.use(q.Get("captchaId"), q.Get("pCode")) {
		writeJSON(w, struct{}{})
		return
	}
	rec, ok := s.data.byID[q.Get("id")]
	if !ok || rec.CaseCode != q.Get("caseCode") {
		writeJSON(w, struct{}{})
		return
	}
	writeJSON(w, detailOf(rec))
}

// detailOf is a record's detail answer with the site's field names.
func detailOf(rec *record) classicDetail {
	sex := "女性"
	if idIsMale(rec.Person.ID) {
		sex = "男性"
	}
	return classicDetail{
		ID:              rec.ID,
		IName:           rec.Person.Name,
		CaseCode:        rec.CaseCode,
		Age:             rec.Age,
		Sexy:            sex,
		CardNum:         maskID(rec.Person.ID),
		BusinessEntity:  "",
		CourtName:       rec.Court.Name,
		AreaName:        rec.Court.Province.Name,
		PartyTypeName:   "580",
		GistID:          rec.GistID,
		RegDate:         rec.Reg.Format(classicDate),
		GistUnit:        rec.GistUnit,
		Duty:            rec.Duty,
		Performance:     rec.Performance,
		PerformedPart:   rec.PerformedPart,
		UnperformPart:   rec.UnperformPart,
		DisruptTypeName: rec.Disrupt,
		PublishDate:     rec.Publish.Format(classicDate),
		Qysler:          []any{},
	}
}
