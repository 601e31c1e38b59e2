package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// openSQLite opens the SQLite file at path. The pragmas ride in the DSN so the
// driver applies them to every pooled connection: WAL lets HTTP handlers read
// while workers write, busy_timeout makes writers wait for each other instead
// of failing with "database is locked", and _txlock=immediate takes the write
// lock at BEGIN so a transaction never fails halfway on a lock upgrade.
func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	// The file holds personal data: create it private. SQLite gives its -wal
	// and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	f.Close()

	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}

	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	return db, nil
}

// sqliteMigrations is the SQLite schema, one entry per version, in order.
// Never edit an entry once released: append a new one.
var sqliteMigrations = []string{
	// 1: batches, candidates, checks. A candidate may have several checks over
	// time (a failed one is retried); the one with the highest id counts.
	`CREATE TABLE batches (
		id TEXT PRIMARY KEY,
		item TEXT NOT NULL,
		unit TEXT NOT NULL,
		handler TEXT NOT NULL,
		phone TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL,
		content_key TEXT NOT NULL UNIQUE
	);
	CREATE INDEX batches_created_at ON batches (created_at);
	CREATE TABLE candidates (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
		row_no INTEGER NOT NULL,
		name TEXT NOT NULL,
		id_number TEXT NOT NULL,
		item TEXT NOT NULL,
		state TEXT NOT NULL,
		UNIQUE (batch_id, row_no)
	);
	CREATE INDEX candidates_state ON candidates (state, batch_id, row_no);
	CREATE TABLE checks (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
		queried_at TIMESTAMP NOT NULL,
		channel TEXT NOT NULL,
		site TEXT NOT NULL,
		outcome TEXT NOT NULL,
		hit_count INTEGER NOT NULL,
		records TEXT NOT NULL,
		measure TEXT NOT NULL,
		rule_version TEXT NOT NULL,
		evidence BLOB,
		error_kind TEXT NOT NULL,
		captchas INTEGER NOT NULL,
		created_at TIMESTAMP NOT NULL
	);
	CREATE INDEX checks_candidate ON checks (candidate_id, id);`,

	// 2: ledger queries and filings.
	// id_lookup and name_lookup are what exact searches compare: since
	// encryption (version 5), keyed hashes of the values (see Store.Lookup).
	// A filing's checks are in filing_checks; check_id as its primary key is
	// what keeps a check in at most one filing. due_date is a Beijing calendar
	// date, YYYY-MM-DD, NULL when the calendar did not know the year.
	`ALTER TABLE candidates ADD COLUMN id_lookup TEXT NOT NULL DEFAULT '';
	ALTER TABLE candidates ADD COLUMN name_lookup TEXT NOT NULL DEFAULT '';
	UPDATE candidates SET id_lookup = id_number, name_lookup = name;
	CREATE INDEX candidates_id_lookup ON candidates (id_lookup);
	CREATE INDEX candidates_name_lookup ON candidates (name_lookup);
	CREATE INDEX checks_queried_at ON checks (queried_at);
	CREATE TABLE filings (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		title TEXT NOT NULL,
		batch_id TEXT REFERENCES batches (id),
		department TEXT NOT NULL,
		items TEXT NOT NULL,
		period_from TIMESTAMP NOT NULL,
		period_to TIMESTAMP NOT NULL,
		unit TEXT NOT NULL,
		handler TEXT NOT NULL,
		phone TEXT NOT NULL,
		completed_at TIMESTAMP NOT NULL,
		due_date TEXT,
		state TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL,
		submitted_at TIMESTAMP,
		submitted_by TEXT NOT NULL DEFAULT '',
		receipt TEXT NOT NULL DEFAULT '',
		workbook BLOB
	);
	CREATE INDEX filings_state_due ON filings (state, due_date);
	CREATE TABLE filing_checks (
		check_id INTEGER PRIMARY KEY REFERENCES checks (id),
		filing_id INTEGER NOT NULL REFERENCES filings (id) ON DELETE CASCADE
	);
	CREATE INDEX filing_checks_filing ON filing_checks (filing_id);`,

	// 3: a clerk steers a batch: control is active, paused or cancelled; a
	// cancelled batch's unchecked candidates get state cancelled.
	`ALTER TABLE batches ADD COLUMN control TEXT NOT NULL DEFAULT 'active';`,

	// 4: pages of the site as the browser showed them (now HTML; PDF/PNG once), per check.
	`CREATE TABLE evidence_files (
		check_id INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		mime TEXT NOT NULL,
		data BLOB NOT NULL,
		PRIMARY KEY (check_id, name)
	);`,

	// 5: accounts, their browser sessions and API tokens (sessions and tokens
	// stored as sha256 of the secret), and the audit trail: seq is assigned by
	// the writer, each entry's hash chains it to the previous one, and the
	// triggers make the table append-only. key_check holds a value sealed with
	// the data key, to tell a wrong key at start-up; purged_at marks a batch
	// whose personal data retention removed.
	`CREATE TABLE accounts (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		login TEXT NOT NULL UNIQUE,
		display_name TEXT NOT NULL,
		roles TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		disabled INTEGER NOT NULL DEFAULT 0,
		failed_logins INTEGER NOT NULL DEFAULT 0,
		locked_until TIMESTAMP,
		created_at TIMESTAMP NOT NULL,
		password_changed_at TIMESTAMP NOT NULL
	);
	CREATE TABLE sessions (
		id_hash TEXT PRIMARY KEY,
		account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL,
		last_seen TIMESTAMP NOT NULL,
		remote TEXT NOT NULL
	);
	CREATE INDEX sessions_account ON sessions (account_id);
	CREATE INDEX sessions_last_seen ON sessions (last_seen);
	CREATE INDEX sessions_created_at ON sessions (created_at);
	CREATE TABLE api_tokens (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		token_hash TEXT NOT NULL UNIQUE,
		created_at TIMESTAMP NOT NULL,
		last_used_at TIMESTAMP,
		revoked_at TIMESTAMP
	);
	CREATE INDEX api_tokens_account ON api_tokens (account_id, id);
	CREATE TABLE audit_log (
		seq INTEGER PRIMARY KEY,
		at TIMESTAMP NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		detail TEXT NOT NULL,
		remote TEXT NOT NULL,
		prev_hash TEXT NOT NULL,
		hash TEXT NOT NULL
	);
	CREATE INDEX audit_log_at ON audit_log (at);
	CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
	CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
	BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
	CREATE TABLE key_check (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		sealed TEXT NOT NULL
	);
	ALTER TABLE batches ADD COLUMN purged_at TIMESTAMP;`,

	// 6: whether the workbook handed in with a filing had the sheet of
	// records; those submitted before had it.
	`ALTER TABLE filings ADD COLUMN submitted_records INTEGER NOT NULL DEFAULT 0;
	UPDATE filings SET submitted_records = 1 WHERE state = 'submitted';`,

	// 7: the item's 核查环节 and 应用科室 as the rules said when the check was
	// judged; '' for checks recorded before (readers fall back to the rules).
	`ALTER TABLE checks ADD COLUMN stage TEXT NOT NULL DEFAULT '';
	ALTER TABLE checks ADD COLUMN departments TEXT NOT NULL DEFAULT '';`,
}
