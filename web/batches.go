package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
)

// listedBatches is how many of the newest batches the list pages consider.
const listedBatches = 500

// batchFilter selects batches in the list: state, item, uploaded from/to (dates, to inclusive).
type batchFilter struct {
	State, Item string
	From, To    time.Time
}

func parseBatchFilter(q url.Values) (batchFilter, error) {
	f := batchFilter{State: q.Get("state"), Item: q.Get("item")}
	if f.State != "" && stateText[f.State] == "" {
		return f, fmt.Errorf("未知的状态：%s", f.State)
	}
	for _, d := range []struct {
		key  string
		dst  *time.Time
		days int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, shanghai)
			if err != nil {
				return f, fmt.Errorf("日期格式应为 2026-11-30：%s", v)
			}
			*d.dst = t.AddDate(0, 0, d.days)
		}
	}
	return f, nil
}

// batches lists the newest batches that pass the filter, with their state.
func (s *Server) batches(ctx context.Context, f batchFilter) ([]batchView, error) {
	all, err := s.Ledger.Batches(ctx, listedBatches)
	if err != nil {
		return nil, fmt.Errorf("web: batches: %w", err)
	}
	var out []batchView
	backlog := s.backlog(ctx) // one for the whole list: captchas are not tied to a batch
	for _, b := range all {
		if (f.Item != "" && b.Item != f.Item) || (!f.From.IsZero() && b.CreatedAt.Before(f.From)) || (!f.To.IsZero() && !b.CreatedAt.Before(f.To)) {
			continue
		}
		p, err := s.Ledger.Progress(ctx, b.ID)
		if err != nil {
			return nil, fmt.Errorf("web: batches: %w", err)
		}
		v := summary(b, p, backlog)
		if f.State == "" || v.State == f.State {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Server) handleBatchesAPI(w http.ResponseWriter, r *http.Request) {
	f, err := parseBatchFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	bs, err := s.batches(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": bs})
}

// A clerk steers a batch: pause, resume, cancel, retry the failed ones.
// Each answers the batch's new view (API) or goes back to its page (form).

func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, id string) error {
		_, err := s.Ledger.SetControl(ctx, id, shixincheck.ControlPaused)
		return err
	})
}

func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, id string) error {
		queued, err := s.Ledger.SetControl(ctx, id, shixincheck.ControlActive)
		s.Tasks.Wake(candidateIDs(queued))
		return err
	})
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, id string) error {
		dropped, err := s.Ledger.Cancel(ctx, id)
		s.Tasks.Drop(candidateIDs(dropped))
		return err
	})
}

func (s *Server) handleRetryFailed(w http.ResponseWriter, r *http.Request) {
	s.control(w, r, func(ctx context.Context, id string) error {
		b, err := s.Ledger.Batch(ctx, id)
		if err != nil {
			return err
		}
		if b.Control == shixincheck.ControlCancelled {
			return ledger.ErrBatchCancelled
		}
		again, err := s.Ledger.ResetFailed(ctx, id)
		if err != nil {
			return err
		}
		return s.Tasks.Enqueue(ctx, candidateIDs(again))
	})
}

func (s *Server) control(w http.ResponseWriter, r *http.Request, act func(ctx context.Context, id string) error) {
	id := r.PathValue("id")
	if err := act(r.Context(), id); err != nil {
		if errors.Is(err, ledger.ErrBatchCancelled) {
			s.writeError(w, r, http.StatusConflict, "批次已取消，不能再暂停、继续或重试")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.Log.Info("batch steered", "batch", id, "action", r.Pattern)
	s.auditAfter(r, shixincheck.AuditBatchControl, "batch "+id, path.Base(r.URL.Path))
	if !wantsJSON(r) {
		http.Redirect(w, r, "/batches/"+id, http.StatusSeeOther)
		return
	}
	v, _, err := s.loadBatch(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func candidateIDs(cs []shixincheck.Candidate) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
