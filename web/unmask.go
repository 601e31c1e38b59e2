package web

import (
	"net/http"
	"strconv"

	shixincheck "github.com/shixincheck/shixincheck"
)

// handleUnmask shows one candidate's full name and ID number to a clerk or
// auditor who asks (POST /api/v1/candidates/{id}/unmask), after writing the
// request to the audit trail. Pages and lists show them masked.
func (s *Server) handleUnmask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Ledger.Candidate(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.audit(r, shixincheck.AuditUnmask, "candidate "+strconv.FormatInt(c.ID, 10), "batch "+c.BatchID); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": c.Name, "id_number": c.IDNumber})
}
