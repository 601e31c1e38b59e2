package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
)

// admin runs an administrator's command on the ledger in dir.
func admin(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--data-dir", dir)
	err := Run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	if out, err := admin(t, dir, "short\n", "user", "add", "--login", "root", "--password-stdin"); err == nil {
		t.Fatalf("a short password was taken: %s", out)
	}
	if out, err := admin(t, dir, "correct horse battery\n", "user", "add", "--login", "root", "--roles", "admin,auditor", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v: %s", err, out)
	}
	if out, err := admin(t, dir, "correct horse battery\n", "user", "add", "--login", "root", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second add of root: %v: %s", err, out)
	}
	if out, err := admin(t, dir, "correct horse battery\n", "user", "add", "--login", "xy", "--roles", "boss", "--password-stdin"); err == nil {
		t.Errorf("unknown role taken: %s", out)
	}
	if out, err := admin(t, dir, "correct horse battery\n", "user", "add", "--login", "王 经办", "--password-stdin"); err == nil {
		t.Errorf("a login with a space taken: %s", out)
	}
	out, err := admin(t, dir, "", "user", "list")
	if err != nil || !strings.Contains(out, "root") || !strings.Contains(out, "auditor,admin") && !strings.Contains(out, "admin,auditor") {
		t.Errorf("user list: %v:\n%s", err, out)
	}
	if out, err := admin(t, dir, "another good secret\n", "user", "passwd", "--login", "root", "--password-stdin"); err != nil {
		t.Errorf("user passwd: %v: %s", err, out)
	}

	// Every change is in the audit trail, and the chain holds.
	out, err = admin(t, dir, "", "audit", "verify")
	out0 := out
	if err != nil || !strings.Contains(out, "intact: 2 entries") || !strings.Contains(out, "head: 2:") {
		t.Errorf("audit verify: %v: %s", err, out)
	}
	out, err = admin(t, dir, "", "audit", "export")
	if err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"action":"account_created"`) || !strings.Contains(out, `"hash":`) {
		t.Errorf("audit export: %v:\n%s", err, out)
	}
	if strings.Contains(out, "correct horse") || strings.Contains(out, "argon2") {
		t.Error("the audit trail holds a password or its hash")
	}

	// A head noted earlier must still be there: a cut-off end shows.
	_, headLine, _ := strings.Cut(out0, "head: ")
	head := strings.TrimSpace(headLine)
	if out, err := admin(t, dir, "", "audit", "verify", "--head", head); err != nil {
		t.Errorf("verify --head %s: %v: %s", head, err, out)
	}
	if out, err := admin(t, dir, "", "audit", "verify", "--head", "9:"+strings.Repeat("0", 64)); err == nil {
		t.Errorf("verify against a head the trail never had: %s", out)
	}

	// An edited entry breaks the chain, and verify says so.
	db, err := sql.Open("sqlite", filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `UPDATE audit_log SET detail = 'roles clerk' WHERE seq = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if out, err := admin(t, dir, "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "1") {
		t.Errorf("verify of an edited trail: %v: %s", err, out)
	}
}

func TestKeyFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	if out, err := admin(t, dir, "correct horse battery\n", "user", "add", "--login", "root", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v: %s", err, out)
	}
	keyFile := filepath.Join(dir, "keys")
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, info.Mode())
	}

	// Rotation: a new key, then everything sealed again under it.
	if out, err := admin(t, dir, "", "keys", "add"); err != nil || !strings.Contains(out, "now current") {
		t.Fatalf("keys add: %v: %s", err, out)
	}
	if out, err := admin(t, dir, "", "keys", "rekey"); err != nil {
		t.Fatalf("keys rekey: %v: %s", err, out)
	}
	if out, err := admin(t, dir, "", "user", "list"); err != nil || !strings.Contains(out, "root") {
		t.Errorf("after rotation: %v: %s", err, out)
	}

	// A lost key file is not silently replaced: the ledger refuses the new
	// key, and no stray key file is left behind.
	if err := os.Rename(keyFile, keyFile+".bak"); err != nil {
		t.Fatal(err)
	}
	if out, err := admin(t, dir, "", "user", "list"); err == nil || !strings.Contains(err.Error(), "restore it from the backup") {
		t.Errorf("without the key file: %v: %s", err, out)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("a key file was left behind: %v", err)
	}
	os.Rename(keyFile+".bak", keyFile)
	if out, err := admin(t, dir, "", "user", "list"); err != nil {
		t.Errorf("with the key file back: %v: %s", err, out)
	}
}

func TestPurgeCommand(t *testing.T) {
	dir := t.TempDir()
	if out, err := admin(t, dir, "", "purge", "--dry-run"); err == nil {
		t.Errorf("purge without a retention period: %s", out)
	}

	// A batch checked 40 days ago, and one checked today.
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Ledger, cfg.KeyFile = dir, filepath.Join(dir, "ledger.db"), filepath.Join(dir, "keys")
	store, _, err := openLedger(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct {
		id string
		at time.Time
	}{{"bold", time.Now().AddDate(0, 0, -40)}, {"bnew", time.Now()}} {
		_, cands, _, err := store.CreateBatch(ctx, shixincheck.Batch{ID: b.id, ContentKey: b.id, Item: "公职人员招录（聘）及考核", CreatedAt: b.at},
			[]shixincheck.Candidate{{Row: 2, Name: "张三", IDNumber: "11010519491231002X"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.SaveCheck(ctx, shixincheck.Check{CandidateID: cands[0].ID, QueriedAt: b.at, Channel: shixincheck.Channel, Site: "classic",
			Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "seed", Evidence: []byte(`{"raw":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	// The old batch was filed and handed in: nothing holds it back.
	f, err := store.CreateBatchFiling(ctx, "bold", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MarkSubmitted(ctx, f.ID, ledger.Submission{By: "王经办"}, func([]ledger.Row) ([]byte, error) { return []byte("PK"), nil }); err != nil {
		t.Fatal(err)
	}
	store.Close()

	for range 2 { // a dry run changes nothing
		out, err := admin(t, dir, "", "purge", "--dry-run", "--days", "30")
		if err != nil || !strings.Contains(out, "would purge batch bold") || strings.Contains(out, "bnew") {
			t.Fatalf("dry run: %v: %s", err, out)
		}
	}
	out, err := admin(t, dir, "", "purge", "--retention-days", "30")
	if err != nil || !strings.Contains(out, "purged batch bold: finished") {
		t.Fatalf("purge: %v: %s", err, out)
	}
	if out, err := admin(t, dir, "", "purge", "--retention-days", "30"); err != nil || !strings.Contains(out, "nothing to purge") {
		t.Errorf("second purge: %v: %s", err, out)
	}
	if out, _ := admin(t, dir, "", "audit", "export"); !strings.Contains(out, `"target":"batches bold"`) {
		t.Errorf("the purge is not in the audit trail:\n%s", out)
	}
	if strings.Contains(out, "张三") || strings.Contains(out, "11010519491231002X") {
		t.Error("the purge report shows personal data")
	}
}
