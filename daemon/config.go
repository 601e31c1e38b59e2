package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the daemon's configuration. Sources, weakest first: defaults, the
// JSON config file (--config), environment variables (SHIXINCHECK_<FLAG>, with
// '-' as '_'), flags.
type Config struct {
	Listen         string        `json:"listen"`
	DataDir        string        `json:"data_dir"`
	Ledger         string        `json:"ledger"`
	Rules          string        `json:"rules"`
	Redis          string        `json:"redis"`
	SiteURL        string        `json:"site_url"`
	Site           string        `json:"site"`
	Browser        string        `json:"browser"`
	Tabs           int           `json:"tabs"`
	Pace           time.Duration `json:"pace"`
	FetchPace      time.Duration `json:"fetch_pace"`
	StepTimeout    time.Duration `json:"step_timeout"`
	CaptchaTimeout time.Duration `json:"captcha_timeout"`
	MaxRetry       int           `json:"max_retry"`
	Demo           bool          `json:"demo"`

	// KeyFile holds the keys that encrypt personal data in the ledger (see
	// vault). The environment variable SHIXINCHECK_KEYS, when set, holds the
	// same text and wins, so a container can take it from a secret.
	KeyFile string `json:"key_file"`
	Keys    string `json:"-"` // the text of SHIXINCHECK_KEYS

	// RetentionDays: finished batches' evidence and personal data are purged
	// this many days after their last check; 0 keeps them.
	RetentionDays int `json:"retention_days"`
	// SessionIdle logs a browser out after this long without a request.
	SessionIdle time.Duration `json:"session_idle"`
	// TLSCert and TLSKey serve HTTPS directly; without them, put the daemon
	// behind a TLS proxy, or set InsecureCookies for plain HTTP on a trusted
	// network (the session cookie then lacks the Secure flag).
	TLSCert         string `json:"tls_cert"`
	TLSKey          string `json:"tls_key"`
	InsecureCookies bool   `json:"insecure_cookies"`
	// TrustForwardedFor takes the client address for the audit trail from
	// X-Forwarded-For: only behind a proxy that sets it.
	TrustForwardedFor bool `json:"trust_forwarded_for"`
	// Filing is how the office files with the credit office: "batch", a
	// filing prepared as each batch finishes; "period", none prepared by the
	// daemon, a clerk files a department's checks of a period.
	Filing string `json:"filing"`
}

// DefaultConfig works on one machine against the real court site.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:8080",
		DataDir:        "data",
		Redis:          "redis://127.0.0.1:6379/0",
		SiteURL:        "https://zxgk.court.gov.cn",
		Site:           "classic",
		Tabs:           2,
		Pace:           3 * time.Second,
		FetchPace:      time.Second,
		StepTimeout:    20 * time.Second,
		CaptchaTimeout: 5 * time.Minute,
		MaxRetry:       8,
		SessionIdle:    30 * time.Minute,
		Filing:         "batch",
	}
}

func bindFlags(fs *flag.FlagSet, c *Config, configFile *string, check *bool) {
	fs.StringVar(configFile, "config", "", "JSON config file (unknown keys are refused)")
	fs.BoolVar(check, "config.check", false, "validate the configuration and exit")
	fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP listen address (host:port; port 0 picks one)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the ledger and the browser profile")
	fs.StringVar(&c.Ledger, "ledger", c.Ledger, "ledger database (default: <data-dir>/ledger.db)")
	fs.StringVar(&c.Rules, "rules", c.Rules, "YAML file of application items and measures (default: the seed plan's, see rules/default.yaml)")
	fs.StringVar(&c.Redis, "redis", c.Redis, "Redis URL for the task queue and the captcha queue")
	fs.StringVar(&c.SiteURL, "site-url", c.SiteURL, "base URL of the court site")
	fs.StringVar(&c.Site, "site", c.Site, "site profile: classic (/shixin/), gkw (the 2026 front end, behavioural captchas), auto (detect)")
	fs.StringVar(&c.Browser, "browser", c.Browser, "Chromium binary (default: chromium found on PATH)")
	fs.IntVar(&c.Tabs, "tabs", c.Tabs, "browser tabs, i.e. checks run at once")
	fs.DurationVar(&c.Pace, "pace", c.Pace, "minimum gap between two searches in one tab")
	fs.DurationVar(&c.FetchPace, "fetch-pace", c.FetchPace, "minimum gap between two requests of one check in one tab (further result pages, details)")
	fs.DurationVar(&c.StepTimeout, "step-timeout", c.StepTimeout, "time allowed for one answer of the court site")
	fs.DurationVar(&c.CaptchaTimeout, "captcha-timeout", c.CaptchaTimeout, "how long a check waits for a person to solve a captcha")
	fs.IntVar(&c.MaxRetry, "max-retry", c.MaxRetry, "retries of a check before it is recorded as failed")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "serve the court-site simulator in this process and check against it")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "file of the keys that encrypt personal data (default: <data-dir>/keys, created on first start; env SHIXINCHECK_KEYS may hold the keys themselves)")
	fs.IntVar(&c.RetentionDays, "retention-days", c.RetentionDays, "purge evidence and personal data of batches finished this many days ago (0: keep)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "log a browser out after this long without use")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (PEM): serve HTTPS")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file (PEM)")
	fs.BoolVar(&c.InsecureCookies, "insecure-cookies", c.InsecureCookies, "session cookie without the Secure flag, for plain HTTP on a trusted network")
	fs.BoolVar(&c.TrustForwardedFor, "trust-forwarded-for", c.TrustForwardedFor, "behind a TLS proxy: take the client address for the audit trail from X-Forwarded-For")
	fs.StringVar(&c.Filing, "filing", c.Filing, "batch: prepare a filing as each batch finishes; period: the clerk files a department's checks of a period")
}

// ParseConfig reads the configuration from its sources. check is true when
// --config.check asks to validate and exit.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (cfg Config, check bool, err error) {
	return parseConfig("shixincheck", args, getenv, stderr, nil)
}

// parseConfig is ParseConfig for a command that adds flags of its own.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (cfg Config, check bool, err error) {
	// First pass: only to learn where the config file is.
	var file string
	probe := flag.NewFlagSet(name, flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	probeCfg := DefaultConfig()
	bindFlags(probe, &probeCfg, &file, &check)
	if extra != nil {
		extra(probe)
	}
	if err := probe.Parse(args); err != nil && !errors.Is(err, flag.ErrHelp) {
		probe.SetOutput(stderr)
		return cfg, false, fmt.Errorf("config: %w", err)
	}
	if file == "" {
		file = getenv("SHIXINCHECK_CONFIG")
	}

	cfg = DefaultConfig()
	if file != "" {
		if err := loadFile(file, &cfg); err != nil {
			return cfg, false, err
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindFlags(fs, &cfg, &file, &check)
	daemonFlags := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { daemonFlags[f.Name] = true })
	if extra != nil {
		extra(fs)
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if !daemonFlags[f.Name] {
			return // a command's own flags come from its command line only
		}
		name := "SHIXINCHECK_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(f.Name))
		if v := getenv(name); v != "" && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("config: %s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return cfg, false, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, false, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Ledger == "" {
		cfg.Ledger = filepath.Join(cfg.DataDir, "ledger.db")
	}
	cfg.Keys = getenv(keysEnv)
	return cfg, check, cfg.Validate()
}

// loadFile decodes a JSON config file over cfg. Durations are strings ("3s").
func loadFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// Durations as text, decoded through a shadow struct.
	type fileConfig struct {
		Config
		Pace           string `json:"pace"`
		FetchPace      string `json:"fetch_pace"`
		StepTimeout    string `json:"step_timeout"`
		CaptchaTimeout string `json:"captcha_timeout"`
		SessionIdle    string `json:"session_idle"`
	}
	fc := fileConfig{Config: *cfg}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	*cfg = fc.Config
	for _, d := range []struct {
		text string
		dst  *time.Duration
		key  string
	}{{fc.Pace, &cfg.Pace, "pace"}, {fc.FetchPace, &cfg.FetchPace, "fetch_pace"}, {fc.StepTimeout, &cfg.StepTimeout, "step_timeout"}, {fc.CaptchaTimeout, &cfg.CaptchaTimeout, "captcha_timeout"}, {fc.SessionIdle, &cfg.SessionIdle, "session_idle"}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil {
			return fmt.Errorf("config: %s: %s: %w", path, d.key, err)
		}
		*d.dst = v
	}
	return nil
}

// keyFile is where the keys are: the key_file set, or <data_dir>/keys.
func (c Config) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return filepath.Join(c.DataDir, "keys")
}

// Validate refuses a configuration the daemon cannot run with.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen is empty"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	if !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://") {
		errs = append(errs, fmt.Errorf("redis %q: want redis://host:port/db", c.Redis))
	}
	if !c.Demo && !strings.HasPrefix(c.SiteURL, "http://") && !strings.HasPrefix(c.SiteURL, "https://") {
		errs = append(errs, fmt.Errorf("site_url %q: want an http(s) URL", c.SiteURL))
	}
	if c.Site != "classic" && c.Site != "gkw" && c.Site != "auto" {
		errs = append(errs, fmt.Errorf("site %q: known profiles: classic, gkw, auto", c.Site))
	}
	if c.Tabs < 1 || c.Tabs > 16 {
		errs = append(errs, fmt.Errorf("tabs %d: want 1 to 16", c.Tabs))
	}
	if c.Pace < 0 || c.FetchPace < 0 || c.StepTimeout <= 0 || c.CaptchaTimeout <= 0 {
		errs = append(errs, errors.New("pace and fetch_pace must not be negative, step_timeout and captcha_timeout must be positive"))
	}
	if c.MaxRetry < 0 {
		errs = append(errs, errors.New("max_retry must be 0 or more"))
	}
	if c.RetentionDays < 0 {
		errs = append(errs, errors.New("retention_days must be 0 (keep) or more"))
	}
	if c.SessionIdle < time.Minute {
		errs = append(errs, errors.New("session_idle must be at least 1m"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key go together"))
	}
	if c.Filing != "batch" && c.Filing != "period" {
		errs = append(errs, fmt.Errorf("filing %q: want batch or period", c.Filing))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// scraperPace is a pace of the configuration as the scraper takes it: here 0
// means no pacing, while the scraper reads 0 as its default.
func scraperPace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
