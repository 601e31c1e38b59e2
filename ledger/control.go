package ledger

import (
	"context"
	"errors"
	"fmt"

	shixincheck "github.com/shixincheck/shixincheck"
)

// ErrBatchCancelled is returned when a cancelled batch is paused, resumed,
// retried or cancelled again.
var ErrBatchCancelled = errors.New("ledger: batch cancelled")

// SetControl pauses or resumes a batch (ControlPaused, ControlActive) and
// returns its candidates still queued. A cancelled batch stays cancelled.
func (s *Store) SetControl(ctx context.Context, batchID string, c shixincheck.BatchControl) ([]shixincheck.Candidate, error) {
	if c != shixincheck.ControlActive && c != shixincheck.ControlPaused {
		return nil, fmt.Errorf("ledger: set control %q: only active or paused", c)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE batches SET control = ? WHERE id = ? AND control <> ?`),
		c, batchID, shixincheck.ControlCancelled)
	if err != nil {
		return nil, fmt.Errorf("ledger: set control: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("ledger: set control: %w", err)
	} else if n == 0 {
		if err := s.requireBatch(ctx, batchID); err != nil {
			return nil, err
		}
		return nil, ErrBatchCancelled
	}
	return s.queryCandidates(ctx, s.db, `SELECT `+candidateCols+` FROM candidates
		WHERE candidates.batch_id = ? AND candidates.state = ? ORDER BY candidates.row_no`, batchID, shixincheck.StateQueued)
}

// Cancel cancels a batch: its candidates not yet checked are marked cancelled
// and returned (their tasks are to be dropped); the checks already recorded
// stay. An unknown batch is ErrNotFound, one already cancelled
// ErrBatchCancelled: either way nothing changes.
func (s *Store) Cancel(ctx context.Context, batchID string) ([]shixincheck.Candidate, error) {
	if err := s.requireBatch(ctx, batchID); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE batches SET control = ? WHERE id = ? AND control <> ?`),
		shixincheck.ControlCancelled, batchID, shixincheck.ControlCancelled)
	if err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	} else if n == 0 {
		return nil, ErrBatchCancelled
	}
	cands, err := s.queryCandidates(ctx, tx, `SELECT `+candidateCols+` FROM candidates
		WHERE candidates.batch_id = ? AND candidates.state = ? ORDER BY candidates.row_no`, batchID, shixincheck.StateQueued)
	if err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE candidates SET state = ? WHERE batch_id = ? AND state = ?`),
		shixincheck.StateCancelled, batchID, shixincheck.StateQueued); err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ledger: cancel: %w", err)
	}
	for i := range cands {
		cands[i].State = shixincheck.StateCancelled
	}
	return cands, nil
}
