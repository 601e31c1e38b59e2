// Package jobs turns candidates into asynq tasks and runs them: one task per
// candidate, with a stable task id, so a re-upload, a restart or a retry never
// checks a person twice.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/rules"
)

// TypeCheck is the task type of one candidate's check.
const TypeCheck = "candidate:check"

// CheckPayload is the task's payload: an id only, never personal data, since
// payloads sit in Redis and show in asynq's tools.
type CheckPayload struct {
	CandidateID int64 `json:"candidate_id"`
}

// TaskID is the stable id of a candidate's check task.
func TaskID(candidateID int64) string { return fmt.Sprintf("check-%d", candidateID) }

// NewCheckTask builds the task for one candidate.
func NewCheckTask(candidateID int64, maxRetry int) (*asynq.Task, error) {
	payload, err := json.Marshal(CheckPayload{CandidateID: candidateID})
	if err != nil {
		return nil, fmt.Errorf("jobs: encode payload: %w", err)
	}
	return asynq.NewTask(TypeCheck, payload,
		asynq.TaskID(TaskID(candidateID)),
		asynq.MaxRetry(maxRetry),
		// A check may wait minutes for a person at the captcha; the scraper's own
		// step timeouts bound the site's part.
		asynq.Timeout(30*time.Minute),
	), nil
}

// Queue hands candidates' checks to asynq.
type Queue struct {
	Client    *asynq.Client
	Inspector *asynq.Inspector
	MaxRetry  int
}

// Enqueue queues a task per candidate. A task already in the queue (same id)
// is left as it is: that is the point of the stable id.
func (q *Queue) Enqueue(ctx context.Context, candidateIDs []int64) error {
	for _, id := range candidateIDs {
		task, err := NewCheckTask(id, q.MaxRetry)
		if err != nil {
			return err
		}
		if _, err := q.Client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("jobs: enqueue candidate %d: %w", id, err)
		}
	}
	return nil
}

// Wake runs the candidates' tasks now if they wait for a retry (a resumed
// batch's). Tasks not waiting are left alone.
func (q *Queue) Wake(candidateIDs []int64) {
	for _, id := range candidateIDs {
		q.Inspector.RunTask(queueName, TaskID(id))
	}
}

// Drop deletes the candidates' tasks that are not running (a cancelled
// batch's); a running one finds its candidate cancelled and records nothing.
func (q *Queue) Drop(candidateIDs []int64) {
	for _, id := range candidateIDs {
		q.Inspector.DeleteTask(queueName, TaskID(id))
	}
}

// queueName is asynq's queue of the check tasks.
const queueName = "default"

// ErrPaused is returned for a check whose batch a clerk paused: asynq holds
// the task and offers it again later (see RetryDelay); no retry is used up.
var ErrPaused = errors.New("jobs: batch paused")

// Store is what the handler needs of the ledger.
type Store interface {
	Batch(ctx context.Context, id string) (shixincheck.Batch, error)
	Candidate(ctx context.Context, id int64) (shixincheck.Candidate, error)
	SaveCheck(ctx context.Context, c shixincheck.Check) (int64, bool, error)
}

// Checker runs one search on the court site.
type Checker interface {
	Check(ctx context.Context, name, idNumber string) (shixincheck.SiteResult, error)
}

// Handler processes TypeCheck tasks.
type Handler struct {
	Store   Store
	Checker Checker
	Rules   *rules.Rules
	Log     *slog.Logger
	// Attempt and Recorded are metric hooks; either may be nil.
	Attempt  func(o shixincheck.Outcome, err error, d time.Duration)
	Recorded func(o shixincheck.Outcome)
	Now      func() time.Time
}

// ProcessTask checks one candidate and records the check. An error is returned
// for asynq to retry later; on the last attempt the failure itself is recorded,
// with no automatic measure, so a person sees it.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p CheckPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CandidateID == 0 {
		return fmt.Errorf("jobs: bad payload: %v: %w", err, asynq.SkipRetry)
	}
	log := h.Log.With("candidate", p.CandidateID)
	c, err := h.Store.Candidate(ctx, p.CandidateID)
	if err != nil {
		return fmt.Errorf("jobs: load candidate %d: %w", p.CandidateID, err)
	}
	if c.State != shixincheck.StateQueued {
		log.Info("candidate not queued; task dropped", "state", c.State)
		return nil
	}
	b, err := h.Store.Batch(ctx, c.BatchID)
	if err != nil {
		return fmt.Errorf("jobs: load batch: %w", err)
	}
	if b.Control == shixincheck.ControlPaused {
		return ErrPaused
	}

	start := h.now()
	res, err := h.Checker.Check(shixincheck.WithBatch(ctx, c.BatchID), c.Name, c.IDNumber)
	if h.Attempt != nil {
		h.Attempt(res.Outcome(), err, h.now().Sub(start))
	}
	if err != nil {
		if ctx.Err() != nil { // shutting down or out of time: asynq hands the task back
			log.Info("check interrupted; handed back to the queue", "kind", shixincheck.KindOf(err))
			return err
		}
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		log.Warn("check attempt failed", "kind", shixincheck.KindOf(err), "attempt", retried+1, "of", maxRetry+1, "err", err)
		if retried < maxRetry || !IsFailure(err) {
			return err
		}
		return h.record(ctx, log, c, shixincheck.Check{
			QueriedAt: h.now(),
			Site:      res.Site,
			Outcome:   shixincheck.OutcomeFailed,
			ErrorKind: shixincheck.KindOf(err),
			Evidence:  res.Evidence,
			Files:     res.Files,
		})
	}
	return h.record(ctx, log, c, shixincheck.Check{
		QueriedAt: res.QueriedAt,
		Site:      res.Site,
		Outcome:   res.Outcome(),
		HitCount:  res.Hits(),
		Records:   res.Records,
		Evidence:  res.Evidence,
		Files:     res.Files,
		Captchas:  res.Captchas,
	})
}

func (h *Handler) record(ctx context.Context, log *slog.Logger, c shixincheck.Candidate, check shixincheck.Check) error {
	measure, err := h.Rules.Measure(c.Item, check.Outcome)
	if err != nil {
		// The item was valid at upload; a rules change since must not lose the check.
		log.Error("no measure for item", "err", err)
		measure = shixincheck.NeedsPerson
	}
	check.CandidateID = c.ID
	check.Channel = shixincheck.Channel
	check.Measure = measure
	check.RuleVersion = h.Rules.Stamp()
	if it, ok := h.Rules.Lookup(c.Item); ok {
		check.Stage, check.Departments = it.Stage, it.Departments
	}
	if _, saved, err := h.Store.SaveCheck(ctx, check); err != nil {
		return fmt.Errorf("jobs: save check: %w", err)
	} else if !saved {
		log.Info("check already recorded by another worker")
		return nil
	}
	if h.Recorded != nil {
		h.Recorded(check.Outcome)
	}
	log.Info("check recorded", "outcome", check.Outcome, "hits", check.HitCount, "error_kind", check.ErrorKind)
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// PausedRecheck is how often a paused batch's tasks look again; resuming
// also wakes them at once (Wake).
const PausedRecheck = time.Minute

// IsFailure tells asynq which errors use up a retry: a paused batch or a
// captcha no person answered in time is nobody's failure, and the check waits
// for people however long they take.
func IsFailure(err error) bool {
	return !errors.Is(err, ErrPaused) && shixincheck.KindOf(err) != shixincheck.KindCaptchaUnanswered
}

// RetryDelay spaces retries by what went wrong: a block calls for a long
// cool-down (the site must never be hammered), a missing person for a short
// wait, anything else for an exponential back-off.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if errors.Is(err, ErrPaused) {
		return PausedRecheck
	}
	switch shixincheck.KindOf(err) {
	case shixincheck.KindBlocked:
		return time.Duration(5*(n+1)) * time.Minute
	case shixincheck.KindCaptchaUnanswered:
		return time.Minute
	case shixincheck.KindCaptchaRejected:
		return 30 * time.Second
	default:
		d := time.Duration(10<<min(n, 6)) * time.Second // 10 s, 20 s, ... at most ~10 min
		return d
	}
}
