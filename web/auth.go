package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/roster"
)

// SessionMax is how long a session lasts after log-in however much it is
// used: a working day, so a browser left logged in overnight is not.
const SessionMax = 12 * time.Hour

// Defaults of the Server's log-in and session settings.
const (
	defaultLoginMaxFailures = 5
	defaultLoginLock        = 15 * time.Minute
	defaultSessionIdle      = 30 * time.Minute
	// touchEvery bounds how often a session's last use is written.
	touchEvery = time.Minute
	// csrfField and csrfHeader carry a session's CSRF token: the hidden field
	// of every form, the header of every fetch.
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

func (s *Server) loginMaxFailures() int {
	if s.LoginMaxFailures > 0 {
		return s.LoginMaxFailures
	}
	return defaultLoginMaxFailures
}

func (s *Server) loginLock() time.Duration {
	if s.LoginLock > 0 {
		return s.LoginLock
	}
	return defaultLoginLock
}

func (s *Server) sessionIdle() time.Duration {
	if s.SessionIdle > 0 {
		return s.SessionIdle
	}
	return defaultSessionIdle
}

// cookieName gives a cookie the __Host- prefix, which makes the browser
// insist on Secure, Path=/ and no Domain, unless cookies are insecure.
func (s *Server) cookieName(name string) string {
	if s.InsecureCookies {
		return name
	}
	return "__Host-" + name
}

// setCookie sets (maxAge 0: until the browser closes; < 0: deletes) one of
// the daemon's cookies, always HttpOnly and SameSite=Strict.
func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: !s.InsecureCookies, SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// principal is who sent a request: an account, by its session cookie or by
// an API token.
type principal struct {
	account ledger.Account
	session *ledger.Session // nil when an API token authenticated the request
}

type principalKey struct{}

// who returns the request's principal; nil on public routes and before log-in.
func who(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	return p
}

// Operator is the captcha queue's Config.Operator for a daemon with
// accounts: an opaque, stable id of the logged-in account ("account-17"),
// "" when none.
func Operator(r *http.Request) string {
	if p := who(r); p != nil {
		return "account-" + strconv.FormatInt(p.account.ID, 10)
	}
	return ""
}

// CSRFToken is the CSRF token of the request's session, for a page rendered
// outside this package (the captcha review page's meta csrf-token); "" when
// the request has no session.
func CSRFToken(r *http.Request) string {
	if p := who(r); p != nil && p.session != nil {
		return p.session.CSRFToken
	}
	return ""
}

// actor names who acts in the audit trail: the account's login.
func actor(r *http.Request) string {
	if p := who(r); p != nil {
		return p.account.Login
	}
	return "anonymous"
}

// remote is the client's address for the audit trail: the connection's
// peer, or with TrustForwardedFor the last X-Forwarded-For entry (the one
// the daemon's own reverse proxy added).
func (s *Server) remote(r *http.Request) string {
	if s.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
				return last
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// guard lets a request through to h only when its policy allows it: a
// logged-out page request goes to the log-in page, an API request without
// credentials gets 401, an account without the role 403, and a
// state-changing request under a session cookie must carry the session's
// CSRF token.
func (s *Server) guard(pol policy, h http.HandlerFunc) http.HandlerFunc {
	if pol.public {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store") // pages and answers behind a log-in may carry personal data
		p, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if p == nil {
			s.unauthenticated(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if len(pol.roles) > 0 && !access.HasRole(p.account.Roles, pol.roles...) {
			s.writeError(w, r, http.StatusForbidden, "您的账户没有使用此功能的权限")
			return
		}
		if p.session != nil && !safeMethod(r.Method) {
			if code, msg := s.checkCSRF(w, r, p.session.CSRFToken); code != 0 {
				s.writeError(w, r, code, msg)
				return
			}
		}
		h(w, r)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate finds the request's account: by its API token (API routes
// only) or by its session cookie. nil when there is none, or it is expired,
// revoked or disabled.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	now := s.now()
	if authz := r.Header.Get("Authorization"); authz != "" && wantsJSON(r) {
		tok, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok || tok == "" {
			return nil, nil
		}
		_, acct, err := s.Ledger.TokenAccount(ctx, access.HashSecret(strings.TrimSpace(tok)), now)
		if errors.Is(err, ledger.ErrNotFound) || err == nil && acct.Disabled {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &principal{account: acct}, nil
	}
	id := s.cookie(r, sessionCookie)
	if id == "" {
		return nil, nil
	}
	hash := access.HashSecret(id)
	sess, err := s.Ledger.Session(ctx, hash)
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeen) > s.sessionIdle() || now.Sub(sess.CreatedAt) > SessionMax {
		return nil, s.Ledger.DeleteSession(ctx, hash)
	}
	acct, err := s.Ledger.AccountByID(ctx, sess.AccountID)
	if errors.Is(err, ledger.ErrNotFound) || err == nil && acct.Disabled {
		return nil, s.Ledger.DeleteSession(ctx, hash)
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		if err := s.Ledger.TouchSession(ctx, hash, now); err != nil {
			return nil, err
		}
		sess.LastSeen = now
	}
	return &principal{account: acct, session: &sess}, nil
}

// unauthenticated answers a request that needs a log-in: 401 for the API,
// the log-in page (coming back here afterwards) for a page.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shixincheck"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "请先登录，或在 Authorization 头中提供有效的 API 令牌"})
		return
	}
	target := "/login"
	if safeMethod(r.Method) && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// checkCSRF compares the request's CSRF token, from the X-CSRF-Token header
// or the form's csrf_token field, with the session's, in constant time. It
// returns the refusal's status and message, or 0. A form is read here, under
// the upload limit, and stays parsed for the handler.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, want string) (int, string) {
	got := r.Header.Get(csrfHeader)
	if got == "" && isForm(r) {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			err = r.ParseMultipartForm(maxUpload)
		} else {
			err = r.ParseForm()
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, roster.MsgTooBig
		}
		got = r.PostFormValue(csrfField)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return http.StatusForbidden, "请求缺少有效的安全令牌（CSRF），已拒绝：请刷新页面后重试"
	}
	return 0, ""
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "multipart/form-data") || strings.HasPrefix(ct, "application/x-www-form-urlencoded")
}

// homeOf is the first page an account's roles allow.
func homeOf(roles []shixincheck.Role) string {
	for _, r := range shixincheck.Roles {
		if access.HasRole(roles, r) {
			return roleHome[r]
		}
	}
	return "/account"
}

var roleHome = map[shixincheck.Role]string{
	shixincheck.RoleClerk:    "/batches",
	shixincheck.RoleOperator: "/captcha",
	shixincheck.RoleAuditor:  "/ledger",
	shixincheck.RoleAdmin:    "/admin/accounts",
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, homeOf(who(r).account.Roles), http.StatusSeeOther)
}

// localPath returns next when it is a path on this site ("/batches/b1"),
// else "": the log-in page never sends anyone elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "/login") {
		return ""
	}
	return next
}
