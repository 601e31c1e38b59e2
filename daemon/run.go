package daemon

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/shixincheck/shixincheck/client"
	"github.com/shixincheck/shixincheck/courtsim"
)

const usage = `usage: shixincheck [command] [flags]

commands:
  serve      run the daemon (the default; --demo serves the court-site simulator in-process)
  courtsim   run the court-site simulator on its own
  submit     upload a candidate list to a running daemon (--wait follows it to the end)
  status     show a batch's state and counts
  workbook   download a batch's filing workbook
  user       add|passwd|list: accounts (the first admin: user add --login NAME --roles admin)
  audit      verify|export: check the audit trail's hash chain, or write it out as JSON lines
  purge      purge evidence and personal data of old finished batches (--dry-run says what would go)
  keys       generate|add|rekey: the keys that encrypt personal data, and their rotation
  help       show this text

Run "shixincheck <command> -h" for the flags. submit, status and workbook talk to the
daemon at --server (env SHIXINCHECK_SERVER, default http://127.0.0.1:8080) with an API
token (--token, env SHIXINCHECK_TOKEN) made on the daemon's 账户 page. user, audit, purge
and keys work on the ledger directly and take the daemon's flags (--data-dir, --ledger, ...).
`

// Run is the whole program: main only calls it.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "courtsim":
		return courtsim.Run(ctx, args, stdout)
	case "submit", "status", "workbook":
		return client.Run(ctx, cmd, args, getenv, stdout, stderr)
	case "user":
		return userCommand(ctx, args, getenv, stdin, stdout, stderr)
	case "audit":
		return auditCommand(ctx, args, getenv, stdout, stderr)
	case "purge":
		return purgeCommand(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, check, err := ParseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if check {
		rs, err := loadRules(cfg.Rules)
		if err != nil {
			return err
		}
		if _, err := calendar(rs); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "configuration ok")
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "shixincheck: serving on %s (upload: %s/batches, captcha review: %s/captcha)\n", d.URL(), d.URL(), d.URL())
	if d.demoPassword != "" {
		fmt.Fprintf(stdout, "demo: log in as %q with password %s (shown this once)\n", demoLogin, d.demoPassword)
	}
	if cfg.Demo {
		fmt.Fprintf(stdout, "demo: upload the sample list %s and solve the captchas on the review page\n", d.cfg.DataDir+"/demo-candidates.csv")
	}
	<-ctx.Done()
	log.Info("shutting down")
	return d.Close()
}

// writeDemoRoster writes a sample candidate list drawn from the simulator's
// data set: listed people, one with several pages of records, namesakes of
// listed people, and clean people.
func writeDemoRoster(path string, sim *courtsim.Sim) error {
	var people []courtsim.Person
	for _, k := range []struct {
		kind string
		n    int
	}{{"listed", 3}, {"multipage", 1}, {"namesake", 2}, {"clean", 4}} {
		p, err := sim.People(k.kind, k.n)
		if err != nil {
			return fmt.Errorf("daemon: demo roster: %w", err)
		}
		people = append(people, p...)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // names and IDs, if only the simulator's
	if err != nil {
		return fmt.Errorf("daemon: demo roster: %w", err)
	}
	rows := [][]string{{"姓名", "身份证号"}}
	for _, p := range people {
		rows = append(rows, []string{p.Name, p.IDNumber})
	}
	err = csv.NewWriter(f).WriteAll(rows) // flushes; the first write error
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("daemon: demo roster: %w", err)
	}
	return nil
}
