package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// ErrPurged is returned for data that retention deleted (a submitted
// workbook). It is also ErrNotFound: errors.Is(err, ErrNotFound) holds.
var ErrPurged error = purgedError{}

type purgedError struct{}

func (purgedError) Error() string        { return "ledger: deleted by retention" }
func (purgedError) Is(target error) bool { return target == ErrNotFound }

// PurgeReport says what Purge removed, or in a dry run would remove.
type PurgeReport struct {
	Batches   []PurgedBatch // oldest first
	HeldBack  []HeldBatch   // finished before the cutoff, yet kept
	Workbooks []int64       // filings whose submitted workbook was deleted
}

// PurgedBatch is a batch whose personal data and evidence a purge removed.
type PurgedBatch struct {
	ID            string
	FinishedAt    time.Time // its last check; its creation when it has none
	Candidates    int       // names and ID numbers masked
	Checks        int       // records' names masked, raw answers deleted
	EvidenceFiles int       // deleted
	EvidenceBytes int64     // bytes stored for the evidence files and raw answers deleted
}

// HeldBatch is a batch a purge had to keep, and why.
type HeldBatch struct {
	ID     string
	Reason string
}

// lockRetention serialises, on PostgreSQL, a purge with what it must not
// overlap: creating a filing (it needs full IDs) and re-queueing failed
// candidates (they are searched again by name and ID). SQLite's write
// transactions are serialised already.
func (s *Store) lockRetention(ctx context.Context, tx *sql.Tx) error {
	if !s.postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7315500190217022)`); err != nil {
		return fmt.Errorf("retention lock: %w", err)
	}
	return nil
}

// Purge applies retention to the batches finished before finishedBefore: it
// keeps the masked record and the decision, and removes the rest of their
// personal data and evidence. A batch is purged when
//   - it is not purged yet,
//   - none of its candidates is queued (all are done or cancelled),
//   - its last check was made before finishedBefore (a batch without any
//     check: created before), and
//   - every check that counts is in a filing, and every filing holding one
//     of its checks is submitted (until then the credit office still needs
//     the full names and ID numbers).
//
// Batches old enough but not meeting the last two are reported held back.
// Purging a batch, in one transaction: each candidate's name and ID number
// become shixincheck.MaskName and MaskID of themselves (still sealed, so
// every read works and shows the masked values); its lookup hashes are
// cleared, so the person is no longer found by name or ID number (Query,
// History); the names in each check's records are masked (the site's masked
// card numbers and the rest of the record stay, with the outcome and
// measure); raw answers are deleted (Evidence returns nil) and evidence
// files deleted; batches.purged_at is set. A filing's submitted workbook is
// deleted once every batch with checks in it is purged (SubmittedWorkbook
// then returns ErrPurged). Checks of a purged batch are no longer filed, and
// its failed candidates no longer re-queued.
//
// With dryRun nothing is written and the report is the one a purge at this
// moment would give.
func (s *Store) Purge(ctx context.Context, finishedBefore time.Time, dryRun bool) (PurgeReport, error) {
	cutoff := dbTime(finishedBefore)
	var ids []string
	err := scanAll(ctx, s.db, s.rebind(`SELECT b.id FROM batches b WHERE b.purged_at IS NULL
		AND COALESCE((SELECT MAX(k.queried_at) FROM checks k JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = b.id), b.created_at) < ?
		ORDER BY b.created_at, b.id`), []any{cutoff}, func(sc scanner) error {
		var id string
		if err := sc.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return PurgeReport{}, fmt.Errorf("ledger: purge: %w", err)
	}
	var rep PurgeReport
	purged := map[string]bool{} // in this run: a dry run counts them for the workbooks too
	for _, id := range ids {
		var p purgePlan
		if dryRun {
			p, err = s.planPurge(ctx, s.db, id, cutoff, purged)
		} else {
			p, err = s.purgeBatch(ctx, id, cutoff, purged)
		}
		if err != nil {
			return rep, fmt.Errorf("ledger: purge: batch %s: %w", id, err)
		}
		switch {
		case p.skip:
		case p.held != "":
			rep.HeldBack = append(rep.HeldBack, HeldBatch{ID: id, Reason: p.held})
		default:
			purged[id] = true
			rep.Batches = append(rep.Batches, p.batch)
			rep.Workbooks = append(rep.Workbooks, p.workbooks...)
		}
	}
	return rep, nil
}

// purgePlan is what purging one batch does.
type purgePlan struct {
	skip      bool   // purged meanwhile, or no longer finished before the cutoff
	held      string // why it is kept
	batch     PurgedBatch
	workbooks []int64 // filings whose workbook goes with it
}

// planPurge works out, reading through q, what purging batch id would do.
// purged are the batches purged earlier in the same run.
func (s *Store) planPurge(ctx context.Context, q querier, id string, cutoff time.Time, purged map[string]bool) (purgePlan, error) {
	p := purgePlan{batch: PurgedBatch{ID: id}}
	var created time.Time
	var done sql.NullTime
	err := q.QueryRowContext(ctx, s.rebind(`SELECT created_at, purged_at FROM batches WHERE id = ?`), id).Scan(&created, &done)
	if errors.Is(err, sql.ErrNoRows) || done.Valid {
		p.skip = true
		return p, nil
	}
	if err != nil {
		return p, err
	}
	p.batch.FinishedAt = created.UTC()
	var last time.Time
	err = q.QueryRowContext(ctx, s.rebind(`SELECT k.queried_at FROM checks k JOIN candidates c ON c.id = k.candidate_id
		WHERE c.batch_id = ? ORDER BY k.queried_at DESC LIMIT 1`), id).Scan(&last)
	switch {
	case err == nil:
		p.batch.FinishedAt = last.UTC()
	case !errors.Is(err, sql.ErrNoRows):
		return p, err
	}
	if !p.batch.FinishedAt.Before(cutoff) {
		p.skip = true
		return p, nil
	}

	var queued int
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM candidates WHERE batch_id = ? AND state = ?`),
		id, shixincheck.StateQueued).Scan(&queued); err != nil {
		return p, err
	}
	if queued > 0 {
		p.held = fmt.Sprintf("candidates still queued: %d", queued)
		return p, nil
	}
	var prepared []string
	err = scanAll(ctx, q, s.rebind(`SELECT DISTINCT f.id FROM filings f
		JOIN filing_checks fc ON fc.filing_id = f.id
		JOIN checks k ON k.id = fc.check_id
		JOIN candidates c ON c.id = k.candidate_id
		WHERE c.batch_id = ? AND f.state <> ? ORDER BY f.id`), []any{id, shixincheck.FilingSubmitted}, func(sc scanner) error {
		var f int64
		if err := sc.Scan(&f); err != nil {
			return err
		}
		prepared = append(prepared, strconv.FormatInt(f, 10))
		return nil
	})
	if err != nil {
		return p, err
	}
	if len(prepared) > 0 {
		p.held = "in a filing not submitted yet (filing " + strings.Join(prepared, ", ") + "): it needs the full names and ID numbers"
		return p, nil
	}
	// A check that counts and is in no filing yet (an office filing by period
	// files it later) still has to reach the credit office in full.
	var unfiled int
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*)`+rowFrom+` WHERE `+isLatest+` AND candidates.batch_id = ?
			AND NOT EXISTS (SELECT 1 FROM filing_checks fc WHERE fc.check_id = k.id)`),
		shixincheck.StateDone, id).Scan(&unfiled); err != nil {
		return p, err
	}
	if unfiled > 0 {
		p.held = fmt.Sprintf("checks not filed yet: %d: they need the full names and ID numbers", unfiled)
		return p, nil
	}

	b := &p.batch
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM candidates WHERE batch_id = ?`), id).Scan(&b.Candidates); err != nil {
		return p, err
	}
	var rawBytes int64
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*), COALESCE(SUM(LENGTH(k.evidence)), 0)
		FROM checks k JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = ?`), id).Scan(&b.Checks, &rawBytes); err != nil {
		return p, err
	}
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*), COALESCE(SUM(LENGTH(e.data)), 0) FROM evidence_files e
		JOIN checks k ON k.id = e.check_id JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = ?`), id).Scan(&b.EvidenceFiles, &b.EvidenceBytes); err != nil {
		return p, err
	}
	b.EvidenceBytes += rawBytes

	// The workbooks of its filings, unless a batch not purged has checks there too.
	var filings []int64
	err = scanAll(ctx, q, s.rebind(`SELECT DISTINCT f.id FROM filings f
		JOIN filing_checks fc ON fc.filing_id = f.id
		JOIN checks k ON k.id = fc.check_id
		JOIN candidates c ON c.id = k.candidate_id
		WHERE c.batch_id = ? AND f.workbook IS NOT NULL ORDER BY f.id`), []any{id}, func(sc scanner) error {
		var f int64
		if err := sc.Scan(&f); err != nil {
			return err
		}
		filings = append(filings, f)
		return nil
	})
	if err != nil {
		return p, err
	}
	for _, f := range filings {
		keep := false
		err := scanAll(ctx, q, s.rebind(`SELECT DISTINCT c.batch_id FROM filing_checks fc
			JOIN checks k ON k.id = fc.check_id
			JOIN candidates c ON c.id = k.candidate_id
			JOIN batches b ON b.id = c.batch_id
			WHERE fc.filing_id = ? AND b.purged_at IS NULL`), []any{f}, func(sc scanner) error {
			var other string
			if err := sc.Scan(&other); err != nil {
				return err
			}
			if other != id && !purged[other] {
				keep = true
			}
			return nil
		})
		if err != nil {
			return p, err
		}
		if !keep {
			p.workbooks = append(p.workbooks, f)
		}
	}
	return p, nil
}

// purgeBatch plans and purges one batch in a transaction.
func (s *Store) purgeBatch(ctx context.Context, id string, cutoff time.Time, purged map[string]bool) (purgePlan, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return purgePlan{}, err
	}
	defer tx.Rollback()
	if err := s.lockRetention(ctx, tx); err != nil {
		return purgePlan{}, err
	}
	p, err := s.planPurge(ctx, tx, id, cutoff, purged)
	if err != nil || p.skip || p.held != "" {
		return p, err
	}

	type person struct {
		id             int64
		name, idNumber string
	}
	var people []person
	err = scanAll(ctx, tx, s.rebind(`SELECT id, name, id_number FROM candidates WHERE batch_id = ?`), []any{id}, func(sc scanner) error {
		var c person
		if err := sc.Scan(&c.id, &c.name, &c.idNumber); err != nil {
			return err
		}
		people = append(people, c)
		return nil
	})
	if err != nil {
		return p, err
	}
	for _, c := range people {
		name, err := s.plainText(c.name)
		if err != nil {
			return p, fmt.Errorf("candidate %d: name: %w", c.id, err)
		}
		idNumber, err := s.plainText(c.idNumber)
		if err != nil {
			return p, fmt.Errorf("candidate %d: ID number: %w", c.id, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE candidates SET name = ?, id_number = ?, name_lookup = '', id_lookup = '' WHERE id = ?`),
			s.keys.SealString(shixincheck.MaskName(name)), s.keys.SealString(shixincheck.MaskID(idNumber)), c.id); err != nil {
			return p, fmt.Errorf("candidate %d: %w", c.id, err)
		}
	}

	type check struct {
		id      int64
		records string
	}
	var checks []check
	err = scanAll(ctx, tx, s.rebind(`SELECT k.id, k.records FROM checks k JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = ?`),
		[]any{id}, func(sc scanner) error {
			var k check
			if err := sc.Scan(&k.id, &k.records); err != nil {
				return err
			}
			checks = append(checks, k)
			return nil
		})
	if err != nil {
		return p, err
	}
	for _, k := range checks {
		plain, err := s.plainText(k.records)
		if err != nil {
			return p, fmt.Errorf("check %d: records: %w", k.id, err)
		}
		var records []shixincheck.Record
		if err := json.Unmarshal([]byte(plain), &records); err != nil {
			return p, fmt.Errorf("check %d: records: %w", k.id, err)
		}
		for i := range records {
			records[i].Name = shixincheck.MaskName(records[i].Name)
		}
		masked, err := json.Marshal(records)
		if err != nil {
			return p, fmt.Errorf("check %d: records: %w", k.id, err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE checks SET records = ?, evidence = NULL WHERE id = ?`),
			s.keys.SealString(string(masked)), k.id); err != nil {
			return p, fmt.Errorf("check %d: %w", k.id, err)
		}
	}

	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM evidence_files WHERE check_id IN
		(SELECT k.id FROM checks k JOIN candidates c ON c.id = k.candidate_id WHERE c.batch_id = ?)`), id); err != nil {
		return p, fmt.Errorf("evidence files: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE batches SET purged_at = ? WHERE id = ?`), dbTime(time.Now()), id); err != nil {
		return p, err
	}
	for _, f := range p.workbooks {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings SET workbook = NULL WHERE id = ?`), f); err != nil {
			return p, fmt.Errorf("filing %d: %w", f, err)
		}
	}
	return p, tx.Commit()
}
