package courtsim

import (
	"embed"
	"html/template"
	"net/http"
	"path"
)

// gkwFiles are the gkw site's page template, scripts and style sheet.
//
//go:embed gkwsite
var gkwFiles embed.FS

// gkwIndexTemplate is both search pages; their ids, names and texts are
// the contract with the scraper.
var gkwIndexTemplate = template.Must(template.ParseFS(gkwFiles, "gkwsite/index.html"))

// gkwPageData fills a search page.
type gkwPageData struct {
	Title     string
	FormID    string
	SearchURL string
	Shixin    bool // the 失信 page: province choice, currentPage inside the form
	Provinces []province
}

var (
	gkwZhcxPage   = gkwPageData{Title: "全国法院信息综合查询", FormID: "zhcx-search-form", SearchURL: "/gkw/zhcx/searchZhcx"}
	gkwShixinPage = gkwPageData{Title: "失信被执行人", FormID: "myform", SearchURL: "/gkw/sx/searchSX", Shixin: true, Provinces: provinces}
)

// gkwStaticTypes are the files served under /gkw/js/ and /gkw/css/.
var gkwStaticTypes = map[string]string{
	"tac.js":    "application/javascript; charset=utf-8",
	"search.js": "application/javascript; charset=utf-8",
	"detail.js": "application/javascript; charset=utf-8",
	"gkw.css":   "text/css; charset=utf-8",
}

func (s *Sim) gkwPage(data gkwPageData) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := gkwIndexTemplate.Execute(w, data); err != nil {
			http.Error(w, "page: "+err.Error(), http.StatusInternalServerError)
		}
	}
}

func (s *Sim) gkwDetailPage(w http.ResponseWriter, r *http.Request) {
	b, err := gkwFiles.ReadFile("gkwsite/detail.html")
	if err != nil {
		http.Error(w, "page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeText(w, http.StatusOK, "text/html; charset=utf-8", string(b))
}

func (s *Sim) gkwStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, ok := gkwStaticTypes[name]
	if !ok || (path.Ext(name) == ".css") != (path.Dir(r.URL.Path) == "/gkw/css") {
		http.NotFound(w, r)
		return
	}
	b, err := gkwFiles.ReadFile("gkwsite/" + name)
	if err != nil {
		http.Error(w, "file: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeText(w, http.StatusOK, ctype, string(b))
}
