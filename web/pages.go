package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/roster"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticRoot embed.FS

// staticFS serves /static/... from the embedded static folder.
var staticFS, _ = fs.Sub(staticRoot, ".")

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date":    func(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04") },
	"day":     func(t *time.Time) string { return t.In(shanghai).Format("2006年1月2日") },
	"hasRole": func(roles []shixincheck.Role, r shixincheck.Role) bool { return access.HasRole(roles, r) },
}).ParseFS(templateFS, "templates/*.html"))

// render executes a page template into a buffer first, so a template error
// never leaves half a page behind. Every page gets data["Chrome"]: the
// account, the links it may follow, its CSRF token.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	data["Chrome"] = chromeOf(r)
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		s.Log.Error("render page", "template", name, "err", err)
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	buf.WriteTo(w)
}

// chrome is what the layout of every page shows around it.
type chrome struct {
	Me   *ledger.Account // nil before log-in
	Nav  []navLink
	CSRF string // the session's CSRF token: meta csrf-token, and the csrf_token field of every form
}

type navLink struct{ Href, Text string }

// navLinks are the pages of the nav, each shown to the roles that may open it.
var navLinks = []struct {
	navLink
	roles []shixincheck.Role
}{
	{navLink{"/batches", "批次"}, []shixincheck.Role{shixincheck.RoleClerk}},
	{navLink{"/filings", "备案"}, []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAuditor}},
	{navLink{"/ledger", "台账"}, []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAuditor}},
	{navLink{"/captcha", "验证码审核"}, []shixincheck.Role{shixincheck.RoleOperator}},
	{navLink{"/audit", "审计日志"}, []shixincheck.Role{shixincheck.RoleAuditor}},
	{navLink{"/admin/accounts", "账户管理"}, []shixincheck.Role{shixincheck.RoleAdmin}},
	{navLink{"/admin/settings", "系统设置"}, []shixincheck.Role{shixincheck.RoleAdmin}},
	{navLink{"/metrics", "运行指标"}, []shixincheck.Role{shixincheck.RoleAdmin}},
}

func chromeOf(r *http.Request) chrome {
	p := who(r)
	if p == nil {
		return chrome{}
	}
	c := chrome{Me: &p.account, CSRF: CSRFToken(r)}
	for _, l := range navLinks {
		if access.HasRole(p.account.Roles, l.roles...) {
			c.Nav = append(c.Nav, l.navLink)
		}
	}
	return c
}

// Has tells a template whether the account holds role ("clerk", ...).
func (c chrome) Has(role string) bool {
	return c.Me != nil && access.HasRole(c.Me.Roles, shixincheck.Role(role))
}

// batchesPage is the data of the upload page and batch list.
func (s *Server) batchesPage(r *http.Request) (map[string]any, error) {
	page := map[string]any{"Title": "批次", "Items": s.Rules.Names(), "States": stateText, "Form": map[string]string{}}
	f, err := parseBatchFilter(r.URL.Query())
	if err != nil {
		page["Error"] = err.Error()
	}
	page["Filter"] = f
	page["Batches"], err = s.batches(r.Context(), f)
	return page, err
}

func (s *Server) handleBatchesPage(w http.ResponseWriter, r *http.Request) {
	page, err := s.batchesPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "batches.html", page)
}

// handleUploadForm takes the upload page's form: on success it goes to the
// batch's page, on bad input it shows the page again with every problem.
func (s *Server) handleUploadForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	u, err := s.parseUpload(r)
	if err == nil {
		batch, _, serr := s.submit(r, u)
		if serr == nil {
			http.Redirect(w, r, "/batches/"+batch.ID, http.StatusSeeOther)
			return
		}
		err = serr
	}
	var problems roster.Problems
	if !errors.As(err, &problems) {
		s.fail(w, r, err)
		return
	}
	s.showUploadProblems(w, r, problems)
}

// showUploadProblems shows the upload page again with every problem of an
// upload, its form filled in as the clerk sent it.
func (s *Server) showUploadProblems(w http.ResponseWriter, r *http.Request, problems roster.Problems) {
	page, err := s.batchesPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page["Problems"] = problems
	form := map[string]string{}
	for _, k := range []string{"item", "unit", "handler", "phone", "sheet", "merge_duplicates"} {
		form[k] = r.FormValue(k)
	}
	page["Form"] = form
	s.render(w, r, http.StatusUnprocessableEntity, "batches.html", page)
}

func (s *Server) handleBatchPage(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.loadBatch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "batch.html", map[string]any{"Title": "批次 " + v.ID, "Batch": v})
}
