package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
)

// tokenView is an API token as its owner sees it: never its secret, which
// is shown once, when it is made.
type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func newTokenView(t ledger.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt}
}

func (s *Server) tokens(r *http.Request) ([]tokenView, error) {
	ts, err := s.Ledger.Tokens(r.Context(), who(r).account.ID)
	if err != nil {
		return nil, fmt.Errorf("web: tokens: %w", err)
	}
	out := make([]tokenView, len(ts))
	for i, t := range ts {
		out[i] = newTokenView(t)
	}
	return out, nil
}

// accountPage shows the account's own page; extra adds a message, a form
// error or a token's secret shown once.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, code int, extra map[string]any) {
	tokens, err := s.tokens(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Title": "我的账户", "Account": who(r).account, "Tokens": tokens, "RoleText": shixincheck.RoleText}
	for k, v := range extra {
		data[k] = v
	}
	s.render(w, r, code, "account.html", data)
}

func (s *Server) handleAccountPage(w http.ResponseWriter, r *http.Request) {
	var extra map[string]any
	if r.URL.Query().Get("changed") == "1" {
		extra = map[string]any{"Notice": "密码已修改；本账户在其他浏览器中的登录已全部退出。"}
	}
	s.accountPage(w, r, http.StatusOK, extra)
}

// handleChangePassword changes the account's own password. The account's
// other sessions end; this browser gets a new one.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	acct := p.account
	current, next, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("password2")
	refuse := func(msg string) {
		s.accountPage(w, r, http.StatusUnprocessableEntity, map[string]any{"PasswordError": msg})
	}
	if !access.CheckPassword(acct.PasswordHash, current) {
		refuse("当前密码不正确")
		return
	}
	if next != again {
		refuse("两次输入的新密码不一致")
		return
	}
	if err := access.ValidatePassword(acct.Login, next); err != nil {
		refuse(err.Error())
		return
	}
	hash, err := access.HashPassword(next)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acct.PasswordHash = hash
	if err := s.Ledger.UpdateAccount(r.Context(), acct); err != nil { // ends every session of the account
		s.fail(w, r, err)
		return
	}
	s.auditAfter(r, shixincheck.AuditAccountChanged, "account "+acct.Login, "password changed by its owner")
	if p.session != nil {
		if err := s.startSession(w, r, acct); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
}

// newToken makes an API token for the request's account; the secret is
// returned once and only its hash is kept.
func (s *Server) newToken(r *http.Request, name string) (tokenView, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return tokenView{}, "", errBadTokenName
	}
	secret := access.NewSecret("sxc_")
	t, err := s.Ledger.CreateToken(r.Context(), who(r).account.ID, name, access.HashSecret(secret))
	if err != nil {
		return tokenView{}, "", fmt.Errorf("web: create token: %w", err)
	}
	s.auditAfter(r, shixincheck.AuditTokenCreated, "token "+strconv.FormatInt(t.ID, 10), "name "+name)
	return newTokenView(t), secret, nil
}

var errBadTokenName = errors.New("请为令牌起一个名称（最多 64 个字），如“办公室脚本”")

func (s *Server) revokeToken(r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Ledger.RevokeToken(r.Context(), who(r).account.ID, id, s.now()); err != nil {
		return err
	}
	s.auditAfter(r, shixincheck.AuditTokenRevoked, "token "+strconv.FormatInt(id, 10), "")
	return nil
}

// handleCreateTokenForm shows the new token's secret on the page that
// answers the form, once: it is never shown again.
func (s *Server) handleCreateTokenForm(w http.ResponseWriter, r *http.Request) {
	t, secret, err := s.newToken(r, r.PostFormValue("name"))
	if errors.Is(err, errBadTokenName) {
		s.accountPage(w, r, http.StatusUnprocessableEntity, map[string]any{"TokenError": err.Error()})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.accountPage(w, r, http.StatusOK, map[string]any{"NewToken": t, "Secret": secret})
}

func (s *Server) handleRevokeTokenForm(w http.ResponseWriter, r *http.Request) {
	if err := s.revokeToken(r); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (s *Server) handleTokensAPI(w http.ResponseWriter, r *http.Request) {
	tokens, err := s.tokens(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": tokens})
}

func (s *Server) handleCreateTokenAPI(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	t, secret, err := s.newToken(r, in.Name)
	if errors.Is(err, errBadTokenName) {
		s.writeError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		tokenView
		Token string `json:"token"`
	}{t, secret})
}

func (s *Server) handleRevokeTokenAPI(w http.ResponseWriter, r *http.Request) {
	if err := s.revokeToken(r); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
