// Package access holds the pure parts of who may do what: password hashing,
// random secrets for sessions and API tokens, and roles. Storage lives in
// package ledger.
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"unicode/utf8"

	shixincheck "github.com/shixincheck/shixincheck"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes. Stored hashes carry their own, so these
// may be raised later without breaking existing passwords.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 3
	argonThreads = 2
	argonSaltLen = 16
	argonKeyLen  = 32
)

// argonSlots bounds how many hashes run at once: each takes argonMemory, and
// a burst of log-in attempts must not take the server's memory with it.
var argonSlots = make(chan struct{}, runtime.NumCPU())

// argonKey is argon2.IDKey, waiting for a free slot.
func argonKey(password string, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey([]byte(password), salt, time, memory, threads, keyLen)
}

// HashPassword hashes password with argon2id and returns it as a PHC string,
// "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>" (unpadded standard base64).
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("access: hash password: %w", err)
	}
	key := argonKey(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// argonHash is a parsed PHC string.
type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash parses a PHC argon2id string, refusing parameters outside what
// this package would ever write (a tampered hash must not make a check cost
// gigabytes).
func parseHash(s string) (argonHash, bool) {
	var h argonHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return h, false
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", h.memory, h.time, threads) != parts[3] {
		return h, false
	}
	if h.memory < 8*1024 || h.memory > 1024*1024 || h.time < 1 || h.time > 16 || threads < 1 || threads > 64 {
		return h, false
	}
	h.threads = uint8(threads)
	b64 := base64.RawStdEncoding
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, false
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, false
	}
	return h, true
}

// CheckPassword reports whether password matches hash, comparing in constant
// time. A malformed hash matches nothing.
func CheckPassword(hash, password string) bool {
	h, ok := parseHash(hash)
	if !ok {
		return false
	}
	key := argonKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// dummyHash is a valid hash of a random password, made with the current
// parameters, that DummyCheck checks against.
var dummyHash = func() string {
	h, err := HashPassword(NewSecret(""))
	if err != nil {
		panic(err)
	}
	return h
}()

// DummyCheck spends the time CheckPassword spends, for a log-in with an
// unknown login name, so response times do not tell which logins exist.
func DummyCheck(password string) {
	CheckPassword(dummyHash, password)
}

// MinPasswordLen is the least number of characters a password may have.
const MinPasswordLen = 10

// loginPattern is what a login may look like: typed at the log-in page,
// written in the audit trail.
var loginPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$`)

// ValidateLogin says whether login is acceptable as a log-in name. The
// error's text is a Chinese sentence for the form.
func ValidateLogin(login string) error {
	if !loginPattern.MatchString(login) {
		return errors.New("登录名应为 2–64 个字母、数字或 . _ @ -，以字母或数字开头")
	}
	return nil
}

// ValidatePassword says whether password is acceptable for login. The
// error's text is a Chinese sentence for the form.
func ValidatePassword(login, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return fmt.Errorf("密码至少需要 %d 个字符。", MinPasswordLen)
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Trim(password, string(first)) == "" {
		return errors.New("密码不能由同一个字符重复组成。")
	}
	if strings.EqualFold(password, login) {
		return errors.New("密码不能与登录名相同。")
	}
	return nil
}

// NewSecret returns prefix followed by 32 random bytes in unpadded base64url:
// NewSecret("sxc_") for API tokens, NewSecret("") for session ids and CSRF
// tokens.
func NewSecret(prefix string) string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret is the sha256 of secret in lower-case hex: what is stored for a
// session id or an API token, so a copy of the database opens no session.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseRoles parses a comma-separated list of role names, such as
// "clerk,operator", refusing unknown names, duplicates and an empty list.
// The roles come back in shixincheck.Roles order.
func ParseRoles(s string) ([]shixincheck.Role, error) {
	seen := map[shixincheck.Role]bool{}
	for name := range strings.SplitSeq(s, ",") {
		r := shixincheck.Role(strings.TrimSpace(name))
		if _, ok := shixincheck.RoleText[r]; !ok {
			return nil, fmt.Errorf("access: unknown role %q", string(r))
		}
		if seen[r] {
			return nil, fmt.Errorf("access: role %q given twice", string(r))
		}
		seen[r] = true
	}
	var roles []shixincheck.Role
	for _, r := range shixincheck.Roles {
		if seen[r] {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// FormatRoles is the inverse of ParseRoles: the names joined by commas, in
// shixincheck.Roles order.
func FormatRoles(roles []shixincheck.Role) string {
	var names []string
	for _, r := range shixincheck.Roles {
		if HasRole(roles, r) {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ",")
}

// HasRole reports whether roles hold any of want.
func HasRole(roles []shixincheck.Role, want ...shixincheck.Role) bool {
	for _, r := range roles {
		for _, w := range want {
			if r == w {
				return true
			}
		}
	}
	return false
}
