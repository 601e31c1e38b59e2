package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/vault"
)

// The administrator's commands work on the ledger directly, with the daemon's
// configuration (flags, env, --config), so they run before the first start
// (the first admin) and while the daemon runs.

// keysEnv holds the key file's text itself, for containers that take it from
// a secret; it wins over the key file.
const keysEnv = "SHIXINCHECK_KEYS"

// loadKeys reads the encryption keys, generating the key file when it is
// missing; the caller removes a generated file again if the ledger refuses
// it (see openLedger).
func loadKeys(cfg Config) (keys *vault.Keys, generated bool, err error) {
	if cfg.Keys != "" {
		k, err := vault.Parse(cfg.Keys)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", keysEnv, err)
		}
		return k, false, nil
	}
	k, err := vault.LoadFile(cfg.keyFile())
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	text := vault.Generate()
	if k, err = vault.Parse(text); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(cfg.keyFile(), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(cfg.keyFile())
		return nil, false, fmt.Errorf("key file: %w", err)
	}
	return k, true, nil
}

// openLedger opens the ledger with its keys, making the data dir and, on a
// new installation, the key file.
func openLedger(ctx context.Context, cfg Config, log *slog.Logger) (*ledger.Store, *vault.Keys, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data dir: %w", err)
	}
	keys, generated, err := loadKeys(cfg)
	if err != nil {
		return nil, nil, err
	}
	store, err := ledger.Open(ctx, cfg.Ledger, keys)
	if err != nil {
		if generated {
			// The ledger holds data under other keys: a fresh key file
			// would only mislead the next start.
			os.Remove(cfg.keyFile())
			return nil, nil, fmt.Errorf("%w (key file %s is missing: restore it from the backup, or set %s)", err, cfg.keyFile(), keysEnv)
		}
		return nil, nil, err
	}
	if generated {
		log.Warn("new key file written: back it up apart from the database; without it the personal data in the ledger cannot be read", "file", cfg.keyFile())
	}
	return store, keys, nil
}

// cliActor names the person at the terminal in the audit trail.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// adminCommand parses a command's flags over the daemon configuration and
// opens the ledger for it.
func adminCommand(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, flags func(*flag.FlagSet)) (*ledger.Store, Config, error) {
	cfg, _, err := parseConfig("shixincheck "+name, args, getenv, stderr, flags)
	if err != nil {
		return nil, cfg, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, _, err := openLedger(ctx, cfg, log)
	return store, cfg, err
}

// userCommand: shixincheck user add|passwd|list.
func userCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: shixincheck user add|passwd|list [flags]")
	}
	sub, args := args[0], args[1:]
	if sub != "add" && sub != "passwd" && sub != "list" {
		return fmt.Errorf("unknown user command %q: want add, passwd or list", sub)
	}
	var login, display, roles string
	var fromStdin bool
	store, _, err := adminCommand(ctx, "user "+sub, args, getenv, stderr, func(fs *flag.FlagSet) {
		if sub == "list" {
			return
		}
		fs.StringVar(&login, "login", "", "log-in name")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input (one line) instead of the terminal")
		if sub == "add" {
			fs.StringVar(&display, "name", "", "name shown on pages (default: the log-in name)")
			fs.StringVar(&roles, "roles", string(shixincheck.RoleAdmin), "roles, comma-separated: clerk, operator, auditor, admin")
		}
	})
	if err != nil {
		return err
	}
	defer store.Close()

	if sub == "list" {
		accounts, err := store.Accounts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "login\tname\troles\tstate")
		for _, a := range accounts {
			state := "active"
			switch {
			case a.Disabled:
				state = "disabled"
			case a.LockedUntil != nil && a.LockedUntil.After(time.Now()):
				state = "locked until " + a.LockedUntil.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Login, a.DisplayName, access.FormatRoles(a.Roles), state)
		}
		return tw.Flush()
	}

	if login == "" {
		return errors.New("--login is required")
	}
	if err := access.ValidateLogin(login); err != nil && sub == "add" {
		return err
	}
	password, err := readPassword(stdin, stderr, fromStdin)
	if err != nil {
		return err
	}
	if err := access.ValidatePassword(login, password); err != nil {
		return err
	}
	hash, err := access.HashPassword(password)
	if err != nil {
		return err
	}
	entry := ledger.AuditEntry{Actor: cliActor(), Target: "account " + login}
	if sub == "add" {
		rs, err := access.ParseRoles(roles)
		if err != nil {
			return err
		}
		if display == "" {
			display = login
		}
		if _, err := store.CreateAccount(ctx, ledger.Account{Login: login, DisplayName: display, Roles: rs, PasswordHash: hash}); err != nil {
			if errors.Is(err, ledger.ErrExists) {
				return fmt.Errorf("account %q exists: use shixincheck user passwd to reset its password", login)
			}
			return err
		}
		entry.Action, entry.Detail = shixincheck.AuditAccountCreated, "roles "+access.FormatRoles(rs)
		fmt.Fprintf(stdout, "account %s created (%s)\n", login, access.FormatRoles(rs))
	} else {
		a, err := store.Account(ctx, login)
		if err != nil {
			return fmt.Errorf("account %q: %w", login, err)
		}
		a.PasswordHash = hash
		if err := store.UpdateAccount(ctx, a); err != nil { // also unlocks and ends its sessions
			return err
		}
		entry.Action, entry.Detail = shixincheck.AuditAccountChanged, "password reset"
		fmt.Fprintf(stdout, "password of %s changed; its sessions are ended\n", login)
	}
	_, err = store.Audit(ctx, entry)
	return err
}

// readPassword reads a new password: twice from the terminal, without echo,
// or one line from stdin.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			return "", errors.New("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no terminal to ask for the password: use --password-stdin")
	}
	fmt.Fprint(stderr, "password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "again: ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the two passwords differ")
	}
	return string(first), nil
}

// auditCommand: shixincheck audit verify|export.
func auditCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "export") {
		return errors.New("usage: shixincheck audit verify|export [flags]")
	}
	sub, args := args[0], args[1:]
	var out, head string
	store, _, err := adminCommand(ctx, "audit "+sub, args, getenv, stderr, func(fs *flag.FlagSet) {
		if sub == "export" {
			fs.StringVar(&out, "o", "", "write to this file instead of standard output")
		} else {
			fs.StringVar(&head, "head", "", "SEQ:HASH printed by an earlier verify: that entry must still be there, unchanged")
		}
	})
	if err != nil {
		return err
	}
	defer store.Close()
	if sub == "verify" {
		return verifyAudit(ctx, store, head, stdout)
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := store.AuditEntries(ctx, func(e ledger.AuditEntry) error { return enc.Encode(auditJSON(e)) }); err != nil {
		return err
	}
	return bw.Flush()
}

// verifyAudit checks the chain and prints its head. The chain alone cannot
// show entries cut off its end: a head noted earlier (--head) can.
func verifyAudit(ctx context.Context, store *ledger.Store, head string, stdout io.Writer) error {
	n, err := store.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit trail broken after %d good entries: %w", n, err)
	}
	var last ledger.AuditEntry
	var noted *ledger.AuditEntry
	wantSeq, wantHash, _ := strings.Cut(head, ":")
	if err := store.AuditEntries(ctx, func(e ledger.AuditEntry) error {
		last = e
		if head != "" && strconv.FormatInt(e.Seq, 10) == wantSeq {
			noted = &e
		}
		return nil
	}); err != nil {
		return err
	}
	if head != "" && (noted == nil || noted.Hash != wantHash) {
		return fmt.Errorf("audit trail does not hold the noted head %s: entries were removed or rewritten", head)
	}
	fmt.Fprintf(stdout, "audit trail intact: %d entries\nhead: %d:%s\n", n, last.Seq, last.Hash)
	return nil
}

// auditJSON is one exported audit entry, with what a third party needs to
// check the chain.
func auditJSON(e ledger.AuditEntry) map[string]any {
	return map[string]any{"seq": e.Seq, "at": e.At.UTC().Format(time.RFC3339Nano), "actor": e.Actor, "action": e.Action,
		"target": e.Target, "detail": e.Detail, "remote": e.Remote, "prev_hash": e.PrevHash, "hash": e.Hash}
}

// purgeCommand: shixincheck purge [--dry-run] [--days N].
func purgeCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dryRun bool
	days := -1
	store, cfg, err := adminCommand(ctx, "purge", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "say what would be purged, change nothing")
		fs.IntVar(&days, "days", -1, "purge batches finished this many days ago (default: --retention-days)")
	})
	if err != nil {
		return err
	}
	defer store.Close()
	if days < 0 {
		days = cfg.RetentionDays
	}
	if days <= 0 {
		return errors.New("no retention period: give --days N or set retention_days")
	}
	report, err := purge(ctx, store, time.Now(), days, dryRun, cliActor())
	if err != nil {
		return err
	}
	printPurge(stdout, report, dryRun)
	return nil
}

// purge purges the batches finished more than days ago and, unless it is a
// dry run, writes what it did to the audit trail.
func purge(ctx context.Context, store *ledger.Store, now time.Time, days int, dryRun bool, actor string) (ledger.PurgeReport, error) {
	report, err := store.Purge(ctx, now.AddDate(0, 0, -days), dryRun)
	if err != nil || dryRun || len(report.Batches) == 0 {
		return report, err
	}
	ids := make([]string, len(report.Batches))
	for i, b := range report.Batches {
		ids[i] = b.ID
	}
	_, err = store.Audit(ctx, ledger.AuditEntry{Actor: actor, Action: shixincheck.AuditPurge,
		Target: "batches " + strings.Join(ids, " "), Detail: fmt.Sprintf("finished more than %d days ago", days)})
	return report, err
}

func printPurge(w io.Writer, r ledger.PurgeReport, dryRun bool) {
	verb := "purged"
	if dryRun {
		verb = "would purge"
	}
	for _, b := range r.Batches {
		fmt.Fprintf(w, "%s batch %s: finished %s, %d candidates, %d checks, %d evidence files (%d bytes)\n",
			verb, b.ID, b.FinishedAt.Local().Format("2006-01-02"), b.Candidates, b.Checks, b.EvidenceFiles, b.EvidenceBytes)
	}
	for _, id := range r.Workbooks {
		fmt.Fprintf(w, "%s the submitted workbook of filing %d (the filing and its masked rows stay)\n", verb, id)
	}
	for _, b := range r.HeldBack {
		fmt.Fprintf(w, "kept batch %s: %s\n", b.ID, b.Reason)
	}
	if len(r.Batches) == 0 {
		fmt.Fprintln(w, "nothing to purge")
	}
}

// keysCommand: shixincheck keys generate|add|rekey.
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: shixincheck keys generate|add|rekey [flags]")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "generate":
		fmt.Fprint(stdout, vault.Generate())
		return nil
	case "add":
		cfg, _, err := parseConfig("shixincheck keys add", args, getenv, stderr, nil)
		if err != nil {
			return err
		}
		return addKey(cfg, stdout, stderr)
	case "rekey":
		store, _, err := adminCommand(ctx, "keys rekey", args, getenv, stderr, nil)
		if err != nil {
			return err
		}
		defer store.Close()
		n, err := store.Rekey(ctx)
		if err != nil {
			return err
		}
		if _, err := store.Audit(ctx, ledger.AuditEntry{Actor: cliActor(), Action: shixincheck.AuditKeysRotated,
			Target: "ledger", Detail: fmt.Sprintf("%d values sealed again under the current key", n)}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d values sealed again under the current key; the old key lines may now be removed\n", n)
		return nil
	}
	return fmt.Errorf("unknown keys command %q: want generate, add or rekey", sub)
}

// addKey is rotation's first step: a new current key beside the old ones.
func addKey(cfg Config, stdout, stderr io.Writer) error {
	if cfg.Keys != "" {
		text, err := vault.AddKey(cfg.Keys)
		if err != nil {
			return fmt.Errorf("%s: %w", keysEnv, err)
		}
		fmt.Fprint(stdout, text)
		fmt.Fprintf(stderr, "the keys come from %s: put the text above there, restart the daemon, then run shixincheck keys rekey\n", keysEnv)
		return nil
	}
	old, err := os.ReadFile(cfg.keyFile())
	if err != nil {
		return err
	}
	text, err := vault.AddKey(string(old))
	if err != nil {
		return err
	}
	// Write beside and rename, so a crash leaves one whole file.
	tmp := cfg.keyFile() + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, cfg.keyFile()); err != nil {
		return err
	}
	k, err := vault.Parse(text)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key %s added to %s and is now current: restart the daemon, then run shixincheck keys rekey\n", k.Current(), cfg.keyFile())
	return nil
}

// firstAccount makes sure someone can log in. In demo mode, a "demo" account
// holding every role gets a random password, printed once at start; otherwise
// the daemon only says how to create the first admin.
func (d *Daemon) firstAccount(ctx context.Context) error {
	n, err := d.ledger.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	if !d.cfg.Demo {
		d.log.Warn("no accounts yet: create the first admin with: shixincheck user add --login NAME --roles admin")
		return nil
	}
	password := access.NewSecret("")[:16]
	hash, err := access.HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := d.ledger.CreateAccount(ctx, ledger.Account{Login: demoLogin, DisplayName: "演示账户", Roles: shixincheck.Roles, PasswordHash: hash}); err != nil {
		return err
	}
	d.demoPassword = password
	_, err = d.ledger.Audit(ctx, ledger.AuditEntry{Actor: "system", Action: shixincheck.AuditAccountCreated,
		Target: "account " + demoLogin, Detail: "demo mode: every role"})
	return err
}

// demoLogin is the demo mode's account.
const demoLogin = "demo"

// rulesSource says where the rules came from, for the audit trail.
func rulesSource(path string) string {
	if path == "" {
		return "built in (the seed plan)"
	}
	return path
}
