package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

// latestCheck joins each candidate that is done with the check that counts
// for it: its latest (a failed check that was retried stays as history). The
// one placeholder is StateDone.
const latestCheck = `LEFT JOIN checks k ON candidates.state = ?
	AND k.id = (SELECT MAX(l.id) FROM checks l WHERE l.candidate_id = candidates.id)`

// SaveCheck records a finished check and marks its candidate done, in one
// transaction. If the candidate is already done (a duplicate delivery of the
// same task), it writes nothing and returns the ID of the check that counts,
// with saved=false; likewise for a candidate whose batch was cancelled. An
// unknown candidate is ErrNotFound.
func (s *Store) SaveCheck(ctx context.Context, c shixincheck.Check) (id int64, saved bool, err error) {
	switch c.Outcome {
	case shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeReview, shixincheck.OutcomeFailed:
	default:
		return 0, false, fmt.Errorf("ledger: save check: unknown outcome %q", c.Outcome)
	}
	records, err := json.Marshal(c.Records)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: save check: records: %w", err)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: save check: %w", err)
	}
	defer tx.Rollback()

	// Claiming the candidate first makes a concurrent duplicate wait, then find it done.
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE candidates SET state = ? WHERE id = ? AND state = ?`),
		shixincheck.StateDone, c.CandidateID, shixincheck.StateQueued)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: save check: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("ledger: save check: %w", err)
	}
	if n == 0 {
		var existing sql.NullInt64
		var state shixincheck.CandidateState
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT (SELECT MAX(l.id) FROM checks l WHERE l.candidate_id = candidates.id), state
			FROM candidates WHERE id = ?`), c.CandidateID).Scan(&existing, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, ErrNotFound
		}
		if err != nil {
			return 0, false, fmt.Errorf("ledger: save check: existing: %w", err)
		}
		if state == shixincheck.StateCancelled { // its batch was cancelled meanwhile: nothing to record
			return existing.Int64, false, nil
		}
		if !existing.Valid {
			return 0, false, fmt.Errorf("ledger: save check: candidate %d is done but has no check", c.CandidateID)
		}
		return existing.Int64, false, nil
	}

	err = tx.QueryRowContext(ctx, s.rebind(`INSERT INTO checks (candidate_id, queried_at, channel, site, outcome, hit_count,
			records, measure, rule_version, stage, departments, evidence, error_kind, captchas, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		c.CandidateID, dbTime(c.QueriedAt), c.Channel, c.Site, c.Outcome, c.HitCount,
		s.keys.SealString(string(records)), c.Measure, c.RuleVersion, c.Stage, c.Departments,
		s.sealBytes(c.Evidence), c.ErrorKind, c.Captchas, dbTime(time.Now()),
	).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("ledger: save check: %w", err)
	}
	for _, f := range c.Files {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO evidence_files (check_id, name, mime, data) VALUES (?, ?, ?, ?)`),
			id, f.Name, f.MIME, s.keys.Seal(f.Data)); err != nil {
			return 0, false, fmt.Errorf("ledger: save check: evidence file: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("ledger: save check: %w", err)
	}
	return id, true, nil
}

// Entry is a candidate with the check that counts for it.
type Entry struct {
	Candidate shixincheck.Candidate
	Check     *shixincheck.Check // nil while not checked
}

// Entries returns every candidate of the batch, by row, with its check.
// Records are decoded; Evidence is not loaded (see Evidence) to keep it light.
func (s *Store) Entries(ctx context.Context, batchID string) ([]Entry, error) {
	if err := s.requireBatch(ctx, batchID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+candidateCols+`,
			k.id, k.queried_at, k.channel, k.site, k.outcome, k.hit_count, k.records,
			k.measure, k.rule_version, k.stage, k.departments, k.error_kind, k.captchas
		FROM candidates `+latestCheck+`
		WHERE candidates.batch_id = ? ORDER BY candidates.row_no`),
		shixincheck.StateDone, batchID)
	if err != nil {
		return nil, fmt.Errorf("ledger: entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			id, hits, captchas                                                       sql.NullInt64
			queried                                                                  sql.NullTime
			channel, site, outcome, records, measure, version, stage, depts, errKind sql.NullString
		)
		cand, err := s.scanCandidate(rows, &id, &queried, &channel, &site, &outcome, &hits, &records,
			&measure, &version, &stage, &depts, &errKind, &captchas)
		if err != nil {
			return nil, fmt.Errorf("ledger: entries: %w", err)
		}
		e := Entry{Candidate: cand}
		if id.Valid {
			c := &shixincheck.Check{
				ID:          id.Int64,
				CandidateID: cand.ID,
				QueriedAt:   queried.Time.UTC(),
				Channel:     channel.String,
				Site:        site.String,
				Outcome:     shixincheck.Outcome(outcome.String),
				HitCount:    int(hits.Int64),
				Measure:     measure.String,
				RuleVersion: version.String,
				Stage:       stage.String,
				Departments: depts.String,
				ErrorKind:   shixincheck.ErrorKind(errKind.String),
				Captchas:    int(captchas.Int64),
			}
			if c.Records, err = s.openRecords(records.String); err != nil {
				return nil, fmt.Errorf("ledger: entries: check %d: %w", c.ID, err)
			}
			e.Check = c
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: entries: %w", err)
	}
	return out, nil
}

// EvidenceFiles lists a check's evidence files, without their data.
func (s *Store) EvidenceFiles(ctx context.Context, checkID int64) ([]shixincheck.EvidenceFile, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT name, mime FROM evidence_files WHERE check_id = ? ORDER BY name`), checkID)
	if err != nil {
		return nil, fmt.Errorf("ledger: evidence files: %w", err)
	}
	defer rows.Close()
	var out []shixincheck.EvidenceFile
	for rows.Next() {
		var f shixincheck.EvidenceFile
		if err := rows.Scan(&f.Name, &f.MIME); err != nil {
			return nil, fmt.Errorf("ledger: evidence files: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// EvidenceFile returns one evidence file of a check, with its data.
func (s *Store) EvidenceFile(ctx context.Context, checkID int64, name string) (shixincheck.EvidenceFile, error) {
	f := shixincheck.EvidenceFile{Name: name}
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT mime, data FROM evidence_files WHERE check_id = ? AND name = ?`), checkID, name).Scan(&f.MIME, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("ledger: evidence file: %w", err)
	}
	if f.Data, err = s.keys.Open(f.Data); err != nil {
		return shixincheck.EvidenceFile{}, fmt.Errorf("ledger: evidence file of check %d: %w", checkID, err)
	}
	return f, nil
}

// Evidence returns the raw site answers kept with a check (nil if none were
// kept, or retention purged them).
func (s *Store) Evidence(ctx context.Context, checkID int64) ([]byte, error) {
	var ev []byte
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT evidence FROM checks WHERE id = ?`), checkID).Scan(&ev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: evidence: %w", err)
	}
	if ev, err = s.openBytes(ev); err != nil {
		return nil, fmt.Errorf("ledger: evidence of check %d: %w", checkID, err)
	}
	if len(ev) == 0 {
		return nil, nil
	}
	return ev, nil
}

// Progress counts a batch's candidates: Done is those with a check; Listed,
// Clear, Review and Failed split Done by outcome; Hits sums their HitCount.
type Progress struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	Listed    int `json:"listed"`
	Clear     int `json:"clear"`
	Review    int `json:"review"`
	Failed    int `json:"failed"`
	Hits      int `json:"hits"`      // records that are the candidates' own, summed
	Cancelled int `json:"cancelled"` // not checked: the batch was cancelled
	Captchas  int `json:"captchas"`  // verifications people did for the recorded checks
}

// Progress returns the counts of a batch.
func (s *Store) Progress(ctx context.Context, batchID string) (Progress, error) {
	if err := s.requireBatch(ctx, batchID); err != nil {
		return Progress{}, err
	}
	var p Progress
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN k.id IS NOT NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN k.outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN k.outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN k.outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN k.outcome = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(k.hit_count), 0),
			COALESCE(SUM(CASE WHEN candidates.state = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(k.captchas), 0)
		FROM candidates `+latestCheck+`
		WHERE candidates.batch_id = ?`),
		shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeReview, shixincheck.OutcomeFailed,
		shixincheck.StateCancelled, shixincheck.StateDone, batchID,
	).Scan(&p.Total, &p.Done, &p.Listed, &p.Clear, &p.Review, &p.Failed, &p.Hits, &p.Cancelled, &p.Captchas)
	if err != nil {
		return Progress{}, fmt.Errorf("ledger: progress: %w", err)
	}
	return p, nil
}

// ResetFailed puts back to queued the batch's candidates whose check failed,
// and returns them by row. Their failed checks stay in the ledger as history;
// the next SaveCheck supersedes them. A purged batch has no one left to
// check again (its names and ID numbers are masked): none is reset.
func (s *Store) ResetFailed(ctx context.Context, batchID string) ([]shixincheck.Candidate, error) {
	if err := s.requireBatch(ctx, batchID); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: reset failed: %w", err)
	}
	defer tx.Rollback()
	if err := s.lockRetention(ctx, tx); err != nil {
		return nil, fmt.Errorf("ledger: reset failed: %w", err)
	}
	// One statement, so two concurrent calls cannot both reset (and re-enqueue) a candidate.
	out, err := s.queryCandidates(ctx, tx, `UPDATE candidates SET state = ?
		WHERE batch_id = ? AND state = ?
		AND (SELECT k.outcome FROM checks k
			WHERE k.id = (SELECT MAX(l.id) FROM checks l WHERE l.candidate_id = candidates.id)) = ?
		AND EXISTS (SELECT 1 FROM batches b WHERE b.id = candidates.batch_id AND b.purged_at IS NULL)
		RETURNING `+candidateCols,
		shixincheck.StateQueued, batchID, shixincheck.StateDone, shixincheck.OutcomeFailed)
	if err != nil {
		return nil, fmt.Errorf("ledger: reset failed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ledger: reset failed: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out, nil
}
