package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// The gkw widget's layout as a person sees it on the picture, in CSS px from
// its top-left corner (the scraper's tests check these against the page).
const (
	gkwImageTop = 36            // top of the captcha image
	gkwButtonX  = 27.5          // centre of the slider's button at rest
	gkwButtonY  = 36 + 180 + 32 // its middle, below the image
)

// gkwOperator acts as a person on the review page, through the JSON API
// only: it reads the simulator's side door for where the slider must go or
// which characters to click, and answers its first challenge wrongly.
type gkwOperator struct {
	api
	sim *courtsim.Sim

	mu       sync.Mutex
	sessions []string            // verifications, in the order they began
	types    map[string][]string // type of each challenge answered, by verification
}

func (o *gkwOperator) run(ctx context.Context, t *testing.T) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", o.base+"/api/v1/captcha/next?wait=2s", nil)
		resp, err := o.do(req)
		if err != nil {
			return
		}
		if resp.StatusCode == http.StatusNoContent {
			resp.Body.Close()
			continue
		}
		var ch struct {
			ID, Kind, SiteRef, Session string
			Width, Height              float64
		}
		var raw map[string]any
		json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		b, _ := json.Marshal(raw)
		json.Unmarshal(b, &ch)
		ch.SiteRef, _ = raw["site_ref"].(string)
		if ch.Kind != string(shixincheck.ChallengeInteractive) || ch.Width == 0 || ch.Session == "" {
			t.Errorf("gkw challenge = %s", b)
			return
		}
		info, ok := o.sim.GkwCaptcha(ch.SiteRef)
		if !ok {
			t.Errorf("side door knows no challenge %q", ch.SiteRef)
			return
		}
		o.mu.Lock()
		wrong := len(o.sessions) == 0
		if len(o.types[ch.Session]) == 0 {
			o.sessions = append(o.sessions, ch.Session)
		}
		o.types[ch.Session] = append(o.types[ch.Session], info.Type)
		o.mu.Unlock()
		var actions []shixincheck.Action
		switch info.Type {
		case "SLIDER":
			dx := info.SliderXCSS
			if wrong {
				if dx += 40; dx > 240 {
					dx -= 80
				}
			}
			var pts []shixincheck.Point
			for i := 0; i < 16; i++ { // a hand's drag: 480 ms, slowing down at the end
				f := 1 - math.Pow(1-float64(i)/15, 3)
				pts = append(pts, shixincheck.Point{X: gkwButtonX + dx*f, Y: gkwButtonY + float64(i%3) - 1, T: 32 * i})
			}
			actions = []shixincheck.Action{{Type: shixincheck.ActionDrag, Points: pts}}
		case "WORD_IMAGE_CLICK":
			points := info.Points
			for i := range points {
				p := points[i]
				if wrong {
					p = points[len(points)-1-i]
				}
				actions = append(actions, shixincheck.Action{Type: shixincheck.ActionClick,
					Points: []shixincheck.Point{{X: p.CSSX, Y: gkwImageTop + p.CSSY, T: 80 * i}}})
			}
		default:
			t.Errorf("challenge type %q", info.Type)
			return
		}
		body, _ := json.Marshal(map[string]any{"actions": actions})
		req, _ = http.NewRequestWithContext(ctx, "POST", o.base+"/api/v1/captcha/"+ch.ID, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err = o.do(req)
		if err != nil {
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("answer: status %d", resp.StatusCode)
		}
	}
}

// TestEndToEndGkw runs a batch on the 2026 site: behavioural captchas solved
// remotely through the review API (a wrong drag or wrong clicks first, so the
// type switches), a token that expires in the middle of the batch, several
// result pages and the no-match answer.
func TestEndToEndGkw(t *testing.T) {
	simCfg := courtsim.DefaultConfig()
	simCfg.Seed = 11
	simCfg.People = 2000
	simCfg.GkwTokenUses = 3 // expires mid-batch: 8 searches (the multipage person alone needs 3)
	simCfg.GkwCaptchaDelay = 100 * time.Millisecond
	env := newTestEnv(t, simCfg)
	env.cfg.Site = "gkw"
	d := env.start(t)
	defer d.Close()
	clerk := newAPI(t, d, "clerk", shixincheck.RoleClerk)

	type want struct {
		name, id, outcome string
		hits              int
	}
	var people []want
	add := func(kind string, n int, outcome string, listed bool) {
		ps, err := env.sim.People(kind, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			w := want{name: p.Name, id: p.IDNumber, outcome: outcome}
			if listed {
				w.hits = p.Records
			}
			people = append(people, w)
		}
	}
	add("listed", 2, "listed", true)
	add("multipage", 1, "listed", true)
	add("namesake", 1, "clear", false)
	add("clean", 2, "clear", false)
	var csv strings.Builder
	csv.WriteString("姓名,身份证号\n")
	for _, p := range people {
		fmt.Fprintf(&csv, "%s,%s\n", p.name, p.id)
	}

	ctx, stop := context.WithCancel(context.Background())
	op := &gkwOperator{api: newAPI(t, d, "operator", shixincheck.RoleOperator), sim: env.sim, types: map[string][]string{}}
	var done sync.WaitGroup
	done.Add(1)
	go func() { defer done.Done(); op.run(ctx, t) }()

	code, out := upload(t, clerk, csv.String())
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %v", code, out)
	}
	id := out["id"].(string)
	var b batchJSON
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		b = getBatch(t, clerk, id)
		if b.Progress.Done == b.Progress.Total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not finished: %+v\nlogs:\n%s", b.Progress, env.logs.String())
		}
	}
	stop()
	done.Wait()

	if b.Progress.Failed != 0 || b.Progress.Review != 0 {
		t.Fatalf("progress = %+v\nlogs:\n%s", b.Progress, env.logs.String())
	}
	for i, c := range b.Candidates {
		if w := people[i]; c.Outcome != w.outcome || c.Hits != w.hits {
			t.Errorf("row %d: %s with %d hits, want %s with %d", c.Row, c.Outcome, c.Hits, w.outcome, w.hits)
		}
	}
	op.mu.Lock()
	first := op.types[op.sessions[0]]
	verifications := len(op.sessions)
	op.mu.Unlock()
	if len(first) < 2 || first[1] == first[0] {
		t.Errorf("first verification's challenges %v: want the type to switch after the wrong answer", first)
	}
	// Tokens good for 3 searches, 8 searches in all: some token expired mid-batch.
	if verifications < 3 {
		t.Errorf("%d verifications: want a new one after a token expired", verifications)
	}
	_, metricsText := get(t, api{base: clerk.base}, "/metrics")
	for _, m := range []string{
		`shixincheck_captcha_verification_outcomes_total{outcome="accepted",site="gkw"}`,
		`shixincheck_captcha_verification_outcomes_total{outcome="rejected",site="gkw"}`,
		`shixincheck_captcha_candidates_per_verification_count{site="gkw"}`,
	} {
		if !bytes.Contains(metricsText, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	// Evidence: every check has the pages as the browser showed them.
	for _, c := range b.Candidates {
		_, body := get(t, clerk, fmt.Sprintf("/api/v1/checks/%d/evidence", c.CheckID))
		if !bytes.Contains(body, []byte("list-1.html")) {
			t.Errorf("row %d: no page in the evidence: %.200s", c.Row, body)
		}
	}
	logs := env.logs.String()
	for _, p := range people {
		if strings.Contains(logs, p.name) || strings.Contains(logs, p.id) {
			t.Errorf("logs contain personal data")
		}
	}
}
