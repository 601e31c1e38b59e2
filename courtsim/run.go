package courtsim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Run is the "shixincheck courtsim" subcommand: it serves a simulator
// until ctx is done, then shuts down gracefully.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	def := DefaultConfig()
	cfg := def
	fs := flag.NewFlagSet("courtsim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	fs.Int64Var(&cfg.Seed, "seed", def.Seed, "data set seed")
	fs.IntVar(&cfg.People, "people", def.People, "listed people in the data set")
	fs.DurationVar(&cfg.CaptchaTTL, "captcha-ttl", def.CaptchaTTL, "lifetime of a captcha code")
	fs.IntVar(&cfg.CaptchaUses, "captcha-uses", def.CaptchaUses, "searches and details one captcha code allows")
	fs.BoolVar(&cfg.WAF, "waf", def.WAF, "put the JavaScript cookie challenge in front")
	fs.BoolVar(&cfg.SideDoor, "side-door", def.SideDoor, "serve the /__sim/ test endpoints")
	fs.DurationVar(&cfg.Latency, "latency", def.Latency, "delay added to every answer")
	site := fs.String("site", "both", "site versions to serve: classic, gkw or both")
	fs.DurationVar(&cfg.GkwTokenTTL, "gkw-token-ttl", def.GkwTokenTTL, "lifetime of a gkw verification")
	fs.IntVar(&cfg.GkwTokenUses, "gkw-token-uses", def.GkwTokenUses, "searches one gkw verification allows")
	fs.DurationVar(&cfg.GkwChallengeTTL, "gkw-challenge-ttl", def.GkwChallengeTTL, "how long a gkw challenge waits for its answer")
	fs.DurationVar(&cfg.GkwCaptchaDelay, "gkw-captcha-delay", def.GkwCaptchaDelay, "time a gkw captcha takes to load")
	fs.StringVar(&cfg.GkwCaptchaType, "gkw-captcha-type", def.GkwCaptchaType, "type of a fresh gkw challenge: SLIDER, WORD_IMAGE_CLICK, or empty for random")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("courtsim: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("courtsim: unexpected arguments %q", fs.Args())
	}
	switch *site {
	case "both":
		cfg.Sites = []string{SiteClassic, SiteGkw}
	case SiteClassic, SiteGkw:
		cfg.Sites = []string{*site}
	default:
		return fmt.Errorf("courtsim: --site: want classic, gkw or both, got %q", *site)
	}

	sim, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("courtsim: listen: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	if sim.Serves(SiteClassic) {
		fmt.Fprintf(stdout, "courtsim: serving the classic site at http://%s/shixin/\n", ln.Addr())
	}
	if sim.Serves(SiteGkw) {
		fmt.Fprintf(stdout, "courtsim: serving the gkw site at http://%s/gkw/html/zhzxgk/index.html\n", ln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("courtsim: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("courtsim: shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("courtsim: serve: %w", err)
	}
	return nil
}
