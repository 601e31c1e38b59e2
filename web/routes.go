package web

import (
	"net/http"

	shixincheck "github.com/shixincheck/shixincheck"
)

// policy says who may use a route: anyone (public), any logged-in account
// (no roles named), or an account holding at least one of roles.
type policy struct {
	public bool
	roles  []shixincheck.Role
}

var (
	public   = policy{public: true}
	loggedIn = policy{}
)

func only(roles ...shixincheck.Role) policy { return policy{roles: roles} }

// routes lists every route of the daemon in one place, each with who may use
// it. It keeps the patterns in s.patterns and their policies in s.policies,
// so tests can hold them against the API document and walk every route with
// every role.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	s.patterns, s.policies = nil, map[string]policy{}
	handle := func(pattern string, who policy, h http.HandlerFunc) {
		s.patterns = append(s.patterns, pattern)
		s.policies[pattern] = who
		mux.Handle(pattern, s.route(pattern, s.guard(who, h)))
	}
	clerk := only(shixincheck.RoleClerk)
	reader := only(shixincheck.RoleClerk, shixincheck.RoleAuditor) // the ledger, filings and evidence
	operator := only(shixincheck.RoleOperator)
	auditor := only(shixincheck.RoleAuditor)
	admin := only(shixincheck.RoleAdmin)

	// Open to anyone: log-in, health, assets, the API's description, metrics
	// (Prometheus scrapes it; it carries no personal data).
	handle("GET /login", public, s.handleLoginPage)
	handle("POST /login", public, s.handleLogin)
	handle("GET /healthz", public, s.handleHealth)
	handle("GET /static/", public, http.FileServerFS(staticFS).ServeHTTP)
	handle("GET /captcha/static/", public, s.Captcha.HandleStatic)
	handle("GET /api/v1/openapi.yaml", public, handleOpenAPI)
	handle("GET /metrics", public, s.Metrics.ServeHTTP)

	// Any logged-in account: its start page, its password and API tokens, log-out.
	handle("GET /{$}", loggedIn, s.handleHome)
	handle("POST /logout", loggedIn, s.handleLogout)
	handle("GET /account", loggedIn, s.handleAccountPage)
	handle("POST /account/password", loggedIn, s.handleChangePassword)
	handle("POST /account/tokens", loggedIn, s.handleCreateTokenForm)
	handle("POST /account/tokens/{id}/revoke", loggedIn, s.handleRevokeTokenForm)
	handle("GET /api/v1/tokens", loggedIn, s.handleTokensAPI)
	handle("POST /api/v1/tokens", loggedIn, s.handleCreateTokenAPI)
	handle("DELETE /api/v1/tokens/{id}", loggedIn, s.handleRevokeTokenAPI)

	// Clerk: upload, progress, download.
	handle("GET /batches", clerk, s.handleBatchesPage)
	handle("POST /batches", clerk, s.handleUploadForm)
	handle("GET /batches/{id}", clerk, s.handleBatchPage)
	handle("GET /batches/{id}/workbook", clerk, s.handleWorkbook)
	handle("POST /batches/annotate", clerk, s.handleAnnotate)
	handle("GET /batches/template.xlsx", clerk, s.handleTemplate)
	handle("POST /batches/{id}/pause", clerk, s.handlePause)
	handle("POST /batches/{id}/resume", clerk, s.handleResume)
	handle("POST /batches/{id}/cancel", clerk, s.handleCancel)
	handle("POST /batches/{id}/retry-failed", clerk, s.handleRetryFailed)
	handle("GET /api/v1/batches", clerk, s.handleBatchesAPI)
	handle("POST /api/v1/batches", clerk, s.handleUploadAPI)
	handle("POST /api/v1/batches/annotate", clerk, s.handleAnnotate)
	handle("GET /api/v1/batches/template.xlsx", clerk, s.handleTemplate)
	handle("POST /api/v1/batches/{id}/pause", clerk, s.handlePause)
	handle("POST /api/v1/batches/{id}/resume", clerk, s.handleResume)
	handle("POST /api/v1/batches/{id}/cancel", clerk, s.handleCancel)
	handle("POST /api/v1/batches/{id}/retry-failed", clerk, s.handleRetryFailed)
	handle("GET /api/v1/batches/{id}", clerk, s.handleBatchAPI)
	handle("GET /api/v1/batches/{id}/workbook", clerk, s.handleWorkbook)

	// Clerk and auditor: a person's full name and ID number on request (audited).
	handle("POST /api/v1/candidates/{id}/unmask", reader, s.handleUnmask)

	// Clerk and auditor: evidence of a check, the site's answers, the pages as Chromium showed them.
	handle("GET /api/v1/checks/{check}/evidence", reader, s.handleEvidence)
	handle("GET /api/v1/checks/{check}/files/{name}", reader, s.handleEvidenceFile)

	// Filings with the credit office and their deadlines: the clerk files,
	// the auditor reads.
	handle("GET /filings", reader, s.handleFilingsPage)
	handle("POST /filings", clerk, s.handleCreatePeriodFiling)
	handle("GET /filings/{id}", reader, s.handleFilingPage)
	handle("GET /filings/{id}/workbook", clerk, s.handleFilingWorkbook)
	handle("POST /filings/{id}/submit", clerk, s.handleSubmitFiling)
	handle("GET /api/v1/filings", reader, s.handleFilingsAPI)
	handle("POST /api/v1/filings", clerk, s.handleCreatePeriodFiling)
	handle("GET /api/v1/filings/{id}", reader, s.handleFilingAPI)
	handle("GET /api/v1/filings/{id}/workbook", clerk, s.handleFilingWorkbook)
	handle("POST /api/v1/filings/{id}/submit", clerk, s.handleSubmitFiling)

	// Ledger (台账), clerk and auditor: searched by POST, so no name or ID lands in a URL.
	handle("GET /ledger", reader, s.handleLedgerPage)
	handle("POST /ledger", reader, s.handleLedgerSearch)
	handle("POST /ledger/export", reader, s.handleLedgerExport)
	handle("POST /api/v1/ledger/query", reader, s.handleLedgerAPI)
	handle("POST /api/v1/ledger/export", reader, s.handleLedgerExport)

	// Captcha operators: the queue only, never a name or an ID.
	handle("GET /captcha", operator, s.Captcha.HandleReviewPage)
	handle("GET /api/v1/captcha/next", operator, s.Captcha.HandleNext)
	handle("POST /api/v1/captcha/{id}", operator, s.Captcha.HandleAnswer)

	// Auditor: the audit trail, its exports and the state of its hash chain.
	handle("GET /audit", auditor, s.handleAuditPage)
	handle("GET /audit/export.csv", auditor, s.handleAuditCSV)
	handle("GET /audit/export.xlsx", auditor, s.handleAuditXLSX)
	handle("GET /api/v1/audit", auditor, s.handleAuditAPI)
	handle("GET /api/v1/audit/verify", auditor, s.handleAuditVerifyAPI)

	// Admin: accounts, and the rules and settings in force (read only: they
	// change in their files, and take effect at the daemon's next start).
	handle("GET /admin/accounts", admin, s.handleAccountsPage)
	handle("POST /admin/accounts", admin, s.handleCreateAccount)
	handle("GET /admin/accounts/{id}", admin, s.handleAccountEditPage)
	handle("POST /admin/accounts/{id}/roles", admin, s.handleSetRoles)
	handle("POST /admin/accounts/{id}/disabled", admin, s.handleSetDisabled)
	handle("POST /admin/accounts/{id}/password", admin, s.handleResetPassword)
	handle("GET /admin/settings", admin, s.handleSettingsPage)

	return securityHeaders(mux)
}

// route wraps a handler with the metrics hook under its pattern.
func (s *Server) route(pattern string, h http.Handler) http.Handler {
	if s.Instrument == nil {
		return h
	}
	return s.Instrument(pattern, h)
}

// securityHeaders sets the headers every answer carries, refusals and the
// log-in page included. Pages load their script from files, so the policy
// allows no inline script.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
