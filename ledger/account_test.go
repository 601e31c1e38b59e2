package ledger

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
)

// testAccount is an account with a made-up password hash: the ledger stores
// hashes, it never checks them.
func testAccount(login string, roles ...shixincheck.Role) Account {
	return Account{Login: login, DisplayName: "用户 " + login, Roles: roles, PasswordHash: "hash-of-" + login}
}

func mustAccount(t *testing.T, s *Store, a Account) Account {
	t.Helper()
	got, err := s.CreateAccount(context.Background(), a)
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", a.Login, err)
	}
	return got
}

func TestAccounts(t *testing.T) { onBoth(t, testAccounts) }

func testAccounts(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	if n, err := s.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts of a new ledger = %d, %v", n, err)
	}
	created := time.Date(2026, 3, 1, 8, 30, 0, 123456789, shanghai)
	in := testAccount("zhang", shixincheck.RoleAdmin, shixincheck.RoleClerk)
	in.CreatedAt = created
	in.FailedLogins = 7 // ignored: a new account starts clear
	admin := mustAccount(t, s, in)
	if admin.ID == 0 {
		t.Fatal("CreateAccount returned no ID")
	}
	want := Account{
		ID: admin.ID, Login: "zhang", DisplayName: "用户 zhang",
		Roles:        []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAdmin},
		PasswordHash: "hash-of-zhang", CreatedAt: dbTime(created), PasswordChangedAt: dbTime(created),
	}
	if !reflect.DeepEqual(admin, want) {
		t.Errorf("CreateAccount = %+v\nwant %+v", admin, want)
	}
	for name, get := range map[string]func() (Account, error){
		"Account":     func() (Account, error) { return s.Account(ctx, "zhang") },
		"AccountByID": func() (Account, error) { return s.AccountByID(ctx, admin.ID) },
	} {
		got, err := get()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %+v, %v\nwant %+v", name, got, err, want)
		}
	}

	if _, err := s.CreateAccount(ctx, testAccount("zhang", shixincheck.RoleClerk)); !errors.Is(err, ErrExists) {
		t.Errorf("CreateAccount of a taken login = %v, want ErrExists", err)
	}
	if _, err := s.CreateAccount(ctx, testAccount("")); err == nil {
		t.Error("CreateAccount without a login succeeded")
	}
	op := mustAccount(t, s, testAccount("li", shixincheck.RoleOperator))
	mustAccount(t, s, testAccount("an", shixincheck.RoleAuditor))
	all, err := s.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, a := range all {
		logins = append(logins, a.Login)
	}
	if !reflect.DeepEqual(logins, []string{"an", "li", "zhang"}) {
		t.Errorf("Accounts = %v, want by login", logins)
	}
	if n, err := s.CountAccounts(ctx); err != nil || n != 3 {
		t.Errorf("CountAccounts = %d, %v", n, err)
	}

	if _, err := s.Account(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Account(nobody) = %v, want ErrNotFound", err)
	}
	if _, err := s.AccountByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("AccountByID(9999) = %v, want ErrNotFound", err)
	}

	// Update without a new password: the hash and its date stay.
	op.DisplayName, op.Roles = "李操作", []shixincheck.Role{shixincheck.RoleOperator, shixincheck.RoleAuditor}
	op.PasswordHash = ""
	if err := s.UpdateAccount(ctx, op); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountByID(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "李操作" || !reflect.DeepEqual(got.Roles, op.Roles) || got.PasswordHash != "hash-of-li" ||
		!got.PasswordChangedAt.Equal(op.PasswordChangedAt) || got.Disabled {
		t.Errorf("after UpdateAccount: %+v", got)
	}
	if err := s.UpdateAccount(ctx, Account{ID: 9999, Login: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateAccount of a missing account = %v, want ErrNotFound", err)
	}
}

// A real hash goes in and comes out unchanged, and checks.
func TestAccountRealHash(t *testing.T) { onBoth(t, testAccountRealHash) }

func testAccountRealHash(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	h, err := access.HashPassword("一个足够长的密码abc")
	if err != nil {
		t.Fatal(err)
	}
	a := testAccount("wang", shixincheck.RoleClerk)
	a.PasswordHash = h
	mustAccount(t, s, a)
	got, err := s.Account(ctx, "wang")
	if err != nil || !access.CheckPassword(got.PasswordHash, "一个足够长的密码abc") {
		t.Errorf("stored hash does not check: %v", err)
	}
}

func TestLockOut(t *testing.T) { onBoth(t, testLockOut) }

func testLockOut(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("zhao", shixincheck.RoleClerk))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const max, lock = 3, 15 * time.Minute

	fail := func(at time.Time) *time.Time {
		t.Helper()
		until, err := s.LoginFailed(ctx, a.ID, at, max, lock)
		if err != nil {
			t.Fatal(err)
		}
		return until
	}
	state := func() Account {
		t.Helper()
		got, err := s.AccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Two failures, then a success: the counter starts again.
	fail(now)
	fail(now)
	if got := state(); got.FailedLogins != 2 || got.LockedUntil != nil {
		t.Fatalf("after 2 failures: failed %d, locked %v", got.FailedLogins, got.LockedUntil)
	}
	if err := s.LoginSucceeded(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := state(); got.FailedLogins != 0 || got.LockedUntil != nil {
		t.Fatalf("after success: failed %d, locked %v", got.FailedLogins, got.LockedUntil)
	}

	// max failures lock the account.
	if fail(now) != nil || fail(now) != nil {
		t.Fatal("locked before max failures")
	}
	until := fail(now)
	if until == nil || !until.Equal(now.Add(lock)) {
		t.Fatalf("failure %d: locked until %v, want %v", max, until, now.Add(lock))
	}
	if got := state(); got.FailedLogins != 0 || got.LockedUntil == nil || !got.LockedUntil.Equal(now.Add(lock)) {
		t.Fatalf("locked account: failed %d, locked %v", got.FailedLogins, got.LockedUntil)
	}
	// A failure while locked reports the lock still holding.
	if u := fail(now.Add(time.Minute)); u == nil || !u.Equal(now.Add(lock)) {
		t.Errorf("failure during the lock = %v, want the lock %v", u, now.Add(lock))
	}
	// After the lock: failures are not locked until max again.
	later := now.Add(lock + time.Second)
	if u := fail(later); u != nil {
		t.Errorf("failure after the lock expired = locked until %v", u)
	}
	if u := fail(later); u == nil || !u.Equal(later.Add(lock)) {
		t.Errorf("max failures after expiry = %v, want a new lock until %v", u, later.Add(lock))
	}
	if err := s.LoginSucceeded(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := state(); got.FailedLogins != 0 || got.LockedUntil != nil {
		t.Errorf("success did not clear the lock: failed %d, locked %v", got.FailedLogins, got.LockedUntil)
	}

	if _, err := s.LoginFailed(ctx, 9999, now, max, lock); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoginFailed of a missing account = %v, want ErrNotFound", err)
	}
}

// Failures on several nodes at once all count: 4×max concurrent failures
// lock the account exactly 4 times, leaving the counter at zero.
func TestLockOutConcurrent(t *testing.T) { onBoth(t, testLockOutConcurrent) }

func testLockOutConcurrent(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("qian", shixincheck.RoleClerk))
	const max, workers = 5, 4 * 5
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			// Each failure locks until a distinct time, so the locks can be told apart.
			_, err := s.LoginFailed(ctx, a.ID, now.Add(time.Duration(i)*time.Second), max, time.Hour)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FailedLogins != 0 || got.LockedUntil == nil {
		t.Errorf("after %d concurrent failures (max %d): failed %d, locked %v; a lost update?", workers, max, got.FailedLogins, got.LockedUntil)
	}
}

func TestUpdateAccountEndsSessions(t *testing.T) { onBoth(t, testUpdateAccountEndsSessions) }

func testUpdateAccountEndsSessions(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("sun", shixincheck.RoleClerk))
	other := mustAccount(t, s, testAccount("zhou", shixincheck.RoleClerk))
	open := func(acc Account) string {
		t.Helper()
		id := access.HashSecret(access.NewSecret(""))
		if err := s.CreateSession(ctx, Session{IDHash: id, AccountID: acc.ID, CSRFToken: access.NewSecret(""), Remote: "10.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	alive := func(id string) bool {
		t.Helper()
		_, err := s.Session(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	update := func(acc Account) {
		t.Helper()
		if err := s.UpdateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}

	// A change of name or roles keeps the sessions.
	s1, s2, bystander := open(a), open(a), open(other)
	a.DisplayName, a.Roles = "孙经办", []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAuditor}
	update(a)
	if !alive(s1) || !alive(s2) {
		t.Fatal("a change of name and roles ended the sessions")
	}

	// A failed log-in or two and a lock, then a new password: sessions end,
	// the counter and lock are cleared, the change is dated.
	if _, err := s.LoginFailed(ctx, a.ID, time.Now(), 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	a.PasswordHash = "hash-new"
	update(a)
	if alive(s1) || alive(s2) {
		t.Error("a new password left sessions open")
	}
	if !alive(bystander) {
		t.Error("another account's session ended")
	}
	got, err := s.AccountByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "hash-new" || got.PasswordChangedAt.Before(before) || got.FailedLogins != 0 || got.LockedUntil != nil {
		t.Errorf("after a new password: %+v", got)
	}

	// The same hash again is no new password.
	s3 := open(a)
	update(got)
	if !alive(s3) {
		t.Error("writing the stored hash back ended the session")
	}

	// Disabling ends them.
	got.Disabled = true
	update(got)
	if alive(s3) {
		t.Error("disabling left a session open")
	}
	if g, _ := s.AccountByID(ctx, a.ID); !g.Disabled {
		t.Error("account not disabled")
	}
	if !alive(bystander) {
		t.Error("another account's session ended")
	}
}

func TestSessions(t *testing.T) { onBoth(t, testSessions) }

func testSessions(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("wu", shixincheck.RoleClerk))
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 555555555, shanghai)
	in := Session{IDHash: access.HashSecret("cookie-1"), AccountID: a.ID, CSRFToken: "csrf-1", CreatedAt: t0, LastSeen: t0, Remote: "192.0.2.7"}
	if err := s.CreateSession(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, in); err == nil {
		t.Error("a second session with the same id was stored")
	}
	got, err := s.Session(ctx, in.IDHash)
	want := in
	want.CreatedAt, want.LastSeen = dbTime(t0), dbTime(t0)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Session = %+v, %v\nwant %+v", got, err, want)
	}
	t1 := t0.Add(10 * time.Minute)
	if err := s.TouchSession(ctx, in.IDHash, t1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, in.IDHash); !got.LastSeen.Equal(dbTime(t1)) || !got.CreatedAt.Equal(dbTime(t0)) {
		t.Errorf("after touch: created %v, last seen %v", got.CreatedAt, got.LastSeen)
	}
	if err := s.TouchSession(ctx, "nope", t1); !errors.Is(err, ErrNotFound) {
		t.Errorf("TouchSession of a missing session = %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(nope) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, in.IDHash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, in.IDHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, in.IDHash); err != nil {
		t.Errorf("deleting a deleted session = %v", err)
	}
}

func TestDeleteExpiredSessions(t *testing.T) { onBoth(t, testDeleteExpiredSessions) }

func testDeleteExpiredSessions(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("zheng", shixincheck.RoleClerk))
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	const idle, life = 30 * time.Minute, 12 * time.Hour
	sessions := map[string]struct {
		created, seen time.Time
		keep          bool
	}{
		"fresh":        {now.Add(-time.Hour), now.Add(-time.Minute), true},
		"idle":         {now.Add(-time.Hour), now.Add(-idle - time.Second), false},
		"just in time": {now.Add(-life), now.Add(-idle), true},
		"too old":      {now.Add(-life - time.Second), now, false},
	}
	for name, c := range sessions {
		if err := s.CreateSession(ctx, Session{IDHash: name, AccountID: a.ID, CSRFToken: "c", CreatedAt: c.created, LastSeen: c.seen}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSessions(ctx, now.Add(-idle), now.Add(-life))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v, want 2", n, err)
	}
	for name, c := range sessions {
		_, err := s.Session(ctx, name)
		if (err == nil) != c.keep {
			t.Errorf("session %q: kept = %v, want %v (%v)", name, err == nil, c.keep, err)
		}
	}
}

func TestTokens(t *testing.T) { onBoth(t, testTokens) }

func testTokens(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("feng", shixincheck.RoleClerk))
	other := mustAccount(t, s, testAccount("chen", shixincheck.RoleAdmin))

	secret := access.NewSecret("sxc_")
	tok, err := s.CreateToken(ctx, a.ID, "nightly import", access.HashSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ID == 0 || tok.AccountID != a.ID || tok.Name != "nightly import" || tok.CreatedAt.IsZero() || tok.LastUsedAt != nil || tok.RevokedAt != nil {
		t.Errorf("CreateToken = %+v", tok)
	}
	if _, err := s.CreateToken(ctx, other.ID, "copy", access.HashSecret(secret)); err == nil {
		t.Error("a second token with the same hash was stored")
	}
	second, err := s.CreateToken(ctx, a.ID, "laptop", access.HashSecret(access.NewSecret("sxc_")))
	if err != nil {
		t.Fatal(err)
	}

	// Use records the time, at most once a minute.
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	gotTok, gotAcc, err := s.TokenAccount(ctx, access.HashSecret(secret), now)
	if err != nil {
		t.Fatal(err)
	}
	if gotTok.ID != tok.ID || gotAcc.ID != a.ID || gotAcc.Login != "feng" || !reflect.DeepEqual(gotAcc.Roles, a.Roles) {
		t.Errorf("TokenAccount = %+v, %+v", gotTok, gotAcc)
	}
	if gotTok.LastUsedAt == nil || !gotTok.LastUsedAt.Equal(now) {
		t.Errorf("TokenAccount last used = %v, want %v", gotTok.LastUsedAt, now)
	}
	lastUsed := func() *time.Time {
		t.Helper()
		toks, err := s.Tokens(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range toks {
			if x.ID == tok.ID {
				return x.LastUsedAt
			}
		}
		t.Fatal("token missing from Tokens")
		return nil
	}
	s.TokenAccount(ctx, access.HashSecret(secret), now.Add(30*time.Second))
	if u := lastUsed(); u == nil || !u.Equal(now) {
		t.Errorf("last used after a use 30s later = %v, want still %v", u, now)
	}
	s.TokenAccount(ctx, access.HashSecret(secret), now.Add(2*time.Minute))
	if u := lastUsed(); u == nil || !u.Equal(now.Add(2*time.Minute)) {
		t.Errorf("last used after a use 2m later = %v", u)
	}

	if _, _, err := s.TokenAccount(ctx, access.HashSecret("sxc_unknown"), now); !errors.Is(err, ErrNotFound) {
		t.Errorf("TokenAccount(unknown) = %v, want ErrNotFound", err)
	}

	// Only the owner revokes, once.
	if err := s.RevokeToken(ctx, other.ID, tok.ID, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeToken by another account = %v, want ErrNotFound", err)
	}
	if _, _, err := s.TokenAccount(ctx, access.HashSecret(secret), now); err != nil {
		t.Errorf("token refused after another account's failed revoke: %v", err)
	}
	revoked := now.Add(time.Hour)
	if err := s.RevokeToken(ctx, a.ID, tok.ID, revoked); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenAccount(ctx, access.HashSecret(secret), now); !errors.Is(err, ErrNotFound) {
		t.Errorf("TokenAccount of a revoked token = %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, a.ID, tok.ID, revoked); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking a revoked token = %v, want ErrNotFound", err)
	}

	toks, err := s.Tokens(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 2 || toks[0].ID != second.ID || toks[1].ID != tok.ID {
		t.Fatalf("Tokens = %+v, want the 2 tokens newest first", toks)
	}
	if toks[1].RevokedAt == nil || !toks[1].RevokedAt.Equal(revoked) || toks[0].RevokedAt != nil {
		t.Errorf("Tokens revoked at: %v, %v", toks[0].RevokedAt, toks[1].RevokedAt)
	}
	if toks, err := s.Tokens(ctx, other.ID); err != nil || len(toks) != 0 {
		t.Errorf("Tokens of an account without any = %v, %v", toks, err)
	}
}

// Deleting an account is not part of the API, but the schema cascades:
// nothing of a removed account lingers to be found by a token or a cookie.
func TestAccountCascade(t *testing.T) { onBoth(t, testAccountCascade) }

func testAccountCascade(t *testing.T, fresh factory) {
	ctx := context.Background()
	s := newStore(t, fresh)
	a := mustAccount(t, s, testAccount("he", shixincheck.RoleClerk))
	if err := s.CreateSession(ctx, Session{IDHash: "sess", AccountID: a.ID, CSRFToken: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateToken(ctx, a.ID, "t", "tokhash"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM accounts WHERE id = ?`), a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "sess"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a deleted account = %v", err)
	}
	if _, _, err := s.TokenAccount(ctx, "tokhash", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("token of a deleted account = %v", err)
	}
	if err := s.CreateSession(ctx, Session{IDHash: "sess2", AccountID: a.ID, CSRFToken: "c"}); err == nil {
		t.Error("a session of a missing account was stored")
	}
}
