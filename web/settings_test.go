package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/rules"
)

const settingsRules = `
version: office-2026-03
items:
  - name: 公职人员招录（聘）及考核
    aliases: [公职人员招录]
    stage: 报名资格审查
    frequency: 适时
    departments: 政工科
    measures:
      listed: 取消报名资格
      clear: 按正常政策程序办理
  - name: 优秀政协委员评选
    stage: 评选公示前
    frequency: 每年一次
    departments: 委员工委
    measures:
      listed: 不予推荐
      clear: 同等条件优先推荐
      unchecked: 暂缓推荐，待人工核查
calendar:
  days:
    - {date: "2026-10-10", work: true, name: 国庆节调休}
  known_years: [2027]
`

// TestSettingsPage: the admin reads the rules in force (every item with its
// stage, frequency, departments and three measures, the calendar's
// corrections), the daemon's settings as given and the audit chain's state;
// a broken chain shows where it breaks.
func TestSettingsPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	rs, err := rules.Parse([]byte(settingsRules), "office.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts.srv.Rules = rs
	ts.srv.Settings = Settings{RulesFile: "/etc/shixincheck/office.yaml", Daemon: []Setting{
		{Label: "站点类型", Name: "site", Value: "gkw"},
		{Label: "台账数据库", Name: "ledger", Value: "PostgreSQL"},
		{Label: "加密密钥", Name: "key_file", Value: "k1、k2（当前：k2）"},
	}}
	ts.srv.InsecureCookies = true

	admin := ts.login(t, shixincheck.RoleAdmin)
	code, page := admin.get(t, "/admin/settings")
	if code != 200 {
		t.Fatalf("settings page: %d %.300s", code, page)
	}
	n, err := ts.ledger.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`<a href="/admin/settings">系统设置</a>`,
		"office-2026-03", "/etc/shixincheck/office.yaml", "rules_loaded",
		"2026-10-10", "调休上班", "国庆节调休", "2027",
		"站点类型", "gkw", "<code>ledger</code>", "PostgreSQL", "k1、k2（当前：k2）",
		"会话空闲超时", "30m0s", "Cookie 带 Secure 标志", "否（insecure_cookies",
		fmt.Sprintf("哈希链校验通过：共 %d 条记录", n),
	}
	for _, it := range rs.Items {
		want = append(want, it.Name, it.Stage, it.Frequency, it.Departments, it.Listed, it.Clear, it.Unchecked)
	}
	want = append(want, shixincheck.NeedsPerson) // the first item's unchecked measure, by default
	for _, w := range want {
		if !bytes.Contains(page, []byte(w)) {
			t.Errorf("the settings page lacks %q", w)
		}
	}

	// Admins only, and only their nav links to it.
	for _, r := range []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleOperator, shixincheck.RoleAuditor} {
		if code, _ := ts.login(t, r).get(t, "/admin/settings"); code != 403 {
			t.Errorf("%s: settings page %d, want 403", r, code)
		}
	}
	if _, batches := ts.clerk.get(t, "/batches"); bytes.Contains(batches, []byte("/admin/settings")) {
		t.Error("a clerk's nav links to the settings page")
	}

	// The built-in rules say so.
	ts.srv.Rules, ts.srv.Settings.RulesFile = rules.Default(), ""
	if _, page := admin.get(t, "/admin/settings"); !bytes.Contains(page, []byte("内置种子规则")) || !bytes.Contains(page, []byte(rules.Default().Version)) {
		t.Error("the page does not say the rules are the built-in seed plan")
	}

	// An edited audit entry shows as a broken chain, with its seq.
	db, err := sql.Open("sqlite", ts.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `UPDATE audit_log SET detail = 'edited' WHERE seq = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, page := admin.get(t, "/admin/settings"); !bytes.Contains(page, []byte("哈希链校验失败")) || !bytes.Contains(page, []byte("broken at seq 1")) {
		t.Errorf("an edited entry does not show as a broken chain")
	}
}
