package courtsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// sideDoorRoutes registers the /__sim/ endpoints tests use to read the
// captcha answers (classic code, gkw target), get people to search for and
// inject faults.
func (s *Sim) sideDoorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /__sim/captcha", s.sideCaptcha)
	mux.HandleFunc("GET /__sim/gkw/captcha", s.sideGkwCaptcha)
	mux.HandleFunc("GET /__sim/people", s.sidePeople)
	mux.HandleFunc("POST /__sim/fault", s.sideFault)
}

func (s *Sim) sideCaptcha(w http.ResponseWriter, r *http.Request) {
	code, ok := s.CaptchaAnswer(r.URL.Query().Get("captchaId"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeText(w, http.StatusOK, "text/plain; charset=utf-8", code)
}

// sideGkwCaptcha answers GkwCaptcha as JSON.
func (s *Sim) sideGkwCaptcha(w http.ResponseWriter, r *http.Request) {
	c, ok := s.GkwCaptcha(r.URL.Query().Get("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, c)
}

func (s *Sim) sidePeople(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n := 10
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			http.Error(w, "n: not a number", http.StatusBadRequest)
			return
		}
	}
	people, err := s.People(q.Get("kind"), n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, people)
}

func (s *Sim) sideFault(w http.ResponseWriter, r *http.Request) {
	f, err := parseFault(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.InjectFault(f)
	writeText(w, http.StatusOK, "text/plain; charset=utf-8", "ok")
}

// parseFault reads mode, count (default 1), path (default any) and delay.
func parseFault(r *http.Request) (Fault, error) {
	q := r.URL.Query()
	f := Fault{Mode: q.Get("mode"), Path: q.Get("path"), Count: 1}
	if !faultModes[f.Mode] {
		return f, fmt.Errorf("mode: want waf, busy, garbage, slow, bad_json or render_mismatch, got %q", f.Mode)
	}
	if f.Path == "any" {
		f.Path = ""
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Errorf("count: want a positive number, got %q", v)
		}
		f.Count = n
	}
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return f, fmt.Errorf("delay: want a duration like 2s, got %q", v)
		}
		f.Delay = d
	}
	return f, nil
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "json: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
}
