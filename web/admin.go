package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
)

// accountRow is an account in the admin's list.
type accountRow struct {
	ledger.Account
	Locked bool
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, code int, form map[string]any) {
	accts, err := s.Ledger.Accounts(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: accounts: %w", err))
		return
	}
	now := s.now()
	rows := make([]accountRow, len(accts))
	for i, a := range accts {
		rows[i] = accountRow{a, a.LockedUntil != nil && now.Before(*a.LockedUntil)}
	}
	data := map[string]any{"Title": "账户管理", "Accounts": rows, "Roles": shixincheck.Roles, "RoleText": shixincheck.RoleText,
		"Form": map[string]any{}}
	for k, v := range form {
		data[k] = v
	}
	s.render(w, r, code, "accounts.html", data)
}

func (s *Server) handleAccountsPage(w http.ResponseWriter, r *http.Request) {
	s.accountsPage(w, r, http.StatusOK, nil)
}

// formRoles reads the roles ticked in a form.
func formRoles(r *http.Request) ([]shixincheck.Role, error) {
	roles, err := access.ParseRoles(strings.Join(r.PostForm["roles"], ","))
	if err != nil {
		return nil, errors.New("请至少选择一个角色")
	}
	return roles, nil
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) {
	login := strings.TrimSpace(r.PostFormValue("login"))
	name := strings.TrimSpace(r.PostFormValue("display_name"))
	password := r.PostFormValue("password")
	var problems []string
	if err := access.ValidateLogin(login); err != nil {
		problems = append(problems, err.Error())
	}
	if name == "" || utf8.RuneCountInString(name) > 50 {
		problems = append(problems, "请填写姓名（最多 50 个字）")
	}
	roles, err := formRoles(r)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if err := access.ValidatePassword(login, password); err != nil {
		problems = append(problems, err.Error())
	}
	form := map[string]any{"login": login, "display_name": name, "roles": access.FormatRoles(roles)}
	if len(problems) > 0 {
		s.accountsPage(w, r, http.StatusUnprocessableEntity, map[string]any{"Problems": problems, "Form": form})
		return
	}
	hash, err := access.HashPassword(password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.Ledger.CreateAccount(r.Context(), ledger.Account{Login: login, DisplayName: name, Roles: roles, PasswordHash: hash})
	if errors.Is(err, ledger.ErrExists) {
		s.accountsPage(w, r, http.StatusConflict, map[string]any{"Problems": []string{"登录名已被使用：" + login}, "Form": form})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.auditAfter(r, shixincheck.AuditAccountCreated, "account "+a.Login, "roles "+access.FormatRoles(a.Roles))
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
}

// loadAccount reads the account the path names.
func (s *Server) loadAccount(r *http.Request) (ledger.Account, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return ledger.Account{}, err
	}
	return s.Ledger.AccountByID(r.Context(), id)
}

func (s *Server) accountEditPage(w http.ResponseWriter, r *http.Request, code int, a ledger.Account, msg string) {
	s.render(w, r, code, "account_edit.html", map[string]any{
		"Title": "账户 " + a.Login, "Target": accountRow{a, a.LockedUntil != nil && s.now().Before(*a.LockedUntil)},
		"Roles": shixincheck.Roles, "RoleText": shixincheck.RoleText, "Error": msg,
		"Self": a.ID == who(r).account.ID,
	})
}

func (s *Server) handleAccountEditPage(w http.ResponseWriter, r *http.Request) {
	a, err := s.loadAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.accountEditPage(w, r, http.StatusOK, a, "")
}

// changeAccount applies an admin's change to the account the path names,
// audits what changed (never a password) and goes back to its page; change
// returns what to record, or a message refusing the change.
func (s *Server) changeAccount(w http.ResponseWriter, r *http.Request, change func(a *ledger.Account) (detail, refusal string, err error)) {
	a, err := s.loadAccount(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	detail, refusal, err := change(&a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if refusal != "" {
		s.accountEditPage(w, r, http.StatusConflict, a, refusal)
		return
	}
	if err := s.Ledger.UpdateAccount(r.Context(), a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.auditAfter(r, shixincheck.AuditAccountChanged, "account "+a.Login, detail)
	http.Redirect(w, r, "/admin/accounts/"+strconv.FormatInt(a.ID, 10), http.StatusSeeOther)
}

// handleSetRoles changes an account's display name and roles. An admin
// keeps their own admin role, so there is always an admin.
func (s *Server) handleSetRoles(w http.ResponseWriter, r *http.Request) {
	s.changeAccount(w, r, func(a *ledger.Account) (string, string, error) {
		roles, err := formRoles(r)
		if err != nil {
			return "", err.Error(), nil
		}
		if a.ID == who(r).account.ID && !access.HasRole(roles, shixincheck.RoleAdmin) {
			return "", "不能取消自己的管理员角色（请由另一位管理员操作）", nil
		}
		var changed []string
		if name := strings.TrimSpace(r.PostFormValue("display_name")); name != "" && name != a.DisplayName {
			if utf8.RuneCountInString(name) > 50 {
				return "", "姓名最多 50 个字", nil
			}
			a.DisplayName = name
			changed = append(changed, "display name changed")
		}
		if before, after := access.FormatRoles(a.Roles), access.FormatRoles(roles); before != after {
			changed = append(changed, "roles "+before+" -> "+after)
		}
		a.Roles = roles
		if len(changed) == 0 {
			changed = append(changed, "nothing changed")
		}
		return strings.Join(changed, "; "), "", nil
	})
}

// handleSetDisabled disables (disabled=1: its sessions end, its tokens stop
// working) or enables an account; an admin cannot disable themselves.
func (s *Server) handleSetDisabled(w http.ResponseWriter, r *http.Request) {
	s.changeAccount(w, r, func(a *ledger.Account) (string, string, error) {
		disable := r.PostFormValue("disabled") == "1"
		if disable && a.ID == who(r).account.ID {
			return "", "不能停用自己的账户", nil
		}
		a.Disabled = disable
		if disable {
			return "disabled", "", nil
		}
		return "enabled", "", nil
	})
}

// handleResetPassword sets a new password for an account, which also lifts
// a lock and ends its sessions.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	s.changeAccount(w, r, func(a *ledger.Account) (string, string, error) {
		if a.ID == who(r).account.ID {
			return "", "请在“我的账户”页面修改自己的密码", nil
		}
		password := r.PostFormValue("password")
		if err := access.ValidatePassword(a.Login, password); err != nil {
			return "", err.Error(), nil
		}
		hash, err := access.HashPassword(password)
		if err != nil {
			return "", "", err
		}
		a.PasswordHash = hash
		return "password reset by an admin (unlocked)", "", nil
	})
}
