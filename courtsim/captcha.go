package courtsim

import (
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// captchaAlphabet is a-zA-Z0-9 without the look-alikes 0 O o 1 l I.
const captchaAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// idAlphabet is the alphabet of a 32-character captchaId.
const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// captchaEntry is the state of one captchaId: the page registers it, every
// image load issues a new code for it.
type captchaEntry struct {
	code     string    // current code, "" until the first image
	issuedAt time.Time // when code was issued
	uses     int       // searches and details made with code
	touched  time.Time // last activity, for pruning
}

// captchaStore keeps captcha ids and codes. Safe for concurrent use.
type captchaStore struct {
	ttl     time.Duration
	maxUses int
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]*captchaEntry
}

// captchaIdleLimit is how long an id without activity is kept.
const captchaIdleLimit = 6 * time.Hour

func newCaptchaStore(ttl time.Duration, maxUses int, now func() time.Time) *captchaStore {
	return &captchaStore{ttl: ttl, maxUses: maxUses, now: now, entries: map[string]*captchaEntry{}}
}

// register makes a fresh captchaId, as the server does when it serves the page.
func (c *captchaStore) register() string {
	id := randomString(idAlphabet, 32)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 1000 {
		for k, e := range c.entries {
			if now.Sub(e.touched) > captchaIdleLimit {
				delete(c.entries, k)
			}
		}
	}
	c.entries[id] = &captchaEntry{touched: now}
	return id
}

// issue gives id a new code, which replaces the old one; false if id is unknown.
func (c *captchaStore) issue(id string) (string, bool) {
	code := randomString(captchaAlphabet, 4)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return "", false
	}
	*e = captchaEntry{code: code, issuedAt: now, touched: now}
	return code, true
}

// valid tells whether code is the live code of id, without using it up.
func (c *captchaStore) valid(id, code string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return ok && c.liveLocked(e, code)
}

// use checks code like valid and, when it holds, counts one use of it.
func (c *captchaStore) use(id, code string) bool {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !c.liveLocked(e, code) {
		return false
	}
	e.uses++
	e.touched = now
	return true
}

func (c *captchaStore) liveLocked(e *captchaEntry, code string) bool {
	return e.code != "" &&
		strings.EqualFold(e.code, code) &&
		c.now().Sub(e.issuedAt) <= c.ttl &&
		e.uses < c.maxUses
}

// answer returns the current code of id, live or not.
func (c *captchaStore) answer(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || e.code == "" {
		return "", false
	}
	return e.code, true
}

// validCaptchaID tells whether id has the shape of a captchaId.
func validCaptchaID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

// randomString draws n characters of alphabet. The top-level math/rand/v2
// source is randomly seeded and safe for concurrent use.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
