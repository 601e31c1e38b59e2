package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
)

func TestControl(t *testing.T) { onBoth(t, testControl) }

func testControl(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(4))
	if b, _ := s.Batch(ctx, "b1"); b.Control != shixincheck.ControlActive {
		t.Fatalf("new batch control = %q, want active", b.Control)
	}
	if _, _, err := s.SaveCheck(ctx, simpleCheck(cands[0].ID, shixincheck.OutcomeClear, 0)); err != nil {
		t.Fatal(err)
	}

	queued, err := s.SetControl(ctx, "b1", shixincheck.ControlPaused)
	if err != nil || len(queued) != 3 || queued[0].Row != 2 {
		t.Fatalf("pause: %v, %d queued", err, len(queued))
	}
	if b, _ := s.Batch(ctx, "b1"); b.Control != shixincheck.ControlPaused {
		t.Errorf("control after pause = %q", b.Control)
	}
	if _, err := s.SetControl(ctx, "b1", shixincheck.ControlActive); err != nil {
		t.Fatal(err)
	}

	dropped, err := s.Cancel(ctx, "b1")
	if err != nil || len(dropped) != 3 || dropped[2].State != shixincheck.StateCancelled {
		t.Fatalf("cancel: %v, %+v", err, dropped)
	}
	p, _ := s.Progress(ctx, "b1")
	if p.Total != 4 || p.Done != 1 || p.Cancelled != 3 {
		t.Errorf("progress after cancel = %+v", p)
	}
	if un, _ := s.Unfinished(ctx); len(un) != 0 {
		t.Errorf("cancelled candidates still unfinished: %d", len(un))
	}
	if _, err := s.SetControl(ctx, "b1", shixincheck.ControlActive); !errors.Is(err, ErrBatchCancelled) {
		t.Errorf("resume a cancelled batch: %v, want ErrBatchCancelled", err)
	}
	if _, err := s.SetControl(ctx, "nope", shixincheck.ControlPaused); !errors.Is(err, ErrNotFound) {
		t.Errorf("pause an unknown batch: %v", err)
	}
	// A late task of a cancelled candidate records nothing.
	if _, saved, err := s.SaveCheck(ctx, simpleCheck(dropped[0].ID, shixincheck.OutcomeClear, 0)); saved || err != nil {
		t.Errorf("check saved for a cancelled candidate: %v, %v", saved, err)
	}
}
