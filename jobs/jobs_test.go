package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/jobs"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/vault"
)

// testRedisDB is this package's Redis database: tests flush it, and only it.
const testRedisDB = 13

// checkerFunc is the court site's stand-in: the site itself cannot be reached
// here (the scraper's own tests drive the simulator in Chromium).
type checkerFunc func(ctx context.Context, name, id string) (shixincheck.SiteResult, error)

func (f checkerFunc) Check(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
	return f(ctx, name, id)
}

type fixture struct {
	store  *ledger.Store
	client *asynq.Client
	cands  []shixincheck.Candidate
}

func setup(t *testing.T, items ...string) fixture {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	rdb.Close()
	store, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), vault.Random())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var cands []shixincheck.Candidate
	for i, item := range items {
		cands = append(cands, shixincheck.Candidate{Row: i + 2, Name: "张三", IDNumber: "11010519491231002X", Item: item})
	}
	_, cands, _, err = store.CreateBatch(ctx, shixincheck.Batch{ID: "b1", Item: items[0], Unit: "u", ContentKey: "k"}, cands)
	if err != nil {
		t.Fatal(err)
	}
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: testRedisDB})
	t.Cleanup(func() { client.Close() })
	return fixture{store: store, client: client, cands: cands}
}

// run processes the queue with a real asynq server until want checks are recorded.
func (f fixture) run(t *testing.T, h *jobs.Handler, want int) {
	t.Helper()
	srv := asynq.NewServer(asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: testRedisDB}, asynq.Config{
		Concurrency:              2,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 10 * time.Millisecond },
		IsFailure:                jobs.IsFailure,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		TaskCheckInterval:        20 * time.Millisecond,
		LogLevel:                 asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(jobs.TypeCheck, h)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p, err := f.store.Progress(context.Background(), "b1")
		if err != nil {
			t.Fatal(err)
		}
		if p.Done >= want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("checks not recorded in time")
}

func (f fixture) queue(maxRetry int) *jobs.Queue {
	return &jobs.Queue{Client: f.client, MaxRetry: maxRetry}
}

func (f fixture) ids() []int64 {
	var ids []int64
	for _, c := range f.cands {
		ids = append(ids, c.ID)
	}
	return ids
}

func handler(f fixture, c jobs.Checker) *jobs.Handler {
	return &jobs.Handler{Store: f.store, Checker: c, Rules: rules.Default(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestChecksGetTheirMeasures(t *testing.T) {
	f := setup(t, "公职人员招录（聘）及考核", "优秀政协委员评选", "政协委员候选人推荐")
	var mu sync.Mutex
	var batches []string // the batch each check was marked with, for the captcha queue's count
	site := checkerFunc(func(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
		mu.Lock()
		batches = append(batches, shixincheck.BatchOf(ctx))
		mu.Unlock()
		return shixincheck.SiteResult{Site: "classic", QueriedAt: time.Now(), TotalSize: 1,
			Records: []shixincheck.Record{{Name: name, CardNum: "1101051949****002X", Match: shixincheck.MatchHit}}}, nil
	})
	if err := f.queue(3).Enqueue(context.Background(), f.ids()); err != nil {
		t.Fatal(err)
	}
	f.run(t, handler(f, site), 3)
	mu.Lock()
	if len(batches) != 3 || slices.ContainsFunc(batches, func(b string) bool { return b != "b1" }) {
		t.Errorf("checks ran under batches %q, want b1 three times", batches)
	}
	mu.Unlock()
	entries, err := f.store.Entries(context.Background(), "b1")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"取消报名资格", "不予推荐", "不予推荐"}
	for i, e := range entries {
		c := e.Check
		if c.Outcome != shixincheck.OutcomeListed || c.HitCount != 1 || c.Measure != want[i] || c.Channel != shixincheck.Channel || c.RuleVersion != rules.Default().Stamp() {
			t.Errorf("row %d: %+v, want listed, 1 hit, %s, judged under %s", e.Candidate.Row, c, want[i], rules.Default().Stamp())
		}
	}
}

// stageRules has two items of different stages and departments.
const stageRules = `version: stages-1
items:
  - name: 公务员录用
    stage: 资格复审
    frequency: 适时
    departments: 政工科
    measures: {listed: 不予录用, clear: 正常录用}
  - name: 评优评先
    stage: 推荐提名
    frequency: 每年
    departments: 委员工委（按职责分工负责）
    measures: {listed: 不予推荐, clear: 正常推荐}
`

func TestCheckKeepsItsItemsStage(t *testing.T) {
	rs, err := rules.Parse([]byte(stageRules), "stages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The last item was removed from the rules after its batch was taken in.
	f := setup(t, "公务员录用", "评优评先", "已撤销事项")
	site := checkerFunc(func(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
		return shixincheck.SiteResult{Site: "classic", QueriedAt: time.Now()}, nil
	})
	if err := f.queue(3).Enqueue(context.Background(), f.ids()); err != nil {
		t.Fatal(err)
	}
	h := handler(f, site)
	h.Rules = rs
	f.run(t, h, 3)
	entries, err := f.store.Entries(context.Background(), "b1")
	if err != nil || len(entries) != 3 {
		t.Fatalf("Entries = %d, %v", len(entries), err)
	}
	want := [][2]string{{"资格复审", "政工科"}, {"推荐提名", "委员工委（按职责分工负责）"}, {"", ""}}
	for i, e := range entries {
		c := e.Check
		if got := [2]string{c.Stage, c.Departments}; got != want[i] {
			t.Errorf("row %d (%s): stage, departments = %q, want %q", e.Candidate.Row, e.Candidate.Item, got, want[i])
		}
	}
	if c := entries[2].Check; c.Measure != shixincheck.NeedsPerson {
		t.Errorf("check of a removed item: measure %q, want %s", c.Measure, shixincheck.NeedsPerson)
	}
}

func TestStableTaskIDChecksOnce(t *testing.T) {
	f := setup(t, "优秀政协委员评选")
	var mu sync.Mutex
	calls := 0
	site := checkerFunc(func(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return shixincheck.SiteResult{Site: "classic", QueriedAt: time.Now()}, nil
	})
	for range 3 { // a re-upload, a sweep and a restart all enqueue the same task
		if err := f.queue(3).Enqueue(context.Background(), f.ids()); err != nil {
			t.Fatal(err)
		}
	}
	f.run(t, handler(f, site), 1)
	// Once recorded, a late duplicate delivery is dropped without a second search.
	if err := f.queue(3).Enqueue(context.Background(), f.ids()); err != nil {
		t.Fatal(err)
	}
	f.run(t, handler(f, site), 1)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("site searched %d times, want 1", calls)
	}
	entries, _ := f.store.Entries(context.Background(), "b1")
	if c := entries[0].Check; c.Outcome != shixincheck.OutcomeClear || c.Measure != "同等条件优先推荐" {
		t.Errorf("check = %+v, want clear with 同等条件优先推荐", c)
	}
}

func TestFailureIsRetriedThenRecordedForAPerson(t *testing.T) {
	f := setup(t, "公职人员招录（聘）及考核")
	var mu sync.Mutex
	calls := 0
	site := checkerFunc(func(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return shixincheck.SiteResult{Site: "classic"}, shixincheck.Errorf(shixincheck.KindBlocked, "412 from the site")
	})
	if err := f.queue(2).Enqueue(context.Background(), f.ids()); err != nil {
		t.Fatal(err)
	}
	f.run(t, handler(f, site), 1)
	mu.Lock()
	if calls != 3 {
		t.Errorf("site searched %d times, want 3 (1 + 2 retries)", calls)
	}
	mu.Unlock()
	entries, _ := f.store.Entries(context.Background(), "b1")
	c := entries[0].Check
	if c.Outcome != shixincheck.OutcomeFailed || c.ErrorKind != shixincheck.KindBlocked || c.Measure != shixincheck.NeedsPerson || c.HitCount != 0 {
		t.Errorf("check = %+v, want failed/blocked/%s", c, shixincheck.NeedsPerson)
	}
}

func TestRetryDelayCoolsDownAfterABlock(t *testing.T) {
	blocked := jobs.RetryDelay(0, shixincheck.Errorf(shixincheck.KindBlocked, "x"), nil)
	timeout := jobs.RetryDelay(0, shixincheck.Errorf(shixincheck.KindTimeout, "x"), nil)
	if blocked < time.Minute || timeout >= blocked {
		t.Errorf("blocked %v, timeout %v: a block must cool down longest", blocked, timeout)
	}
	if jobs.RetryDelay(20, errors.New("x"), nil) > 15*time.Minute {
		t.Errorf("back-off unbounded")
	}
}

func TestPausedBatchWaitsWithoutUsingRetries(t *testing.T) {
	f := setup(t, "公职人员招录（聘）及考核")
	ctx := context.Background()
	var mu sync.Mutex
	calls := 0
	site := checkerFunc(func(ctx context.Context, name, id string) (shixincheck.SiteResult, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return shixincheck.SiteResult{Site: "classic", QueriedAt: time.Now()}, nil
	})
	if _, err := f.store.SetControl(ctx, "b1", shixincheck.ControlPaused); err != nil {
		t.Fatal(err)
	}
	if err := f.queue(1).Enqueue(ctx, f.ids()); err != nil {
		t.Fatal(err)
	}
	// Resume after the task has been offered (and put back) several times:
	// with MaxRetry 1, a pause that used up retries would archive it.
	go func() {
		time.Sleep(500 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if calls != 0 {
			t.Errorf("paused batch searched %d times", calls)
		}
		f.store.SetControl(ctx, "b1", shixincheck.ControlActive)
	}()
	f.run(t, handler(f, site), 1)
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("site searched %d times after resume, want 1", calls)
	}
}

func TestRetryDelayOfAPause(t *testing.T) {
	if d := jobs.RetryDelay(3, jobs.ErrPaused, nil); d != jobs.PausedRecheck {
		t.Errorf("paused: %v", d)
	}
	if jobs.IsFailure(jobs.ErrPaused) || jobs.IsFailure(shixincheck.Errorf(shixincheck.KindCaptchaUnanswered, "x")) || !jobs.IsFailure(shixincheck.Errorf(shixincheck.KindBlocked, "x")) {
		t.Error("IsFailure: a pause and an unanswered captcha use no retry; a block does")
	}
}
