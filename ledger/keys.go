package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/vault"
)

// Sealed columns: candidates.name and id_number, checks.records (TEXT,
// vault.SealString); checks.evidence, evidence_files.data and
// filings.workbook (BLOB, vault.Seal; NULL stays NULL).

// sealBytes seals a nullable blob: nil stays nil (NULL).
func (s *Store) sealBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return s.keys.Seal(b)
}

// openBytes opens a nullable blob: NULL stays nil.
func (s *Store) openBytes(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return s.keys.Open(b)
}

// openRecords opens and decodes checks.records.
func (s *Store) openRecords(sealed string) ([]shixincheck.Record, error) {
	plain, err := s.keys.OpenString(sealed)
	if err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	var out []shixincheck.Record
	if err := json.Unmarshal([]byte(plain), &out); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	return out, nil
}

// keyCheckText is sealed into key_check with its keyed hash, so the check
// covers the lookup key as well as the encryption keys.
const keyCheckText = "shixincheck key check"

func (s *Store) keyCheckPlain() string { return keyCheckText + " " + s.keys.Lookup(keyCheckText) }

// checkKeys makes sure the keys are the database's. The first open with keys
// (key_check empty: a new database, or one written before encryption) seals
// every value left in plaintext and then stores the key check, in one
// transaction: an interrupted first open leaves the database as it was.
// Later opens must open the key check and find its hash equal.
func (s *Store) checkKeys(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: key check: %w", err)
	}
	defer tx.Rollback()
	if s.postgres { // nodes starting at once: one seals and writes the check, the others verify it
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7315500190217021)`); err != nil {
			return fmt.Errorf("ledger: key check: lock: %w", err)
		}
	}
	var sealed string
	err = tx.QueryRowContext(ctx, `SELECT sealed FROM key_check WHERE id = 1`).Scan(&sealed)
	if err == nil {
		return s.verifyKeyCheck(sealed)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("ledger: key check: %w", err)
	}
	if _, err := s.rekey(ctx, func(ctx context.Context, page func(*sql.Tx) error) error { return page(tx) }); err != nil {
		return fmt.Errorf("ledger: seal the data written before encryption: %w", err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO key_check (id, sealed) VALUES (1, ?)`), s.keys.SealString(s.keyCheckPlain())); err != nil {
		return fmt.Errorf("ledger: key check: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: key check: %w", err)
	}
	return nil
}

func (s *Store) verifyKeyCheck(sealed string) error {
	id, _ := vault.StringKeyID(sealed)
	plain, err := s.keys.OpenString(sealed)
	switch {
	case errors.Is(err, vault.ErrUnknownKey):
		return fmt.Errorf("%w: its data is sealed with key %s, which the key file lacks (%s)", ErrKeysMismatch, id, s.keys)
	case errors.Is(err, vault.ErrAuth):
		return fmt.Errorf("%w: the key file's key %s is not the one that sealed its data", ErrKeysMismatch, id)
	case err != nil:
		return fmt.Errorf("%w: key check: %v", ErrKeysMismatch, err)
	case plain != s.keyCheckPlain():
		return fmt.Errorf("%w: the key file's lookup key is not the one of this database", ErrKeysMismatch)
	}
	return nil
}

// pageRunner runs one page of a long rewrite in a transaction.
type pageRunner func(ctx context.Context, page func(*sql.Tx) error) error

// inOwnTx runs each page in a transaction of its own.
func (s *Store) inOwnTx(ctx context.Context, page func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := page(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Rekey re-seals under the current key every value sealed with another one,
// and seals any value still in plaintext (written before encryption, which
// the first open with keys normally seals already). It also recomputes the
// lookup hashes of the candidates it rewrites (left empty for purged
// batches). It works in pages of rows, each in a transaction; rows changed
// meanwhile (a purge) are skipped, having been re-sealed by that change.
// It returns the number of values rewritten.
//
// Rotation: add a key (vault.AddKey), restart with the new key file, Rekey,
// and only then remove the old key lines. The key check is re-sealed last,
// so until Rekey has finished, Open refuses a key file without the old key.
func (s *Store) Rekey(ctx context.Context) (int, error) {
	n, err := s.rekey(ctx, s.inOwnTx)
	if err != nil {
		return n, fmt.Errorf("ledger: rekey: %w", err)
	}
	var sealed string
	if err := s.db.QueryRowContext(ctx, `SELECT sealed FROM key_check WHERE id = 1`).Scan(&sealed); err != nil {
		return n, fmt.Errorf("ledger: rekey: key check: %w", err)
	}
	if s.stale(sealed) {
		if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE key_check SET sealed = ? WHERE id = 1 AND sealed = ?`),
			s.keys.SealString(s.keyCheckPlain()), sealed); err != nil {
			return n, fmt.Errorf("ledger: rekey: key check: %w", err)
		}
	}
	return n, nil
}

// stale tells whether a text value must be re-sealed: it is plaintext, or
// sealed with another key than the current one.
func (s *Store) stale(v string) bool {
	id, ok := vault.StringKeyID(v)
	return !ok || id != s.keys.Current()
}

// staleBytes is stale for a blob; NULL never is.
func (s *Store) staleBytes(b []byte) bool {
	if b == nil {
		return false
	}
	id, ok := vault.KeyID(b)
	return !ok || id != s.keys.Current()
}

// plainText opens a sealed text value; plaintext is returned as it is.
func (s *Store) plainText(v string) (string, error) {
	if _, ok := vault.StringKeyID(v); !ok {
		return v, nil
	}
	return s.keys.OpenString(v)
}

// plainBytes opens a sealed blob; plaintext is returned as it is.
func (s *Store) plainBytes(b []byte) ([]byte, error) {
	if _, ok := vault.KeyID(b); !ok {
		return b, nil
	}
	return s.keys.Open(b)
}

// resealText returns v sealed with the current key, and its plaintext.
func (s *Store) resealText(v string) (sealed, plain string, err error) {
	if plain, err = s.plainText(v); err != nil {
		return "", "", err
	}
	return s.keys.SealString(plain), plain, nil
}

// resealBytes returns b sealed with the current key.
func (s *Store) resealBytes(b []byte) ([]byte, error) {
	plain, err := s.plainBytes(b)
	if err != nil {
		return nil, err
	}
	return s.keys.Seal(plain), nil
}

// Rows per page of a rewrite: fewer where a row may hold megabytes.
const (
	rekeyRows  = 500
	rekeyBlobs = 10
)

// rekey rewrites every stale value, table by table, page by page.
func (s *Store) rekey(ctx context.Context, run pageRunner) (int, error) {
	total := 0
	for _, step := range []func(context.Context, pageRunner) (int, error){
		s.rekeyCandidates, s.rekeyChecks, s.rekeyEvidenceFiles, s.rekeyWorkbooks,
	} {
		n, err := step(ctx, run)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rewritePages hands rows to rewrite a page at a time, each page in a
// transaction of its own (run), until read returns a page shorter than
// limit. read reads the page after the last row rewrite saw.
func rewritePages[R any](ctx context.Context, run pageRunner, limit int, read func(tx *sql.Tx, limit int) ([]R, error), rewrite func(tx *sql.Tx, r R) error) error {
	for more := true; more; {
		err := run(ctx, func(tx *sql.Tx) error {
			page, err := read(tx, limit)
			if err != nil {
				return err
			}
			more = len(page) == limit
			for _, r := range page {
				if err := rewrite(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) rekeyCandidates(ctx context.Context, run pageRunner) (int, error) {
	type row struct {
		id             int64
		name, idNumber string
		purged         bool
	}
	total := 0
	var after int64
	err := rewritePages(ctx, run, rekeyRows, func(tx *sql.Tx, limit int) ([]row, error) {
		return queryAll(ctx, tx, s.rebind(`SELECT candidates.id, candidates.name, candidates.id_number, batches.purged_at IS NOT NULL
			FROM candidates JOIN batches ON batches.id = candidates.batch_id
			WHERE candidates.id > ? ORDER BY candidates.id LIMIT ?`), []any{after, limit},
			func(sc scanner) (r row, err error) { err = sc.Scan(&r.id, &r.name, &r.idNumber, &r.purged); return })
	}, func(tx *sql.Tx, r row) error {
		after = r.id
		staleName, staleID := s.stale(r.name), s.stale(r.idNumber)
		if !staleName && !staleID {
			return nil
		}
		name, plainName, err := s.resealText(r.name)
		if err != nil {
			return fmt.Errorf("candidate %d: name: %w", r.id, err)
		}
		idNumber, plainID, err := s.resealText(r.idNumber)
		if err != nil {
			return fmt.Errorf("candidate %d: ID number: %w", r.id, err)
		}
		if !staleName {
			name = r.name
		}
		if !staleID {
			idNumber = r.idNumber
		}
		nameLookup, idLookup := s.keys.Lookup(plainName), s.keys.Lookup(plainID)
		if r.purged { // purged people are not to be found again
			nameLookup, idLookup = "", ""
		}
		// Compare-and-set: a purge that masked the row meanwhile wins.
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE candidates SET name = ?, id_number = ?, name_lookup = ?, id_lookup = ?
			WHERE id = ? AND name = ? AND id_number = ?`),
			name, idNumber, nameLookup, idLookup, r.id, r.name, r.idNumber)
		if err != nil {
			return fmt.Errorf("candidate %d: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			total += count(staleName) + count(staleID)
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("candidates: %w", err)
	}
	return total, nil
}

func (s *Store) rekeyChecks(ctx context.Context, run pageRunner) (int, error) {
	type row struct {
		id       int64
		records  string
		evidence []byte
	}
	total := 0
	var after int64
	err := rewritePages(ctx, run, rekeyRows, func(tx *sql.Tx, limit int) ([]row, error) {
		return queryAll(ctx, tx, s.rebind(`SELECT id, records, evidence FROM checks WHERE id > ? ORDER BY id LIMIT ?`),
			[]any{after, limit}, func(sc scanner) (r row, err error) { err = sc.Scan(&r.id, &r.records, &r.evidence); return })
	}, func(tx *sql.Tx, r row) error {
		after = r.id
		staleRecords, staleEvidence := s.stale(r.records), s.staleBytes(r.evidence)
		if !staleRecords && !staleEvidence {
			return nil
		}
		records, evidence := r.records, r.evidence
		var err error
		if staleRecords {
			if records, _, err = s.resealText(r.records); err != nil {
				return fmt.Errorf("check %d: records: %w", r.id, err)
			}
		}
		if staleEvidence {
			if evidence, err = s.resealBytes(r.evidence); err != nil {
				return fmt.Errorf("check %d: evidence: %w", r.id, err)
			}
		}
		// A purge rewrites records: the old records guard the row.
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE checks SET records = ?, evidence = ? WHERE id = ? AND records = ?`),
			records, evidence, r.id, r.records)
		if err != nil {
			return fmt.Errorf("check %d: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			total += count(staleRecords) + count(staleEvidence)
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("checks: %w", err)
	}
	return total, nil
}

func (s *Store) rekeyEvidenceFiles(ctx context.Context, run pageRunner) (int, error) {
	type row struct {
		checkID int64
		name    string
		data    []byte
	}
	total := 0
	var afterCheck int64
	afterName := ""
	err := rewritePages(ctx, run, rekeyBlobs, func(tx *sql.Tx, limit int) ([]row, error) {
		return queryAll(ctx, tx, s.rebind(`SELECT check_id, name, data FROM evidence_files
			WHERE check_id > ? OR (check_id = ? AND name > ?) ORDER BY check_id, name LIMIT ?`),
			[]any{afterCheck, afterCheck, afterName, limit}, func(sc scanner) (r row, err error) { err = sc.Scan(&r.checkID, &r.name, &r.data); return })
	}, func(tx *sql.Tx, r row) error {
		afterCheck, afterName = r.checkID, r.name
		if !s.staleBytes(r.data) {
			return nil
		}
		data, err := s.resealBytes(r.data)
		if err != nil {
			return fmt.Errorf("check %d: evidence file: %w", r.checkID, err)
		}
		// Only a purge changes these rows, by deleting them.
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE evidence_files SET data = ? WHERE check_id = ? AND name = ?`), data, r.checkID, r.name)
		if err != nil {
			return fmt.Errorf("check %d: evidence file: %w", r.checkID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			total++
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("evidence files: %w", err)
	}
	return total, nil
}

func (s *Store) rekeyWorkbooks(ctx context.Context, run pageRunner) (int, error) {
	type row struct {
		id       int64
		workbook []byte
	}
	total := 0
	var after int64
	err := rewritePages(ctx, run, rekeyBlobs, func(tx *sql.Tx, limit int) ([]row, error) {
		return queryAll(ctx, tx, s.rebind(`SELECT id, workbook FROM filings WHERE id > ? AND workbook IS NOT NULL ORDER BY id LIMIT ?`),
			[]any{after, limit}, func(sc scanner) (r row, err error) { err = sc.Scan(&r.id, &r.workbook); return })
	}, func(tx *sql.Tx, r row) error {
		after = r.id
		if !s.staleBytes(r.workbook) {
			return nil
		}
		wb, err := s.resealBytes(r.workbook)
		if err != nil {
			return fmt.Errorf("filing %d: workbook: %w", r.id, err)
		}
		// Kept once submitted; only a purge changes it, to NULL.
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE filings SET workbook = ? WHERE id = ? AND workbook IS NOT NULL`), wb, r.id)
		if err != nil {
			return fmt.Errorf("filing %d: workbook: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			total++
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("filings: %w", err)
	}
	return total, nil
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
