package daemon

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// TestDemo starts the daemon as `scripts/run.sh --demo` does: the simulator
// in the process, the sample list written, the demo account made. The demo
// account logs in, and the sample list, uploaded as it is, is checked
// against the in-process simulator with a person answering the captchas.
func TestDemo(t *testing.T) {
	simCfg := courtsim.DefaultConfig()
	simCfg.People = 100 // the test's own simulator goes unused: demo mode runs its own
	env := newTestEnv(t, simCfg)
	env.cfg.Demo = true
	env.cfg.SiteURL = "http://127.0.0.1:9" // demo mode must not use it
	d := env.start(t)
	defer d.Close()
	sim, ok := d.sim.Handler.(*courtsim.Sim)
	if !ok {
		t.Fatalf("demo mode serves %T, want the simulator", d.sim.Handler)
	}
	if !strings.HasPrefix(d.cfg.SiteURL, "http://127.0.0.1:") || d.cfg.SiteURL == env.cfg.SiteURL {
		t.Fatalf("demo mode checks against %s, want the in-process simulator", d.cfg.SiteURL)
	}

	// The sample list: 10 people of the simulator, in the order written.
	path := filepath.Join(env.cfg.DataDir, "demo-candidates.csv")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("demo list mode %v, want 0600 (names and IDs)", fi.Mode().Perm())
	}
	listText, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(listText))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		outcome string
		hits    int
	}
	var wants []want
	var people []courtsim.Person
	for _, k := range []struct {
		kind string
		n    int
	}{{"listed", 3}, {"multipage", 1}, {"namesake", 2}, {"clean", 4}} {
		ps, err := sim.People(k.kind, k.n)
		if err != nil || len(ps) != k.n {
			t.Fatalf("simulator people %s: %d, %v", k.kind, len(ps), err)
		}
		for _, p := range ps {
			w := want{outcome: "clear"}
			if p.Records > 0 {
				w = want{outcome: "listed", hits: p.Records}
			}
			wants = append(wants, w)
		}
		people = append(people, ps...)
	}
	if len(rows) != len(people)+1 || strings.Join(rows[0], ",") != "姓名,身份证号" {
		t.Fatalf("demo list has %d rows, header %q; want a header and %d people", len(rows), rows[0], len(people))
	}
	for i, p := range people {
		if rows[i+1][0] != p.Name || rows[i+1][1] != p.IDNumber {
			t.Errorf("demo list row %d is not the simulator's person %d", i+2, i+1)
		}
	}

	// The demo account logs in with the password shown once.
	if d.demoPassword == "" {
		t.Fatal("no demo password")
	}
	session := logInAsDemo(t, d.URL(), d.demoPassword)
	req, _ := http.NewRequest("GET", d.URL()+"/batches", nil)
	req.AddCookie(session)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batches page as the demo account: status %d", resp.StatusCode)
	}

	// The sample list as a clerk uploads it, checked with a person at the review API.
	clerk, operator := newAPI(t, d, "clerk", shixincheck.RoleClerk), newAPI(t, d, "operator", shixincheck.RoleOperator)
	ctx, stopPerson := context.WithCancel(context.Background())
	var answered, wrong atomic.Int32
	wrong.Store(1) // no wrong answer on purpose here
	var personDone sync.WaitGroup
	personDone.Add(1)
	go func() { defer personDone.Done(); person(ctx, t, operator, sim, &answered, &wrong) }()
	defer func() { stopPerson(); personDone.Wait() }()
	code, out := upload(t, clerk, string(listText))
	if code != http.StatusCreated {
		t.Fatalf("upload of the demo list: status %d: %v", code, out)
	}
	id := out["id"].(string)
	b := waitBatch(t, clerk, id, 90*time.Second, env.logs)
	if b.Progress.Total != len(people) || b.Progress.Failed != 0 || b.Progress.Review != 0 {
		t.Fatalf("progress %+v, want %d checked, none failed", b.Progress, len(people))
	}
	for i, c := range b.Candidates {
		if c.Outcome != wants[i].outcome || c.Hits != wants[i].hits {
			t.Errorf("row %d: %s with %d hits, want %s with %d", c.Row, c.Outcome, c.Hits, wants[i].outcome, wants[i].hits)
		}
	}
	if answered.Load() == 0 {
		t.Error("no captcha was answered: the checks did not reach the simulator")
	}
}

// A demo list that cannot be written stops the start with the reason.
func TestDemoRosterWriteError(t *testing.T) {
	sim, err := courtsim.New(courtsim.Config{Seed: 1, People: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeDemoRoster("/dev/full", sim); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("writing to a full device: %v, want the write error", err)
	}
}

// noRedirect is an HTTP client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var loginTokenField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// logInAsDemo logs in as the demo account through the log-in page and
// returns the session cookie.
func logInAsDemo(t *testing.T, base, password string) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := loginTokenField.FindSubmatch(page)
	if m == nil || len(resp.Cookies()) == 0 {
		t.Fatalf("log-in page: status %d, no form token or cookie", resp.StatusCode)
	}
	form := url.Values{"login": {demoLogin}, "password": {password}, "csrf_token": {string(m[1])}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "sxc_session") && c.Value != "" {
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("log-in: status %d", resp.StatusCode)
			}
			return c
		}
	}
	t.Fatalf("log-in as %s: status %d, no session", demoLogin, resp.StatusCode)
	return nil
}

// waitBatch waits until every candidate of a batch has been checked.
func waitBatch(t *testing.T, clerk api, id string, wait time.Duration, logs fmt.Stringer) batchJSON {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		b := getBatch(t, clerk, id)
		if b.Progress.Total > 0 && b.Progress.Done == b.Progress.Total {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not finished in %s: %+v\nlogs:\n%s", wait, b.Progress, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
