package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/shixincheck/shixincheck/roster"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticRoot embed.FS

// staticFS serves /static/... from the embedded static folder.
var staticFS, _ = fs.Sub(staticRoot, ".")

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04") },
	"day":  func(t *time.Time) string { return t.In(shanghai).Format("2006年1月2日") },
}).ParseFS(templateFS, "templates/*.html"))

// render executes a page template into a buffer first, so a template error
// never leaves half a page behind.
func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
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

type batchesPage struct {
	Title    string
	Items    []string
	States   map[string]string
	Batches  []batchView
	Filter   batchFilter
	Problems roster.Problems
	Form     map[string]string
	Error    string
}

func (s *Server) batchesPage(r *http.Request) (batchesPage, error) {
	page := batchesPage{Title: "批次", Items: s.Rules.Names(), States: stateText, Form: map[string]string{}}
	f, err := parseBatchFilter(r.URL.Query())
	if err != nil {
		page.Error = err.Error()
	}
	page.Filter = f
	page.Batches, err = s.batches(r.Context(), f)
	return page, err
}

func (s *Server) handleBatchesPage(w http.ResponseWriter, r *http.Request) {
	page, err := s.batchesPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "batches.html", page)
}

// handleUploadForm takes the upload page's form: on success it goes to the
// batch's page, on bad input it shows the page again with every problem.
func (s *Server) handleUploadForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	u, err := s.parseUpload(r)
	if err == nil {
		batch, _, serr := s.submit(r.Context(), u)
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
	page, perr := s.batchesPage(r)
	if perr != nil {
		s.fail(w, r, perr)
		return
	}
	page.Problems = problems
	for _, k := range []string{"item", "unit", "handler", "phone", "sheet", "merge_duplicates"} {
		page.Form[k] = r.FormValue(k)
	}
	s.render(w, http.StatusUnprocessableEntity, "batches.html", page)
}

func (s *Server) handleBatchPage(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.loadBatch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "batch.html", map[string]any{"Title": "批次 " + v.ID, "Batch": v})
}
