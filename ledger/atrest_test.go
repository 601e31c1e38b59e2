package ledger

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeEverything stores personal data in every place the ledger keeps it:
// candidates, a check's records and raw answers, evidence files, a
// submitted filing's workbook; and one more batch still running.
func writeEverything(t *testing.T, s *Store) {
	t.Helper()
	writePersonal(t, s, "b1", at(2, 9))
	fileBatch(t, s, "b1", true)
	mustCreate(t, s, testBatch("b2", at(3, 9)), secretPeople)
}

// secretNeedles are what must not occur in stored bytes: every name and ID
// number, and every 15-character run of an ID number.
func secretNeedles() []string {
	var out []string
	for _, p := range secretPeople {
		out = append(out, p.Name, p.IDNumber)
		for i := 0; i+15 <= len(p.IDNumber); i++ {
			out = append(out, p.IDNumber[i:i+15])
		}
	}
	return out
}

// assertNoSecrets fails for each needle found in data (or, with asHex, in
// data as hex text too: PostgreSQL shows bytea so).
func assertNoSecrets(t *testing.T, where string, data []byte, asHex bool) {
	t.Helper()
	for _, n := range secretNeedles() {
		if bytes.Contains(data, []byte(n)) {
			t.Errorf("%s holds %q in clear", where, n)
		}
		if asHex && bytes.Contains(bytes.ToLower(data), []byte(hex.EncodeToString([]byte(n)))) {
			t.Errorf("%s holds %q in clear, as hex", where, n)
		}
	}
}

// assertReadsData fails unless data holds the batches' unit, stored in
// clear: the scan reads where the ledger writes.
func assertReadsData(t *testing.T, where string, data []byte) {
	t.Helper()
	if !bytes.Contains(data, []byte("某区人社局")) {
		t.Errorf("%s does not hold the batches' unit either: the scan reads nothing useful", where)
	}
}

// The "encrypted columns not readable in the database file".
func TestEncryptedAtRestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := Open(context.Background(), path, testKeys)
	if err != nil {
		t.Fatal(err)
	}
	writeEverything(t, s)
	// While open, recent pages are in the -wal file.
	read := func(when string) {
		t.Helper()
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if os.IsNotExist(err) && strings.HasSuffix(p, "-wal") {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecrets(t, when+" "+filepath.Base(p), b, false)
			all = append(all, b...)
		}
		assertReadsData(t, when+" database files", all)
	}
	read("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	read("closed")
}

func TestEncryptedAtRestPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openAt(t, postgresLedger(t))
	writeEverything(t, s)
	// Every table of the ledger's schema, each row as PostgreSQL's text.
	var tables []string
	if err := scanAll(ctx, s.db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`, nil,
		func(sc scanner) error {
			var name string
			if err := sc.Scan(&name); err != nil {
				return err
			}
			tables = append(tables, name)
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, table := range tables {
		if err := scanAll(ctx, s.db, `SELECT t::text FROM `+table+` t`, nil, func(sc scanner) error {
			var row string
			if err := sc.Scan(&row); err != nil {
				return err
			}
			all.WriteString(row + "\n")
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	if !strings.Contains(strings.Join(tables, " "), "evidence_files") {
		t.Fatalf("tables of the schema = %v, want the ledger's", tables)
	}
	assertNoSecrets(t, "PostgreSQL rows", all.Bytes(), true)
	assertReadsData(t, "PostgreSQL rows", all.Bytes())
}
