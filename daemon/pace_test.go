package daemon

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The fetch pace comes from every source like the other durations, 1s by
// default; 0 means none (the scraper's "none" is negative); below 0 is refused.
func TestFetchPaceConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(file, []byte(`{"fetch_pace": "250ms"}`), 0o600)
	none := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		env  string
		want time.Duration
	}{
		{nil, "", time.Second},
		{[]string{"--config", file}, "", 250 * time.Millisecond},
		{[]string{"--config", file}, "2s", 2 * time.Second},
		{[]string{"--config", file, "--fetch-pace", "0s"}, "2s", 0},
	} {
		getenv := none
		if tc.env != "" {
			getenv = func(k string) string {
				if k == "SHIXINCHECK_FETCH_PACE" {
					return tc.env
				}
				return ""
			}
		}
		cfg, _, err := ParseConfig(tc.args, getenv, io.Discard)
		if err != nil || cfg.FetchPace != tc.want {
			t.Errorf("%v env %q: fetch pace %s, %v; want %s", tc.args, tc.env, cfg.FetchPace, err, tc.want)
		}
	}
	if _, _, err := ParseConfig([]string{"--fetch-pace", "-1s"}, none, io.Discard); err == nil {
		t.Error("a negative fetch pace was taken")
	}
	if scraperPace(0) >= 0 || scraperPace(time.Second) != time.Second {
		t.Error("0 in the configuration must reach the scraper as no pacing (negative)")
	}
}
