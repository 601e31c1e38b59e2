package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres connects to the PostgreSQL server named by dsn. Errors never
// echo the dsn: it may carry a password.
func openPostgres(ctx context.Context, dsn string) (*sql.DB, error) {
	if _, err := url.Parse(dsn); err != nil {
		return nil, errors.New("ledger: open: postgres dsn is not a valid URL")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the dsn, masking the password only on a best-effort
		// basis: keep its reason, drop the quote.
		_, reason, ok := strings.Cut(err.Error(), "`: ")
		if !ok {
			reason = "malformed"
		}
		return nil, fmt.Errorf("ledger: open: postgres dsn: %s", reason)
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger: open: %w", err)
	}
	return db, nil
}

// postgresMigrations is the PostgreSQL schema, one entry per version, in
// order, in step with sqliteMigrations. Never edit an entry once released:
// append a new one.
var postgresMigrations = []string{
	// 1: batches, candidates, checks. A candidate may have several checks over
	// time (a failed one is retried); the one with the highest id counts.
	`CREATE TABLE batches (
		id TEXT PRIMARY KEY,
		item TEXT NOT NULL,
		unit TEXT NOT NULL,
		handler TEXT NOT NULL,
		phone TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		content_key TEXT NOT NULL UNIQUE
	);
	CREATE INDEX batches_created_at ON batches (created_at);
	CREATE TABLE candidates (
		id BIGSERIAL PRIMARY KEY,
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
		id BIGSERIAL PRIMARY KEY,
		candidate_id BIGINT NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
		queried_at TIMESTAMPTZ NOT NULL,
		channel TEXT NOT NULL,
		site TEXT NOT NULL,
		outcome TEXT NOT NULL,
		hit_count INTEGER NOT NULL,
		records TEXT NOT NULL,
		measure TEXT NOT NULL,
		rule_version TEXT NOT NULL,
		evidence BYTEA,
		error_kind TEXT NOT NULL,
		captchas INTEGER NOT NULL,
		created_at TIMESTAMPTZ NOT NULL
	);
	CREATE INDEX checks_candidate ON checks (candidate_id, id);`,

	// 2: as SQLite's version 2.
	`ALTER TABLE candidates ADD COLUMN id_lookup TEXT NOT NULL DEFAULT '';
	ALTER TABLE candidates ADD COLUMN name_lookup TEXT NOT NULL DEFAULT '';
	UPDATE candidates SET id_lookup = id_number, name_lookup = name;
	CREATE INDEX candidates_id_lookup ON candidates (id_lookup);
	CREATE INDEX candidates_name_lookup ON candidates (name_lookup);
	CREATE INDEX checks_queried_at ON checks (queried_at);
	CREATE TABLE filings (
		id BIGSERIAL PRIMARY KEY,
		title TEXT NOT NULL,
		batch_id TEXT REFERENCES batches (id),
		department TEXT NOT NULL,
		items TEXT NOT NULL,
		period_from TIMESTAMPTZ NOT NULL,
		period_to TIMESTAMPTZ NOT NULL,
		unit TEXT NOT NULL,
		handler TEXT NOT NULL,
		phone TEXT NOT NULL,
		completed_at TIMESTAMPTZ NOT NULL,
		due_date TEXT,
		state TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		submitted_at TIMESTAMPTZ,
		submitted_by TEXT NOT NULL DEFAULT '',
		receipt TEXT NOT NULL DEFAULT '',
		workbook BYTEA
	);
	CREATE INDEX filings_state_due ON filings (state, due_date);
	CREATE TABLE filing_checks (
		check_id BIGINT PRIMARY KEY REFERENCES checks (id),
		filing_id BIGINT NOT NULL REFERENCES filings (id) ON DELETE CASCADE
	);
	CREATE INDEX filing_checks_filing ON filing_checks (filing_id);`,

	// 3: a clerk steers a batch: control is active, paused or cancelled; a
	// cancelled batch's unchecked candidates get state cancelled.
	`ALTER TABLE batches ADD COLUMN control TEXT NOT NULL DEFAULT 'active';`,

	// 4: pages of the site as the browser showed them (now HTML; PDF/PNG once), per check.
	`CREATE TABLE evidence_files (
		check_id BIGINT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		mime TEXT NOT NULL,
		data BYTEA NOT NULL,
		PRIMARY KEY (check_id, name)
	);`,

	// 5: as SQLite's version 5; the append-only guard is a function the
	// triggers call, and TRUNCATE is refused too.
	`CREATE TABLE accounts (
		id BIGSERIAL PRIMARY KEY,
		login TEXT NOT NULL UNIQUE,
		display_name TEXT NOT NULL,
		roles TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		disabled BOOLEAN NOT NULL DEFAULT FALSE,
		failed_logins INTEGER NOT NULL DEFAULT 0,
		locked_until TIMESTAMPTZ,
		created_at TIMESTAMPTZ NOT NULL,
		password_changed_at TIMESTAMPTZ NOT NULL
	);
	CREATE TABLE sessions (
		id_hash TEXT PRIMARY KEY,
		account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		created_at TIMESTAMPTZ NOT NULL,
		last_seen TIMESTAMPTZ NOT NULL,
		remote TEXT NOT NULL
	);
	CREATE INDEX sessions_account ON sessions (account_id);
	CREATE INDEX sessions_last_seen ON sessions (last_seen);
	CREATE INDEX sessions_created_at ON sessions (created_at);
	CREATE TABLE api_tokens (
		id BIGSERIAL PRIMARY KEY,
		account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		token_hash TEXT NOT NULL UNIQUE,
		created_at TIMESTAMPTZ NOT NULL,
		last_used_at TIMESTAMPTZ,
		revoked_at TIMESTAMPTZ
	);
	CREATE INDEX api_tokens_account ON api_tokens (account_id, id);
	CREATE TABLE audit_log (
		seq BIGINT PRIMARY KEY,
		at TIMESTAMPTZ NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		detail TEXT NOT NULL,
		remote TEXT NOT NULL,
		prev_hash TEXT NOT NULL,
		hash TEXT NOT NULL
	);
	CREATE INDEX audit_log_at ON audit_log (at);
	CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'audit_log is append-only';
	END;
	$$;
	CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
		FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
	CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
		FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
	CREATE TABLE key_check (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		sealed TEXT NOT NULL
	);
	ALTER TABLE batches ADD COLUMN purged_at TIMESTAMPTZ;`,

	// 6: as SQLite's version 6.
	`ALTER TABLE filings ADD COLUMN submitted_records BOOLEAN NOT NULL DEFAULT FALSE;
	UPDATE filings SET submitted_records = TRUE WHERE state = 'submitted';`,

	// 7: as SQLite's version 7.
	`ALTER TABLE checks ADD COLUMN stage TEXT NOT NULL DEFAULT '';
	ALTER TABLE checks ADD COLUMN departments TEXT NOT NULL DEFAULT '';`,
}
