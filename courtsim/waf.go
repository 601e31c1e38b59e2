package courtsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
)

// wafCookie is the cookie name the real site's WAF set in 2025-26.
const wafCookie = "lqWVdQzgOVyaO/P"

// wafRounds is how many times the challenge script hashes its nonce.
const wafRounds = 200

// waf is a JavaScript cookie challenge: a request without a valid cookie
// gets 412 and a page whose script computes the cookie and reloads.
// [sim choice] the cookie is "<nonce>.<hex FNV-1a of the nonce repeated
// wafRounds times>"; the nonce carries an HMAC, so the check is stateless
// and only a nonce this server issued passes.
type waf struct {
	key []byte
}

func newWAF() (*waf, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("waf key: %w", err)
	}
	return &waf{key: key}, nil
}

// nonce makes a fresh signed nonce: 16 random hex digits and 16 of HMAC.
func (w *waf) nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	r := hex.EncodeToString(b)
	return r + w.sign(r)
}

func (w *waf) sign(r string) string {
	m := hmac.New(sha256.New, w.key)
	m.Write([]byte(r))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// wafHash is what the challenge script computes from the nonce.
func wafHash(nonce string) string {
	h := fnv.New32a()
	for range wafRounds {
		h.Write([]byte(nonce))
	}
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

// passes tells whether r carries a cookie this WAF issued the challenge for.
func (w *waf) passes(r *http.Request) bool {
	v, ok := cookieValue(r, wafCookie)
	if !ok {
		return false
	}
	nonce, sum, ok := strings.Cut(v, ".")
	if !ok || len(nonce) != 32 {
		return false
	}
	if !hmac.Equal([]byte(w.sign(nonce[:16])), []byte(nonce[16:])) {
		return false
	}
	return sum == wafHash(nonce)
}

// cookieValue reads a cookie by hand: net/http rejects '/' in cookie names.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return v, true
			}
		}
	}
	return "", false
}

// challenge answers 412 with the page that computes the cookie and reloads.
func (w *waf) challenge(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusPreconditionFailed)
	fmt.Fprintf(rw, wafPage, w.nonce(), wafRounds, wafCookie, wafCookie)
}

// wafPage computes FNV-1a over the nonce repeated, sets the cookie and
// reloads once it sticks.
const wafPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title></title></head>
<body>
<script>
(function () {
  var n = "%s", rounds = %d, h = 0x811c9dc5;
  for (var r = 0; r < rounds; r++) {
    for (var i = 0; i < n.length; i++) {
      h ^= n.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  document.cookie = "%s=" + n + "." + h.toString(16) + "; path=/";
  if (document.cookie.indexOf("%s=") >= 0) { location.reload(); }
})();
</script>
</body></html>
`
