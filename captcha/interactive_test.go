package captcha

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck"
)

// widget returns round seed of an interactive 300x200 challenge of session.
func widget(t *testing.T, session string, seed byte) shixincheck.Challenge {
	return shixincheck.Challenge{
		Site: "gkw", Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, seed),
		Width: 300, Height: 200, Session: session, SiteRef: "tianai-" + session,
	}
}

func nextAs(t *testing.T, q *Queue, operator string, wait time.Duration) Pending {
	t.Helper()
	p, ok, err := q.Next(context.Background(), operator, wait)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("Next for %q: no challenge", operator)
	}
	return p
}

func noneFor(t *testing.T, q *Queue, operator string) {
	t.Helper()
	if p, ok, err := q.Next(context.Background(), operator, 0); ok || err != nil {
		t.Fatalf("Next for %q = %s round %d, %v; want none", operator, p.ID, p.Round, err)
	}
}

var (
	aDrag = []shixincheck.Action{{Type: shixincheck.ActionDrag, Points: []shixincheck.Point{
		{X: 20, Y: 100, T: 0}, {X: 60.5, Y: 101, T: 120}, {X: 140, Y: 102.25, T: 260}, {X: 141, Y: 102, T: 420},
	}}}
	aClick = []shixincheck.Action{{Type: shixincheck.ActionClick, Points: []shixincheck.Point{{X: 150, Y: 60, T: 0}}}}
)

func TestInteractiveRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	ch := widget(t, "sess-1", 30)
	done := solveAsync(t, ctx, q, ch)

	p := nextAs(t, q, "alice", 0)
	want := Pending{ID: p.ID, Site: "gkw", SiteRef: "tianai-sess-1", Kind: shixincheck.ChallengeInteractive,
		Width: 300, Height: 200, Session: "sess-1", Round: 1, Image: ch.Image, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("Next = %+v\nwant %+v", p, want)
	}
	if err := q.Answer(ctx, p.ID, "alice", "ab3d"); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("text for an interactive challenge: err = %v, want ErrWrongKind", err)
	}
	if err := q.Act(ctx, p.ID, "alice", []shixincheck.Action{{Type: "drag", Points: aDrag[0].Points[:1]}}); !errors.Is(err, ErrInvalidActions) {
		t.Fatalf("one-point drag: err = %v, want ErrInvalidActions", err)
	}
	if err := q.Act(ctx, p.ID, "alice", aDrag); err != nil {
		t.Fatal(err)
	}
	r := result(t, done)
	if r.err != nil || r.sol.ChallengeID != p.ID || r.sol.Text != "" || !reflect.DeepEqual(r.sol.Actions, aDrag) {
		t.Fatalf("Solve = %+v, %v; want the drag", r.sol, r.err)
	}

	// A text challenge takes no actions. (Bob's: alice awaits her session's next round.)
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 31)})
	txt := nextAs(t, q, "bob", 0)
	if txt.Kind != shixincheck.ChallengeText || txt.Width != 0 || txt.Session != "" || txt.Round != 1 {
		t.Fatalf("text challenge = %+v", txt)
	}
	if err := q.Act(ctx, txt.ID, "bob", aClick); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("actions for a text challenge: err = %v, want ErrWrongKind", err)
	}
}

func TestSolveRefusesUnusableChallenges(t *testing.T) {
	t.Parallel()
	q := newQueue(t, Config{})
	for name, ch := range map[string]shixincheck.Challenge{
		"no size":      {Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, 1), Height: 200},
		"huge":         {Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, 1), Width: 5000, Height: 200},
		"NaN":          {Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, 1), Width: math.NaN(), Height: 200},
		"unknown kind": {Kind: "audio", Image: testPNG(t, 1)},
		"bad session":  {Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, 1), Width: 300, Height: 200, Session: "a b"},
		"long session": {Kind: shixincheck.ChallengeInteractive, Image: testPNG(t, 1), Width: 300, Height: 200, Session: strings.Repeat("s", 129)},
	} {
		if _, err := q.Solve(context.Background(), ch); err == nil {
			t.Errorf("%s: Solve took it", name)
		}
	}
	if n := backlog(t, q); n != 0 {
		t.Fatalf("backlog = %d after refused challenges", n)
	}
}

// A session's next round goes to the person who answered the previous one,
// even with older challenges waiting, and nobody else sees it meanwhile.
func TestSessionAffinity(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	bobNode := otherNode(t, q, Config{})

	done := solveAsync(t, ctx, q, widget(t, "sess-A", 32))
	r1 := nextAs(t, q, "alice", 0)
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 33)}) // older than round 2
	if err := q.Act(ctx, r1.ID, "alice", aClick); err != nil {
		t.Fatal(err)
	}
	result(t, done)

	// Alice awaits her session's next round only: not the older challenge.
	noneFor(t, q, "alice")
	// She asks again at once (as the page does) and waits for it.
	got := make(chan Pending, 1)
	go func() {
		p, ok, err := q.Next(ctx, "alice", 10*time.Second)
		if err != nil || !ok {
			t.Errorf("alice's Next = %v, %v", ok, err)
		}
		got <- p
	}()
	done2 := startSolve(t, ctx, q, widget(t, "sess-A", 34))
	r2 := <-got
	if r2.Session != "sess-A" || r2.Round != 2 || r2.ID == r1.ID {
		t.Fatalf("alice got %+v, want round 2 of sess-A", r2)
	}
	// Bob, on another node, gets the older challenge and nothing else.
	if p := nextAs(t, bobNode, "bob", 0); p.Site != "classic" {
		t.Fatalf("bob got %+v, want the older text challenge", p)
	}
	noneFor(t, bobNode, "bob")
	if err := bobNode.Act(ctx, r2.ID, "bob", aClick); !errors.Is(err, ErrHeld) {
		t.Fatalf("bob acting on alice's round: err = %v, want ErrHeld", err)
	}
	if err := q.Act(ctx, r2.ID, "alice", aDrag); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done2); r.err != nil || !reflect.DeepEqual(r.sol.Actions, aDrag) {
		t.Fatalf("round 2 Solve = %+v, %v", r.sol, r.err)
	}
}

// A round its person does not take goes to everyone after AffinityWait, at
// the front of the queue.
func TestSessionAffinityFallback(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Long enough that a loaded machine gets through the checks of the
	// round's private time before it ends.
	const affinity = 2 * time.Second
	q := newQueue(t, Config{AffinityWait: affinity})

	done := solveAsync(t, ctx, q, widget(t, "sess-B", 35))
	r1 := nextAs(t, q, "alice", 0)
	if err := q.Act(ctx, r1.ID, "alice", aClick); err != nil {
		t.Fatal(err)
	}
	result(t, done)
	// Alice closed her page. The next round is hers for a moment.
	posted := time.Now()
	done2 := startSolve(t, ctx, q, widget(t, "sess-B", 36))
	waitFor(t, "round 2 posted", func() bool { n, _ := q.rdb.LLen(ctx, q.ownKey(opHash("alice"))).Result(); return n == 1 })
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 37)}) // newer, for anyone
	if p := nextAs(t, q, "bob", 0); p.Site != "classic" {
		t.Fatalf("bob got %+v first, want the text challenge (round 2 is still alice's)", p)
	}
	noneFor(t, q, "bob")

	p := nextAs(t, q, "bob", 10*time.Second)
	if took := time.Since(posted); p.Session != "sess-B" || p.Round != 2 || took < affinity {
		t.Fatalf("bob got %+v after %v; want round 2 of sess-B after AffinityWait", p, took)
	}
	if err := q.Act(ctx, p.ID, "bob", aClick); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done2); r.err != nil {
		t.Fatal(r.err)
	}
	// Bob answered round 2: round 3 is his.
	done3 := startSolve(t, ctx, q, widget(t, "sess-B", 38))
	waitFor(t, "round 3 posted", func() bool { n, _ := q.rdb.LLen(ctx, q.ownKey(opHash("bob"))).Result(); return n == 1 })
	noneFor(t, q, "alice")
	if p := nextAs(t, q, "bob", 0); p.Round != 3 {
		t.Fatalf("bob got %+v, want round 3", p)
	}
	if err := q.Skip(ctx, p.ID, "bob"); !errors.Is(err, ErrUnknownChallenge) {
		t.Fatalf("skip of an answered round: err = %v", err)
	}
	cancel()
	result(t, done3)
}

// The end of a verification frees its person for the rest of the queue at
// once, without waiting for AffinityWait; so does skipping its round.
func TestVerificationEndFreesPerson(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{AffinityWait: time.Minute})

	done := solveAsync(t, ctx, q, widget(t, "sess-C", 39))
	r1 := nextAs(t, q, "alice", 0)
	if err := q.Act(ctx, r1.ID, "alice", aClick); err != nil {
		t.Fatal(err)
	}
	sol := result(t, done).sol
	solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 40)})
	noneFor(t, q, "alice") // she awaits her session's next round

	q.ReportOutcome(ctx, sol.ChallengeID, OutcomeAccepted)
	if p := nextAs(t, q, "alice", 0); p.Site != "classic" { // without waiting: she is free once Report returns
		t.Fatalf("alice got %+v, want the text challenge", p)
	}

	// Skipping a round of her session frees her too.
	done = solveAsync(t, ctx, q, widget(t, "sess-D", 41))
	r1 = nextAs(t, q, "alice", 0)
	if err := q.Act(ctx, r1.ID, "alice", aClick); err != nil {
		t.Fatal(err)
	}
	result(t, done)
	startSolve(t, ctx, q, widget(t, "sess-D", 42))
	r2 := nextAs(t, q, "alice", 5*time.Second)
	if err := q.Skip(ctx, r2.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.rdb.Exists(ctx, q.awaitKey(opHash("alice"))).Result(); n != 0 {
		t.Fatal("alice still awaits sess-D after skipping its round")
	}
	if p := nextAs(t, q, "bob", 0); p.ID != r2.ID {
		t.Fatalf("bob got %s, want the skipped round %s", p.ID, r2.ID)
	}
}

// A challenge is held by one person at a time: others cannot answer, skip or
// refresh it; when the lease ends it is anyone's again.
func TestHeldByOnePerson(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := newQueue(t, Config{})
	q.lease = 400 * time.Millisecond
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 43)})
	p := nextAs(t, q, "alice", 0)
	if err := q.Answer(ctx, p.ID, "bob", "ab3d"); !errors.Is(err, ErrHeld) {
		t.Errorf("bob's answer: err = %v, want ErrHeld", err)
	}
	if err := q.Skip(ctx, p.ID, "bob"); !errors.Is(err, ErrHeld) {
		t.Errorf("bob's skip: err = %v, want ErrHeld", err)
	}
	if err := q.Refresh(ctx, p.ID, ""); !errors.Is(err, ErrHeld) {
		t.Errorf("anonymous refresh: err = %v, want ErrHeld", err)
	}
	time.Sleep(500 * time.Millisecond) // alice walked away
	if again := nextAs(t, q, "bob", 0); again.ID != p.ID {
		t.Fatalf("bob got %s, want the released %s", again.ID, p.ID)
	}
	if err := q.Answer(ctx, p.ID, "alice", "late"); !errors.Is(err, ErrHeld) {
		t.Errorf("alice's late answer: err = %v, want ErrHeld", err)
	}
	if err := q.Answer(ctx, p.ID, "bob", "ab3d"); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done); r.sol.Text != "ab3d" {
		t.Fatalf("Solve = %+v, %v", r.sol, r.err)
	}
}

func TestValidateActions(t *testing.T) {
	t.Parallel()
	pt := func(x, y float64, ms int) shixincheck.Point { return shixincheck.Point{X: x, Y: y, T: ms} }
	drag := func(n int) shixincheck.Action {
		a := shixincheck.Action{Type: shixincheck.ActionDrag}
		for i := range n {
			a.Points = append(a.Points, pt(float64(i%300), 100, i))
		}
		return a
	}
	click := func(x, y float64) shixincheck.Action {
		return shixincheck.Action{Type: shixincheck.ActionClick, Points: []shixincheck.Point{pt(x, y, 0)}}
	}
	typed := func(s string) shixincheck.Action {
		return shixincheck.Action{Type: shixincheck.ActionTypeText, Text: s}
	}
	many := func(a shixincheck.Action, n int) []shixincheck.Action {
		var as []shixincheck.Action
		for range n {
			as = append(as, a)
		}
		return as
	}
	good := map[string][]shixincheck.Action{
		"click":                {click(150, 60)},
		"click on the corners": {click(0, 0), click(300, 200)},
		"drag":                 aDrag,
		"drag, same ms":        {{Type: "drag", Points: []shixincheck.Point{pt(1, 1, 0), pt(2, 1, 0), pt(3, 1, 16)}}},
		"typed":                {typed("ab3d"), typed("验证")},
		"longest drags":        many(drag(maxDragPoints), maxPoints/maxDragPoints),
		"most actions":         many(click(1, 1), maxActions),
	}
	for name, as := range good {
		if err := validateActions(as, 300, 200); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string][]shixincheck.Action{
		"none":             nil,
		"too many":         many(click(1, 1), maxActions+1),
		"unknown type":     {{Type: "scroll", Points: []shixincheck.Point{pt(1, 1, 0)}}},
		"click, 2 points":  {{Type: "click", Points: []shixincheck.Point{pt(1, 1, 0), pt(2, 2, 5)}}},
		"click, no point":  {{Type: "click"}},
		"click with text":  {{Type: "click", Points: []shixincheck.Point{pt(1, 1, 0)}, Text: "a"}},
		"drag, 1 point":    {drag(1)},
		"drag too long":    {drag(maxDragPoints + 1)},
		"too many points":  many(drag(maxDragPoints), maxPoints/maxDragPoints+1),
		"left of picture":  {click(-0.1, 10)},
		"right of picture": {click(300.1, 10)},
		"below picture":    {click(10, 200.5)},
		"NaN":              {click(math.NaN(), 10)},
		"infinite":         {click(math.Inf(1), 10)},
		"time goes back":   {{Type: "drag", Points: []shixincheck.Point{pt(1, 1, 0), pt(2, 1, 30), pt(3, 1, 29)}}},
		"negative time":    {{Type: "drag", Points: []shixincheck.Point{pt(1, 1, -5), pt(2, 1, 30)}}},
		"endless drag":     {{Type: "drag", Points: []shixincheck.Point{pt(1, 1, 0), pt(2, 1, maxActionMillis+1)}}},
		"typed nothing":    {typed("")},
		"typed too much":   {typed(strings.Repeat("字", maxTypedRunes+1))},
		"typed control":    {typed("ab\n")},
		"typed bad UTF-8":  {typed("ab\xff")},
		"typed with point": {{Type: "type", Text: "a", Points: []shixincheck.Point{pt(1, 1, 0)}}},
	}
	for name, as := range bad {
		if err := validateActions(as, 300, 200); !errors.Is(err, ErrInvalidActions) {
			t.Errorf("%s: err = %v, want ErrInvalidActions", name, err)
		}
	}
}

// hookLog records the hooks' calls, as the metrics package would count them.
type hookLog struct {
	mu     sync.Mutex
	events []string
	rounds []time.Duration
	ended  []ended
}

type ended struct {
	site, outcome string
	rounds        int
	took          time.Duration
}

func (h *hookLog) hooks() Hooks {
	add := func(s string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, s)
	}
	return Hooks{
		Reported: func(site string, accepted bool) {
			add("reported " + site + map[bool]string{true: " accepted", false: " rejected"}[accepted])
		},
		Unanswered:        func(site string) { add("unanswered " + site) },
		VerificationAsked: func(site string) { add("asked " + site) },
		RoundAnswered: func(site string, took time.Duration) {
			add("round " + site)
			h.mu.Lock()
			h.rounds = append(h.rounds, took)
			h.mu.Unlock()
		},
		VerificationEnded: func(site, outcome string, rounds int, took time.Duration) {
			add("ended " + site + " " + outcome)
			h.mu.Lock()
			h.ended = append(h.ended, ended{site, outcome, rounds, took})
			h.mu.Unlock()
		},
		VerificationServed: func(site string, n int) { add("served " + site + " " + strings.Repeat("|", n)) },
	}
}

// await waits until the log holds event. Hooks run on the goroutine (or
// node) where their step happens: Solve's VerificationAsked is not ordered
// with a person's RoundAnswered, so a test that wants one order waits for it.
func (h *hookLog) await(t *testing.T, event string) {
	t.Helper()
	waitFor(t, event, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return slices.Contains(h.events, event)
	})
}

func (h *hookLog) take() ([]string, []time.Duration, []ended) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, r, d := h.events, h.rounds, h.ended
	h.events, h.rounds, h.ended = nil, nil, nil
	return e, r, d
}

func TestVerificationHooks(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var h hookLog
	q := newQueue(t, Config{AnswerTimeout: time.Second, Hooks: h.hooks()})
	// The person answers on another node, one without hooks: rounds are
	// counted where they are answered, the rest where the tab waits.
	reviewer := otherNode(t, q, Config{})

	// An interactive verification of two rounds, each looked at for 150 ms.
	start := time.Now()
	var last shixincheck.Solution
	for i := range 2 {
		done := startSolve(t, ctx, q, widget(t, "sess-H", byte(50+i)))
		p := nextAs(t, reviewer, "alice", 3*time.Second)
		time.Sleep(150 * time.Millisecond)
		if err := reviewer.Act(ctx, p.ID, "alice", aClick); err != nil {
			t.Fatal(err)
		}
		last = result(t, done).sol
	}
	wall := time.Since(start)
	if events, _, _ := h.take(); !reflect.DeepEqual(events, []string{"asked gkw"}) {
		t.Fatalf("tab node events = %q, want one verification asked", events)
	}
	q.ReportOutcome(ctx, last.ChallengeID, OutcomeExpired)
	q.ReportOutcome(ctx, last.ChallengeID, OutcomeAccepted) // a second verdict does not end it again
	q.Served(ctx, "sess-H", 3)
	q.Served(ctx, "sess-H", 9) // once only
	q.ReportOutcome(ctx, last.ChallengeID, "bogus")
	events, _, ends := h.take()
	want := []string{"ended gkw expired", "reported gkw accepted", "served gkw |||"}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q", events, want)
	}
	// The record keeps whole milliseconds: took may exceed the true span by 1ms.
	if e := ends[0]; e.rounds != 2 || e.took < 300*time.Millisecond || e.took > wall+time.Millisecond {
		t.Fatalf("ended = %+v, want 2 rounds, took between 300ms and %v", e, wall)
	}

	// A text challenge is a verification of its own.
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 60)})
	h.await(t, "asked classic") // before bob answers: the two hooks run on different goroutines
	taken := time.Now()
	p := nextAs(t, q, "bob", 0)
	time.Sleep(100 * time.Millisecond)
	if err := q.Answer(ctx, p.ID, "bob", "ab3d"); err != nil {
		t.Fatal(err)
	}
	answered := time.Since(taken)
	sol := result(t, done).sol
	q.ReportOutcome(ctx, sol.ChallengeID, OutcomeRejected)
	q.Served(ctx, sol.ChallengeID, 1)
	events, rounds, ends := h.take()
	want = []string{"asked classic", "round classic", "reported classic rejected", "ended classic rejected", "served classic |"}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q", events, want)
	}
	if rounds[0] < 100*time.Millisecond || rounds[0] > answered+time.Millisecond {
		t.Fatalf("round took %v, want between 100ms and %v", rounds[0], answered)
	}
	if ends[0].rounds != 1 || ends[0].took < 100*time.Millisecond {
		t.Fatalf("ended = %+v", ends[0])
	}

	// Refreshed, then nobody answers the new one: refreshed, then abandoned.
	done = solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 61)})
	p = nextAs(t, q, "bob", 0)
	if err := q.Refresh(ctx, p.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	result(t, done)
	done = solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 62)})
	result(t, done)
	// An interactive round nobody answers abandons its verification.
	done = solveAsync(t, ctx, q, widget(t, "sess-I", 63))
	result(t, done)
	q.Served(ctx, "sess-gone", 2)
	events, _, ends = h.take()
	want = []string{"asked classic", "ended classic refreshed", "asked classic", "unanswered classic", "ended classic abandoned",
		"asked gkw", "unanswered gkw", "ended gkw abandoned", "served unknown ||"}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q", events, want)
	}
	if e := ends[2]; e.rounds != 0 || e.took != 0 {
		t.Fatalf("abandoned = %+v, want no rounds and no time", e)
	}
	// Records of lone challenges nobody answered are gone; the session's has a TTL.
	keys, _ := q.rdb.Keys(ctx, q.prefix+"v:*").Result()
	for _, k := range keys {
		if strings.HasPrefix(k, q.prefix+"v:c:") && !strings.HasSuffix(k, sol.ChallengeID) {
			t.Errorf("left behind: %s", k)
		}
		if ttl, _ := q.rdb.PTTL(ctx, k).Result(); ttl <= 0 || ttl > verificationKeep {
			t.Errorf("%s: ttl %v", k, ttl)
		}
	}
}

// A round answered after its verification ended starts a new verification.
func TestRoundAfterEndIsNewVerification(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var h hookLog
	q := newQueue(t, Config{Hooks: h.hooks()})
	verify := func(seed byte, accepted bool) {
		t.Helper()
		done := startSolve(t, ctx, q, widget(t, "sess-R", seed))
		h.await(t, "asked gkw") // before alice answers: the two hooks run on different goroutines
		p := nextAs(t, q, "alice", 10*time.Second)
		if p.Round != 1 {
			t.Fatalf("round = %d, want 1 of a new verification", p.Round)
		}
		if err := q.Act(ctx, p.ID, "alice", aClick); err != nil {
			t.Fatal(err)
		}
		verdict := map[bool]string{true: OutcomeAccepted, false: OutcomeRejected}[accepted]
		q.ReportOutcome(ctx, result(t, done).sol.ChallengeID, verdict)
		events, _, ends := h.take()
		want := []string{"asked gkw", "round gkw", "reported gkw " + verdict, "ended gkw " + verdict}
		if !reflect.DeepEqual(events, want) || ends[0].rounds != 1 {
			t.Fatalf("events = %q, ends %+v; want %q with 1 round", events, ends, want)
		}
	}
	verify(64, false)
	// The tab tries again in the same session: a new verification, still alice's first.
	verify(65, true)
}

// The tab gives up on a verification before the site said yes or no: it
// ends abandoned, once, and that is no verdict on the person's answer.
func TestTabAbandonsVerification(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var h hookLog
	q := newQueue(t, Config{Hooks: h.hooks()})
	reviewer := otherNode(t, q, Config{}) // rounds are counted there: the tab node sees the rest

	// Two rounds answered by alice, then the tab gives up as its check ends.
	var last shixincheck.Solution
	for i := range 2 {
		done := startSolve(t, ctx, q, widget(t, "sess-A", byte(70+i)))
		p := nextAs(t, reviewer, "alice", 3*time.Second)
		if err := reviewer.Act(ctx, p.ID, "alice", aClick); err != nil {
			t.Fatal(err)
		}
		last = result(t, done).sol
	}
	ended, stop := context.WithCancel(ctx)
	stop() // the check is over: the report is recorded all the same
	q.ReportOutcome(ended, last.ChallengeID, OutcomeAbandoned)
	events, _, ends := h.take()
	if want := []string{"asked gkw", "ended gkw abandoned"}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q (no Reported: abandoned is no verdict)", events, want)
	}
	if ends[0].rounds != 2 {
		t.Fatalf("ended = %+v, want 2 rounds", ends[0])
	}
	if n, err := q.rdb.Exists(ctx, q.awaitKey(opHash("alice"))).Result(); err != nil || n != 0 {
		t.Fatalf("alice still awaits the session's next round: %d, %v", n, err)
	}
	// A later verdict on the same answer does not end the verification again.
	q.ReportOutcome(ctx, last.ChallengeID, OutcomeAccepted)
	q.ReportOutcome(ctx, last.ChallengeID, OutcomeAbandoned)
	events, _, _ = h.take()
	if want := []string{"reported gkw accepted"}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events after a late verdict = %q, want %q", events, want)
	}
	if outcome, err := q.rdb.HGet(ctx, q.verKey(verOf("sess-A", "")), "outcome").Result(); err != nil || outcome != OutcomeAbandoned {
		t.Fatalf("verification's outcome = %q, %v; want abandoned", outcome, err)
	}

	// A text challenge answered, then given up on: its record goes (no Served will come).
	done := solveAsync(t, ctx, q, shixincheck.Challenge{Site: "classic", Image: testPNG(t, 72)})
	p := nextAs(t, reviewer, "bob", 0)
	if err := reviewer.Answer(ctx, p.ID, "bob", "ab3d"); err != nil {
		t.Fatal(err)
	}
	sol := result(t, done).sol
	q.ReportOutcome(ctx, sol.ChallengeID, OutcomeAbandoned)
	q.ReportOutcome(ctx, sol.ChallengeID, OutcomeRejected)
	events, _, ends = h.take()
	if want := []string{"asked classic", "ended classic abandoned", "reported classic rejected"}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q", events, want)
	}
	if ends[0].rounds != 1 {
		t.Fatalf("ended = %+v, want 1 round", ends[0])
	}
	if n, _ := q.rdb.Exists(ctx, q.verKey(verOf("", sol.ChallengeID))).Result(); n != 0 {
		t.Fatal("the record of a lone challenge given up on is left behind")
	}

	// The check ends while a round waits for a person: abandoned too.
	rctx, stopRound := context.WithCancel(ctx)
	done = solveAsync(t, rctx, q, widget(t, "sess-B", 73))
	stopRound()
	if r := result(t, done); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Solve = %v, want context canceled", r.err)
	}
	events, _, ends = h.take()
	if want := []string{"asked gkw", "ended gkw abandoned"}; !reflect.DeepEqual(events, want) {
		t.Fatalf("events = %q, want %q (not unanswered: nobody ran out of time)", events, want)
	}
	if ends[0].rounds != 0 {
		t.Fatalf("ended = %+v, want no round answered", ends[0])
	}
}
