package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
)

// ErrExists is returned when an account's login is already taken.
var ErrExists = errors.New("ledger: already exists")

// Account is a person who logs in to the web UI or holds API tokens.
type Account struct {
	ID                int64
	Login             string
	DisplayName       string
	Roles             []shixincheck.Role
	PasswordHash      string // access.HashPassword's PHC string
	Disabled          bool
	FailedLogins      int        // failed log-ins since the last success or lock
	LockedUntil       *time.Time // log-in refused until then; nil or past when not locked
	CreatedAt         time.Time
	PasswordChangedAt time.Time
}

const accountCols = `a.id, a.login, a.display_name, a.roles, a.password_hash, a.disabled,
	a.failed_logins, a.locked_until, a.created_at, a.password_changed_at`

// accountRow is where accountCols scan into.
type accountRow struct {
	a      Account
	roles  string
	locked sql.NullTime
}

func (r *accountRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.Login, &a.DisplayName, &r.roles, &a.PasswordHash, &a.Disabled,
		&a.FailedLogins, &r.locked, &a.CreatedAt, &a.PasswordChangedAt}
}

// account is the scanned account, its roles parsed and its times in UTC.
func (r *accountRow) account() (Account, error) {
	a := r.a
	if r.roles != "" {
		var err error
		if a.Roles, err = access.ParseRoles(r.roles); err != nil {
			return Account{}, fmt.Errorf("account %d: %w", a.ID, err)
		}
	}
	a.LockedUntil = utcPtr(r.locked)
	a.CreatedAt, a.PasswordChangedAt = a.CreatedAt.UTC(), a.PasswordChangedAt.UTC()
	return a, nil
}

func scanAccount(sc scanner) (Account, error) {
	var r accountRow
	if err := sc.Scan(r.dest()...); err != nil {
		return Account{}, err
	}
	return r.account()
}

// utcPtr is a nullable time as read, in UTC.
func utcPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// forUpdate is the row-lock clause of a SELECT inside a transaction:
// PostgreSQL needs it against concurrent writers, SQLite's BEGIN IMMEDIATE
// already holds the whole database.
func (s *Store) forUpdate() string {
	if s.postgres {
		return " FOR UPDATE"
	}
	return ""
}

// CreateAccount stores a new account and returns it with its ID. A zero
// CreatedAt means now; a zero PasswordChangedAt means CreatedAt. The failure
// counter and lock start clear. ErrExists when the login is taken.
func (s *Store) CreateAccount(ctx context.Context, a Account) (Account, error) {
	if a.Login == "" {
		return Account{}, errors.New("ledger: create account: login is required")
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	a.CreatedAt = dbTime(a.CreatedAt)
	if a.PasswordChangedAt.IsZero() {
		a.PasswordChangedAt = a.CreatedAt
	}
	a.PasswordChangedAt = dbTime(a.PasswordChangedAt)
	a.FailedLogins, a.LockedUntil = 0, nil
	a.Roles, _ = access.ParseRoles(access.FormatRoles(a.Roles)) // the order they read back in

	err := s.db.QueryRowContext(ctx, s.rebind(`INSERT INTO accounts
		(login, display_name, roles, password_hash, disabled, failed_logins, created_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (login) DO NOTHING RETURNING id`),
		a.Login, a.DisplayName, access.FormatRoles(a.Roles), a.PasswordHash, a.Disabled, a.CreatedAt, a.PasswordChangedAt,
	).Scan(&a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrExists
	}
	if err != nil {
		return Account{}, fmt.Errorf("ledger: create account: %w", err)
	}
	return a, nil
}

// Account returns the account with login. ErrNotFound when there is none.
func (s *Store) Account(ctx context.Context, login string) (Account, error) {
	return s.account(ctx, `a.login = ?`, login)
}

// AccountByID returns the account with id. ErrNotFound when there is none.
func (s *Store) AccountByID(ctx context.Context, id int64) (Account, error) {
	return s.account(ctx, `a.id = ?`, id)
}

func (s *Store) account(ctx context.Context, cond string, arg any) (Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+accountCols+` FROM accounts a WHERE `+cond), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("ledger: account: %w", err)
	}
	return a, nil
}

// Accounts returns every account, by login.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	out, err := queryAll(ctx, s.db, `SELECT `+accountCols+` FROM accounts a ORDER BY a.login`, nil, scanAccount)
	if err != nil {
		return nil, fmt.Errorf("ledger: accounts: %w", err)
	}
	return out, nil
}

// CountAccounts returns the number of accounts.
func (s *Store) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("ledger: count accounts: %w", err)
	}
	return n, nil
}

// UpdateAccount writes a's DisplayName, Roles and Disabled. When
// a.PasswordHash is set and differs from the stored one it is written too,
// with PasswordChangedAt now and the failure counter and lock cleared; an
// empty PasswordHash keeps the stored one. Disabling the account or giving
// it a new password also ends its sessions. ErrNotFound when there is no
// account a.ID. Login, CreatedAt and the lock fields of a are ignored.
func (s *Store) UpdateAccount(ctx context.Context, a Account) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: update account: %w", err)
	}
	defer tx.Rollback()

	var (
		hash     string
		disabled bool
	)
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT password_hash, disabled FROM accounts WHERE id = ?`+s.forUpdate()), a.ID).Scan(&hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("ledger: update account: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE accounts SET display_name = ?, roles = ?, disabled = ? WHERE id = ?`),
		a.DisplayName, access.FormatRoles(a.Roles), a.Disabled, a.ID); err != nil {
		return fmt.Errorf("ledger: update account: %w", err)
	}
	newPassword := a.PasswordHash != "" && a.PasswordHash != hash
	if newPassword {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE accounts
			SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL WHERE id = ?`),
			a.PasswordHash, dbTime(time.Now()), a.ID); err != nil {
			return fmt.Errorf("ledger: update account: %w", err)
		}
	}
	if newPassword || (a.Disabled && !disabled) {
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE account_id = ?`), a.ID); err != nil {
			return fmt.Errorf("ledger: update account: end sessions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: update account: %w", err)
	}
	return nil
}

// LoginFailed counts a failed log-in of account id, in one statement so
// concurrent failures on several daemon nodes all count. When the failures
// reach max, the account is locked until now+lock and the counter starts
// again from zero. It returns the account's lock time when the account is
// locked after now (by this failure or an earlier one), else nil.
// ErrNotFound when there is no account id.
func (s *Store) LoginFailed(ctx context.Context, id int64, now time.Time, max int, lock time.Duration) (*time.Time, error) {
	now = dbTime(now)
	var locked sql.NullTime
	err := s.db.QueryRowContext(ctx, s.rebind(`UPDATE accounts SET
		failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END,
		locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END
		WHERE id = ? RETURNING locked_until`),
		max, max, now.Add(lock), id).Scan(&locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: login failed: %w", err)
	}
	if until := utcPtr(locked); until != nil && until.After(now) {
		return until, nil
	}
	return nil, nil
}

// LoginSucceeded clears account id's failure counter and lock.
func (s *Store) LoginSucceeded(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?`), id); err != nil {
		return fmt.Errorf("ledger: login succeeded: %w", err)
	}
	return nil
}

// Session is a logged-in browser. The cookie holds a secret; only its hash
// (access.HashSecret) is stored, as IDHash.
type Session struct {
	IDHash    string
	AccountID int64
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
	Remote    string // client address at log-in
}

const sessionCols = `id_hash, account_id, csrf_token, created_at, last_seen, remote`

// CreateSession stores a new session. Zero CreatedAt and LastSeen mean now.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = time.Now()
	}
	if sess.LastSeen.IsZero() {
		sess.LastSeen = sess.CreatedAt
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		sess.IDHash, sess.AccountID, sess.CSRFToken, dbTime(sess.CreatedAt), dbTime(sess.LastSeen), sess.Remote); err != nil {
		return fmt.Errorf("ledger: create session: %w", err)
	}
	return nil
}

// Session returns the session with idHash. ErrNotFound when there is none.
func (s *Store) Session(ctx context.Context, idHash string) (Session, error) {
	var sess Session
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT `+sessionCols+` FROM sessions WHERE id_hash = ?`), idHash).
		Scan(&sess.IDHash, &sess.AccountID, &sess.CSRFToken, &sess.CreatedAt, &sess.LastSeen, &sess.Remote)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("ledger: session: %w", err)
	}
	sess.CreatedAt, sess.LastSeen = sess.CreatedAt.UTC(), sess.LastSeen.UTC()
	return sess, nil
}

// TouchSession records that the session was used at now. ErrNotFound when
// there is no such session.
func (s *Store) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE sessions SET last_seen = ? WHERE id_hash = ?`), dbTime(now), idHash)
	if err != nil {
		return fmt.Errorf("ledger: touch session: %w", err)
	}
	return oneRow(res, "touch session")
}

// DeleteSession removes a session; removing one that is gone is no error.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE id_hash = ?`), idHash); err != nil {
		return fmt.Errorf("ledger: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions last seen before idleBefore or
// created before createdBefore, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sessions WHERE last_seen < ? OR created_at < ?`),
		dbTime(idleBefore), dbTime(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("ledger: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("ledger: delete expired sessions: %w", err)
	}
	return int(n), nil
}

// oneRow turns an UPDATE that matched no row into ErrNotFound.
func oneRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("ledger: %s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Token is an API token of an account. The secret is shown once when the
// token is made; only its hash (access.HashSecret) is stored.
type Token struct {
	ID         int64
	AccountID  int64
	Name       string // what the account holder called it, e.g. "nightly import"
	CreatedAt  time.Time
	LastUsedAt *time.Time // to the minute
	RevokedAt  *time.Time
}

const tokenCols = `t.id, t.account_id, t.name, t.created_at, t.last_used_at, t.revoked_at`

// scanToken scans tokenCols, then any further columns into more.
func scanToken(sc scanner, more ...any) (Token, error) {
	var (
		t            Token
		used, revoke sql.NullTime
	)
	if err := sc.Scan(append([]any{&t.ID, &t.AccountID, &t.Name, &t.CreatedAt, &used, &revoke}, more...)...); err != nil {
		return Token{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	t.LastUsedAt, t.RevokedAt = utcPtr(used), utcPtr(revoke)
	return t, nil
}

// CreateToken stores a new token of accountID under name, by its hash
// (access.HashSecret of the secret shown once), and returns it.
func (s *Store) CreateToken(ctx context.Context, accountID int64, name, hash string) (Token, error) {
	t := Token{AccountID: accountID, Name: name, CreatedAt: dbTime(time.Now())}
	err := s.db.QueryRowContext(ctx, s.rebind(`INSERT INTO api_tokens (account_id, name, token_hash, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`), accountID, name, hash, t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return Token{}, fmt.Errorf("ledger: create token: %w", err)
	}
	return t, nil
}

// tokenUseGranularity is how stale last_used_at may get: a busy script
// does not write to the ledger on every request.
const tokenUseGranularity = time.Minute

// TokenAccount finds the live (not revoked) token with hash and its account,
// and records its use at now (at most once a minute). ErrNotFound for an
// unknown or revoked token. The account may be disabled: the caller checks.
func (s *Store) TokenAccount(ctx context.Context, hash string, now time.Time) (Token, Account, error) {
	now = dbTime(now)
	var ar accountRow
	t, err := scanToken(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+tokenCols+`, `+accountCols+`
		FROM api_tokens t JOIN accounts a ON a.id = t.account_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`), hash),
		ar.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, Account{}, ErrNotFound
	}
	if err != nil {
		return Token{}, Account{}, fmt.Errorf("ledger: token: %w", err)
	}
	a, err := ar.account()
	if err != nil {
		return Token{}, Account{}, fmt.Errorf("ledger: token: %w", err)
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenUseGranularity {
		if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), now, t.ID); err != nil {
			return Token{}, Account{}, fmt.Errorf("ledger: token: record use: %w", err)
		}
		t.LastUsedAt = &now
	}
	return t, a, nil
}

// Tokens returns accountID's tokens, revoked ones included, newest first.
func (s *Store) Tokens(ctx context.Context, accountID int64) ([]Token, error) {
	out, err := queryAll(ctx, s.db, s.rebind(`SELECT `+tokenCols+` FROM api_tokens t WHERE t.account_id = ? ORDER BY t.id DESC`),
		[]any{accountID}, func(sc scanner) (Token, error) { return scanToken(sc) })
	if err != nil {
		return nil, fmt.Errorf("ledger: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes token tokenID of accountID at now. ErrNotFound when
// it is not a live token of that account.
func (s *Store) RevokeToken(ctx context.Context, accountID, tokenID int64, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE api_tokens SET revoked_at = ?
		WHERE id = ? AND account_id = ? AND revoked_at IS NULL`), dbTime(now), tokenID, accountID)
	if err != nil {
		return fmt.Errorf("ledger: revoke token: %w", err)
	}
	return oneRow(res, "revoke token")
}
