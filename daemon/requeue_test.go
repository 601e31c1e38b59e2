package daemon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/courtsim"
)

// TestRequeueOnStart loses every task of a batch (Redis emptied while the
// daemon was down, as a Redis without persistence does): the ledger still
// holds the candidates as unfinished, and the restarted daemon queues them
// again and finishes the batch.
func TestRequeueOnStart(t *testing.T) {
	simCfg := courtsim.DefaultConfig()
	simCfg.People = 500
	env := newTestEnv(t, simCfg)
	d := env.start(t)
	clerk, operator := newAPI(t, d, "clerk", shixincheck.RoleClerk), newAPI(t, d, "operator", shixincheck.RoleOperator)

	var people []courtsim.Person
	for _, kind := range []string{"listed", "clean"} {
		ps, err := env.sim.People(kind, 2)
		if err != nil || len(ps) != 2 {
			t.Fatalf("people %s: %d, %v", kind, len(ps), err)
		}
		people = append(people, ps...)
	}
	var list strings.Builder
	list.WriteString("姓名,身份证号\n")
	for _, p := range people {
		fmt.Fprintf(&list, "%s,%s\n", p.Name, p.IDNumber)
	}
	code, out := upload(t, clerk, list.String())
	if code != http.StatusCreated {
		t.Fatalf("upload: status %d: %v", code, out)
	}
	id := out["id"].(string)

	// Nobody answers: the checks wait for a person; stop the daemon then.
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if n, err := d.queue.Backlog(ctx); err == nil && n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no captcha asked for\nlogs:\n%s", env.logs)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Close()

	d = env.start(t)
	defer d.Close()
	clerk.base, operator.base = d.URL(), d.URL()
	if b := getBatch(t, clerk, id); b.Progress.Done != 0 {
		t.Fatalf("before any answer: %+v, want nothing done", b.Progress)
	}
	pctx, stopPerson := context.WithCancel(ctx)
	var answered, wrong atomic.Int32
	wrong.Store(1) // no wrong answer on purpose here
	var personDone sync.WaitGroup
	personDone.Add(1)
	go func() { defer personDone.Done(); person(pctx, t, operator, env.sim, &answered, &wrong) }()
	defer func() { stopPerson(); personDone.Wait() }()

	// Well within the sweep's interval: only the queueing at start can do it.
	b := waitBatch(t, clerk, id, sweepInterval/2, env.logs)
	if b.Progress.Total != len(people) || b.Progress.Failed != 0 || b.Progress.Review != 0 {
		t.Fatalf("progress %+v, want %d checked, none failed", b.Progress, len(people))
	}
	for i, c := range b.Candidates {
		if want := people[i].Records; c.Hits != want {
			t.Errorf("row %d: %d hits, want %d", c.Row, c.Hits, want)
		}
	}
}
