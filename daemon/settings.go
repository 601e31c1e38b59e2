package daemon

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/shixincheck/shixincheck/vault"
	"github.com/shixincheck/shixincheck/web"
)

// webSettings is what the admin's settings page shows of cfg. It shows
// nothing secret: of the ledger only its kind (a PostgreSQL DSN may carry a
// password), of the keys only their ids, of the site URL no user or
// password, and nothing of Redis (its URL may carry a password).
func webSettings(cfg Config, keys *vault.Keys) web.Settings {
	onOff := func(on bool, yes, no string) string {
		if on {
			return yes
		}
		return no
	}
	retention := "0（保留，不自动清除）"
	if cfg.RetentionDays > 0 {
		retention = strconv.Itoa(cfg.RetentionDays) + " 天（已完成批次的证据和个人信息在最后一次核查后这么多天清除，台账保留脱敏记录和结论）"
	}
	keySource := "密钥文件 " + cfg.keyFile()
	if cfg.Keys != "" {
		keySource = "环境变量 " + keysEnv
	}
	return web.Settings{
		RulesFile: cfg.Rules,
		Daemon: []web.Setting{
			{Label: "演示模式", Name: "demo", Value: onOff(cfg.Demo, "开（核查本进程内的模拟站点）", "关")},
			{Label: "站点类型", Name: "site", Value: cfg.Site},
			{Label: "站点地址", Name: "site_url", Value: siteURL(cfg.SiteURL)},
			{Label: "浏览器标签页（同时核查数）", Name: "tabs", Value: strconv.Itoa(cfg.Tabs)},
			{Label: "同一标签页两次查询的最小间隔", Name: "pace", Value: cfg.Pace.String()},
			{Label: "同一次核查内翻页、查看详情的最小间隔", Name: "fetch_pace", Value: cfg.FetchPace.String()},
			{Label: "等待人工识别验证码", Name: "captcha_timeout", Value: cfg.CaptchaTimeout.String()},
			{Label: "核查失败后最多重试", Name: "max_retry", Value: strconv.Itoa(cfg.MaxRetry) + " 次"},
			{Label: "保留期限", Name: "retention_days", Value: retention},
			{Label: "备案方式", Name: "filing", Value: onOff(cfg.Filing == "period", "按期间（由经办人按部门、期间生成备案）", "按批次（批次完成即生成备案）")},
			{Label: "直接提供 HTTPS（TLS）", Name: "tls_cert", Value: onOff(cfg.TLSCert != "", "开", "关（HTTP：请由前置代理提供 HTTPS，或仅在本机使用）")},
			{Label: "台账数据库", Name: "ledger", Value: ledgerKind(cfg.Ledger)},
			{Label: "加密密钥", Name: "key_file", Value: keyRing(keys) + "；来自" + keySource},
		},
	}
}

// ledgerKind names the ledger's backend: a SQLite file's path, or only
// "PostgreSQL" for a server, whose DSN may carry a password.
func ledgerKind(dsn string) string {
	if strings.Contains(dsn, "://") {
		return "PostgreSQL"
	}
	return "SQLite：" + strings.TrimPrefix(dsn, "sqlite:")
}

// siteURL is the court site's URL without a user or password in it.
func siteURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "（无法解析）"
	}
	u.User = nil
	return u.String()
}

// keyRing lists the key ids and which one is current, never key material.
func keyRing(keys *vault.Keys) string {
	return strings.Join(keys.IDs(), "、") + "（当前：" + keys.Current() + "）"
}
