// Package captcha relays the court site's captchas to people. A browser tab
// that meets a captcha calls Solve, which posts a picture as a challenge in
// Redis and waits; a person on the review page (served by any node sharing the
// same Redis) takes the challenge with Next and answers it (typed text, or
// clicks and drags on the picture), skips it or asks for a new picture. Only
// the picture, its size and the site's own ids travel through here, never
// candidate data.
//
// An interactive verification takes rounds: the tab replays a person's
// actions, takes a new picture and calls Solve again with the same Session.
// Each round is offered first to the person who answered the previous one.
package captcha

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shixincheck/shixincheck"
)

const (
	defaultPrefix        = "shixincheck:captcha:"
	defaultAnswerTimeout = 5 * time.Minute
	defaultAffinityWait  = 10 * time.Second

	// ttlMargin keeps a challenge's keys a bit longer than Solve waits, so
	// they outlive the wait but vanish if the waiting node dies.
	ttlMargin = time.Minute
	// claimLease is how long a challenge taken by Next stays with that person
	// before it goes back to the queue (the person closed the page, say).
	claimLease = 90 * time.Second
	// reportWindow keeps an answered challenge's site for Report.
	reportWindow = 10 * time.Minute
	// verificationKeep keeps a verification's record (who answered, rounds,
	// times, outcome) after its last change, for Report and Served, which
	// may come long after the last round (a token serves many searches).
	verificationKeep = 6 * time.Hour
	// pollSlice bounds each blocking Redis call, so a cancelled context is
	// noticed within about this long (go-redis counts BLPOP timeouts in
	// whole seconds).
	pollSlice = time.Second
	// cleanupTimeout bounds the cleanup done after the caller's context ended.
	cleanupTimeout = 5 * time.Second

	maxSide       = 4096 // largest Width or Height of an interactive challenge, CSS px
	maxSessionLen = 128
)

// Messages on a challenge's answer list.
const (
	msgAnswerPrefix  = "answer:"
	msgActionsPrefix = "actions:"
	msgRefresh       = "refresh"
)

// Outcomes of a verification, as hooks receive them.
const (
	OutcomeAccepted  = "accepted"  // the site accepted it
	OutcomeRejected  = "rejected"  // the site refused it
	OutcomeExpired   = "expired"   // the site said the verification expired before it was completed
	OutcomeAbandoned = "abandoned" // no verdict: a round nobody answered in time, or the tab gave up before the site said yes or no
	OutcomeRefreshed = "refreshed" // a text challenge the person asked to replace
)

var (
	// ErrUnknownChallenge: the challenge expired, was answered already, or never existed.
	ErrUnknownChallenge = errors.New("captcha: unknown or expired challenge")
	// ErrEmptyAnswer: an answer with no text.
	ErrEmptyAnswer = errors.New("captcha: empty answer")
	// ErrHeld: another person holds the challenge.
	ErrHeld = errors.New("captcha: challenge held by another person")
	// ErrWrongKind: text for an interactive challenge, or actions for a text one.
	ErrWrongKind = errors.New("captcha: answer does not fit the challenge's kind")
	// ErrInvalidActions: actions out of shape, out of the picture or too many.
	ErrInvalidActions = errors.New("captcha: invalid actions")
)

// Config configures a Queue. Zero values take the defaults.
type Config struct {
	Prefix        string        // Redis key prefix, default "shixincheck:captcha:"
	AnswerTimeout time.Duration // how long Solve waits for a person, default 5m
	// AffinityWait is how long a session's next round waits for the person
	// who answered the previous round before anyone may take it, default 10s.
	AffinityWait time.Duration
	// Operator tells who is asking in an HTTP request: an opaque id, never
	// shown or logged. Default: the X-Captcha-Operator header the review page
	// sends (a random id per browser tab). A version with accounts returns
	// the logged-in account here. "" is an anonymous person: no affinity.
	Operator func(*http.Request) string
	// CSRFToken gives the review page the token its POSTs send back in the
	// X-CSRF-Token header, for a daemon with log-in sessions; nil for none.
	CSRFToken func(*http.Request) string
	Hooks     Hooks
}

// Hooks are installed by the metrics package from outside; any may be nil.
// A verification is the rounds of one Session, or one challenge without a Session.
type Hooks struct {
	Answered   func(site string, wait time.Duration) // a person answered; wait = time from Solve to answer
	Reported   func(site string, accepted bool)      // the site accepted / rejected an answer
	Unanswered func(site string)                     // Solve timed out

	VerificationAsked func(site string)                     // the first round of a verification was posted
	RoundAnswered     func(site string, took time.Duration) // a person answered a round; took = shown to answered
	// VerificationEnded: its outcome (Outcome* constants), the rounds people
	// answered, and took = from the first answered round shown to the last
	// one answered (0 when no round was answered).
	VerificationEnded  func(site, outcome string, rounds int, took time.Duration)
	VerificationServed func(site string, candidates int) // candidates checked under one verification
}

// Pending is a challenge handed to a person.
type Pending struct {
	ID        string                    `json:"id"`
	Site      string                    `json:"site"`
	SiteRef   string                    `json:"site_ref,omitempty"` // the site's own captcha id: no personal data; lets a simulator test act as the person
	Kind      shixincheck.ChallengeKind `json:"kind"`
	Width     float64                   `json:"width,omitempty"`   // interactive: the picture's width in CSS px, the space of action points
	Height    float64                   `json:"height,omitempty"`  // interactive: its height
	Session   string                    `json:"session,omitempty"` // interactive: the verification this round belongs to
	Round     int                       `json:"round"`             // 1 for a verification's first picture, then 2, 3…
	Image     []byte                    `json:"-"`
	CreatedAt time.Time                 `json:"created_at"`
	ExpiresAt time.Time                 `json:"expires_at"`
}

// Queue is the challenge queue shared by all nodes through Redis.
//
// Keys under Prefix:
//
//	pending   list of challenge ids waiting for anyone, oldest first
//	o:<op>    list of ids offered first to one operator (a session's next round)
//	x:<op>    string, short-lived: the session whose next round the operator awaits
//	claimed   sorted set: ids taken by Next, scored by the end of their lease (unix µs)
//	c:<id>    hash: site, ref, image, created, expires (unix ms), state, outcome,
//	          kind, width, height, session, ver, round, aff, holder, shown (unix ms)
//	a:<id>    list: the message for the waiting Solve ("answer:…", "actions:…", "refresh")
//	v:<ver>   hash of a verification (ver "s:<session>" or "c:<id>"): site, session,
//	          posted, op, rounds, first_shown, last_answered (unix ms), outcome, served
//
// <op> is a hash of the operator id, so no account name lands in a key.
// For Redis Cluster, give Prefix a hash tag (e.g. "{shixincheck:captcha}:")
// so that every key lands in one slot, as the scripts need.
type Queue struct {
	rdb      redis.UniversalClient
	prefix   string
	wait     time.Duration
	lease    time.Duration
	affinity time.Duration
	operator func(*http.Request) string
	csrf     func(*http.Request) string
	hooks    Hooks
	page     *template.Template
}

// New returns a Queue on rdb.
func New(rdb redis.UniversalClient, cfg Config) *Queue {
	if cfg.Prefix == "" {
		cfg.Prefix = defaultPrefix
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = defaultAnswerTimeout
	}
	if cfg.AffinityWait <= 0 {
		cfg.AffinityWait = defaultAffinityWait
	}
	if cfg.Operator == nil {
		cfg.Operator = operatorFromHeader
	}
	return &Queue{
		rdb:      rdb,
		prefix:   cfg.Prefix,
		wait:     cfg.AnswerTimeout,
		lease:    claimLease,
		affinity: cfg.AffinityWait,
		operator: cfg.Operator,
		csrf:     cfg.CSRFToken,
		hooks:    cfg.Hooks,
		page:     template.Must(template.ParseFS(assets, "review.html")),
	}
}

func (q *Queue) pendingKey() string             { return q.prefix + "pending" }
func (q *Queue) claimedKey() string             { return q.prefix + "claimed" }
func (q *Queue) challengeKey(id string) string  { return q.prefix + "c:" + id }
func (q *Queue) answerKey(id string) string     { return q.prefix + "a:" + id }
func (q *Queue) verKey(ver string) string       { return q.prefix + "v:" + ver }
func (q *Queue) ownKey(op string) string        { return q.prefix + "o:" + op }
func (q *Queue) awaitKey(op string) string      { return q.prefix + "x:" + op }
func (q *Queue) waitingKey(batch string) string { return q.prefix + "w:" + batch }

// ttl is the lifetime of a challenge's keys.
func (q *Queue) ttl() time.Duration { return q.wait + ttlMargin }

// opHash turns an operator id into the token used in keys and hashes ("" stays "").
func opHash(operator string) string {
	if operator == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(operator))
	return hex.EncodeToString(sum[:16])
}

// verOf names the verification a challenge belongs to.
func verOf(session, id string) string {
	if session != "" {
		return "s:" + session
	}
	return "c:" + id
}

// Challenge states kept in the hash.
const (
	statePending  = "pending"
	stateAnswered = "answered"
)

// postScript posts a challenge: its hash, its verification's record, and
// its id on a list (pending, or the list of the person it is offered to). A
// round posted after its verification ended starts a new verification.
// KEYS: challenge, verification, list. ARGV: id, challenge ttl ms,
// verification keep ms, site, session, '1' when the list is a person's, then
// the challenge's field/value pairs. Returns the round number.
var postScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], 'outcome') == 1 then
  local op = redis.call('HGET', KEYS[2], 'op')
  redis.call('DEL', KEYS[2])
  if op then redis.call('HSET', KEYS[2], 'op', op) end
end
local round = redis.call('HINCRBY', KEYS[2], 'posted', 1)
redis.call('HSET', KEYS[2], 'site', ARGV[4], 'session', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'round', round, unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('RPUSH', KEYS[3], ARGV[1])
if ARGV[6] == '1' then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
return round
`)

// promoteScript hands a round nobody took from its person's list to
// everyone, at the front of the queue: its session is under way.
// KEYS: challenge, person's list, pending. ARGV: id.
var promoteScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
if redis.call('LREM', KEYS[2], 0, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[3], ARGV[1])
return 1
`)

// answerScript delivers a message to the waiting Solve, once: only a pending
// challenge accepts one, and only from the person holding it (or anyone when
// nobody does). An answered challenge keeps its hash (without the image) for
// Report; a refreshed one is deleted. The verification remembers who acted,
// so that its next round is offered to them, and the round's times.
// KEYS: challenge, answers, pending, claimed, verification[, person's awaited session].
// ARGV: id, message, answers ttl ms, keep ms (0: delete), operator, now ms,
// verification keep ms, '1' when it answers a round, session, affinity ms.
// Returns {1, shown ms or ”}, {0} unknown, {-1} held by another.
var answerScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return {0} end
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder and holder ~= '' and holder ~= ARGV[5] then return {-1} end
local shown = redis.call('HGET', KEYS[1], 'shown') or ''
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[4] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'state', 'answered')
  redis.call('HDEL', KEYS[1], 'image')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[5], 'op', ARGV[5])
else
  redis.call('HDEL', KEYS[5], 'op')
end
if ARGV[8] == '1' then
  redis.call('HINCRBY', KEYS[5], 'rounds', 1)
  if shown ~= '' then redis.call('HSETNX', KEYS[5], 'first_shown', shown) end
  redis.call('HSET', KEYS[5], 'last_answered', ARGV[6])
end
redis.call('PEXPIRE', KEYS[5], ARGV[7])
if KEYS[6] then redis.call('SET', KEYS[6], ARGV[9], 'PX', ARGV[10]) end
return {1, shown}
`)

// abandonScript ends a Solve's wait: it takes a message that arrived at the
// last moment, else removes the challenge everywhere.
// KEYS: challenge, answers, pending, claimed[, person's list]. ARGV: id.
var abandonScript = redis.NewScript(`
local msg = redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if KEYS[5] then redis.call('LREM', KEYS[5], 0, ARGV[1]) end
if msg then return msg end
redis.call('DEL', KEYS[1])
return false
`)

// claimScript gives a popped id to the person asking, if it is still pending
// and nobody holds it (a stale copy on another list).
// KEYS: challenge, claimed. ARGV: id, lease end µs, operator, now ms.
var claimScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return false end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return false end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[1], 'holder', ARGV[3], 'shown', ARGV[4])
return redis.call('HMGET', KEYS[1], 'site', 'image', 'created', 'expires', 'ref',
  'kind', 'width', 'height', 'session', 'round')
`)

// releaseScript puts a claimed id back at the front of the queue when its
// lease ended by ARGV[2] (µs); it is the oldest and was not answered.
// KEYS: challenge, pending, claimed. ARGV: id, lease end limit µs.
var releaseScript = redis.NewScript(`
local until_ms = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not until_ms or tonumber(until_ms) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HDEL', KEYS[1], 'holder', 'shown')
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
`)

// skipScript moves a pending challenge to the end of the queue; the person
// skipping it no longer awaits its session.
// KEYS: challenge, pending, claimed[, person's awaited session]. ARGV: id, operator.
// Returns 1, 0 unknown, -1 held by another.
var skipScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
local holder = redis.call('HGET', KEYS[1], 'holder')
if holder and holder ~= '' and holder ~= ARGV[2] then return -1 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], 'holder', 'shown')
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
if KEYS[4] and redis.call('GET', KEYS[4]) == redis.call('HGET', KEYS[1], 'session') then
  redis.call('DEL', KEYS[4])
end
return 1
`)

// reportScript records the outcome reported for an answer and returns the
// challenge's site and verification.
// KEYS: challenge. ARGV: outcome.
var reportScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'outcome', ARGV[1])
return redis.call('HMGET', KEYS[1], 'site', 'ver')
`)

// endScript records a verification's outcome, once, and returns what the
// hooks need: site, rounds, first_shown, last_answered, op, session.
// KEYS: verification. ARGV: outcome, keep ms (0: delete).
var endScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HSETNX', KEYS[1], 'outcome', ARGV[1]) == 0 then return false end
local vals = redis.call('HMGET', KEYS[1], 'site', 'rounds', 'first_shown', 'last_answered', 'op', 'session')
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return vals
`)

// unawaitScript ends a person's wait for a session's next round.
// KEYS: person's awaited session. ARGV: session.
var unawaitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// servedScript records, once, how many candidates a verification served.
// KEYS: the verification's possible records (session's, then challenge's).
// ARGV: n. Returns {1, site} recorded, {0} already recorded, {2} unknown.
var servedScript = redis.NewScript(`
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('HSETNX', KEYS[i], 'served', ARGV[1]) == 0 then return {0} end
    return {1, redis.call('HGET', KEYS[i], 'site')}
  end
end
return {2}
`)

// Solve posts the challenge and waits until a person answers it, asks for a
// new picture (shixincheck.ErrCaptchaRefresh) or AnswerTimeout passes
// (an error of kind KindCaptchaUnanswered). An interactive challenge
// (Kind ChallengeInteractive) needs its Width and Height; its answer is
// Solution.Actions, in that CSS space. Rounds of one verification share a
// Session, unique to that verification.
func (q *Queue) Solve(ctx context.Context, ch shixincheck.Challenge) (shixincheck.Solution, error) {
	if err := checkChallenge(&ch); err != nil {
		return shixincheck.Solution{}, err
	}
	id := newID()
	start := time.Now()
	expires := start.Add(q.wait)
	ver := verOf(ch.Session, id)

	// The person who answered the session's previous round is offered this one first.
	var aff string
	if ch.Session != "" {
		op, err := q.rdb.HGet(ctx, q.verKey(ver), "op").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return shixincheck.Solution{}, fmt.Errorf("captcha: read session: %w", err)
		}
		aff = op
	}
	list, personal := q.pendingKey(), "0"
	if aff != "" {
		list, personal = q.ownKey(aff), "1"
	}
	round, err := postScript.Run(ctx, q.rdb, []string{q.challengeKey(id), q.verKey(ver), list},
		id, q.ttl().Milliseconds(), verificationKeep.Milliseconds(), ch.Site, ch.Session, personal,
		"site", ch.Site,
		"ref", ch.SiteRef,
		"image", ch.Image,
		"created", start.UnixMilli(),
		"expires", expires.UnixMilli(),
		"state", statePending,
		"kind", string(ch.Kind),
		"width", formatFloat(ch.Width),
		"height", formatFloat(ch.Height),
		"session", ch.Session,
		"ver", ver,
		"aff", aff,
	).Int()
	if err != nil {
		return shixincheck.Solution{}, fmt.Errorf("captcha: post challenge: %w", err)
	}
	if round == 1 && q.hooks.VerificationAsked != nil {
		q.hooks.VerificationAsked(ch.Site)
	}

	if batch := shixincheck.BatchOf(ctx); batch != "" {
		defer q.markWaiting(ctx, batch, id, expires)()
	}
	msg, err := q.await(ctx, id, expires, aff, start.Add(q.affinity))
	if err != nil {
		// The tab stopped waiting (its check ended): no round of this
		// verification will follow.
		q.endVerification(ctx, ver, OutcomeAbandoned)
		return shixincheck.Solution{}, err
	}
	switch {
	case msg == "":
		if q.hooks.Unanswered != nil {
			q.hooks.Unanswered(ch.Site)
		}
		q.endVerification(ctx, ver, OutcomeAbandoned)
		return shixincheck.Solution{}, shixincheck.Errorf(shixincheck.KindCaptchaUnanswered,
			"captcha: no answer within %s", q.wait)
	case msg == msgRefresh:
		if ch.Session == "" {
			q.endVerification(ctx, ver, OutcomeRefreshed)
		}
		return shixincheck.Solution{}, shixincheck.ErrCaptchaRefresh
	}
	sol := shixincheck.Solution{ChallengeID: id}
	if text, ok := strings.CutPrefix(msg, msgAnswerPrefix); ok {
		sol.Text = text
	} else if js, ok := strings.CutPrefix(msg, msgActionsPrefix); ok {
		if err := json.Unmarshal([]byte(js), &sol.Actions); err != nil {
			return shixincheck.Solution{}, fmt.Errorf("captcha: actions of challenge %s: %w", id, err)
		}
	} else {
		return shixincheck.Solution{}, fmt.Errorf("captcha: unexpected message on challenge %s", id)
	}
	if q.hooks.Answered != nil {
		q.hooks.Answered(ch.Site, time.Since(start))
	}
	return sol, nil
}

// checkChallenge refuses a challenge a person could not answer, and gives an
// unset Kind its default, text.
func checkChallenge(ch *shixincheck.Challenge) error {
	if len(ch.Image) == 0 {
		return errors.New("captcha: challenge has no image")
	}
	switch ch.Kind {
	case "":
		ch.Kind = shixincheck.ChallengeText
	case shixincheck.ChallengeText:
	case shixincheck.ChallengeInteractive:
		if !(ch.Width > 0 && ch.Width <= maxSide && ch.Height > 0 && ch.Height <= maxSide) {
			return fmt.Errorf("captcha: interactive challenge of size %gx%g", ch.Width, ch.Height)
		}
	default:
		return fmt.Errorf("captcha: unknown challenge kind %q", ch.Kind)
	}
	if !validSession(ch.Session) {
		return errors.New("captcha: session must be at most 128 printable ASCII characters without spaces")
	}
	return nil
}

// validSession allows "" (no session) and short printable ASCII ids.
func validSession(s string) bool {
	if len(s) > maxSessionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// await blocks on the challenge's answer list until a message arrives or the
// challenge expires ("" then). A round offered to one person (aff) goes to
// everyone at promoteAt. On any other end it removes the challenge.
func (q *Queue) await(ctx context.Context, id string, expires time.Time, aff string, promoteAt time.Time) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			q.abandon(ctx, id, aff)
			return "", fmt.Errorf("captcha: waiting for an answer: %w", err)
		}
		if time.Now().After(expires) {
			msg, err := q.abandon(ctx, id, aff)
			if err != nil {
				return "", fmt.Errorf("captcha: end of wait: %w", err)
			}
			return msg, nil
		}
		if aff != "" && !time.Now().Before(promoteAt) {
			keys := []string{q.challengeKey(id), q.ownKey(aff), q.pendingKey()}
			if err := promoteScript.Run(ctx, q.rdb, keys, id).Err(); err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "captcha: offering a round to everyone failed", "challenge", id, "err", err)
			}
			aff = ""
		}
		res, err := q.rdb.BLPop(ctx, pollSlice, q.answerKey(id)).Result()
		switch {
		case err == nil:
			return res[1], nil
		case errors.Is(err, redis.Nil), ctx.Err() != nil:
			continue
		default:
			q.abandon(ctx, id, aff)
			return "", fmt.Errorf("captcha: waiting for an answer: %w", err)
		}
	}
}

// abandon removes a challenge whose Solve stops waiting, and returns a
// message that arrived meanwhile ("" if none). It runs even when ctx is done.
func (q *Queue) abandon(ctx context.Context, id, aff string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	keys := []string{q.challengeKey(id), q.answerKey(id), q.pendingKey(), q.claimedKey()}
	if aff != "" {
		keys = append(keys, q.ownKey(aff))
	}
	msg, err := abandonScript.Run(ctx, q.rdb, keys, id).Text()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		slog.WarnContext(ctx, "captcha: cleanup of challenge failed", "challenge", id, "err", err)
		return "", err
	}
	return msg, nil
}

// ReportOutcome records how the verification that challengeID (its last
// answered round) belongs to ended: the site's word, "accepted", "rejected"
// or "expired" (the site said the verification expired before it was
// completed), or "abandoned" when the tab gave up on it before the site said
// yes or no (a page error, a timeout, too many pictures, the check
// cancelled). A verification ends once: the first outcome stands. Only
// accepted and rejected judge the person's answer (the Reported hook). It
// records even when ctx is done (the check that gives up may be ending) and
// never fails the caller: errors are only logged.
func (q *Queue) ReportOutcome(ctx context.Context, challengeID, outcome string) {
	switch outcome {
	case OutcomeAccepted, OutcomeRejected, OutcomeExpired, OutcomeAbandoned:
	default:
		slog.WarnContext(ctx, "captcha: report with an unknown outcome ignored", "outcome", outcome)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	site, ver := "unknown", ""
	if validID(challengeID) {
		vals, err := reportScript.Run(ctx, q.rdb, []string{q.challengeKey(challengeID)}, outcome).Slice()
		switch {
		case err == nil:
			site, ver = str(vals, 0), str(vals, 1)
		case errors.Is(err, redis.Nil):
			// Reported after the report window: the hook still counts it.
		default:
			slog.WarnContext(ctx, "captcha: recording a report failed", "challenge", challengeID, "err", err)
		}
	}
	if q.hooks.Reported != nil && (outcome == OutcomeAccepted || outcome == OutcomeRejected) {
		q.hooks.Reported(site, outcome == OutcomeAccepted)
	}
	if ver == "" && validID(challengeID) {
		ver = verOf("", challengeID) // a challenge whose hash is gone: its own verification, if any
	}
	if ver != "" {
		q.endVerification(ctx, ver, outcome)
	}
}

// endVerification records a verification's outcome once, frees the person
// who awaited its next round, and calls the hook. Errors are only logged.
func (q *Queue) endVerification(ctx context.Context, ver, outcome string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	keep := verificationKeep
	if strings.HasPrefix(ver, "c:") && (outcome == OutcomeAbandoned || outcome == OutcomeRefreshed) {
		keep = 0 // a lone challenge that ended without a verdict served no search: no Served will come
	}
	vals, err := endScript.Run(ctx, q.rdb, []string{q.verKey(ver)}, outcome, keep.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return // unknown, or ended already
	}
	if err != nil {
		slog.WarnContext(ctx, "captcha: recording a verification's end failed", "err", err)
		return
	}
	site, op, session := str(vals, 0), str(vals, 4), str(vals, 5)
	rounds, _ := strconv.Atoi(str(vals, 1))
	var took time.Duration
	first, err1 := strconv.ParseInt(str(vals, 2), 10, 64)
	last, err2 := strconv.ParseInt(str(vals, 3), 10, 64)
	if err1 == nil && err2 == nil && last >= first {
		took = time.Duration(last-first) * time.Millisecond
	}
	if op != "" && session != "" {
		if err := unawaitScript.Run(ctx, q.rdb, []string{q.awaitKey(op)}, session).Err(); err != nil {
			slog.WarnContext(ctx, "captcha: freeing the person of a session failed", "err", err)
		}
	}
	if q.hooks.VerificationEnded != nil {
		q.hooks.VerificationEnded(site, outcome, rounds, took)
	}
}

// Served records how many candidates were checked under one verification:
// verification is the Session of an interactive challenge, or the
// ChallengeID of a challenge without one. Call it once, when the
// verification is used up (the site let it expire, or the tab is done);
// later calls are ignored. It never fails the caller.
func (q *Queue) Served(ctx context.Context, verification string, n int) {
	if verification == "" || !validSession(verification) || n < 0 {
		slog.WarnContext(ctx, "captcha: served count with a bad verification or count ignored", "n", n)
		return
	}
	keys := []string{q.verKey(verOf(verification, ""))}
	if validID(verification) {
		keys = append(keys, q.verKey(verOf("", verification)))
	}
	vals, err := servedScript.Run(ctx, q.rdb, keys, n).Slice()
	if err != nil {
		slog.WarnContext(ctx, "captcha: recording a served count failed", "err", err)
		return
	}
	site := "unknown" // the record expired: the hook still counts it
	switch status, _ := vals[0].(int64); status {
	case 0:
		return
	case 1:
		site = str(vals, 1)
	}
	if q.hooks.VerificationServed != nil {
		q.hooks.VerificationServed(site, n)
	}
}

// Next takes the next challenge for operator (an opaque id; "" for an
// anonymous person), waiting up to wait for one; false when none came. A
// round offered to this operator comes first; right after answering a
// session's round, the operator waits for that session's next round only,
// for AffinityWait or until the verification ends. The challenge is the
// caller's until it is answered, skipped or refreshed, or its lease ends.
func (q *Queue) Next(ctx context.Context, operator string, wait time.Duration) (Pending, bool, error) {
	op := opHash(operator)
	deadline := time.Now().Add(wait)
	for {
		if err := ctx.Err(); err != nil {
			return Pending{}, false, fmt.Errorf("captcha: next: %w", err)
		}
		if err := q.releaseExpired(ctx); err != nil {
			return Pending{}, false, err
		}
		keys, err := q.nextKeys(ctx, op)
		if err != nil {
			return Pending{}, false, err
		}
		last := !time.Now().Before(deadline)
		var id string
		if last {
			id, err = q.popFirst(ctx, keys)
		} else {
			var res []string
			res, err = q.rdb.BLPop(ctx, pollSlice, keys...).Result()
			if err == nil {
				id = res[1]
			}
		}
		switch {
		case errors.Is(err, redis.Nil):
			if last {
				return Pending{}, false, nil
			}
			continue
		case err != nil:
			if ctx.Err() != nil {
				continue
			}
			return Pending{}, false, fmt.Errorf("captcha: next: %w", err)
		}
		// The id is off the list now: claim it even if ctx just ended, or it is lost.
		p, ok, err := q.claim(context.WithoutCancel(ctx), id, op)
		if err != nil {
			return Pending{}, false, err
		}
		if ok {
			return p, true, nil
		}
		// A dead id (answered, refreshed, expired, held): try the next one.
	}
}

// nextKeys lists the lists Next takes from, in order: the operator's own,
// then everyone's, unless the operator awaits a session's next round.
func (q *Queue) nextKeys(ctx context.Context, op string) ([]string, error) {
	if op == "" {
		return []string{q.pendingKey()}, nil
	}
	n, err := q.rdb.Exists(ctx, q.awaitKey(op)).Result()
	if err != nil {
		return nil, fmt.Errorf("captcha: next: %w", err)
	}
	if n > 0 {
		return []string{q.ownKey(op)}, nil
	}
	return []string{q.ownKey(op), q.pendingKey()}, nil
}

// popFirst pops from the first non-empty list; redis.Nil when all are empty.
func (q *Queue) popFirst(ctx context.Context, keys []string) (string, error) {
	for _, k := range keys {
		id, err := q.rdb.LPop(ctx, k).Result()
		if !errors.Is(err, redis.Nil) {
			return id, err
		}
	}
	return "", redis.Nil
}

func (q *Queue) claim(ctx context.Context, id, op string) (Pending, bool, error) {
	if !validID(id) {
		return Pending{}, false, nil
	}
	now := time.Now()
	until := now.Add(q.lease).UnixMicro()
	vals, err := claimScript.Run(ctx, q.rdb, []string{q.challengeKey(id), q.claimedKey()},
		id, until, op, now.UnixMilli()).Slice()
	if errors.Is(err, redis.Nil) {
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, fmt.Errorf("captcha: claim challenge: %w", err)
	}
	p := Pending{
		ID:      id,
		Site:    str(vals, 0),
		Image:   []byte(str(vals, 1)),
		SiteRef: str(vals, 4),
		Kind:    shixincheck.ChallengeKind(str(vals, 5)),
		Session: str(vals, 8),
	}
	if p.Kind == "" {
		p.Kind = shixincheck.ChallengeText
	}
	if p.Kind == shixincheck.ChallengeInteractive {
		p.Width, _ = strconv.ParseFloat(str(vals, 6), 64)
		p.Height, _ = strconv.ParseFloat(str(vals, 7), 64)
	}
	p.Round, _ = strconv.Atoi(str(vals, 9))
	if ms, err := strconv.ParseInt(str(vals, 2), 10, 64); err == nil {
		p.CreatedAt = time.UnixMilli(ms)
	}
	if ms, err := strconv.ParseInt(str(vals, 3), 10, 64); err == nil {
		p.ExpiresAt = time.UnixMilli(ms)
	}
	return p, true, nil
}

// releaseExpired returns challenges whose lease ended to the front of the queue.
func (q *Queue) releaseExpired(ctx context.Context) error {
	now := time.Now().UnixMicro()
	ids, err := q.rdb.ZRangeByScore(ctx, q.claimedKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now, 10), Count: 100,
	}).Result()
	if err != nil {
		return fmt.Errorf("captcha: expired claims: %w", err)
	}
	// Newest first, so that the oldest ends up at the front.
	for i := len(ids) - 1; i >= 0; i-- {
		if err := q.release(ctx, ids[i], now); err != nil {
			return err
		}
	}
	return nil
}

// release puts a claimed challenge back at the front of the queue if its
// lease ends no later than limit (unix µs).
func (q *Queue) release(ctx context.Context, id string, limit int64) error {
	keys := []string{q.challengeKey(id), q.pendingKey(), q.claimedKey()}
	if err := releaseScript.Run(ctx, q.rdb, keys, id, limit).Err(); err != nil {
		return fmt.Errorf("captcha: release challenge: %w", err)
	}
	return nil
}

// unclaim gives back a challenge that Next took for a person who is gone.
func (q *Queue) unclaim(ctx context.Context, id string) error {
	return q.release(ctx, id, math.MaxInt64)
}

// Answer relays a person's typed answer to a text challenge to the waiting Solve.
func (q *Queue) Answer(ctx context.Context, id, operator, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return ErrEmptyAnswer
	}
	c, err := q.challenge(ctx, id)
	if err != nil {
		return err
	}
	if c.kind != shixincheck.ChallengeText {
		return ErrWrongKind
	}
	return q.deliver(ctx, c, operator, msgAnswerPrefix+text, reportWindow, true)
}

// Act relays a person's actions on an interactive challenge's picture to the
// waiting Solve, once they are checked against the picture's size.
func (q *Queue) Act(ctx context.Context, id, operator string, actions []shixincheck.Action) error {
	c, err := q.challenge(ctx, id)
	if err != nil {
		return err
	}
	if c.kind != shixincheck.ChallengeInteractive {
		return ErrWrongKind
	}
	if err := validateActions(actions, c.width, c.height); err != nil {
		return err
	}
	js, err := json.Marshal(actions)
	if err != nil {
		return fmt.Errorf("captcha: encode actions: %w", err)
	}
	return q.deliver(ctx, c, operator, msgActionsPrefix+string(js), reportWindow, true)
}

// Refresh makes the waiting Solve return shixincheck.ErrCaptchaRefresh; the
// tab then shows a new picture and posts a new challenge (for an interactive
// one, the session's next round, offered to the same person).
func (q *Queue) Refresh(ctx context.Context, id, operator string) error {
	c, err := q.challenge(ctx, id)
	if err != nil {
		return err
	}
	return q.deliver(ctx, c, operator, msgRefresh, 0, false)
}

// stored is what an answer needs to know of its challenge.
type stored struct {
	id, site, ver, session string
	kind                   shixincheck.ChallengeKind
	width, height          float64
}

func (q *Queue) challenge(ctx context.Context, id string) (stored, error) {
	if !validID(id) {
		return stored{}, ErrUnknownChallenge
	}
	vals, err := q.rdb.HMGet(ctx, q.challengeKey(id), "state", "site", "kind", "width", "height", "session", "ver").Result()
	if err != nil {
		return stored{}, fmt.Errorf("captcha: read challenge: %w", err)
	}
	if str(vals, 0) != statePending {
		return stored{}, ErrUnknownChallenge
	}
	c := stored{id: id, site: str(vals, 1), kind: shixincheck.ChallengeKind(str(vals, 2)), session: str(vals, 5), ver: str(vals, 6)}
	if c.kind == "" {
		c.kind = shixincheck.ChallengeText
	}
	if c.ver == "" {
		c.ver = verOf(c.session, id)
	}
	c.width, _ = strconv.ParseFloat(str(vals, 3), 64)
	c.height, _ = strconv.ParseFloat(str(vals, 4), 64)
	return c, nil
}

func (q *Queue) deliver(ctx context.Context, c stored, operator, msg string, keep time.Duration, round bool) error {
	op := opHash(operator)
	now := time.Now()
	keys := []string{q.challengeKey(c.id), q.answerKey(c.id), q.pendingKey(), q.claimedKey(), q.verKey(c.ver)}
	if op != "" && c.session != "" {
		keys = append(keys, q.awaitKey(op))
	}
	isRound := "0"
	if round {
		isRound = "1"
	}
	vals, err := answerScript.Run(ctx, q.rdb, keys, c.id, msg, q.ttl().Milliseconds(), keep.Milliseconds(),
		op, now.UnixMilli(), verificationKeep.Milliseconds(), isRound, c.session, q.affinity.Milliseconds()).Slice()
	if err != nil {
		return fmt.Errorf("captcha: deliver answer: %w", err)
	}
	switch status, _ := vals[0].(int64); status {
	case 0:
		return ErrUnknownChallenge
	case -1:
		return ErrHeld
	}
	if shown, err := strconv.ParseInt(str(vals, 1), 10, 64); err == nil && round && q.hooks.RoundAnswered != nil {
		q.hooks.RoundAnswered(c.site, now.Sub(time.UnixMilli(shown)))
	}
	return nil
}

// Skip puts a challenge back at the end of the queue, for another person or later.
func (q *Queue) Skip(ctx context.Context, id, operator string) error {
	if !validID(id) {
		return ErrUnknownChallenge
	}
	op := opHash(operator)
	keys := []string{q.challengeKey(id), q.pendingKey(), q.claimedKey()}
	if op != "" {
		keys = append(keys, q.awaitKey(op))
	}
	n, err := skipScript.Run(ctx, q.rdb, keys, id, op).Int()
	if err != nil {
		return fmt.Errorf("captcha: skip: %w", err)
	}
	switch n {
	case 0:
		return ErrUnknownChallenge
	case -1:
		return ErrHeld
	}
	return nil
}

// Backlog counts the challenges waiting for anyone (rounds offered to one
// person are not counted until they are offered to everyone).
func (q *Queue) Backlog(ctx context.Context) (int64, error) {
	n, err := q.rdb.LLen(ctx, q.pendingKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("captcha: backlog: %w", err)
	}
	return n, nil
}

// markWaiting counts the challenge as its batch waiting for a person until
// the returned function is called or the challenge expires: each entry is
// scored by its expiry, so one left behind by a node that died stops
// counting on its own, and the key goes with the last of them. Counting is
// best effort: Redis failing here must not fail the check.
func (q *Queue) markWaiting(ctx context.Context, batch, id string, expires time.Time) func() {
	key := q.waitingKey(batch)
	pipe := q.rdb.TxPipeline()
	pipe.ZAdd(ctx, key, redis.Z{Score: float64(expires.UnixMilli()), Member: id})
	// The key lives as long as its latest entry: never shortened (Redis 7).
	at := expires.Add(time.Minute).UnixMilli()
	pipe.Do(ctx, "PEXPIREAT", key, at, "NX")
	pipe.Do(ctx, "PEXPIREAT", key, at, "GT")
	if _, err := pipe.Exec(ctx); err != nil {
		return func() {}
	}
	return func() { q.rdb.ZRem(context.WithoutCancel(ctx), key, id) }
}

// Waiting returns, for each batch ID, how many of its checks are waiting for
// a person's answer to a captcha now.
func (q *Queue) Waiting(ctx context.Context, batchIDs ...string) (map[string]int64, error) {
	out := make(map[string]int64, len(batchIDs))
	if len(batchIDs) == 0 {
		return out, nil
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	pipe := q.rdb.Pipeline()
	counts := make([]*redis.IntCmd, len(batchIDs))
	for i, b := range batchIDs {
		counts[i] = pipe.ZCount(ctx, q.waitingKey(b), "("+now, "+inf")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("captcha: waiting: %w", err)
	}
	for i, b := range batchIDs {
		out[b] = counts[i].Val()
	}
	return out, nil
}

// str reads a string from a script's or HMGET's reply; "" when absent.
func str(vals []any, i int) string {
	if i >= len(vals) {
		return ""
	}
	s, _ := vals[i].(string)
	return s
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// newID returns a random 128-bit id in hex.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (it crashes the program instead)
	return hex.EncodeToString(b[:])
}

// validID tells whether id has the shape newID gives, so that no other
// string reaches a Redis key.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
