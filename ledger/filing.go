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
	f.submitted_at, f.submitted_by, f.receipt, f.submitted_records`

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
		&submitted, &f.SubmittedBy, &f.Receipt, &f.SubmittedRecords)
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

// toFile is a check picked for a filing.
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
	return queryAll(ctx, tx, s.rebind(`SELECT k.id, k.queried_at, candidates.item,
			EXISTS (SELECT 1 FROM filing_checks fc WHERE fc.check_id = k.id)`+rowFrom+`
		WHERE `+isLatest+` AND batches.purged_at IS NULL AND `+cond+` ORDER BY k.id`),
		append([]any{shixincheck.StateDone}, args...), scanToFile)
}

// filedChecks returns the checks in a filing.
func (s *Store) filedChecks(ctx context.Context, tx *sql.Tx, filingID int64) ([]toFile, error) {
	return queryAll(ctx, tx, s.rebind(`SELECT k.id, k.queried_at, candidates.item, TRUE`+rowFrom+`
		JOIN filing_checks fc ON fc.check_id = k.id
		WHERE fc.filing_id = ? ORDER BY k.id`), []any{filingID}, scanToFile)
}

func scanToFile(sc scanner) (toFile, error) {
	var c toFile
	err := sc.Scan(&c.id, &c.queriedAt, &c.item, &c.filed)
	return c, err
}

// CreateBatchFiling files the checks of a batch that count (the latest of
// each candidate) and are in no filing yet. It fails with ErrBatchRunning
// while a candidate is queued, ErrNothingToFile when the batch has no check,
// and ErrAlreadyFiled when there is nothing new to file: every check is
// filed, or the batch has no filing of its own and some of its checks are in
// a period filing (the rest waits for the next period filing).
//
// The first time, it creates the batch's filing, "批次 <id>": the batch's
// unit, handler and phone, the items of its candidates, and the period from
// its first check to just after its last. Checks made later (failed ones
// retried) bring the batch's filing up to date while it is prepared: each
// replaces the check of its candidate that it supersedes. Once the batch's
// filing is submitted, they go into a supplementary filing, "批次 <id> 补充".
//
// due is the working-day calendar: it gives the due date of checks made at a
// time, and is asked about the filing's first check. When it fails (a year
// the calendar does not know), the filing has no due date and no error is
// returned.
func (s *Store) CreateBatchFiling(ctx context.Context, batchID string, due func(checked time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	f, err := s.fileBatch(ctx, batchID, due)
	if err != nil {
		return shixincheck.Filing{}, fmt.Errorf("ledger: create batch filing: %w", err)
	}
	return f, nil
}

func (s *Store) fileBatch(ctx context.Context, batchID string, due func(time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	defer tx.Rollback()
	if err := s.lockRetention(ctx, tx); err != nil {
		return shixincheck.Filing{}, err
	}

	b, err := scanBatch(tx.QueryRowContext(ctx, s.rebind(`SELECT `+batchCols+` FROM batches WHERE id = ?`), batchID))
	if errors.Is(err, sql.ErrNoRows) {
		return shixincheck.Filing{}, ErrNotFound
	}
	if err != nil {
		return shixincheck.Filing{}, err
	}
	var queued int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM candidates WHERE batch_id = ? AND state = ?`),
		batchID, shixincheck.StateQueued).Scan(&queued); err != nil {
		return shixincheck.Filing{}, err
	}
	if queued > 0 {
		return shixincheck.Filing{}, fmt.Errorf("%d queued: %w", queued, ErrBatchRunning)
	}
	checks, err := s.pickChecks(ctx, tx, `candidates.batch_id = ?`, batchID)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	if len(checks) == 0 {
		return shixincheck.Filing{}, ErrNothingToFile
	}
	var fresh []toFile
	for _, c := range checks {
		if !c.filed {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) == 0 {
		return shixincheck.Filing{}, fmt.Errorf("every check of batch %s: %w", batchID, ErrAlreadyFiled)
	}

	// The batch's own filings, newest first: at most the newest is prepared,
	// as a supplement is only made once the others are submitted.
	var ownID int64
	var ownState shixincheck.FilingState
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT id, state FROM filings WHERE batch_id = ? ORDER BY id DESC LIMIT 1`),
		batchID).Scan(&ownID, &ownState)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if len(fresh) < len(checks) {
			return shixincheck.Filing{}, fmt.Errorf("batch %s: some checks are in a period filing: %w", batchID, ErrAlreadyFiled)
		}
	case err != nil:
		return shixincheck.Filing{}, err
	}

	var f shixincheck.Filing
	updated := false
	if ownID != 0 && ownState == shixincheck.FilingPrepared {
		if f, updated, err = s.updateBatchFiling(ctx, tx, ownID, fresh, due); err != nil {
			return shixincheck.Filing{}, err
		}
	}
	if !updated {
		f = shixincheck.Filing{
			Title: "批次 " + shortID(b.ID), BatchID: b.ID,
			Unit: b.Unit, Handler: b.Handler, Phone: b.Phone,
		}
		if ownID != 0 {
			f.Title += " 补充"
		}
		if f, err = s.insertFiling(ctx, tx, f, fresh, due); err != nil {
			return shixincheck.Filing{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return shixincheck.Filing{}, err
	}
	return f, nil
}

// updateBatchFiling brings the prepared batch filing id up to date with the
// batch's new checks: the checks they supersede leave it, they join it, and
// its items, period, completion and due date are worked out again. It
// returns false, changing nothing, when the filing was submitted meanwhile.
func (s *Store) updateBatchFiling(ctx context.Context, tx *sql.Tx, id int64, fresh []toFile, due func(time.Time) (*time.Time, error)) (shixincheck.Filing, bool, error) {
	// Claim the filing while it is prepared: a clerk marking it submitted now
	// waits for this transaction (or has won, and the checks go to a supplement).
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings SET state = ? WHERE id = ? AND state = ?`),
		shixincheck.FilingPrepared, id, shixincheck.FilingPrepared)
	if err != nil {
		return shixincheck.Filing{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return shixincheck.Filing{}, false, err
	}
	// A check superseded by a later one of its candidate no longer counts.
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM filing_checks WHERE filing_id = ? AND EXISTS (
			SELECT 1 FROM checks k JOIN checks l ON l.candidate_id = k.candidate_id AND l.id > k.id
			WHERE k.id = filing_checks.check_id)`), id); err != nil {
		return shixincheck.Filing{}, false, err
	}
	if err := s.addChecks(ctx, tx, id, fresh); err != nil {
		return shixincheck.Filing{}, false, err
	}
	checks, err := s.filedChecks(ctx, tx, id)
	if err != nil {
		return shixincheck.Filing{}, false, err
	}
	f, err := scanFiling(tx.QueryRowContext(ctx, s.rebind(`SELECT `+filingCols+` FROM filings f WHERE f.id = ?`), id))
	if err != nil {
		return shixincheck.Filing{}, false, err
	}
	describe(&f, checks, due)
	items, err := json.Marshal(f.Items)
	if err != nil {
		return shixincheck.Filing{}, false, err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings
		SET items = ?, period_from = ?, period_to = ?, completed_at = ?, due_date = ? WHERE id = ?`),
		string(items), f.From, f.To, f.CompletedAt, dueText(f.DueDate), id); err != nil {
		return shixincheck.Filing{}, false, err
	}
	return f, true, nil
}

// CreatePeriodFiling files the checks that count, made in [f.From, f.To) for
// one of f.Items, and not in another filing yet: typically a department's
// checks of a month. Of f it reads Title, Department, Items, From, To, Unit,
// Handler and Phone. It fails with ErrNothingToFile when no check is left to
// file. due is used as by CreateBatchFiling.
func (s *Store) CreatePeriodFiling(ctx context.Context, f shixincheck.Filing, due func(checked time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
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

// describe sets what a filing's checks say of it: for a batch filing its
// items and period (from its first check to just after its last); for every
// filing CompletedAt, its last check's time, and DueDate, what due says of
// its first check (the period runs from the day of the check, Civil Code
// art. 201).
func describe(f *shixincheck.Filing, checks []toFile, due func(time.Time) (*time.Time, error)) {
	first, last := checks[0].queriedAt, checks[0].queriedAt
	var items []string
	for _, c := range checks {
		if c.queriedAt.Before(first) {
			first = c.queriedAt
		}
		if c.queriedAt.After(last) {
			last = c.queriedAt
		}
		if !slices.Contains(items, c.item) {
			items = append(items, c.item)
		}
	}
	if f.BatchID != "" {
		slices.Sort(items)
		f.Items = items
		f.From, f.To = dbTime(first), dbTime(last).Add(time.Microsecond)
	}
	f.CompletedAt = dbTime(last)
	f.DueDate = dueDate(due, dbTime(first))
}

// insertFiling writes a prepared filing of the given checks, described by them.
func (s *Store) insertFiling(ctx context.Context, tx *sql.Tx, f shixincheck.Filing, checks []toFile, due func(time.Time) (*time.Time, error)) (shixincheck.Filing, error) {
	describe(&f, checks, due)
	f.State = shixincheck.FilingPrepared
	f.CreatedAt = dbTime(time.Now())

	items, err := json.Marshal(f.Items)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	err = tx.QueryRowContext(ctx, s.rebind(`INSERT INTO filings (title, batch_id, department, items, period_from, period_to,
			unit, handler, phone, completed_at, due_date, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		f.Title, sql.NullString{String: f.BatchID, Valid: f.BatchID != ""}, f.Department, string(items), f.From, f.To,
		f.Unit, f.Handler, f.Phone, f.CompletedAt, dueText(f.DueDate), f.State, f.CreatedAt,
	).Scan(&f.ID)
	if err != nil {
		return shixincheck.Filing{}, err
	}
	if err := s.addChecks(ctx, tx, f.ID, checks); err != nil {
		return shixincheck.Filing{}, err
	}
	return f, nil
}

// addChecks puts checks into a filing.
func (s *Store) addChecks(ctx context.Context, tx *sql.Tx, filingID int64, checks []toFile) error {
	stmt, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO filing_checks (check_id, filing_id) VALUES (?, ?)
		ON CONFLICT (check_id) DO NOTHING`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, c := range checks {
		res, err := stmt.ExecContext(ctx, c.id, filingID)
		if err != nil {
			return fmt.Errorf("check %d: %w", c.id, err)
		}
		// Another filing took the check since it was picked (PostgreSQL
		// nodes filing at once): the schema keeps it in that one only.
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("check %d: %w", c.id, errors.Join(ErrAlreadyFiled, err))
		}
	}
	return nil
}

// dueText is a due date as stored: the Beijing date, NULL when unknown.
func dueText(d *time.Time) sql.NullString {
	if d == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: d.In(beijing).Format(dueLayout), Valid: true}
}

// dueDate asks the calendar when checks made at checked are due, as the
// Beijing date at 00:00. An error (a year the calendar does not know)
// leaves the due date unknown: the filing is kept all the same.
func dueDate(due func(time.Time) (*time.Time, error), checked time.Time) *time.Time {
	if due == nil {
		return nil
	}
	d, err := due(checked)
	if err != nil || d == nil {
		return nil
	}
	y, m, day := d.In(beijing).Date()
	out := time.Date(y, m, day, 0, 0, 0, 0, beijing)
	return &out
}

// RefreshDueDates works out again the due date of every prepared filing from
// its first check, with due as the calendar is now: a year entered in the
// rules file since, or a corrected day, moves it. Submitted filings keep
// theirs. It returns how many due dates changed.
func (s *Store) RefreshDueDates(ctx context.Context, due func(checked time.Time) (*time.Time, error)) (int, error) {
	type prepared struct {
		due   sql.NullString
		first time.Time
	}
	filings := map[int64]*prepared{}
	var order []int64
	err := scanAll(ctx, s.db, s.rebind(`SELECT f.id, f.due_date, k.queried_at FROM filings f
		JOIN filing_checks fc ON fc.filing_id = f.id
		JOIN checks k ON k.id = fc.check_id
		WHERE f.state = ? ORDER BY f.id`), []any{shixincheck.FilingPrepared}, func(sc scanner) error {
		var id int64
		var p prepared
		if err := sc.Scan(&id, &p.due, &p.first); err != nil {
			return err
		}
		if have, ok := filings[id]; !ok {
			filings[id] = &p
			order = append(order, id)
		} else if p.first.Before(have.first) {
			have.first = p.first
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ledger: refresh due dates: %w", err)
	}
	changed := 0
	for _, id := range order {
		p := filings[id]
		now := dueText(dueDate(due, dbTime(p.first)))
		if now == p.due {
			continue
		}
		res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE filings SET due_date = ? WHERE id = ? AND state = ?`),
			now, id, shixincheck.FilingPrepared)
		if err != nil {
			return changed, fmt.Errorf("ledger: refresh due dates: filing %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			changed++
		}
	}
	return changed, nil
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

// filingRows selects the rows of the filing given as its one argument, by
// batch (oldest first) and row.
const filingRows = `SELECT ` + rowCols + rowFrom + `
	JOIN filing_checks fc ON fc.check_id = k.id
	WHERE fc.filing_id = ?
	ORDER BY batches.created_at, batches.id, candidates.row_no, k.id`

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
	out, err := s.queryRows(ctx, s.db, filingRows, id)
	if err != nil {
		return nil, fmt.Errorf("ledger: filing rows: %w", err)
	}
	return out, nil
}

// Submission is a filing handed in to the credit office.
type Submission struct {
	At      time.Time // the day it was handed in; zero means now
	By      string    // who handed it in
	Receipt string    // the credit office's receipt number, if it gave one
	Records bool      // the workbook handed in had the sheet of records behind each hit
}

// MarkSubmitted records that a prepared filing was handed in, and keeps the
// workbook that was. workbook writes it from the filing's rows (as
// FilingRows) inside the same transaction, the filing locked: the kept
// workbook holds exactly the checks the filing holds, even while the daemon
// brings the filing up to date with a retried check. A filing is submitted
// once: a second call fails with ErrAlreadySubmitted and changes nothing, so
// the kept workbook is the one submitted, for good.
func (s *Store) MarkSubmitted(ctx context.Context, id int64, sub Submission, workbook func(rows []Row) ([]byte, error)) error {
	if strings.TrimSpace(sub.By) == "" {
		return errors.New("ledger: mark submitted: who submitted is required")
	}
	if sub.At.IsZero() {
		sub.At = time.Now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings
		SET state = ?, submitted_at = ?, submitted_by = ?, receipt = ?, submitted_records = ?
		WHERE id = ? AND state = ?`),
		shixincheck.FilingSubmitted, dbTime(sub.At), sub.By, sub.Receipt, sub.Records, id, shixincheck.FilingPrepared)
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	if n != 1 {
		tx.Rollback()
		if _, err := s.Filing(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("ledger: mark submitted: filing %d: %w", id, ErrAlreadySubmitted)
	}
	rows, err := s.queryRows(ctx, tx, filingRows, id)
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	data, err := workbook(rows)
	if err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	if len(data) == 0 {
		return errors.New("ledger: mark submitted: the submitted workbook is required")
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings SET workbook = ? WHERE id = ?`), s.keys.Seal(data), id); err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: mark submitted: %w", err)
	}
	return nil
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
