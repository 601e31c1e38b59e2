// Package vault encrypts personal data at rest: AES-256-GCM under a ring of
// keys, of which the last is current (it seals) and all open, and a keyed
// hash (HMAC-SHA256) under which a sealed value can still be found.
//
// The keys live in a text file (or an environment variable holding the same
// text):
//
//	# comment
//	lookup <base64 of 32 bytes>
//	key k1 <base64 of 32 bytes>
//	key k2 <base64 of 32 bytes>
//
// Exactly one lookup line; key ids are unique short tokens; the last key line
// is the current key. Rotation: AddKey appends a new current key, the daemon
// restarts with it, the ledger re-seals everything under it (Rekey), then
// the older key lines are removed. The lookup key is never rotated: every
// keyed hash in the ledger would change with it.
//
// Sealed values carry the id of the key that sealed them. The additional
// data authenticated by GCM is the value's header (format version and key
// id), so neither can be altered without Open refusing the value. No purpose
// label is bound in: the threat is a copied database file or backup, and
// whoever can write the database can change any decision in it anyway.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	keySize   = 32 // AES-256, and the HMAC key
	nonceSize = 12 // GCM's standard nonce
	tagSize   = 16 // GCM's tag
	maxIDLen  = 32

	// version is the first byte of a sealed value; textPrefix starts its text form.
	version    = 1
	textPrefix = "v1:"
)

var (
	// ErrNotSealed is returned by Open for a value that is not in the sealed
	// format: plaintext written before encryption, or garbage.
	ErrNotSealed = errors.New("vault: not a sealed value")
	// ErrUnknownKey is returned by Open for a value sealed with a key the ring lacks.
	ErrUnknownKey = errors.New("vault: sealed with a key not in the key file")
	// ErrAuth is returned by Open when the value does not authenticate: the
	// key with its id is not the one that sealed it, or the value was altered.
	ErrAuth = errors.New("vault: sealed value does not authenticate (wrong key or altered data)")
)

// Keys is a parsed key ring. It is safe for concurrent use. It never prints
// its key material (String and GoString show ids only).
type Keys struct {
	aeads   map[string]cipher.AEAD
	ids     []string // in file order; the last is current
	lookup  []byte
	current string
}

// Parse reads the text of a key file. Errors name the line, never its key material.
func Parse(text string) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}}
	lines := map[string]int{} // key id -> line
	lookupLine := 0
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "lookup":
			if len(f) != 2 {
				return nil, fmt.Errorf("vault: line %d: want \"lookup <base64 key>\"", n)
			}
			if lookupLine != 0 {
				return nil, fmt.Errorf("vault: line %d: a second lookup key (the first is on line %d)", n, lookupLine)
			}
			raw, err := decodeKey(f[1])
			if err != nil {
				return nil, fmt.Errorf("vault: line %d: lookup %w", n, err)
			}
			k.lookup, lookupLine = raw, n
		case "key":
			if len(f) != 3 {
				return nil, fmt.Errorf("vault: line %d: want \"key <id> <base64 key>\"", n)
			}
			id := f[1]
			if !validID(id) {
				return nil, fmt.Errorf("vault: line %d: key id must be 1 to %d letters, digits, '-' or '_'", n, maxIDLen)
			}
			if prev, dup := lines[id]; dup {
				return nil, fmt.Errorf("vault: line %d: key id %s already used on line %d", n, id, prev)
			}
			raw, err := decodeKey(f[2])
			if err != nil {
				return nil, fmt.Errorf("vault: line %d: key %s: %w", n, id, err)
			}
			aead, err := newAEAD(raw)
			if err != nil {
				return nil, fmt.Errorf("vault: line %d: key %s: %w", n, id, err)
			}
			k.aeads[id] = aead
			k.ids = append(k.ids, id)
			lines[id] = n
		default:
			// The word is not echoed: it may be key material pasted on its own.
			return nil, fmt.Errorf("vault: line %d: unknown entry: want \"lookup …\", \"key …\" or a # comment", n)
		}
	}
	if lookupLine == 0 {
		return nil, errors.New("vault: no lookup key (a line \"lookup <base64 key>\")")
	}
	if len(k.ids) == 0 {
		return nil, errors.New("vault: no encryption key (a line \"key <id> <base64 key>\")")
	}
	k.current = k.ids[len(k.ids)-1]
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("is not valid base64")
	}
	if len(raw) != keySize {
		return nil, fmt.Errorf("is %d bytes, want %d", len(raw), keySize)
	}
	return raw, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// LoadFile reads and parses a key file. A file that group or others may
// read is refused: the keys are worth as much as the data they protect.
func LoadFile(path string) (*Keys, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("vault: key file %s has mode %04o: group or others may read it; make it private (chmod 600 %s)", path, mode, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	k, err := Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

const header = `# shixincheck key file: the keys that encrypt personal data in the ledger.
# Keep it private (mode 0600) and back it up apart from the database: without
# it the names and ID numbers in the ledger cannot be read, by anyone.
#
#   lookup <base64>    HMAC-SHA256 key of the searchable hashes. Exactly one;
#                      never change it.
#   key <id> <base64>  AES-256-GCM keys. The last one encrypts; all of them
#                      decrypt.
#
# Rotation: "shixincheck keys add" appends a new key line (it becomes the
# current key); restart the daemon with this file; "shixincheck keys rekey"
# re-encrypts the ledger under the new key; only then delete the older key
# lines.
`

// Generate returns the text of a new key file: a header explaining it, a
// lookup key and key k1.
func Generate() string {
	return header + "lookup " + randomKey() + "\nkey k1 " + randomKey() + "\n"
}

// AddKey returns text with a new key appended, which becomes the current
// one: the first step of a rotation. Its id is k<N+1>, N the highest number
// among the ids of the form k<N> (0 when there is none), so the id of a key
// removed after an earlier rotation is not used again.
func AddKey(text string) (string, error) {
	k, err := Parse(text)
	if err != nil {
		return "", err
	}
	n := 0
	for _, id := range k.ids {
		if v, err := strconv.Atoi(strings.TrimPrefix(id, "k")); err == nil && strings.HasPrefix(id, "k") && v > n {
			n = v
		}
	}
	id := "k" + strconv.Itoa(n+1)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "# " + id + " added " + time.Now().UTC().Format("2006-01-02") + ": the current key\nkey " + id + " " + randomKey() + "\n", nil
}

func randomKey() string {
	b := make([]byte, keySize)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Random returns a fresh ring of one key, k1, and a lookup key: for tests.
func Random() *Keys {
	k, err := Parse(Generate())
	if err != nil {
		panic(err)
	}
	return k
}

// Current returns the id of the current key, the one Seal uses.
func (k *Keys) Current() string { return k.current }

// IDs returns the ids of the keys, in file order (the last is current).
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }

// String shows the key ids, never key material.
func (k *Keys) String() string {
	return "vault.Keys{ids: " + strings.Join(k.ids, ",") + ", current: " + k.current + "}"
}

// GoString is String, so %#v does not print key material either.
func (k *Keys) GoString() string { return k.String() }

// Seal encrypts plain under the current key. The result is binary: the
// format version, the key id's length and the id, a random nonce, then the
// ciphertext with its tag.
func (k *Keys) Seal(plain []byte) []byte {
	id := k.current
	hdr := append([]byte{version, byte(len(id))}, id...)
	out := make([]byte, len(hdr)+nonceSize, len(hdr)+nonceSize+len(plain)+tagSize)
	copy(out, hdr)
	nonce := out[len(hdr):]
	rand.Read(nonce)
	return k.aeads[id].Seal(out, nonce, plain, hdr)
}

// Open decrypts a value made by Seal with any key of the ring.
func (k *Keys) Open(sealed []byte) ([]byte, error) {
	id, ok := KeyID(sealed)
	if !ok {
		return nil, ErrNotSealed
	}
	aead := k.aeads[id]
	if aead == nil {
		return nil, fmt.Errorf("%w: key %s", ErrUnknownKey, id)
	}
	hdrLen := 2 + len(id)
	nonce := sealed[hdrLen : hdrLen+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[hdrLen+nonceSize:], sealed[:hdrLen])
	if err != nil {
		return nil, fmt.Errorf("%w: key %s", ErrAuth, id)
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}

// KeyID returns the id of the key that sealed a binary value, and false when
// the value is not in the sealed format (plaintext from before encryption).
func KeyID(sealed []byte) (string, bool) {
	if len(sealed) < 2 || sealed[0] != version {
		return "", false
	}
	n := int(sealed[1])
	if len(sealed) < 2+n+nonceSize+tagSize {
		return "", false
	}
	id := string(sealed[2 : 2+n])
	if !validID(id) {
		return "", false
	}
	return id, true
}

// SealString encrypts plain for a TEXT column: "v1:<key id>:<base64>", the
// base64 being of the binary form's nonce and ciphertext. The empty string
// is sealed too, so that no value shows whether it is empty.
func (k *Keys) SealString(plain string) string {
	b := k.Seal([]byte(plain))
	hdrLen := 2 + len(k.current)
	return textPrefix + k.current + ":" + base64.StdEncoding.EncodeToString(b[hdrLen:])
}

// OpenString decrypts a value made by SealString with any key of the ring.
func (k *Keys) OpenString(sealed string) (string, error) {
	b, ok := stringToBinary(sealed)
	if !ok {
		return "", ErrNotSealed
	}
	plain, err := k.Open(b)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// StringKeyID returns the id of the key that sealed a text value, and false
// when the value is not in the sealed format (plaintext from before encryption).
func StringKeyID(sealed string) (string, bool) {
	b, ok := stringToBinary(sealed)
	if !ok {
		return "", false
	}
	return KeyID(b)
}

// stringToBinary turns the text form back into the binary one.
func stringToBinary(s string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(s, textPrefix)
	if !ok {
		return nil, false
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok || !validID(id) {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(raw) < nonceSize+tagSize {
		return nil, false
	}
	b := make([]byte, 0, 2+len(id)+len(raw))
	b = append(b, version, byte(len(id)))
	b = append(b, id...)
	return append(b, raw...), true
}

// Lookup returns the keyed hash of v (hex HMAC-SHA256 with the lookup key):
// equal values have equal hashes, and without the key the hash tells
// nothing of the value, not even for values as guessable as ID numbers.
func (k *Keys) Lookup(v string) string {
	m := hmac.New(sha256.New, k.lookup)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}
