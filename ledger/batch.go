package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

const batchCols = `batches.id, batches.item, batches.unit, batches.handler, batches.phone, batches.created_at, batches.content_key, batches.control, batches.purged_at`

func scanBatch(sc scanner) (shixincheck.Batch, error) {
	var b shixincheck.Batch
	err := sc.Scan(batchDest(&b)...)
	b.CreatedAt = b.CreatedAt.UTC()
	return b, err
}

// batchDest is where batchCols scan into; the caller makes CreatedAt UTC.
func batchDest(b *shixincheck.Batch) []any {
	return []any{&b.ID, &b.Item, &b.Unit, &b.Handler, &b.Phone, &b.CreatedAt, &b.ContentKey, &b.Control, optionalTime{&b.PurgedAt}}
}

// optionalTime scans a nullable timestamp into a *time.Time, nil for NULL, UTC otherwise.
type optionalTime struct{ t **time.Time }

func (o optionalTime) Scan(src any) error {
	var n sql.NullTime
	if err := n.Scan(src); err != nil {
		return err
	}
	*o.t = nil
	if n.Valid {
		at := n.Time.UTC()
		*o.t = &at
	}
	return nil
}

// Personal data. Every read and write of candidates.name and
// candidates.id_number goes through candidateCols with scanCandidate, or
// through insertCandidate; every search by them goes through Lookup. Both
// are stored sealed (vault.SealString); name_lookup and id_lookup hold their
// keyed hashes, which exact searches compare.

const candidateCols = `candidates.id, candidates.batch_id, candidates.row_no, candidates.name, candidates.id_number, candidates.item, candidates.state`

// scanCandidate scans candidateCols, then any further columns into more,
// and opens the name and ID number.
func (s *Store) scanCandidate(sc scanner, more ...any) (shixincheck.Candidate, error) {
	var c shixincheck.Candidate
	var name, idNumber string
	dest := append([]any{&c.ID, &c.BatchID, &c.Row, &name, &idNumber, &c.Item, &c.State}, more...)
	if err := sc.Scan(dest...); err != nil {
		return c, err
	}
	var err error
	if c.Name, err = s.keys.OpenString(name); err != nil {
		return c, fmt.Errorf("candidate %d: name: %w", c.ID, err)
	}
	if c.IDNumber, err = s.keys.OpenString(idNumber); err != nil {
		return c, fmt.Errorf("candidate %d: ID number: %w", c.ID, err)
	}
	return c, nil
}

const insertCandidate = `INSERT INTO candidates (batch_id, row_no, name, id_number, item, state, name_lookup, id_lookup)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

func (s *Store) insertCandidateArgs(c shixincheck.Candidate) []any {
	return []any{c.BatchID, c.Row, s.keys.SealString(c.Name), s.keys.SealString(c.IDNumber), c.Item, c.State,
		s.keys.Lookup(c.Name), s.keys.Lookup(c.IDNumber)}
}

// Lookup is the keyed hash of a name or ID number (HMAC-SHA256 with the
// key file's lookup key): what candidates.name_lookup and id_lookup hold and
// exact searches compare. Equal values have equal hashes; without the key
// the hash tells nothing of the value. Use it wherever a value derived from
// personal data must be compared or deduplicated, e.g. a batch's ContentKey.
func (s *Store) Lookup(v string) string { return s.keys.Lookup(v) }

// CreateBatch stores a batch and its candidates in one transaction. The
// batch's ID is given by the caller; a zero CreatedAt means now. If a batch
// with the same ContentKey exists, nothing is written and that batch is
// returned, with its stored candidates, and created=false. Otherwise the
// returned candidates carry their IDs, the BatchID, State queued, and the
// batch's Item where they named none.
func (s *Store) CreateBatch(ctx context.Context, b shixincheck.Batch, cands []shixincheck.Candidate) (shixincheck.Batch, []shixincheck.Candidate, bool, error) {
	if b.ID == "" || b.ContentKey == "" {
		return shixincheck.Batch{}, nil, false, errors.New("ledger: create batch: ID and ContentKey are required")
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = time.Now()
	}
	b.CreatedAt = dbTime(b.CreatedAt)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
	}
	defer tx.Rollback()

	b.Control = shixincheck.ControlActive
	res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO batches (id, item, unit, handler, phone, created_at, content_key, control)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (content_key) DO NOTHING`),
		b.ID, b.Item, b.Unit, b.Handler, b.Phone, b.CreatedAt, b.ContentKey, b.Control)
	if err != nil {
		return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
	}
	if n == 0 { // the same upload again
		existing, err := scanBatch(tx.QueryRowContext(ctx, s.rebind(`SELECT `+batchCols+` FROM batches WHERE content_key = ?`), b.ContentKey))
		if err != nil {
			return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: existing: %w", err)
		}
		stored, err := s.candidates(ctx, tx, existing.ID)
		if err != nil {
			return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
		}
		return existing, stored, false, nil
	}

	stmt, err := tx.PrepareContext(ctx, s.rebind(insertCandidate))
	if err != nil {
		return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
	}
	defer stmt.Close()
	out := make([]shixincheck.Candidate, len(cands))
	for i, c := range cands {
		c.BatchID = b.ID
		c.State = shixincheck.StateQueued
		if c.Item == "" {
			c.Item = b.Item
		}
		if err := stmt.QueryRowContext(ctx, s.insertCandidateArgs(c)...).Scan(&c.ID); err != nil {
			return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: row %d: %w", c.Row, err)
		}
		out[i] = c
	}
	if err := tx.Commit(); err != nil {
		return shixincheck.Batch{}, nil, false, fmt.Errorf("ledger: create batch: %w", err)
	}
	return b, out, true, nil
}

// Batch returns the batch with the given ID.
func (s *Store) Batch(ctx context.Context, id string) (shixincheck.Batch, error) {
	b, err := scanBatch(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+batchCols+` FROM batches WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return shixincheck.Batch{}, ErrNotFound
	}
	if err != nil {
		return shixincheck.Batch{}, fmt.Errorf("ledger: batch: %w", err)
	}
	return b, nil
}

// Batches returns up to limit batches, newest first; limit <= 0 means all.
func (s *Store) Batches(ctx context.Context, limit int) ([]shixincheck.Batch, error) {
	q := `SELECT ` + batchCols + ` FROM batches ORDER BY created_at DESC, id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := queryAll(ctx, s.db, s.rebind(q), args, scanBatch)
	if err != nil {
		return nil, fmt.Errorf("ledger: batches: %w", err)
	}
	return out, nil
}

// Candidate returns the candidate with the given ID.
func (s *Store) Candidate(ctx context.Context, id int64) (shixincheck.Candidate, error) {
	c, err := s.scanCandidate(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+candidateCols+` FROM candidates WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return shixincheck.Candidate{}, ErrNotFound
	}
	if err != nil {
		return shixincheck.Candidate{}, fmt.Errorf("ledger: candidate: %w", err)
	}
	return c, nil
}

// Candidates returns the candidates of a batch by row.
func (s *Store) Candidates(ctx context.Context, batchID string) ([]shixincheck.Candidate, error) {
	if err := s.requireBatch(ctx, batchID); err != nil {
		return nil, err
	}
	out, err := s.candidates(ctx, s.db, batchID)
	if err != nil {
		return nil, fmt.Errorf("ledger: candidates: %w", err)
	}
	return out, nil
}

func (s *Store) candidates(ctx context.Context, q querier, batchID string) ([]shixincheck.Candidate, error) {
	return s.queryCandidates(ctx, q, `SELECT `+candidateCols+` FROM candidates WHERE batch_id = ? ORDER BY row_no`, batchID)
}

// Unfinished returns the candidates still queued in every batch, oldest batch
// first, then by row: what to enqueue again after a restart.
func (s *Store) Unfinished(ctx context.Context) ([]shixincheck.Candidate, error) {
	out, err := s.queryCandidates(ctx, s.db, `SELECT `+candidateCols+` FROM candidates
		JOIN batches ON batches.id = candidates.batch_id
		WHERE candidates.state = ?
		ORDER BY batches.created_at, batches.id, candidates.row_no`, shixincheck.StateQueued)
	if err != nil {
		return nil, fmt.Errorf("ledger: unfinished: %w", err)
	}
	return out, nil
}

// queryCandidates runs a query selecting candidateCols.
func (s *Store) queryCandidates(ctx context.Context, q querier, query string, args ...any) ([]shixincheck.Candidate, error) {
	rows, err := q.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []shixincheck.Candidate
	for rows.Next() {
		c, err := s.scanCandidate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// requireBatch returns ErrNotFound unless the batch exists, so that a missing
// batch is told apart from an empty answer.
func (s *Store) requireBatch(ctx context.Context, id string) error {
	var one int
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT 1 FROM batches WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("ledger: batch: %w", err)
	}
	return nil
}
