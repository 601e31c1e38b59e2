// Package captcha relays the court site's captchas to people. A browser tab
// that meets a captcha calls Solve, which posts the image as a challenge in
// Redis and waits; a person on the review page (served by any node sharing the
// same Redis) takes the challenge with Next and answers, skips or asks for a
// new image. Only the image and the site name travel through here, never
// candidate data.
package captcha

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shixincheck/shixincheck"
)

const (
	defaultPrefix        = "shixincheck:captcha:"
	defaultAnswerTimeout = 5 * time.Minute

	// ttlMargin keeps a challenge's keys a bit longer than Solve waits, so
	// they outlive the wait but vanish if the waiting node dies.
	ttlMargin = time.Minute
	// claimLease is how long a challenge taken by Next stays with that person
	// before it goes back to the queue (the person closed the page, say).
	claimLease = 90 * time.Second
	// reportWindow keeps an answered challenge's site for Report.
	reportWindow = 10 * time.Minute
	// pollSlice bounds each blocking Redis call, so a cancelled context is
	// noticed within about this long (go-redis counts BLPOP timeouts in
	// whole seconds).
	pollSlice = time.Second
	// cleanupTimeout bounds the cleanup done after the caller's context ended.
	cleanupTimeout = 5 * time.Second
)

// Messages on a challenge's answer list.
const (
	msgAnswerPrefix = "answer:"
	msgRefresh      = "refresh"
)

var (
	// ErrUnknownChallenge: the challenge expired, was answered already, or never existed.
	ErrUnknownChallenge = errors.New("captcha: unknown or expired challenge")
	// ErrEmptyAnswer: an answer with no text.
	ErrEmptyAnswer = errors.New("captcha: empty answer")
)

// Config configures a Queue. Zero values take the defaults.
type Config struct {
	Prefix        string        // Redis key prefix, default "shixincheck:captcha:"
	AnswerTimeout time.Duration // how long Solve waits for a person, default 5m
	Hooks         Hooks
}

// Hooks are installed by the metrics package from outside; any may be nil.
type Hooks struct {
	Answered   func(site string, wait time.Duration) // a person answered; wait = time from Solve to answer
	Reported   func(site string, accepted bool)      // the site accepted / rejected an answer
	Unanswered func(site string)                     // Solve timed out
}

// Pending is a challenge handed to a person.
type Pending struct {
	ID        string    `json:"id"`
	Site      string    `json:"site"`
	SiteRef   string    `json:"site_ref,omitempty"` // the site's own captcha id: no personal data; lets a simulator test act as the person
	Image     []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Queue is the challenge queue shared by all nodes through Redis.
//
// Keys under Prefix:
//
//	pending   list of challenge ids waiting for a person, oldest first
//	claimed   sorted set: ids taken by Next, scored by the end of their lease (unix µs)
//	c:<id>    hash: site, ref, image, created, expires (unix ms), state, outcome
//	a:<id>    list: the message for the waiting Solve ("answer:<text>" or "refresh")
//
// For Redis Cluster, give Prefix a hash tag (e.g. "{shixincheck:captcha}:")
// so that every key lands in one slot, as the scripts need.
type Queue struct {
	rdb    redis.UniversalClient
	prefix string
	wait   time.Duration
	lease  time.Duration
	hooks  Hooks
	page   *template.Template
}

// New returns a Queue on rdb.
func New(rdb redis.UniversalClient, cfg Config) *Queue {
	if cfg.Prefix == "" {
		cfg.Prefix = defaultPrefix
	}
	if cfg.AnswerTimeout <= 0 {
		cfg.AnswerTimeout = defaultAnswerTimeout
	}
	return &Queue{
		rdb:    rdb,
		prefix: cfg.Prefix,
		wait:   cfg.AnswerTimeout,
		lease:  claimLease,
		hooks:  cfg.Hooks,
		page:   template.Must(template.ParseFS(assets, "review.html")),
	}
}

func (q *Queue) pendingKey() string            { return q.prefix + "pending" }
func (q *Queue) claimedKey() string            { return q.prefix + "claimed" }
func (q *Queue) challengeKey(id string) string { return q.prefix + "c:" + id }
func (q *Queue) answerKey(id string) string    { return q.prefix + "a:" + id }

// ttl is the lifetime of a challenge's keys.
func (q *Queue) ttl() time.Duration { return q.wait + ttlMargin }

// Challenge states kept in the hash.
const (
	statePending  = "pending"
	stateAnswered = "answered"
)

// answerScript delivers a message to the waiting Solve, once: only a pending
// challenge accepts one. An answered challenge keeps its hash (without the
// image) for Report; a refreshed one is deleted.
// KEYS: challenge, answers, pending, claimed. ARGV: id, message, answers ttl ms, keep ms (0: delete).
var answerScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
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
return 1
`)

// abandonScript ends a Solve's wait: it takes a message that arrived at the
// last moment, else removes the challenge everywhere.
// KEYS: challenge, answers, pending, claimed. ARGV: id.
var abandonScript = redis.NewScript(`
local msg = redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('LREM', KEYS[3], 0, ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if msg then return msg end
redis.call('DEL', KEYS[1])
return false
`)

// claimScript gives a popped id to the person asking, if it is still pending.
// KEYS: challenge, claimed. ARGV: id, lease end µs.
var claimScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return false end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return redis.call('HMGET', KEYS[1], 'site', 'image', 'created', 'expires', 'ref')
`)

// releaseScript puts a claimed id back at the front of the queue when its
// lease ended by ARGV[2] (µs); it is the oldest and was not answered.
// KEYS: challenge, pending, claimed. ARGV: id, lease end limit µs.
var releaseScript = redis.NewScript(`
local until_ms = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not until_ms or tonumber(until_ms) > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
`)

// skipScript moves a pending challenge to the end of the queue.
// KEYS: challenge, pending, claimed. ARGV: id.
var skipScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`)

// reportScript records the site's verdict on an answer and returns the site.
// KEYS: challenge. ARGV: outcome.
var reportScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'outcome', ARGV[1])
return redis.call('HGET', KEYS[1], 'site')
`)

// Solve posts the challenge and waits until a person answers it, asks for a
// new image (shixincheck.ErrCaptchaRefresh) or AnswerTimeout passes
// (an error of kind KindCaptchaUnanswered).
func (q *Queue) Solve(ctx context.Context, ch shixincheck.Challenge) (shixincheck.Solution, error) {
	if len(ch.Image) == 0 {
		return shixincheck.Solution{}, errors.New("captcha: challenge has no image")
	}
	id := newID()
	start := time.Now()
	expires := start.Add(q.wait)
	key := q.challengeKey(id)
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key,
			"site", ch.Site,
			"ref", ch.SiteRef,
			"image", ch.Image,
			"created", start.UnixMilli(),
			"expires", expires.UnixMilli(),
			"state", statePending)
		p.PExpire(ctx, key, q.ttl())
		p.RPush(ctx, q.pendingKey(), id)
		return nil
	})
	if err != nil {
		return shixincheck.Solution{}, fmt.Errorf("captcha: post challenge: %w", err)
	}

	msg, err := q.await(ctx, id, expires)
	if err != nil {
		return shixincheck.Solution{}, err
	}
	if msg == "" {
		if q.hooks.Unanswered != nil {
			q.hooks.Unanswered(ch.Site)
		}
		return shixincheck.Solution{}, shixincheck.Errorf(shixincheck.KindCaptchaUnanswered,
			"captcha: no answer within %s", q.wait)
	}
	if msg == msgRefresh {
		return shixincheck.Solution{}, shixincheck.ErrCaptchaRefresh
	}
	text, ok := strings.CutPrefix(msg, msgAnswerPrefix)
	if !ok {
		return shixincheck.Solution{}, fmt.Errorf("captcha: unexpected message on challenge %s", id)
	}
	if q.hooks.Answered != nil {
		q.hooks.Answered(ch.Site, time.Since(start))
	}
	return shixincheck.Solution{ChallengeID: id, Text: text}, nil
}

// await blocks on the challenge's answer list until a message arrives or the
// challenge expires ("" then). On any other end it removes the challenge.
func (q *Queue) await(ctx context.Context, id string, expires time.Time) (string, error) {
	for {
		if err := ctx.Err(); err != nil {
			q.abandon(ctx, id)
			return "", fmt.Errorf("captcha: waiting for an answer: %w", err)
		}
		if time.Now().After(expires) {
			msg, err := q.abandon(ctx, id)
			if err != nil {
				return "", fmt.Errorf("captcha: end of wait: %w", err)
			}
			return msg, nil
		}
		res, err := q.rdb.BLPop(ctx, pollSlice, q.answerKey(id)).Result()
		switch {
		case err == nil:
			return res[1], nil
		case errors.Is(err, redis.Nil), ctx.Err() != nil:
			continue
		default:
			q.abandon(ctx, id)
			return "", fmt.Errorf("captcha: waiting for an answer: %w", err)
		}
	}
}

// abandon removes a challenge whose Solve stops waiting, and returns a
// message that arrived meanwhile ("" if none). It runs even when ctx is done.
func (q *Queue) abandon(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	keys := []string{q.challengeKey(id), q.answerKey(id), q.pendingKey(), q.claimedKey()}
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

// Report records whether the site accepted the answer to a challenge. It
// never fails the caller: a Redis error is only logged.
func (q *Queue) Report(ctx context.Context, challengeID string, accepted bool) {
	outcome := "rejected"
	if accepted {
		outcome = "accepted"
	}
	site := "unknown"
	if validID(challengeID) {
		s, err := reportScript.Run(ctx, q.rdb, []string{q.challengeKey(challengeID)}, outcome).Text()
		switch {
		case err == nil:
			site = s
		case errors.Is(err, redis.Nil):
			// Reported after the report window: the hook still counts it.
		default:
			slog.WarnContext(ctx, "captcha: recording a report failed", "challenge", challengeID, "err", err)
		}
	}
	if q.hooks.Reported != nil {
		q.hooks.Reported(site, accepted)
	}
}

// Next takes the oldest pending challenge that is still alive, waiting up to
// wait for one; false when none came. The challenge is the caller's until it
// is answered, skipped or refreshed, or until its lease ends.
func (q *Queue) Next(ctx context.Context, wait time.Duration) (Pending, bool, error) {
	if err := q.releaseExpired(ctx); err != nil {
		return Pending{}, false, err
	}
	deadline := time.Now().Add(wait)
	for {
		if err := ctx.Err(); err != nil {
			return Pending{}, false, fmt.Errorf("captcha: next: %w", err)
		}
		last := !time.Now().Before(deadline)
		var id string
		var err error
		if last {
			id, err = q.rdb.LPop(ctx, q.pendingKey()).Result()
		} else {
			var res []string
			res, err = q.rdb.BLPop(ctx, pollSlice, q.pendingKey()).Result()
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
		p, ok, err := q.claim(context.WithoutCancel(ctx), id)
		if err != nil {
			return Pending{}, false, err
		}
		if ok {
			return p, true, nil
		}
		// A dead id (answered, refreshed, expired): try the next one.
	}
}

func (q *Queue) claim(ctx context.Context, id string) (Pending, bool, error) {
	until := time.Now().Add(q.lease).UnixMicro()
	vals, err := claimScript.Run(ctx, q.rdb, []string{q.challengeKey(id), q.claimedKey()}, id, until).Slice()
	if errors.Is(err, redis.Nil) {
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, fmt.Errorf("captcha: claim challenge: %w", err)
	}
	field := func(i int) string {
		s, _ := vals[i].(string)
		return s
	}
	p := Pending{ID: id, Site: field(0), Image: []byte(field(1)), SiteRef: field(4)}
	if ms, err := strconv.ParseInt(field(2), 10, 64); err == nil {
		p.CreatedAt = time.UnixMilli(ms)
	}
	if ms, err := strconv.ParseInt(field(3), 10, 64); err == nil {
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

// Answer relays a person's answer to the waiting Solve.
func (q *Queue) Answer(ctx context.Context, id, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return ErrEmptyAnswer
	}
	return q.deliver(ctx, id, msgAnswerPrefix+text, reportWindow)
}

// Refresh makes the waiting Solve return shixincheck.ErrCaptchaRefresh; the
// tab then loads a new image and posts a new challenge.
func (q *Queue) Refresh(ctx context.Context, id string) error {
	return q.deliver(ctx, id, msgRefresh, 0)
}

func (q *Queue) deliver(ctx context.Context, id, msg string, keep time.Duration) error {
	if !validID(id) {
		return ErrUnknownChallenge
	}
	keys := []string{q.challengeKey(id), q.answerKey(id), q.pendingKey(), q.claimedKey()}
	n, err := answerScript.Run(ctx, q.rdb, keys, id, msg, q.ttl().Milliseconds(), keep.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("captcha: deliver answer: %w", err)
	}
	if n == 0 {
		return ErrUnknownChallenge
	}
	return nil
}

// Skip puts a challenge back at the end of the queue, for another person or later.
func (q *Queue) Skip(ctx context.Context, id string) error {
	if !validID(id) {
		return ErrUnknownChallenge
	}
	keys := []string{q.challengeKey(id), q.pendingKey(), q.claimedKey()}
	n, err := skipScript.Run(ctx, q.rdb, keys, id).Int()
	if err != nil {
		return fmt.Errorf("captcha: skip: %w", err)
	}
	if n == 0 {
		return ErrUnknownChallenge
	}
	return nil
}

// Backlog counts the challenges waiting for a person.
func (q *Queue) Backlog(ctx context.Context) (int64, error) {
	n, err := q.rdb.LLen(ctx, q.pendingKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("captcha: backlog: %w", err)
	}
	return n, nil
}

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
