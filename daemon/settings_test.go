package daemon

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shixincheck/shixincheck/vault"
)

// keyMaterial is every base64 key of a key file's text.
func keyMaterial(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "lookup" || f[0] == "key") {
			out = append(out, f[len(f)-1])
		}
	}
	if len(out) < 2 {
		t.Fatalf("no key material found in the key text")
	}
	return out
}

// TestWebSettingsShowNoSecret: the settings page gets the ledger's kind, not
// its DSN; key ids, not keys; the site URL without its password; nothing of
// Redis.
func TestWebSettingsShowNoSecret(t *testing.T) {
	keys, err := vault.AddKey(vault.Generate())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Ledger = "postgres://shixin:pg-s3cret-pw@db.example:5432/shixin?sslmode=disable"
	cfg.Redis = "redis://:redis-s3cret-pw@127.0.0.1:6379/0"
	cfg.SiteURL = "https://court:site-s3cret-pw@zxgk.court.gov.cn/"
	cfg.Keys = keys
	cfg.Rules = "/etc/shixincheck/rules.yaml"
	cfg.RetentionDays = 30
	cfg.TLSCert, cfg.TLSKey = "/etc/tls/cert.pem", "/etc/tls/key.pem"

	ring, err := vault.Parse(keys)
	if err != nil {
		t.Fatal(err)
	}
	s := webSettings(cfg, ring)
	var all strings.Builder
	values := map[string]string{}
	for _, st := range s.Daemon {
		values[st.Name] = st.Value
		all.WriteString(st.Label + " " + st.Name + " " + st.Value + "\n")
	}
	text := all.String()
	for _, secret := range append([]string{"s3cret", "shixin:", "db.example", "redis"}, keyMaterial(t, keys)...) {
		if strings.Contains(text, secret) || strings.Contains(s.RulesFile, secret) {
			t.Errorf("the settings show %q:\n%s", secret, text)
		}
	}
	for name, want := range map[string]string{
		"ledger":          "PostgreSQL",
		"key_file":        "k1、k2（当前：k2）；来自环境变量 SHIXINCHECK_KEYS",
		"site_url":        "https://zxgk.court.gov.cn/",
		"site":            "classic",
		"tabs":            "2",
		"pace":            "3s",
		"captcha_timeout": "5m0s",
		"max_retry":       "8 次",
		"tls_cert":        "开",
	} {
		if values[name] != want {
			t.Errorf("%s = %q, want %q", name, values[name], want)
		}
	}
	if !strings.HasPrefix(values["retention_days"], "30 天") || s.RulesFile != cfg.Rules {
		t.Errorf("retention %q, rules file %q", values["retention_days"], s.RulesFile)
	}

	// A SQLite ledger shows its path; keys from the key file show where it is.
	cfg = DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Ledger = "sqlite:" + filepath.Join(cfg.DataDir, "ledger.db")
	file := vault.Generate()
	ring, err = vault.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	s = webSettings(cfg, ring)
	values = map[string]string{}
	for _, st := range s.Daemon {
		values[st.Name] = st.Value
	}
	if want := "SQLite：" + filepath.Join(cfg.DataDir, "ledger.db"); values["ledger"] != want {
		t.Errorf("ledger = %q, want %q", values["ledger"], want)
	}
	if want := "k1（当前：k1）；来自密钥文件 " + filepath.Join(cfg.DataDir, "keys"); values["key_file"] != want {
		t.Errorf("key_file = %q, want %q", values["key_file"], want)
	}
	if !strings.HasPrefix(values["retention_days"], "0（保留") || !strings.HasPrefix(values["tls_cert"], "关") || s.RulesFile != "" {
		t.Errorf("defaults: retention %q, TLS %q, rules file %q", values["retention_days"], values["tls_cert"], s.RulesFile)
	}
	for _, k := range keyMaterial(t, file) {
		for _, v := range values {
			if strings.Contains(v, k) {
				t.Errorf("the settings show key material: %q", v)
			}
		}
	}
}
