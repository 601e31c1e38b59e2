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

// FromText and ToText are the filter's dates as the form's date inputs take
// them ("" for none), so the list page keeps what the clerk chose.
func (f batchFilter) FromText() string { return dateText(f.From, 0) }
func (f batchFilter) ToText() string   { return dateText(f.To, -1) }

func dateText(t time.Time, days int) string {
	if t.IsZero() {
		return ""
	}
	return t.AddDate(0, 0, days).In(shanghai).Format("2006-01-02")
}

// batches lists the newest batches that pass the filter, with their state.
func (s *Server) batches(ctx context.Context, f batchFilter) ([]batchView, error) {
	all, err := s.Ledger.Batches(ctx, listedBatches)
	if err != nil {
		return nil, fmt.Errorf("web: batches: %w", err)
	}
	if it, ok := s.Rules.Lookup(f.Item); ok {
		f.Item = it.Name // batches store the official name; an item no longer configured is matched as written
	}
	var (
		picked   []shixincheck.Batch
		progress []ledger.Progress
		ids      []string
	)
	for _, b := range all {
		if (f.Item != "" && b.Item != f.Item) || (!f.From.IsZero() && b.CreatedAt.Before(f.From)) || (!f.To.IsZero() && !b.CreatedAt.Before(f.To)) {
			continue
		}
		p, err := s.Ledger.Progress(ctx, b.ID)
		if err != nil {
			return nil, fmt.Errorf("web: batches: %w", err)
		}
		picked, progress, ids = append(picked, b), append(progress, p), append(ids, b.ID)
	}
	backlog, waiting := s.captchaCounts(ctx, ids...)
	var out []batchView
	for i, b := range picked {
		v := summary(b, progress[i], backlog, waiting[b.ID])
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
			s.writeError(w, r, http.StatusConflict, "批次已经取消，不能再暂停、继续、取消或重试")
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
