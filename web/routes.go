package web

import (
	"net/http"
)

// routes lists every route of the daemon in one place. It keeps the
// patterns in s.patterns, so a test can hold them against the API document.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.patterns = nil
	handle := func(pattern string, h http.HandlerFunc) {
		s.patterns = append(s.patterns, pattern)
		mux.Handle(pattern, s.route(pattern, h))
	}

	handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/batches", http.StatusSeeOther) })
	handle("GET /healthz", s.handleHealth)
	handle("GET /static/", http.FileServerFS(staticFS).ServeHTTP)

	// Clerk: upload, progress, download.
	handle("GET /batches", s.handleBatchesPage)
	handle("POST /batches", s.handleUploadForm)
	handle("GET /batches/{id}", s.handleBatchPage)
	handle("GET /batches/{id}/workbook", s.handleWorkbook)
	handle("POST /batches/annotate", s.handleAnnotate)
	handle("GET /batches/template.xlsx", s.handleTemplate)
	handle("POST /batches/{id}/pause", s.handlePause)
	handle("POST /batches/{id}/resume", s.handleResume)
	handle("POST /batches/{id}/cancel", s.handleCancel)
	handle("POST /batches/{id}/retry-failed", s.handleRetryFailed)
	handle("GET /api/v1/batches", s.handleBatchesAPI)
	handle("POST /api/v1/batches", s.handleUploadAPI)
	handle("POST /api/v1/batches/annotate", s.handleAnnotate)
	handle("GET /api/v1/batches/template.xlsx", s.handleTemplate)
	handle("POST /api/v1/batches/{id}/pause", s.handlePause)
	handle("POST /api/v1/batches/{id}/resume", s.handleResume)
	handle("POST /api/v1/batches/{id}/cancel", s.handleCancel)
	handle("POST /api/v1/batches/{id}/retry-failed", s.handleRetryFailed)
	handle("GET /api/v1/batches/{id}", s.handleBatchAPI)
	handle("GET /api/v1/batches/{id}/workbook", s.handleWorkbook)

	// Evidence of a check: the site's answers, the pages as Chromium showed them.
	handle("GET /api/v1/checks/{check}/evidence", s.handleEvidence)
	handle("GET /api/v1/checks/{check}/files/{name}", s.handleEvidenceFile)

	// Clerk: filings with the credit office and their deadlines.
	handle("GET /filings", s.handleFilingsPage)
	handle("POST /filings", s.handleCreatePeriodFiling)
	handle("GET /filings/{id}", s.handleFilingPage)
	handle("GET /filings/{id}/workbook", s.handleFilingWorkbook)
	handle("POST /filings/{id}/submit", s.handleSubmitFiling)
	handle("GET /api/v1/filings", s.handleFilingsAPI)
	handle("POST /api/v1/filings", s.handleCreatePeriodFiling)
	handle("GET /api/v1/filings/{id}", s.handleFilingAPI)
	handle("GET /api/v1/filings/{id}/workbook", s.handleFilingWorkbook)
	handle("POST /api/v1/filings/{id}/submit", s.handleSubmitFiling)

	// Ledger (台账): searched by POST, so no name or ID lands in a URL.
	handle("GET /ledger", s.handleLedgerPage)
	handle("POST /ledger", s.handleLedgerSearch)
	handle("POST /ledger/export", s.handleLedgerExport)
	handle("POST /api/v1/ledger/query", s.handleLedgerAPI)
	handle("POST /api/v1/ledger/export", s.handleLedgerExport)

	// Captcha operators.
	handle("GET /captcha", s.Captcha.HandleReviewPage)
	handle("GET /captcha/static/", s.Captcha.HandleStatic)
	handle("GET /api/v1/captcha/next", s.Captcha.HandleNext)
	handle("POST /api/v1/captcha/{id}", s.Captcha.HandleAnswer)

	// The API's own description (OpenAPI 3.1).
	handle("GET /api/v1/openapi.yaml", handleOpenAPI)

	// Admin.
	handle("GET /metrics", s.Metrics.ServeHTTP)

	return securityHeaders(mux)
}

// route wraps a handler with the metrics hook under its pattern.
func (s *Server) route(pattern string, h http.HandlerFunc) http.Handler {
	if s.Instrument == nil {
		return h
	}
	return s.Instrument(pattern, h)
}

// securityHeaders sets the headers every answer carries. Pages load their
// script from files, so the policy allows no inline script.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
