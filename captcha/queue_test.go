package captcha

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shixincheck/shixincheck"
)

// testDB is the Redis database these tests may use, and no other.
const testDB = 11

// newRedis connects to the test database; each test works under its own
// prefix, removed at the end, so tests can run in parallel.
func newRedis(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testDB})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at 127.0.0.1:6379 db %d: %v", testDB, err)
	}
	return rdb
}

func testPrefix(t testing.TB, rdb *redis.Client) string {
	prefix := "shixincheck:test:captcha:" + newID()[:12] + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := rdb.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

// newQueue returns a Queue on its own Redis client and prefix.
func newQueue(t testing.TB, cfg Config) *Queue {
	t.Helper()
	rdb := newRedis(t)
	cfg.Prefix = testPrefix(t, rdb)
	return New(rdb, cfg)
}

// otherNode returns a second Queue, as another daemon node would have:
// its own Redis connection, the same keys.
func otherNode(t testing.TB, q *Queue, cfg Config) *Queue {
	t.Helper()
	cfg.Prefix = q.prefix
	return New(newRedis(t), cfg)
}

// testPNG draws a 160x70 PNG whose pixels depend on seed.
func testPNG(t testing.TB, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 70))
	for y := range 70 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{byte(x) + seed, byte(y) * seed, seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type solveResult struct {
	sol shixincheck.Solution
	err error
}

// startSolve runs Solve in a goroutine, which the test waits for at its end.
func startSolve(t testing.TB, ctx context.Context, q *Queue, ch shixincheck.Challenge) <-chan solveResult {
	t.Helper()
	done := make(chan solveResult, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sol, err := q.Solve(ctx, ch)
		done <- solveResult{sol, err}
	}()
	// Solve cleans up after itself: let it, before the Redis client closes.
	t.Cleanup(func() {
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Solve still running at the end of the test")
		}
	})
	return done
}

// solveAsync starts Solve and waits until its challenge is in the backlog,
// so challenges posted one after another keep their order.
func solveAsync(t *testing.T, ctx context.Context, q *Queue, ch shixincheck.Challenge) <-chan solveResult {
	t.Helper()
	before := backlog(t, q)
	done := startSolve(t, ctx, q, ch)
	waitFor(t, "challenge in backlog", func() bool { return backlog(t, q) > before })
	return done
}

func backlog(t *testing.T, q *Queue) int64 {
	t.Helper()
	n, err := q.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func result(t *testing.T, done <-chan solveResult) solveResult {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Solve did not return")
		return solveResult{}
	}
}

func next(t *testing.T, q *Queue, wait time.Duration) Pending {
	t.Helper()
	p, ok, err := q.Next(context.Background(), "", wait)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("Next: no challenge")
	}
	return p
}

func TestSolveAnswerAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type answered struct {
		site string
		wait time.Duration
	}
	answeredc := make(chan answered, 1)
	type reported struct {
		site     string
		accepted bool
	}
	reportedc := make(chan reported, 1)
	tab := newQueue(t, Config{Hooks: Hooks{
		Answered: func(site string, wait time.Duration) { answeredc <- answered{site, wait} },
		Reported: func(site string, accepted bool) { reportedc <- reported{site, accepted} },
	}})
	reviewer := otherNode(t, tab, Config{})

	img := testPNG(t, 1)
	start := time.Now()
	done := solveAsync(t, ctx, tab, shixincheck.Challenge{Site: "classic", Image: img})

	p := next(t, reviewer, 5*time.Second)
	if p.Site != "classic" || !bytes.Equal(p.Image, img) || len(p.ID) != 32 {
		t.Fatalf("Next = id %q site %q image %d bytes; want a 32-char id, classic, the posted image", p.ID, p.Site, len(p.Image))
	}
	if p.CreatedAt.Before(start.Add(-time.Second)) || p.ExpiresAt.Sub(p.CreatedAt) != defaultAnswerTimeout {
		t.Fatalf("Next: created %v expires %v; want now and now+%v", p.CreatedAt, p.ExpiresAt, defaultAnswerTimeout)
	}
	if n := backlog(t, tab); n != 0 {
		t.Fatalf("backlog after Next = %d, want 0", n)
	}

	if err := reviewer.Answer(ctx, p.ID, "", " ab3d "); err != nil {
		t.Fatal(err)
	}
	r := result(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.sol.ChallengeID != p.ID || r.sol.Text != "ab3d" || r.sol.Actions != nil {
		t.Fatalf("Solve = %+v, want id %s text ab3d", r.sol, p.ID)
	}
	if a := <-answeredc; a.site != "classic" || a.wait <= 0 || a.wait > time.Since(start) {
		t.Fatalf("Answered hook = %+v, want a wait within the %v since the challenge was posted", a, time.Since(start))
	}

	if err := reviewer.Answer(ctx, p.ID, "", "zzzz"); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("second answer: err = %v, want ErrUnknownChallenge", err)
	}

	tab.ReportOutcome(ctx, r.sol.ChallengeID, OutcomeRejected)
	if rep := <-reportedc; rep != (reported{"classic", false}) {
		t.Fatalf("Reported hook = %+v, want classic rejected", rep)
	}
	outcome, err := tab.rdb.HGet(ctx, tab.challengeKey(p.ID), "outcome").Result()
	if err != nil || outcome != "rejected" {
		t.Fatalf("recorded outcome = %q, %v; want rejected", outcome, err)
	}
	if _, err := tab.rdb.HGet(ctx, tab.challengeKey(p.ID), "image").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("image still stored after the answer: %v", err)
	}
}

func TestReportUnknownChallenge(t *testing.T) {
	t.Parallel()
	var got []string
	q := newQueue(t, Config{Hooks: Hooks{Reported: func(site string, accepted bool) {
		if !accepted {
			t.Error("accepted = false, want true")
		}
		got = append(got, site)
	}}})
	q.ReportOutcome(context.Background(), newID(), OutcomeAccepted)
	q.ReportOutcome(context.Background(), "not an id", OutcomeAccepted)
	if len(got) != 2 || got[0] != "unknown" || got[1] != "unknown" {
		t.Fatalf("Reported sites = %q, want two unknown", got)
	}
	// Reporting an expired challenge must not leave a key behind without TTL.
	if keys, _ := q.rdb.Keys(context.Background(), q.prefix+"*").Result(); len(keys) != 0 {
		t.Fatalf("keys left: %q", keys)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newQueue(t, Config{})
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 2)})
	p := next(t, q, time.Second)
	if err := q.Refresh(ctx, p.ID, ""); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done); !errors.Is(r.err, shixincheck.ErrCaptchaRefresh) {
		t.Fatalf("Solve err = %v, want ErrCaptchaRefresh", r.err)
	}
	if err := q.Answer(ctx, p.ID, "", "ab3d"); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("answer after refresh: err = %v, want ErrUnknownChallenge", err)
	}
	if keys, _ := q.rdb.Keys(ctx, q.prefix+"*").Result(); len(keys) != 0 {
		t.Fatalf("keys left after refresh: %q", keys)
	}
}

func TestRefreshWithoutNext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newQueue(t, Config{})
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 2)})
	id, err := q.rdb.LIndex(ctx, q.pendingKey(), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Refresh(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done); !errors.Is(r.err, shixincheck.ErrCaptchaRefresh) {
		t.Fatalf("Solve err = %v, want ErrCaptchaRefresh", r.err)
	}
	if n := backlog(t, q); n != 0 {
		t.Fatalf("backlog = %d, want 0", n)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	unanswered := make(chan string, 1)
	q := newQueue(t, Config{AnswerTimeout: time.Second, Hooks: Hooks{
		Unanswered: func(site string) { unanswered <- site },
	}})
	start := time.Now()
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "gkw", Image: testPNG(t, 3)})
	id, err := q.rdb.LIndex(ctx, q.pendingKey(), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, done)
	if shixincheck.KindOf(r.err) != shixincheck.KindCaptchaUnanswered {
		t.Fatalf("Solve err = %v, want kind %s", r.err, shixincheck.KindCaptchaUnanswered)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("Solve returned after %v, before AnswerTimeout", took)
	}
	if site := <-unanswered; site != "gkw" {
		t.Fatalf("Unanswered hook site = %q, want gkw", site)
	}
	if n := backlog(t, q); n != 0 {
		t.Fatalf("backlog after timeout = %d, want 0", n)
	}
	if err := q.Answer(ctx, id, "", "ab3d"); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("answer after timeout: err = %v, want ErrUnknownChallenge", err)
	}
	if _, ok, err := q.Next(ctx, "", 0); ok || err != nil {
		t.Fatalf("Next after timeout = %v, %v; want none", ok, err)
	}
}

func TestTimeoutTakesLateAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newQueue(t, Config{AnswerTimeout: time.Second})
	id := newID()
	expired := time.Now().Add(-time.Millisecond)
	if err := q.rdb.HSet(ctx, q.challengeKey(id), "site", "classic", "state", statePending).Err(); err != nil {
		t.Fatal(err)
	}
	// The answer arrives between Solve's last wait and its cleanup.
	if err := q.Answer(ctx, id, "", "late"); err != nil {
		t.Fatal(err)
	}
	msg, err := q.await(ctx, id, expired, "", time.Time{})
	if err != nil || msg != msgAnswerPrefix+"late" {
		t.Fatalf("await = %q, %v; want the late answer", msg, err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	q := newQueue(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 4)})
	id, err := q.rdb.LIndex(context.Background(), q.pendingKey(), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	r := result(t, done) // well before AnswerTimeout (5m)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Solve err = %v, want context.Canceled", r.err)
	}
	if n := backlog(t, q); n != 0 {
		t.Fatalf("backlog after cancel = %d, want 0", n)
	}
	if err := q.Answer(context.Background(), id, "", "ab3d"); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("answer after cancel: err = %v, want ErrUnknownChallenge", err)
	}
}

func TestConcurrentNextNeverShares(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	const challenges, people = 20, 4
	for i := range challenges {
		solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, byte(i))})
	}

	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range people {
		node := otherNode(t, q, Config{})
		wg.Go(func() {
			for {
				p, ok, err := node.Next(ctx, "", time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				seen[p.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != challenges {
		t.Fatalf("people got %d distinct challenges, want %d", len(seen), challenges)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("challenge %s handed out %d times", id, n)
		}
	}
}

func TestSkipRequeuesAtEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	var ids []string
	for i := range 3 {
		solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, byte(i))})
		id, err := q.rdb.LIndex(ctx, q.pendingKey(), -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	a := next(t, q, 0)
	if a.ID != ids[0] {
		t.Fatalf("first Next = %s, want the oldest %s", a.ID, ids[0])
	}
	if err := q.Skip(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, q); n != 3 {
		t.Fatalf("backlog after skip = %d, want 3", n)
	}
	var got []string
	for range 3 {
		got = append(got, next(t, q, 0).ID)
	}
	want := []string{ids[1], ids[2], ids[0]}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order after skip = %q, want %q", got, want)
		}
	}
	if err := q.Skip(ctx, newID(), ""); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("skip unknown: err = %v, want ErrUnknownChallenge", err)
	}
}

func TestBacklog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	if n := backlog(t, q); n != 0 {
		t.Fatalf("empty backlog = %d", n)
	}
	var dones []<-chan solveResult
	for i := range 3 {
		dones = append(dones, solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, byte(i))}))
		if n := backlog(t, q); n != int64(i+1) {
			t.Fatalf("backlog = %d, want %d", n, i+1)
		}
	}
	p := next(t, q, 0)
	if n := backlog(t, q); n != 2 {
		t.Fatalf("backlog after Next = %d, want 2", n)
	}
	if err := q.Answer(ctx, p.ID, "", "ab3d"); err != nil {
		t.Fatal(err)
	}
	if n := backlog(t, q); n != 2 {
		t.Fatalf("backlog after answer = %d, want 2", n)
	}
	cancel()
	for _, d := range dones {
		result(t, d)
	}
	if n := backlog(t, q); n != 0 {
		t.Fatalf("backlog after all Solves ended = %d, want 0", n)
	}
}

func TestAnswerRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	for _, id := range []string{newID(), "not-hex", "", newID() + "0"} {
		if err := q.Answer(ctx, id, "", "ab3d"); !errors.Is(err, ErrUnknownChallenge) {
			t.Errorf("Answer(%q): err = %v, want ErrUnknownChallenge", id, err)
		}
		if err := q.Refresh(ctx, id, ""); !errors.Is(err, ErrUnknownChallenge) {
			t.Errorf("Refresh(%q): err = %v, want ErrUnknownChallenge", id, err)
		}
	}
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 5)})
	p := next(t, q, 0)
	for _, text := range []string{"", "  \t"} {
		if err := q.Answer(ctx, p.ID, "", text); !errors.Is(err, ErrEmptyAnswer) {
			t.Errorf("Answer(%q): err = %v, want ErrEmptyAnswer", text, err)
		}
	}
	if _, err := q.Solve(ctx, shixincheck.Challenge{Site: "classic"}); err == nil {
		t.Error("Solve without an image: no error")
	}
}

func TestNextSkipsDeadAndWaits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 6)})
	// Its node died and the hash expired; the id is still listed.
	dead, _ := q.rdb.LIndex(ctx, q.pendingKey(), 0).Result()
	if err := q.rdb.Del(ctx, q.challengeKey(dead)).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, ok, err := q.Next(ctx, "", time.Second); ok || err != nil {
		t.Fatalf("Next over a dead id = %v, %v; want none", ok, err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("Next gave up after %v, before its wait", took)
	}

	// A challenge posted while Next waits is handed out at once.
	got := make(chan Pending, 1)
	go func() {
		p, ok, err := q.Next(ctx, "", 10*time.Second)
		if err != nil || !ok {
			t.Errorf("Next = %v, %v", ok, err)
		}
		got <- p
	}()
	time.Sleep(100 * time.Millisecond)
	startSolve(t, ctx, q, shixincheck.Challenge{Site: "gkw", Image: testPNG(t, 7)})
	select {
	case p := <-got:
		if p.Site != "gkw" {
			t.Fatalf("Next got site %q, want gkw", p.Site)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waiting Next did not get the new challenge")
	}
}

func TestLeaseEndRequeuesAtFront(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 8)})
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 9)})
	gone := next(t, q, 0)  // a person takes it and closes the page
	other := next(t, q, 0) // so does another
	if _, ok, _ := q.Next(ctx, "", 0); ok {
		t.Fatal("a taken challenge was handed out again before its lease ended")
	}
	// Their leases end, in the order they were taken: set in the past rather
	// than waited for, so that a slow machine cannot end them before the
	// check above.
	ended := time.Now().UnixMicro()
	for i, id := range []string{gone.ID, other.ID} {
		z := redis.Z{Score: float64(ended - 2 + int64(i)), Member: id}
		if err := q.rdb.ZAddXX(ctx, q.claimedKey(), z).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if p := next(t, q, 0); p.ID != gone.ID {
		t.Fatalf("Next after the lease = %s, want the abandoned oldest %s", p.ID, gone.ID)
	}
	if n := backlog(t, q); n != 1 {
		t.Fatalf("backlog = %d, want the other abandoned challenge", n)
	}
}

func TestWaitingCountsPerBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newQueue(t, Config{})
	waiting := func() map[string]int64 {
		t.Helper()
		w, err := q.Waiting(ctx, "b1", "b2", "b3")
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	first := solveAsync(t, shixincheck.WithBatch(ctx, "b1"), q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 1)})
	second := solveAsync(t, shixincheck.WithBatch(ctx, "b1"), q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 2)})
	third := solveAsync(t, shixincheck.WithBatch(ctx, "b2"), q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 3)})
	if w := waiting(); w["b1"] != 2 || w["b2"] != 1 || w["b3"] != 0 {
		t.Fatalf("Waiting = %v; want b1:2 b2:1 b3:0", w)
	}

	// Taken by a person but not answered yet: still waiting for them.
	p := next(t, q, time.Second)
	if w := waiting(); w["b1"]+w["b2"] != 3 {
		t.Fatalf("Waiting after Next = %v; want 3 in all", w)
	}
	if err := q.Answer(ctx, p.ID, "", "ab3d"); err != nil {
		t.Fatal(err)
	}
	if r := result(t, first); r.err != nil {
		t.Fatal(r.err)
	}
	if w := waiting(); w["b1"] != 1 || w["b2"] != 1 {
		t.Fatalf("Waiting after the first answer = %v; want b1:1 b2:1", w)
	}
	for _, done := range []<-chan solveResult{second, third} {
		p := next(t, q, time.Second)
		if err := q.Answer(ctx, p.ID, "", "ab3d"); err != nil {
			t.Fatal(err)
		}
		if r := result(t, done); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if w := waiting(); w["b1"] != 0 || w["b2"] != 0 {
		t.Fatalf("Waiting after every answer = %v; want none", w)
	}

	// An entry left by a node that died counts until its challenge expires.
	q.markWaiting(ctx, "b3", "alive", time.Now().Add(time.Minute))
	q.markWaiting(ctx, "b3", "gone", time.Now().Add(-time.Second))
	if w := waiting(); w["b3"] != 1 {
		t.Fatalf("Waiting with one expired entry = %v; want b3:1", w)
	}
	if ttl := q.rdb.PTTL(ctx, q.waitingKey("b3")).Val(); ttl < time.Minute {
		t.Fatalf("waiting key TTL = %v; want the live entry's minute and more", ttl)
	}
}
