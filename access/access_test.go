package access

import (
	"slices"
	"strings"
	"testing"

	shixincheck "github.com/shixincheck/shixincheck"
)

func TestHashAndCheck(t *testing.T) {
	const pw = "correct horse 电池"
	h1, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not an argon2id PHC string with the expected parameters", h1)
	}
	if !CheckPassword(h1, pw) {
		t.Error("CheckPassword refused the right password")
	}
	for _, wrong := range []string{"", "correct horse 电", "Correct horse 电池", pw + " "} {
		if CheckPassword(h1, wrong) {
			t.Errorf("CheckPassword accepted %q", wrong)
		}
	}
	h2, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if !CheckPassword(h2, pw) {
		t.Error("CheckPassword refused the second hash")
	}
}

func TestCheckMalformedHash(t *testing.T) {
	const pw = "0123456789abc"
	good, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=…, salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	for name, h := range map[string]string{
		"empty":          "",
		"plain":          pw,
		"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":        join("", "argon2i", parts[2], parts[3], parts[4], parts[5]),
		"version":        join("", "argon2id", "v=16", parts[3], parts[4], parts[5]),
		"no params":      join("", "argon2id", parts[2], "", parts[4], parts[5]),
		"huge memory":    join("", "argon2id", parts[2], "m=99999999,t=2,p=2", parts[4], parts[5]),
		"zero time":      join("", "argon2id", parts[2], "m=65536,t=0,p=2", parts[4], parts[5]),
		"trailing junk":  join("", "argon2id", parts[2], parts[3]+"x", parts[4], parts[5]),
		"bad salt":       join("", "argon2id", parts[2], parts[3], "!!!", parts[5]),
		"short key":      join("", "argon2id", parts[2], parts[3], parts[4], "AAAA"),
		"missing key":    join("", "argon2id", parts[2], parts[3], parts[4]),
		"extra field":    good + "$x",
		"key of another": join("", "argon2id", parts[2], parts[3], parts[4], strings.Repeat("A", len(parts[5]))),
	} {
		if CheckPassword(h, pw) {
			t.Errorf("%s: CheckPassword(%q) accepted the password", name, h)
		}
	}
}

func TestDummyCheck(t *testing.T) {
	DummyCheck("anything at all") // must not panic; its point is the time it takes
	if !strings.HasPrefix(dummyHash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("dummyHash %q does not use the current parameters", dummyHash)
	}
}

func TestValidatePassword(t *testing.T) {
	for _, c := range []struct {
		login, pw string
		ok        bool
	}{
		{"clerk1", "short", false},
		{"clerk1", "123456789", false},
		{"clerk1", "中文密码只有九个字", false},
		{"clerk1", "中文密码一共有十个字", true},
		{"clerk1", "aaaaaaaaaaaa", false},
		{"clerk1", "很很很很很很很很很很", false},
		{"longlogin12", "longlogin12", false},
		{"longlogin12", "LongLogin12", false},
		{"clerk1", "clerk1clerk1", true},
		{"clerk1", "tr0ub4dor&3x", true},
	} {
		err := ValidatePassword(c.login, c.pw)
		if (err == nil) != c.ok {
			t.Errorf("ValidatePassword(%q, %q) = %v, want ok=%v", c.login, c.pw, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "密码") {
			t.Errorf("ValidatePassword(%q, %q) error %q is not a sentence for the form", c.login, c.pw, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	a, b := NewSecret("sxc_"), NewSecret("sxc_")
	if a == b {
		t.Error("two secrets are equal")
	}
	if !strings.HasPrefix(a, "sxc_") || len(a) != len("sxc_")+43 {
		t.Errorf("NewSecret(sxc_) = %q, want sxc_ and 43 base64url characters", a)
	}
	s := NewSecret("")
	if len(s) != 43 || strings.ContainsAny(s, "+/=") {
		t.Errorf("NewSecret() = %q, want 43 URL-safe characters", s)
	}
	// sha256("abc"), a published test vector.
	if got := HashSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashSecret(abc) = %s", got)
	}
}

func TestRoles(t *testing.T) {
	got, err := ParseRoles("admin, clerk")
	if err != nil {
		t.Fatal(err)
	}
	if want := []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAdmin}; !slices.Equal(got, want) {
		t.Errorf("ParseRoles = %v, want %v", got, want)
	}
	if s := FormatRoles(got); s != "clerk,admin" {
		t.Errorf("FormatRoles = %q", s)
	}
	all := FormatRoles(shixincheck.Roles)
	back, err := ParseRoles(all)
	if err != nil || !slices.Equal(back, shixincheck.Roles) {
		t.Errorf("ParseRoles(FormatRoles(all)) = %v, %v", back, err)
	}
	for _, bad := range []string{"", "clerk,", "root", "clerk,clerk", "Clerk", "clerk;admin"} {
		if r, err := ParseRoles(bad); err == nil {
			t.Errorf("ParseRoles(%q) = %v, want an error", bad, r)
		}
	}
	if FormatRoles(nil) != "" {
		t.Error("FormatRoles(nil) is not empty")
	}
	if !HasRole(got, shixincheck.RoleOperator, shixincheck.RoleAdmin) {
		t.Error("HasRole missed admin")
	}
	if HasRole(got, shixincheck.RoleOperator, shixincheck.RoleAuditor) || HasRole(got) || HasRole(nil, shixincheck.RoleClerk) {
		t.Error("HasRole found a role that is not there")
	}
}

// BenchmarkHashPassword is the cost of one log-in (CheckPassword costs the same).
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestValidateLogin(t *testing.T) {
	for login, ok := range map[string]bool{
		"clerk1": true, "wang.jb@office": true, "a-b_c": true, "ab": true,
		"": false, "a": false, "-lead": false, "王经办": false, "wang jb": false, "a/b": false, strings.Repeat("a", 65): false,
	} {
		if err := ValidateLogin(login); (err == nil) != ok {
			t.Errorf("ValidateLogin(%q) = %v, want ok=%v", login, err, ok)
		}
	}
}
