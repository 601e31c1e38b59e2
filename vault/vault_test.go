package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	k := Random()
	for _, plain := range []string{"", "张三", "42020219800101001X", strings.Repeat("长", 10000), "\x00\xff"} {
		sealed := k.Seal([]byte(plain))
		if bytes.Contains(sealed, []byte(plain)) && plain != "" {
			t.Errorf("Seal(%q) contains the plaintext", plain)
		}
		got, err := k.Open(sealed)
		if err != nil || string(got) != plain || got == nil {
			t.Errorf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
		if id, ok := KeyID(sealed); !ok || id != "k1" {
			t.Errorf("KeyID = %q, %v; want k1", id, ok)
		}

		s := k.SealString(plain)
		if !strings.HasPrefix(s, "v1:k1:") {
			t.Errorf("SealString(%q) = %q, want the v1:k1: prefix", plain, s)
		}
		if plain != "" && strings.Contains(s, plain) {
			t.Errorf("SealString(%q) contains the plaintext", plain)
		}
		gotS, err := k.OpenString(s)
		if err != nil || gotS != plain {
			t.Errorf("OpenString(SealString(%q)) = %q, %v", plain, gotS, err)
		}
		if id, ok := StringKeyID(s); !ok || id != "k1" {
			t.Errorf("StringKeyID = %q, %v; want k1", id, ok)
		}
	}
	// Two seals of one value differ (random nonce): a sealed column does not
	// show which rows hold equal values.
	if a, b := k.SealString("张三"), k.SealString("张三"); a == b {
		t.Error("two seals of the same value are equal")
	}
}

func TestPlaintextIsNotSealed(t *testing.T) {
	k := Random()
	for _, plain := range []string{"", "张三", "42020219800101001X", `[{"iname":"张三"}]`, "null", "v1:k1:", "v1:k1:AAAA", "v1:k 1:" + strings.Repeat("A", 60)} {
		if id, ok := StringKeyID(plain); ok {
			t.Errorf("StringKeyID(%q) = %q, true; want not sealed", plain, id)
		}
		if _, err := k.OpenString(plain); !errors.Is(err, ErrNotSealed) {
			t.Errorf("OpenString(%q) = %v, want ErrNotSealed", plain, err)
		}
	}
	for _, plain := range [][]byte{nil, {}, []byte("PK\x03\x04 workbook"), []byte("%PDF-1.7"), []byte("\x89PNG"), []byte(`{"raw":1}`), {1}, {1, 2, 'k', '1'}} {
		if id, ok := KeyID(plain); ok {
			t.Errorf("KeyID(%q) = %q, true; want not sealed", plain, id)
		}
		if _, err := k.Open(plain); !errors.Is(err, ErrNotSealed) {
			t.Errorf("Open(%q) = %v, want ErrNotSealed", plain, err)
		}
	}
}

func TestTamperedRefused(t *testing.T) {
	k := Random()
	sealed := k.Seal([]byte("42020219800101001X"))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if got, err := k.Open(bad); err == nil {
			t.Errorf("byte %d flipped: Open = %q, nil; want an error", i, got)
		}
	}
	if _, err := k.Open(sealed[:len(sealed)-1]); err == nil {
		t.Error("truncated value opened")
	}
	s := k.SealString("张三")
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "v1:k1:"))
	raw[len(raw)-1] ^= 0x80
	bad := "v1:k1:" + base64.StdEncoding.EncodeToString(raw)
	if _, err := k.OpenString(bad); !errors.Is(err, ErrAuth) {
		t.Errorf("tampered text value: %v, want ErrAuth", err)
	}
	// The key id is authenticated: relabelling a value refuses it.
	two, err := Parse(Generate() + "key k2 " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	relabelled := "v1:k1:" + strings.TrimPrefix(two.SealString("x"), "v1:k2:")
	if _, err := two.OpenString(relabelled); !errors.Is(err, ErrAuth) {
		t.Errorf("value relabelled k2 -> k1: %v, want ErrAuth", err)
	}
}

func TestWrongKeyRefused(t *testing.T) {
	a, b := Random(), Random() // both call their key k1
	sealed := a.SealString("张三")
	if got, err := b.OpenString(sealed); !errors.Is(err, ErrAuth) {
		t.Errorf("another ring's k1 opened the value: %q, %v", got, err)
	}
	other, err := Parse("lookup " + key(1) + "\nkey k7 " + key(2) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.OpenString(sealed); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "k1") {
		t.Errorf("ring without k1: %v, want ErrUnknownKey naming k1", err)
	}
	if a.Lookup("张三") == b.Lookup("张三") {
		t.Error("two lookup keys give the same hash")
	}
}

func TestRotation(t *testing.T) {
	text := Generate()
	k1, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	old := k1.SealString("42020219800101001X")
	oldBin := k1.Seal([]byte("evidence"))

	text2, err := AddKey(text)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text2, text) {
		t.Error("AddKey changed the existing text")
	}
	k2, err := Parse(text2)
	if err != nil {
		t.Fatal(err)
	}
	if k2.Current() != "k2" || fmt.Sprint(k2.IDs()) != "[k1 k2]" {
		t.Fatalf("after AddKey: current %s, ids %v; want k2 of [k1 k2]", k2.Current(), k2.IDs())
	}
	if got, err := k2.OpenString(old); err != nil || got != "42020219800101001X" {
		t.Errorf("old value after AddKey = %q, %v", got, err)
	}
	if got, err := k2.Open(oldBin); err != nil || string(got) != "evidence" {
		t.Errorf("old binary value after AddKey = %q, %v", got, err)
	}
	fresh := k2.SealString("张三")
	if id, _ := StringKeyID(fresh); id != "k2" {
		t.Errorf("new value sealed with %s, want k2", id)
	}
	if id, _ := KeyID(k2.Seal([]byte("x"))); id != "k2" {
		t.Errorf("new binary value sealed with %s, want k2", id)
	}
	if k1.Lookup("张三") != k2.Lookup("张三") {
		t.Error("rotation changed the lookup hash")
	}

	// The old key line removed: only values sealed with it are lost.
	var kept []string
	for _, line := range strings.Split(text2, "\n") {
		if !strings.HasPrefix(line, "key k1 ") {
			kept = append(kept, line)
		}
	}
	onlyK2, err := Parse(strings.Join(kept, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := onlyK2.OpenString(fresh); err != nil || got != "张三" {
		t.Errorf("k2 value with k1 removed = %q, %v", got, err)
	}
	if _, err := onlyK2.OpenString(old); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("k1 value with k1 removed = %v, want ErrUnknownKey", err)
	}

	// The next rotation continues the numbering, even with k1 gone, and
	// takes any other ids in stride.
	text3, err := AddKey(strings.Join(kept, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k3, err := Parse(text3); err != nil || k3.Current() != "k3" {
		t.Errorf("second AddKey: %v, %v; want current k3", k3, err)
	}
	custom := "lookup " + key(1) + "\nkey 2026a " + key(2) + "\nkey k9 " + key(3) + "\nkey 2027 " + key(4)
	if out, err := AddKey(custom); err != nil || !strings.Contains(out, "\nkey k10 ") {
		t.Errorf("AddKey after k9 = %v; want k10", err)
	}
	if _, err := AddKey("key k1 " + key(1)); err == nil {
		t.Error("AddKey accepted text without a lookup key")
	}
}

func key(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func TestParse(t *testing.T) {
	good := "# comment\r\n\n  lookup " + key(1) + "  \r\nkey k1 " + key(2) + "\n# rotated\nkey 2026a " + key(3)
	k, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if k.Current() != "2026a" {
		t.Errorf("current = %s, want the last key line's 2026a", k.Current())
	}
	if s := fmt.Sprintf("%v %+v %#v %s", k, k, k, k); strings.Contains(s, key(2)) || strings.Contains(s, "\x02\x02\x02") {
		t.Errorf("formatting the ring shows key material: %s", s)
	}

	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	for _, c := range []struct{ text, want string }{
		{"lookup " + key(1) + "\nkey k1 " + key(2) + "\nkey k1 " + key(3), "line 3: key id k1 already used on line 2"},
		{"lookup " + key(1) + "\n\nlookup " + key(2) + "\nkey k1 " + key(2), "line 3: a second lookup key (the first is on line 1)"},
		{"lookup " + key(1) + "\nkey k1 " + short, "line 2: key k1: is 16 bytes, want 32"},
		{"lookup " + key(1) + "\nkey k1 not*base64", "line 2: key k1: is not valid base64"},
		{"lookup " + key(1) + "\nkey " + key(2), `line 2: want "key <id> <base64 key>"`},
		{"lookup " + key(1) + "\nkey k/1 " + key(2), "line 2: key id must be"},
		{"# x\nlookup " + key(1) + " extra\nkey k1 " + key(2), `line 2: want "lookup <base64 key>"`},
		{"lookup " + short + "\nkey k1 " + key(2), "line 1: lookup is 16 bytes, want 32"},
		{"lookup " + key(1) + "\n" + key(2), "line 2: unknown entry"},
		{"key k1 " + key(2), "no lookup key"},
		{"lookup " + key(1), "no encryption key"},
		{"", "no lookup key"},
	} {
		_, err := Parse(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", c.text, err, c.want)
			continue
		}
		for _, b := range []byte{1, 2, 3} {
			if strings.Contains(err.Error(), key(b)) || strings.Contains(err.Error(), short) {
				t.Errorf("error echoes key material: %v", err)
			}
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	text := Generate()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile of a 0600 file: %v", err)
	}
	want, _ := Parse(text)
	if k.Lookup("x") != want.Lookup("x") {
		t.Error("LoadFile read other keys than the file's")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), "group or others may read it") || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("LoadFile of a %04o file = %v, want refused with a clear message", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err != nil {
		t.Errorf("LoadFile of a 0400 file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("lookup "+key(1)+"\nkey k1 x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(bad); err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadFile of a bad file = %v, want the line and the path", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if a == b {
		t.Error("two key files are equal")
	}
	k, err := Parse(a)
	if err != nil || k.Current() != "k1" || len(k.IDs()) != 1 {
		t.Fatalf("Parse(Generate()) = %v, %v; want one key k1", k, err)
	}
	if !strings.HasPrefix(a, "#") || !strings.Contains(a, "Rotation") {
		t.Error("a new key file does not explain itself")
	}
}

func TestLookup(t *testing.T) {
	k := Random()
	h := k.Lookup("42020219800101001X")
	if len(h) != 64 || h != k.Lookup("42020219800101001X") || h == k.Lookup("42020219800101002X") {
		t.Errorf("Lookup = %q: want 64 hex digits, stable, different for another value", h)
	}
}

func BenchmarkSealString(b *testing.B) {
	k := Random()
	for b.Loop() {
		k.SealString("42020219800101001X")
	}
}

func BenchmarkOpenString(b *testing.B) {
	k := Random()
	s := k.SealString("42020219800101001X")
	for b.Loop() {
		if _, err := k.OpenString(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	k := Random()
	for b.Loop() {
		k.Lookup("42020219800101001X")
	}
}
