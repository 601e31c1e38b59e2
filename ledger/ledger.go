// Package ledger is the durable store (台账) of shixincheck: batches, their
// candidates, the checks made for them and the filings that hand them to the
// city credit office. SQLite is the default backend, PostgreSQL the one for
// several daemon nodes. The queries are portable (placeholders rewritten in
// rebind); only each backend's setup and migration list is its own.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shixincheck/shixincheck/vault"
)

// ErrNotFound is returned when a batch, candidate, check or filing does not exist.
var ErrNotFound = errors.New("ledger: not found")

// ErrKeysMismatch is returned by Open when the key file is not the one the
// database was encrypted with.
var ErrKeysMismatch = errors.New("ledger: the key file does not match this database")

// Store is the ledger. It is safe for concurrent use by many goroutines.
//
// Personal data is stored sealed by keys (see package vault): candidates'
// names and ID numbers, the records and raw answers of checks, evidence
// files and submitted workbooks. Exact searches by name or ID number compare
// keyed hashes (Lookup).
type Store struct {
	db       *sql.DB
	postgres bool // PostgreSQL: placeholders are $1, $2, … rather than ?
	keys     *vault.Keys
}

// Open opens the ledger named by dsn and brings its schema up to date. A dsn
// "postgres://…" or "postgresql://…" is a PostgreSQL server (any libpq URL
// parameter, search_path included, is passed on); anything else is a SQLite
// file path, optionally written "sqlite:PATH", whose file and parent
// directories are created when missing.
//
// keys seal and open the personal data. The database remembers a value
// sealed with the keys it first met (see checkKeys): other keys are refused
// with ErrKeysMismatch, so that a wrong key file never writes data that the
// right one cannot read. The first open with keys of a database written
// before encryption seals all of its personal data, in one transaction.
func Open(ctx context.Context, dsn string, keys *vault.Keys) (*Store, error) {
	if keys == nil {
		return nil, errors.New("ledger: open: no keys")
	}
	s, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s.keys = keys
	if err := s.migrate(ctx, s.migrations()); err != nil {
		s.db.Close()
		return nil, err
	}
	if err := s.checkKeys(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// connect opens the database named by dsn without touching its schema.
func connect(ctx context.Context, dsn string) (*Store, error) {
	if scheme, _, ok := strings.Cut(dsn, "://"); ok {
		if scheme != "postgres" && scheme != "postgresql" {
			// Only the scheme is echoed: a server DSN may carry a password.
			return nil, fmt.Errorf("ledger: open: unsupported dsn scheme %q", scheme)
		}
		db, err := openPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return &Store{db: db, postgres: true}, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		return nil, errors.New("ledger: open: empty dsn")
	}
	db, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// migrations is the backend's schema list. Both lists move in step: version N
// makes the same change in each.
func (s *Store) migrations() []string {
	if s.postgres {
		return postgresMigrations
	}
	return sqliteMigrations
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("ledger: close: %w", err)
	}
	return nil
}

// rebind rewrites the ? placeholders of q for the backend in use. Every query
// goes through it, and none has a ? inside a string literal.
func (s *Store) rebind(q string) string {
	if !s.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// migrate applies, in one transaction, the migrations the database has not
// seen yet. Version N is migrations[N-1]; a database at a version above
// len(migrations) was written by a newer program and is refused.
func (s *Store) migrate(ctx context.Context, migrations []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: migrate: %w", err)
	}
	defer tx.Rollback()
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`
	if s.postgres {
		// Several nodes may start at once: the first migrates, the others
		// wait on this lock (any constant key, the same in every node) and
		// then find nothing left to do. SQLite's BEGIN IMMEDIATE already
		// serialises them.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7315500190217021)`); err != nil {
			return fmt.Errorf("ledger: migrate: lock: %w", err)
		}
		create = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`
	}
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("ledger: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("ledger: migrate: read version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("ledger: migrate: database schema version %d is newer than this program's %d: run a newer shixincheck", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("ledger: migrate: version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, dbTime(time.Now())); err != nil {
			return fmt.Errorf("ledger: migrate: version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: migrate: %w", err)
	}
	return nil
}

// dbTime is how every time is stored: UTC, at the microsecond precision both
// SQLite (as text) and PostgreSQL (timestamptz) keep exactly, so a value reads
// back equal to what was written.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanAll runs a query and hands each row to scan. The rows are closed when
// it returns, so the transaction can go on with updates (a connection
// serves one statement at a time).
func scanAll(ctx context.Context, q querier, query string, args []any, scan func(scanner) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryAll runs a query and collects its rows, each scanned with scan.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	err := scanAll(ctx, q, query, args, func(sc scanner) error {
		v, err := scan(sc)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
