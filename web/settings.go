package web

import (
	"fmt"
	"net/http"
)

// Settings is what the admin's settings page shows of the daemon besides its
// rules (Server.Rules) and the session settings the Server holds itself.
// The daemon fills it at start; nothing in it may be secret: no DSN, no
// key material, no password.
type Settings struct {
	RulesFile string    // the rules file the rules were read from; "" for the built-in seed plan
	Daemon    []Setting // the daemon's settings, in the order shown
}

// Setting is one setting as the page shows it.
type Setting struct {
	Label string // what it is, in Chinese
	Name  string // its key in the JSON config file (the flag is the same with '-' for '_'); "" when none
	Value string
}

// settingRows is s.Settings.Daemon followed by the session settings this
// Server applies itself, as it applies them.
func (s *Server) settingRows() []Setting {
	rows := append([]Setting(nil), s.Settings.Daemon...)
	secure := "是（Cookie 仅经 HTTPS 发送）"
	if s.InsecureCookies {
		secure = "否（insecure_cookies：Cookie 也经明文 HTTP 发送，仅限可信网络）"
	}
	remote := "连接的对端地址"
	if s.TrustForwardedFor {
		remote = "X-Forwarded-For 的最后一项（由前置代理填写）"
	}
	return append(rows,
		Setting{"会话空闲超时", "session_idle", s.sessionIdle().String() + "（无论是否使用，登录 " + SessionMax.String() + " 后也会结束）"},
		Setting{"Cookie 带 Secure 标志", "insecure_cookies", secure},
		Setting{"审计日志中的来源地址", "trust_forwarded_for", remote},
		Setting{"登录失败锁定", "", fmt.Sprintf("连续失败 %d 次后锁定 %s", s.loginMaxFailures(), s.loginLock())},
	)
}

func (s *Server) handleSettingsPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{
		"Title": "系统设置", "Rules": s.Rules, "RulesFile": s.Settings.RulesFile,
		"Settings": s.settingRows(), "Chain": s.verifyChain(r),
	}
	if s.Calendar != nil {
		data["CalendarYears"] = s.Calendar.KnownYears()
	}
	s.render(w, r, http.StatusOK, "settings.html", data)
}
