package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
)

const (
	sessionCookie = "sxc_session"
	// loginCookie holds the log-in form's own CSRF token (double submit):
	// a page of another site cannot log a browser in to an account of its
	// choosing, since it can neither read nor set this cookie.
	loginCookie    = "sxc_login"
	loginCookieAge = 2 * 3600 // seconds: a log-in page left open longer is refreshed
)

// loginRefusedText is the one message of every refused log-in, whatever the
// reason (unknown login, wrong password, locked, disabled), so the page
// never tells whether a login exists or is locked.
func (s *Server) loginRefusedText() string {
	return fmt.Sprintf("用户名或密码错误，或账户已被锁定或停用。连续 %d 次输错密码后账户将锁定 %d 分钟；如需帮助，请联系管理员。",
		s.loginMaxFailures(), int(s.loginLock().Minutes()))
}

// loginPage shows the log-in form with a fresh pre-session token.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, code int, next, login, msg string) {
	token := access.NewSecret("")
	s.setCookie(w, loginCookie, token, loginCookieAge)
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, code, "login.html", map[string]any{
		"Title": "登录", "LoginToken": token, "Next": localPath(next), "Login": login, "Error": msg, "Notice": loginNotice(r),
	})
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.loginPage(w, r, http.StatusOK, r.URL.Query().Get("next"), "", "")
}

// loginNotice is what the log-in page says after a log-out.
func loginNotice(r *http.Request) string {
	if r.URL.Query().Get("logged_out") == "1" {
		return "您已退出登录。"
	}
	return ""
}

// handleLogin checks a login and password. Every refusal costs the same
// password hashing and says the same; each is audited, with why.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.loginPage(w, r, http.StatusBadRequest, "", "", "无法读取表单，请重新登录")
		return
	}
	next := r.PostFormValue("next")
	want := s.cookie(r, loginCookie)
	if want == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue(csrfField)), []byte(want)) != 1 {
		s.loginPage(w, r, http.StatusForbidden, next, "", "登录页面已过期或请求来源不明，请重新输入用户名和密码")
		return
	}
	login := strings.TrimSpace(r.PostFormValue("login"))
	password := r.PostFormValue("password")
	ctx := r.Context()
	now := s.now()

	acct, err := s.Ledger.Account(ctx, login)
	if errors.Is(err, ledger.ErrNotFound) {
		access.DummyCheck(password)
		// A mistyped login may be a password typed in the wrong box: not recorded.
		s.auditAs(r, "anonymous", shixincheck.AuditLoginFailed, "unknown account", "no such login")
		s.loginPage(w, r, http.StatusUnauthorized, next, login, s.loginRefusedText())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok := access.CheckPassword(acct.PasswordHash, password)
	target := "account " + acct.Login
	var why string
	switch {
	case acct.Disabled:
		why = "account disabled"
	case acct.LockedUntil != nil && now.Before(*acct.LockedUntil):
		why = "account locked"
	case !ok:
		why = "wrong password"
		until, err := s.Ledger.LoginFailed(ctx, acct.ID, now, s.loginMaxFailures(), s.loginLock())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if until != nil {
			why += "; locked until " + until.In(shanghai).Format("2006-01-02 15:04:05")
		}
	}
	if why != "" {
		s.auditAs(r, acct.Login, shixincheck.AuditLoginFailed, target, why)
		s.loginPage(w, r, http.StatusUnauthorized, next, login, s.loginRefusedText())
		return
	}
	if err := s.Ledger.LoginSucceeded(ctx, acct.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	// A new session id at every log-in (no fixation); the old one, if any, ends.
	if old := s.cookie(r, sessionCookie); old != "" {
		if err := s.Ledger.DeleteSession(ctx, access.HashSecret(old)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.startSession(w, r, acct); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setCookie(w, loginCookie, "", -1)
	s.auditAs(r, acct.Login, shixincheck.AuditLogin, target, "")
	dest := localPath(next)
	if dest == "" {
		dest = "/"
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// startSession stores a new session of acct and sets its cookie, which ends
// with the browser; the server ends it after SessionIdle unused or SessionMax.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, acct ledger.Account) error {
	id := access.NewSecret("")
	now := s.now()
	err := s.Ledger.CreateSession(r.Context(), ledger.Session{
		IDHash: access.HashSecret(id), AccountID: acct.ID, CSRFToken: access.NewSecret(""),
		CreatedAt: now, LastSeen: now, Remote: s.remote(r),
	})
	if err != nil {
		return fmt.Errorf("web: create session: %w", err)
	}
	s.setCookie(w, sessionCookie, id, 0)
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if p.session != nil {
		if err := s.Ledger.DeleteSession(r.Context(), p.session.IDHash); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setCookie(w, sessionCookie, "", -1)
	s.auditAs(r, p.account.Login, shixincheck.AuditLogout, "account "+p.account.Login, "")
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
}
