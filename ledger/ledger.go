// Package ledger is the durable store (台账) of shixincheck: batches, their
// candidates and the checks made for them. SQLite is the default backend; the
// queries are kept portable (placeholders rewritten in rebind, no
// backend-specific SQL outside the backend's setup) so PostgreSQL can sit
// behind the same API.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned when a batch, candidate or check does not exist.
var ErrNotFound = errors.New("ledger: not found")

// Store is the ledger. It is safe for concurrent use by many goroutines.
type Store struct {
	db     *sql.DB
	dollar bool // placeholders are $1, $2, … (PostgreSQL) rather than ?
}

// Open opens the ledger named by dsn, a file path or "sqlite:PATH", creating
// the file and its parent directories when missing, and brings its schema up
// to date.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if scheme, _, ok := strings.Cut(dsn, "://"); ok {
		// Only the scheme is echoed: a server DSN may carry a password.
		return nil, fmt.Errorf("ledger: open: unsupported dsn scheme %q", scheme)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		return nil, errors.New("ledger: open: empty dsn")
	}
	db, err := openSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db}
	if err := s.migrate(ctx, sqliteMigrations); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
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
	if !s.dollar {
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
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		applied_at TIMESTAMP NOT NULL
	)`); err != nil {
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
