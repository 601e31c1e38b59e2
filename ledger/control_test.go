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
	if again, err := s.Cancel(ctx, "b1"); !errors.Is(err, ErrBatchCancelled) || len(again) != 0 {
		t.Errorf("cancel a cancelled batch: %v, %d dropped; want ErrBatchCancelled", err, len(again))
	}
	if _, err := s.Cancel(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel an unknown batch: %v, want ErrNotFound", err)
	}
	if _, err := s.Batch(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancelling an unknown batch made one: %v", err)
	}
	// A late task of a cancelled candidate records nothing.
	if _, saved, err := s.SaveCheck(ctx, simpleCheck(dropped[0].ID, shixincheck.OutcomeClear, 0)); saved || err != nil {
		t.Errorf("check saved for a cancelled candidate: %v, %v", saved, err)
	}
}

func TestEvidenceFiles(t *testing.T) { onBoth(t, testEvidenceFiles) }

func testEvidenceFiles(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	cands := mustCreate(t, s, testBatch("b1", time.Now()), people(1))
	check := simpleCheck(cands[0].ID, shixincheck.OutcomeListed, 1)
	check.Files = []shixincheck.EvidenceFile{
		{Name: "list-1.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.7 list")},
		{Name: "detail-01.png", MIME: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}},
	}
	id, _, err := s.SaveCheck(ctx, check)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.EvidenceFiles(ctx, id)
	if err != nil || len(list) != 2 || list[0].Name != "detail-01.png" || list[0].Data != nil || list[1].MIME != "application/pdf" {
		t.Fatalf("EvidenceFiles = %+v, %v", list, err)
	}
	f, err := s.EvidenceFile(ctx, id, "detail-01.png")
	if err != nil || string(f.Data) != string(check.Files[1].Data) || f.MIME != "image/png" {
		t.Errorf("EvidenceFile = %+v, %v", f, err)
	}
	if _, err := s.EvidenceFile(ctx, id, "nope.pdf"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}
