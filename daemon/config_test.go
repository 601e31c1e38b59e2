package daemon

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigSourcesInOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	os.WriteFile(file, []byte(`{"tabs": 3, "pace": "5s", "listen": "127.0.0.1:9000", "data_dir": "/srv/x"}`), 0o600)
	env := map[string]string{"SHIXINCHECK_TABS": "4", "SHIXINCHECK_STEP_TIMEOUT": "7s"}
	cfg, check, err := ParseConfig([]string{"--config", file, "--listen", "127.0.0.1:9001"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if check {
		t.Error("check set without --config.check")
	}
	// flag > env > file > default
	if cfg.Listen != "127.0.0.1:9001" || cfg.Tabs != 4 || cfg.Pace != 5*time.Second || cfg.StepTimeout != 7*time.Second ||
		cfg.DataDir != "/srv/x" || cfg.Ledger != "/srv/x/ledger.db" || cfg.MaxRetry != 8 {
		t.Errorf("config = %+v", cfg)
	}
}

func TestConfigRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.json")
	os.WriteFile(unknown, []byte(`{"tabz": 3}`), 0o600)
	badRules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(badRules, []byte("version: x\nitems: []\n"), 0o600)
	none := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--config", unknown}, nil, `unknown field "tabz"`},
		{[]string{"--tabs", "0"}, nil, "tabs 0: want 1 to 16"},
		{[]string{"--redis", "localhost:6379"}, nil, "want redis://host:port/db"},
		{[]string{"--site", "gkw2"}, nil, `site "gkw2"`},
		{nil, map[string]string{"SHIXINCHECK_PACE": "soon"}, "SHIXINCHECK_PACE"},
		{[]string{"stray"}, nil, `unexpected argument "stray"`},
	} {
		getenv := none
		if tc.env != nil {
			getenv = func(k string) string { return tc.env[k] }
		}
		_, _, err := ParseConfig(tc.args, getenv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: err = %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	// --config.check loads the rules file too.
	var out strings.Builder
	err := Run(t.Context(), []string{"serve", "--config.check", "--rules", badRules}, none, nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "rules.yaml") {
		t.Errorf("config.check with a bad rules file: %v", err)
	}
	if err := Run(t.Context(), []string{"serve", "--config.check"}, none, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "configuration ok") {
		t.Errorf("config.check: %v, %q", err, out.String())
	}
}
