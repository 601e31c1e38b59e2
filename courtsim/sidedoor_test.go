package courtsim

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func TestSideDoorOff(t *testing.T) {
	cfg := plainConfig()
	cfg.SideDoor = false
	s := newTestSite(t, cfg)
	id, _ := s.session()
	for _, path := range []string{"/__sim/captcha?captchaId=" + id, "/__sim/people?kind=listed&n=1"} {
		if a := s.get(path); a.Status != http.StatusNotFound {
			t.Errorf("%s with the side door off: %d", path, a.Status)
		}
	}
	if a := s.post("/__sim/fault?mode=busy", nil); a.Status != http.StatusNotFound {
		t.Errorf("fault with the side door off: %d", a.Status)
	}
}

func TestSideDoorOn(t *testing.T) {
	cfg := plainConfig()
	cfg.WAF = true // the side door is not behind the WAF
	s := newTestSite(t, cfg)

	// With the WAF on, get a page id straight from the store.
	id := s.sim.captchas.register()
	if a := s.get("/__sim/captcha?captchaId=" + id); a.Status != http.StatusNotFound {
		t.Errorf("captcha before any image: %d", a.Status)
	}
	code, _ := s.sim.captchas.issue(id)
	if a := s.get("/__sim/captcha?captchaId=" + id); a.Status != http.StatusOK || a.Body != code || a.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("captcha: %d %s %q, want %q", a.Status, a.ContentType, a.Body, code)
	}

	for _, kind := range []string{"listed", "namesake", "clean", "multipage"} {
		a := s.get("/__sim/people?kind=" + kind + "&n=3")
		var got []Person
		if err := json.Unmarshal([]byte(a.Body), &got); err != nil || a.Status != http.StatusOK {
			t.Fatalf("people %s: %d %v", kind, a.Status, err)
		}
		want, _ := s.sim.People(kind, 3)
		if !reflect.DeepEqual(got, want) || len(got) != 3 {
			t.Errorf("people %s: %v, want %v", kind, got, want)
		}
	}
	var raw []map[string]any
	json.Unmarshal([]byte(s.get("/__sim/people?kind=listed&n=1").Body), &raw)
	if _, ok := raw[0]["id_number"]; !ok || len(raw[0]) != 3 {
		t.Errorf("people JSON keys: %v", raw[0])
	}
	for _, bad := range []string{"/__sim/people?kind=nobody&n=1", "/__sim/people?kind=listed&n=x", "/__sim/people?kind=listed&n=0"} {
		if a := s.get(bad); a.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, a.Status)
		}
	}
	for _, bad := range []string{"mode=flood", "mode=busy&count=0", "mode=slow&delay=soon"} {
		if a := s.post("/__sim/fault?"+bad, nil); a.Status != http.StatusBadRequest {
			t.Errorf("fault %s: %d", bad, a.Status)
		}
	}
	if a := s.post("/__sim/fault?mode=busy&count=2&path=any", nil); a.Status != http.StatusOK {
		t.Errorf("fault: %d", a.Status)
	}
	if len(s.sim.faults.pending) != 1 || *s.sim.faults.pending[0] != (Fault{Mode: "busy", Count: 2}) {
		t.Errorf("pending faults: %v", s.sim.faults.pending)
	}
}
