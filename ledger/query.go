package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// Paging of Query.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
)

// Query selects ledger rows. Every set field narrows the selection; zero
// fields (and empty slices) do not filter.
type Query struct {
	IDNumber string    // exact, normalised by the caller; compared by keyed hash (Lookup); purged batches' people are not found
	Name     string    // exact, likewise
	Items    []string  // 应用事项
	From, To time.Time // queried_at in [From, To); a zero bound is open
	Outcomes []shixincheck.Outcome
	Measure  string
	BatchID  string
	Limit    int // 0 means DefaultLimit; at most MaxLimit
	Offset   int

	// DepartmentItems are a department's items, resolved by the caller from
	// the rules: a filter of its own, so that with Items both must hold.
	DepartmentItems []string
}

// Row is one check with its candidate and batch. Evidence is not loaded (see Evidence).
type Row struct {
	Batch     shixincheck.Batch
	Candidate shixincheck.Candidate
	Check     shixincheck.Check
}

// rowFrom joins each check k to its candidate and batch.
const rowFrom = ` FROM checks k
	JOIN candidates ON candidates.id = k.candidate_id
	JOIN batches ON batches.id = candidates.batch_id`

// rowCols is what scanRow reads, from rowFrom.
const rowCols = candidateCols + `, ` + batchCols + `,
	k.id, k.candidate_id, k.queried_at, k.channel, k.site, k.outcome, k.hit_count, k.records,
	k.measure, k.rule_version, k.stage, k.departments, k.error_kind, k.captchas`

// isLatest keeps, of rowFrom, the check that counts for a done candidate: a
// failed check that was retried, or whose candidate waits for its retry, is
// history. The one placeholder is StateDone.
const isLatest = `candidates.state = ? AND k.id = (SELECT MAX(l.id) FROM checks l WHERE l.candidate_id = k.candidate_id)`

func (s *Store) scanRow(sc scanner) (Row, error) {
	var r Row
	var records string
	k := &r.Check
	more := append(batchDest(&r.Batch), &k.ID, &k.CandidateID, &k.QueriedAt, &k.Channel, &k.Site, &k.Outcome,
		&k.HitCount, &records, &k.Measure, &k.RuleVersion, &k.Stage, &k.Departments, &k.ErrorKind, &k.Captchas)
	c, err := s.scanCandidate(sc, more...)
	if err != nil {
		return Row{}, err
	}
	r.Candidate = c
	r.Batch.CreatedAt = r.Batch.CreatedAt.UTC()
	k.QueriedAt = k.QueriedAt.UTC()
	if k.Records, err = s.openRecords(records); err != nil {
		return Row{}, fmt.Errorf("check %d: %w", k.ID, err)
	}
	return r, nil
}

// queryRows runs a query selecting rowCols.
func (s *Store) queryRows(ctx context.Context, q querier, query string, args ...any) ([]Row, error) {
	rows, err := q.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r, err := s.scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Query returns the checks that count (the latest of each done candidate)
// selected by q, newest first, and how many match in all.
func (s *Store) Query(ctx context.Context, q Query) ([]Row, int, error) {
	limit := q.Limit
	switch {
	case limit < 0 || q.Offset < 0:
		return nil, 0, errors.New("ledger: query: negative limit or offset")
	case limit > MaxLimit:
		return nil, 0, fmt.Errorf("ledger: query: limit %d above %d", limit, MaxLimit)
	case limit == 0:
		limit = DefaultLimit
	}
	conds := []string{isLatest}
	args := []any{shixincheck.StateDone}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if q.IDNumber != "" {
		add(`candidates.id_lookup = ?`, s.keys.Lookup(q.IDNumber))
	}
	if q.Name != "" {
		add(`candidates.name_lookup = ?`, s.keys.Lookup(q.Name))
	}
	for _, items := range [][]string{q.Items, q.DepartmentItems} {
		if len(items) > 0 {
			add(`candidates.item IN (`+placeholders(len(items))+`)`, anys(items)...)
		}
	}
	if !q.From.IsZero() {
		add(`k.queried_at >= ?`, dbTime(q.From))
	}
	if !q.To.IsZero() {
		add(`k.queried_at < ?`, dbTime(q.To))
	}
	if len(q.Outcomes) > 0 {
		add(`k.outcome IN (`+placeholders(len(q.Outcomes))+`)`, anys(q.Outcomes)...)
	}
	if q.Measure != "" {
		add(`k.measure = ?`, q.Measure)
	}
	if q.BatchID != "" {
		add(`candidates.batch_id = ?`, q.BatchID)
	}
	where := ` WHERE ` + strings.Join(conds, ` AND `)

	var total int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*)`+rowFrom+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("ledger: query: count: %w", err)
	}
	out, err := s.queryRows(ctx, s.db, `SELECT `+rowCols+rowFrom+where+`
		ORDER BY k.queried_at DESC, k.id DESC LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: query: %w", err)
	}
	return out, total, nil
}

// History returns every check ever recorded for the person with this ID
// number, in every batch not purged, oldest first: superseded failed checks
// included.
func (s *Store) History(ctx context.Context, idNumber string) ([]Row, error) {
	if idNumber == "" {
		return nil, errors.New("ledger: history: empty ID number")
	}
	out, err := s.queryRows(ctx, s.db, `SELECT `+rowCols+rowFrom+`
		WHERE candidates.id_lookup = ? ORDER BY k.queried_at, k.id`, s.keys.Lookup(idNumber))
	if err != nil {
		return nil, fmt.Errorf("ledger: history: %w", err)
	}
	return out, nil
}

// placeholders returns n comma-separated placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
