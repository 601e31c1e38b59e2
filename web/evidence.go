package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	shixincheck "github.com/shixincheck/shixincheck"
)

// handleEvidence lists a check's evidence: the site's raw answers and the
// pages as the browser showed them.
func (s *Server) handleEvidence(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "check")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	raw, err := s.Ledger.Evidence(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	files, err := s.Ledger.EvidenceFiles(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type file struct {
		Name string `json:"name"`
		MIME string `json:"mime"`
		URL  string `json:"url"`
	}
	out := struct {
		Answers any    `json:"answers"`
		Files   []file `json:"files"`
	}{Answers: rawJSON(raw), Files: []file{}}
	for _, f := range files {
		out.Files = append(out.Files, file{f.Name, f.MIME, fmt.Sprintf("/api/v1/checks/%d/files/%s", id, url.PathEscape(f.Name))})
	}
	if err := s.audit(r, shixincheck.AuditDownload, fmt.Sprintf("check %d", id), "evidence answers"); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("evidence viewed", "check", id)
	writeJSON(w, http.StatusOK, out)
}

// rawJSON passes the kept answers through as JSON (they are JSON already).
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

func (s *Server) handleEvidenceFile(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "check")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.Ledger.EvidenceFile(r.Context(), id, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.audit(r, shixincheck.AuditDownload, fmt.Sprintf("check %d", id), "evidence file "+f.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", f.MIME)
	// Pictures and PDFs show in the browser. A page of the site (.html) is
	// saved and opened from disk, never shown as a page of this origin; the
	// sandbox keeps anything in it from running here all the same.
	disposition := "attachment"
	if strings.HasPrefix(f.MIME, "image/") || f.MIME == "application/pdf" {
		disposition = "inline"
	}
	w.Header().Set("Content-Disposition", disposition+"; filename=\""+f.Name+"\"")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(f.Data)
	s.Log.Info("evidence file viewed", "check", id)
}
