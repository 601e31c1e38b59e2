package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The audit trail is append-only twice over: triggers in the database refuse
// UPDATE and DELETE on audit_log, and each entry carries the hash of the one
// before it, so an entry edited or removed behind the triggers' back breaks
// the chain that VerifyAudit walks.

// AuditEntry is one line of the audit trail: who did what, to what, when and
// from where.
type AuditEntry struct {
	Seq      int64 // 1, 2, 3, … with no gaps
	At       time.Time
	Actor    string // account login, or "system", or "cli:<os user>"
	Action   string // shixincheck.Audit* constants
	Target   string // e.g. "batch b1234", "candidate 17", "filing 3", "account clerk1"; never a name or an ID number
	Detail   string // short free text, no personal data
	Remote   string // client address, "" for the CLI
	PrevHash string // Hash of entry Seq-1; genesisHash for the first
	Hash     string // auditHash of this entry
}

// genesisHash is the PrevHash of the first entry.
var genesisHash = strings.Repeat("0", 64)

// auditLockKey is the PostgreSQL advisory lock that serialises appends
// across daemon nodes (any constant, the same in every node).
const auditLockKey = 7315500190217022

const auditCols = `seq, at, actor, action, target, detail, remote, prev_hash, hash`

func scanAudit(sc scanner) (AuditEntry, error) {
	var e AuditEntry
	if err := sc.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Remote, &e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	e.At = e.At.UTC()
	return e, nil
}

// auditHash is the sha256, in lower-case hex, of the entry's fields other
// than Hash, each written as a netstring ("<byte length>:<bytes>,") in the
// order seq (decimal), at (UTC, RFC 3339 with the stored microseconds),
// actor, action, target, detail, remote, prev_hash. The length prefixes keep
// two different entries from encoding alike.
func auditHash(e AuditEntry) string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), dbTime(e.At).Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Target, e.Detail, e.Remote, e.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s,", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit appends e to the trail and returns it as stored, with Seq, PrevHash
// and Hash filled in. A zero At means now. Appends are serialised (SQLite's
// BEGIN IMMEDIATE, PostgreSQL's advisory lock), so concurrent writers on
// one or several nodes extend one chain.
func (s *Store) Audit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = dbTime(e.At)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("ledger: audit: %w", err)
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+strconv.FormatInt(auditLockKey, 10)+`)`); err != nil {
			return AuditEntry{}, fmt.Errorf("ledger: audit: lock: %w", err)
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.PrevHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		e.Seq, e.PrevHash = 0, genesisHash
	case err != nil:
		return AuditEntry{}, fmt.Errorf("ledger: audit: last entry: %w", err)
	}
	e.Seq++
	e.Hash = auditHash(e)
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.Seq, e.At, e.Actor, e.Action, e.Target, e.Detail, e.Remote, e.PrevHash, e.Hash); err != nil {
		return AuditEntry{}, fmt.Errorf("ledger: audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return AuditEntry{}, fmt.Errorf("ledger: audit: %w", err)
	}
	return e, nil
}

// AuditQuery selects audit entries. Zero fields set no bound.
type AuditQuery struct {
	From, To      time.Time // From <= At < To
	Actor, Action string    // exact
	Limit, Offset int       // Limit 0 means 200
}

// DefaultAuditLimit is the page size of an AuditQuery without a Limit.
const DefaultAuditLimit = 200

// AuditLog returns the entries q selects, newest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	var (
		conds []string
		args  []any
	)
	if !q.From.IsZero() {
		conds, args = append(conds, `at >= ?`), append(args, dbTime(q.From))
	}
	if !q.To.IsZero() {
		conds, args = append(conds, `at < ?`), append(args, dbTime(q.To))
	}
	if q.Actor != "" {
		conds, args = append(conds, `actor = ?`), append(args, q.Actor)
	}
	if q.Action != "" {
		conds, args = append(conds, `action = ?`), append(args, q.Action)
	}
	where := ""
	if len(conds) > 0 {
		where = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	if q.Limit <= 0 {
		q.Limit = DefaultAuditLimit
	}
	args = append(args, q.Limit, max(q.Offset, 0))
	out, err := queryAll(ctx, s.db, s.rebind(`SELECT `+auditCols+` FROM audit_log`+where+` ORDER BY seq DESC LIMIT ? OFFSET ?`), args, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("ledger: audit log: %w", err)
	}
	return out, nil
}

// auditPage is how many entries AuditEntries reads at a time.
const auditPage = 500

// AuditEntries calls fn for every entry in seq order, for export and
// verification, reading a page at a time so neither memory nor a database
// connection is held for the whole trail. An error from fn stops the walk
// and is returned as is.
func (s *Store) AuditEntries(ctx context.Context, fn func(AuditEntry) error) error {
	after := int64(0) // seq starts at 1
	for {
		page, err := s.auditPage(ctx, after)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(page) < auditPage {
			return nil
		}
	}
}

func (s *Store) auditPage(ctx context.Context, after int64) ([]AuditEntry, error) {
	page, err := queryAll(ctx, s.db, s.rebind(`SELECT `+auditCols+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`), []any{after, auditPage}, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("ledger: audit entries: %w", err)
	}
	return page, nil
}

// AuditBreak is VerifyAudit's error: where the chain first breaks and why.
type AuditBreak struct {
	Seq    int64  // the first entry that fails, or the first one missing
	Reason string // e.g. "hash mismatch"
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("ledger: audit trail broken at seq %d: %s", b.Seq, b.Reason)
}

// VerifyAudit walks the trail in seq order, recomputing each entry's hash
// and its link to the one before. It returns how many entries passed and,
// when the chain is broken, an *AuditBreak naming the first bad seq: a
// missing entry (gap in seq), an entry whose prev_hash is not the previous
// entry's hash, or one whose hash does not match its content. Removing
// entries from the end leaves no trace in the chain itself: compare the
// count and last hash with an earlier export for that.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	n, want, prev := 0, int64(1), genesisHash
	err := s.AuditEntries(ctx, func(e AuditEntry) error {
		switch {
		case e.Seq != want:
			return &AuditBreak{Seq: want, Reason: fmt.Sprintf("missing (gap in seq: the next entry is %d)", e.Seq)}
		case e.PrevHash != prev:
			return &AuditBreak{Seq: e.Seq, Reason: fmt.Sprintf("prev_hash mismatch (does not match the hash of seq %d)", e.Seq-1)}
		case auditHash(e) != e.Hash:
			return &AuditBreak{Seq: e.Seq, Reason: "hash mismatch (the entry was changed)"}
		}
		n, want, prev = n+1, e.Seq+1, e.Hash
		return nil
	})
	return n, err
}
