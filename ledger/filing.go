package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

var (
	// ErrBatchRunning is returned when a batch is filed while some of its candidates are still queued.
	ErrBatchRunning = errors.New("ledger: batch still has queued candidates")
	// ErrNothingToFile is returned when a filing would hold no check.
	ErrNothingToFile = errors.New("ledger: no checks to file")
	// ErrAlreadyFiled is returned when a check to file is already in another filing.
	ErrAlreadyFiled = errors.New("ledger: check already in a filing")
	// ErrAlreadySubmitted is returned when a submitted filing is submitted again.
	ErrAlreadySubmitted = errors.New("ledger: filing already submitted")
)

// beijing is China Standard Time, the zone of due dates; China has no daylight saving.
var beijing = time.FixedZone("UTC+8", 8*60*60)

const dueLayout = "2006-01-02"

const filingCols = `f.id, f.title, f.batch_id, f.department, f.items, f.period_from, f.period_to,
	f.unit, f.handler, f.phone, f.completed_at, f.due_date, f.state, f.created_at,
	f.submitted_at, f.submitted_by, f.receipt`

func scanFiling(sc scanner) (shixincheck.Filing, error) {
	var (
		f         shixincheck.Filing
		batchID   sql.NullString
		items     string
		due       sql.NullString
		submitted sql.NullTime
	)
	err := sc.Scan(&f.ID, &f.Title, &batchID, &f.Department, &items, &f.From, &f.To,
		&f.Unit, &f.Handler, &f.Phone, &f.CompletedAt, &due, &f.State, &f.CreatedAt,
		&submitted, &f.SubmittedBy, &f.Receipt)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	f.BatchID = batchID.String
	if err := json.Unmarshal([]byte(items), &f.Items); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("filing %d: items: %w", f.ID, err)
	}
	f.From, f.To, f.CompletedAt, f.CreatedAt = f.From.UTC(), f.To.UTC(), f.CompletedAt.UTC(), f.CreatedAt.UTC()
	if due.Valid {
		d, err := time.ParseInLocation(dueLayout, due.String, beijing)
		if err != nil {
			return shixincheck.Filing{}, fmt.Errorf("filing %d: due date: %w", f.ID, err)
		}
		f.DueDate = &d
	}
	if submitted.Valid {
		at := submitted.Time.UTC()
		f.SubmittedAt = &at
	}
	return f, nil
}

// toFile is a check picked for a new filing.
type toFile struct {
	id        int64
	queriedAt time.Time
	item      string
	filed     bool // already in a filing
}

// pickChecks returns the checks that count (isLatest) and meet cond, a
// condition with its args, in id order: concurrent filings then claim them
// in one order and cannot deadlock. Checks of purged batches are left out: a
// filing needs the full names and ID numbers.
func (s *Store) pickChecks(ctx context.Context, tx *sql.Tx, cond string, args ...any) ([]toFile, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT k.id, k.queried_at, candidates.item,
			EXISTS (SELECT 1 FROM filing_checks fc WHERE fc.check_id = k.id)`+rowFrom+`
		WHERE `+isLatest+` AND batches.purged_at IS NULL AND `+cond+` ORDER BY k.id`),
		append([]any{shixincheck.StateDone}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []toFile
	for rows.Next() {
		var c toFile
		if err := rows.Scan(&c.id, &c.queriedAt, &c.item, &c.filed); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateBatchFiling files every check that counts in the batch: that of each
// of its candidates. It fails with ErrBatchRunning while a candidate is
// queued, ErrNothingToFile when the batch has no check, and ErrAlreadyFiled
// when one of the checks is in another filing. The filing takes the batch's
// unit, handler and phone, the items of its candidates, and the period from
// its first check to just after its last.
//
// due is the working-day calendar: it gives the due date for the time the
// last check was completed. When it fails (a year the calendar does not
// know), the filing is created without a due date and no error is returned.
func (s *Store) CreateBatchFiling(ctx context.Context, batchID string, due func(completed time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockRetention(ctx, tx); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}

	b, err := scanBatch(tx.QueryRowContext(ctx, s.rebind(`SELECT `+batchCols+` FROM batches WHERE id = ?`), batchID))
	if errors.Is(err, sql.ErrNoRows) {
		return shixincheck.Filing{}, ErrNotFound
	}
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	var queued int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM candidates WHERE batch_id = ? AND state = ?`),
		batchID, shixincheck.StateQueued).Scan(&queued); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	if queued > 0 {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %d queued: %w", queued, ErrBatchRunning)
	}
	checks, err := s.pickChecks(ctx, tx, `candidates.batch_id = ?`, batchID)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	if len(checks) == 0 {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", ErrNothingToFile)
	}
	var items []string
	for _, c := range checks {
		if c.filed {
			return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: check %d: %w", c.id, ErrAlreadyFiled)
		}
		if !slices.Contains(items, c.item) {
			items = append(items, c.item)
		}
	}
	slices.Sort(items)
	f := shixincheck.Filing{
		Title:   "批次 " + shortID(b.ID),
		BatchID: b.ID,
		Items:   items,
		Unit:    b.Unit, Handler: b.Handler, Phone: b.Phone,
	}
	f, err = s.insertFiling(ctx, tx, f, checks, due)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	return f, nil
}

// CreatePeriodFiling files the checks that count, made in [f.From, f.To) for
// one of f.Items, and not in another filing yet: typically a department's
// checks of a month. Of f it reads Title, Department, Items, From, To, Unit,
// Handler and Phone. It fails with ErrNothingToFile when no check is left to
// file. due is used as by CreateBatchFiling.
func (s *Store) CreatePeriodFiling(ctx context.Context, f shixincheck.Filing, due func(time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	switch {
	case f.Title == "":
		return shixincheck.Filing{}, errors.New("ledger: create period filing: no title")
	case len(f.Items) == 0:
		return shixincheck.Filing{}, errors.New("ledger: create period filing: no items")
	case f.From.IsZero() || f.To.IsZero() || !f.From.Before(f.To):
		return shixincheck.Filing{}, errors.New("ledger: create period filing: the period needs From before To")
	}
	f = shixincheck.Filing{
		Title: f.Title, Department: f.Department, Items: slices.Clone(f.Items),
		From: dbTime(f.From), To: dbTime(f.To),
		Unit: f.Unit, Handler: f.Handler, Phone: f.Phone,
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockRetention(ctx, tx); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", err)
	}
	checks, err := s.pickChecks(ctx, tx, `k.queried_at >= ? AND k.queried_at < ?
			AND candidates.item IN (`+placeholders(len(f.Items))+`)
			AND NOT EXISTS (SELECT 1 FROM filing_checks fc WHERE fc.check_id = k.id)`,
		append([]any{f.From, f.To}, anys(f.Items)...)...)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", err)
	}
	if len(checks) == 0 {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", ErrNothingToFile)
	}
	f, err = s.insertFiling(ctx, tx, f, checks, due)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create period filing: %w", err)
	}
	return f, nil
}

// insertFiling writes a prepared filing of the given checks. A batch filing's
// period is taken from its checks; every filing's CompletedAt is its last
// check's time, and its DueDate what due says of it.
func (s *Store) insertFiling(ctx context.Context, tx *sql.Tx, f shixincheck.Filing, checks []toFile, due func(time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	first, last := checks[0].queriedAt, checks[0].queriedAt
	for _, c := range checks[1:] {
		if c.queriedAt.Before(first) {
			first = c.queriedAt
		}
		if c.queriedAt.After(last) {
			last = c.queriedAt
		}
	}
	if f.BatchID != "" {
		f.From, f.To = dbTime(first), dbTime(last).Add(time.Microsecond)
	}
	f.CompletedAt = dbTime(last)
	f.DueDate = dueDate(due, f.CompletedAt)
	f.State = shixincheck.FilingPrepared
	f.CreatedAt = dbTime(time.Now())

	items, err := json.Marshal(f.Items)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	var dueText sql.NullString
	if f.DueDate != nil {
		dueText = sql.NullString{String: f.DueDate.Format(dueLayout), Valid: true}
	}
	err = tx.QueryRowContext(ctx, s.rebind(`INSERT INTO filings (title, batch_id, department, items, period_from, period_to,
			unit, handler, phone, completed_at, due_date, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		f.Title, sql.NullString{String: f.BatchID, Valid: f.BatchID != ""}, f.Department, string(items), f.From, f.To,
		f.Unit, f.Handler, f.Phone, f.CompletedAt, dueText, f.State, f.CreatedAt,
	).Scan(&f.ID)
	if err != nil {
		return shixincheck.Filing{}, err
	}

	stmt, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO filing_checks (check_id, filing_id) VALUES (?, ?)
		ON CONFLICT (check_id) DO NOTHING`))
	if err != nil {
		return shixincheck.Filing{}, err
	}
	defer stmt.Close()
	for _, c := range checks {
		res, err := stmt.ExecContext(ctx, c.id, f.ID)
		if err != nil {
			return shixincheck.Filing{}, fmt.Errorf("check %d: %w", c.id, err)
		}
		// Another filing took the check since it was picked (PostgreSQL
		// nodes filing at once): the schema keeps it in that one only.
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return shixincheck.Filing{}, fmt.Errorf("check %d: %w", c.id, errors.Join(ErrAlreadyFiled, err))
		}
	}
	return f, nil
}

// dueDate asks the calendar when a filing completed at completed is due, as
// the Beijing date at 00:00. An error (a year the calendar does not know)
// leaves the due date unknown: the filing is kept all the same.
func dueDate(due func(time.Time) (*time.Time, error), completed time.Time) *time.Time {
	if due == nil {
		return nil
	}
	d, err := due(completed)
	if err != nil || d == nil {
		return nil
	}
	y, m, day := d.In(beijing).Date()
	out := time.Date(y, m, day, 0, 0, 0, 0, beijing)
	return &out
}

// shortID shortens a batch ID for a title: its first 8 characters.
func shortID(id string) string {
	if r := []rune(id); len(r) > 8 {
		return string(r[:8]) + "…"
	}
	return id
}

// Filing returns the filing with the given ID.
func (s *Store) Filing(ctx context.Context, id int64) (shixincheck.Filing, error) {
	f, err := scanFiling(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+filingCols+` FROM filings f WHERE f.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return shixincheck.Filing{}, ErrNotFound
	}
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: filing: %w", err)
	}
	return f, nil
}

// Filings returns the filings in the given states (all when none is given),
// by due date, those without a known due date last.
func (s *Store) Filings(ctx context.Context, states ...shixincheck.FilingState) ([]shixincheck.Filing, error) {
	q := `SELECT ` + filingCols + ` FROM filings f`
	if len(states) > 0 {
		q += ` WHERE f.state IN (` + placeholders(len(states)) + `)`
	}
	q += ` ORDER BY CASE WHEN f.due_date IS NULL THEN 1 ELSE 0 END, f.due_date, f.id`
	out, err := queryAll(ctx, s.db, s.rebind(q), anys(states), scanFiling)
	if err != nil {
		return nil, fmt.Errorf("ledger: filings: %w", err)
	}
	return out, nil
}

// FilingRows returns the checks of a filing, by batch (oldest first) and row.
func (s *Store) FilingRows(ctx context.Context, id int64) ([]Row, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT 1 FROM filings WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: filing rows: %w", err)
	}
	out, err := s.queryRows(ctx, s.db, `SELECT `+rowCols+rowFrom+`
		JOIN filing_checks fc ON fc.check_id = k.id
		WHERE fc.filing_id = ?
		ORDER BY batches.created_at, batches.id, candidates.row_no, k.id`, id)
	if err != nil {
		return nil, fmt.Errorf("ledger: filing rows: %w", err)
	}
	return out, nil
}

// MarkSubmitted records that a prepared filing was handed in at at (zero
// means now) by a person, with the credit office's receipt number if any, and
// keeps the workbook that was handed in. A filing is submitted once: a second
// call fails with ErrAlreadySubmitted and changes nothing, so the kept
// workbook is the one submitted, for good.
func (s *Store) MarkSubmitted(ctx context.Context, id int64, at time.Time, by, receipt string, workbook []byte) error {
	if strings.TrimSpace(by) == "" {
		return errors.New("ledger: mark submitted: who submitted is required")
	}
	if len(workbook) == 0 {
		return errors.New("ledger: mark submitted: the submitted workbook is required")
	}
	if at.IsZero() {
		at = time.Now()
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE filings
		SET state = ?, submitted_at = ?, submitted_by = ?, receipt = ?, workbook = ?
		WHERE id = ? AND state = ?`),
		shixincheck.FilingSubmitted, dbTime(at), by, receipt, s.keys.Seal(workbook), id, shixincheck.FilingPrepared)
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.Filing(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("ledger: mark submitted: filing %d: %w", id, ErrAlreadySubmitted)
}

// SubmittedWorkbook returns the workbook kept when the filing was submitted.
// A filing not (yet) submitted has none: ErrNotFound. Once retention has
// purged every batch with checks in the filing, the workbook (full names and
// ID numbers) is deleted: the error is then both ErrPurged and ErrNotFound.
// The filing itself and its rows, masked, stay.
func (s *Store) SubmittedWorkbook(ctx context.Context, id int64) ([]byte, error) {
	var wb []byte
	var state shixincheck.FilingState
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT workbook, state FROM filings WHERE id = ?`), id).Scan(&wb, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: submitted workbook: %w", err)
	}
	if wb == nil && state == shixincheck.FilingSubmitted {
		return nil, fmt.Errorf("ledger: submitted workbook: filing %d: %w", id, ErrPurged)
	}
	if wb == nil {
		return nil, fmt.Errorf("ledger: submitted workbook: filing %d not submitted: %w", id, ErrNotFound)
	}
	if wb, err = s.keys.Open(wb); err != nil {
		return nil, fmt.Errorf("ledger: submitted workbook of filing %d: %w", id, err)
	}
	return wb, nil
}
