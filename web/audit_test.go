package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
)

// TestAuditOfUse: uploads, steering, searches, unmasking, downloads and
// filings are written to the audit trail with who, what and from where,
// and no entry holds a name or an ID number.
func TestAuditOfUse(t *testing.T) {
	ts := newTestServer(t)
	clerk := ts.clerk.account.Login
	if e, ok := ts.audited(t, clerk, shixincheck.AuditLogin, "account "+clerk); !ok || e.Remote != "127.0.0.1" {
		t.Errorf("log-in entry: %+v", e)
	}
	id := ts.checked(t, time.Now())
	entries, _ := ts.ledger.Entries(context.Background(), id)
	cand := entries[0].Candidate.ID

	ts.send(t, "POST", "/api/v1/batches/"+id+"/pause", "")
	ts.send(t, "GET", "/api/v1/batches/"+id+"/workbook", "")
	ts.send(t, "POST", "/api/v1/ledger/query", `{"id_number":"11010519491231002X"}`)
	ts.send(t, "POST", "/api/v1/ledger/query", `{"name":"张三"}`)
	ts.send(t, "POST", "/api/v1/ledger/export", `{"full_ids":"1"}`)
	ts.send(t, "POST", "/api/v1/ledger/export", `{}`)
	ts.send(t, "POST", fmt.Sprintf("/api/v1/candidates/%d/unmask", cand), "")
	ts.send(t, "GET", fmt.Sprintf("/api/v1/checks/%d/evidence", entries[0].Check.ID), "")
	_, body := ts.send(t, "POST", "/api/v1/filings", `{"department":"政工科","from":"2000-01-01","to":"2099-12-31","unit":"u","handler":"h","phone":"p"}`)
	var f struct{ ID int64 }
	if err := json.Unmarshal(body, &f); err != nil || f.ID == 0 {
		t.Fatalf("filing: %s", body)
	}
	ts.send(t, "GET", fmt.Sprintf("/api/v1/filings/%d/workbook?masked=1", f.ID), "")
	ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", f.ID), `{"submitted_at":"`+time.Now().Format("2006-01-02")+`","submitted_by":"王经办"}`)
	ts.send(t, "GET", "/api/v1/batches/template.xlsx", "")

	for _, want := range []struct{ action, target, detail string }{
		{shixincheck.AuditUpload, "batch " + id, "2 rows"},
		{shixincheck.AuditBatchControl, "batch " + id, "pause"},
		{shixincheck.AuditDownload, "batch " + id, "filing workbook, full IDs"},
		{shixincheck.AuditViewPerson, "id 110105********002X", "history 1 checks"},
		{shixincheck.AuditViewPerson, "name search", "1 of 1 rows"},
		{shixincheck.AuditDownload, "ledger search", "full IDs"},
		{shixincheck.AuditDownload, "ledger search", "masked IDs"},
		{shixincheck.AuditUnmask, fmt.Sprintf("candidate %d", cand), "batch " + id},
		{shixincheck.AuditDownload, fmt.Sprintf("check %d", entries[0].Check.ID), "evidence"},
		{shixincheck.AuditFilingCreated, fmt.Sprintf("filing %d", f.ID), "政工科"},
		{shixincheck.AuditDownload, fmt.Sprintf("filing %d", f.ID), "masked IDs"},
		{shixincheck.AuditFilingSubmitted, fmt.Sprintf("filing %d", f.ID), "submitted"},
	} {
		found := false
		for _, e := range ts.auditEntries(t) {
			if e.Actor == clerk && e.Action == want.action && e.Target == want.target && strings.Contains(e.Detail, want.detail) && e.Remote == "127.0.0.1" {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s entry for %q with %q", want.action, want.target, want.detail)
		}
	}
	all := ts.auditEntries(t)
	for _, e := range all {
		line := fmt.Sprint(e)
		for _, p := range []string{"张三", "李四", "11010519491231002X", "420202198001011237"} {
			if strings.Contains(line, p) {
				t.Errorf("audit entry holds %q: %s", p, line)
			}
		}
		if strings.Contains(e.Detail, "template") {
			t.Errorf("the template download is audited: %+v", e)
		}
	}
	if n, err := ts.ledger.VerifyAudit(context.Background()); err != nil || n != len(all) {
		t.Errorf("chain: %d entries checked of %d, %v", n, len(all), err)
	}
}

// TestAuditPageAndExports: the auditor's page filters and pages the trail
// and shows the chain's state; the CSV and XLSX exports keep a value that
// starts like a formula from being one.
func TestAuditPageAndExports(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	hostile := []string{`=HYPERLINK("http://x","点我")`, "+1+1", "-2", "@SUM(A1)"}
	for i := range 120 {
		_, err := ts.ledger.Audit(ctx, ledger.AuditEntry{At: time.Now(), Actor: hostile[i%4], Action: shixincheck.AuditDownload,
			Target: hostile[(i+1)%4], Detail: hostile[(i+2)%4], Remote: hostile[(i+3)%4]})
		if err != nil {
			t.Fatal(err)
		}
	}
	auditor := ts.login(t, shixincheck.RoleAuditor)
	code, page := auditor.get(t, "/audit?action=download")
	if code != 200 || !bytes.Contains(page, []byte("哈希链校验通过")) || !bytes.Contains(page, []byte(`id="next-page"`)) {
		t.Fatalf("audit page: %d, no chain result or no next page", code)
	}
	if n := bytes.Count(page, []byte("<tr><td>")); n != auditPageSize {
		t.Errorf("first page shows %d entries, want %d", n, auditPageSize)
	}
	_, page2 := auditor.get(t, "/audit?action=download&page=2")
	if n := bytes.Count(page2, []byte("<tr><td>")); n != 20 {
		t.Errorf("second page shows %d entries, want 20", n)
	}
	_, logins := auditor.get(t, "/audit?action=login&actor="+url.QueryEscape(auditor.account.Login))
	if n := bytes.Count(logins, []byte("<tr><td>")); n != 1 {
		t.Errorf("the auditor's log-ins: %d rows, want 1", n)
	}

	code, data := auditor.get(t, "/audit/export.csv?action=download")
	if code != 200 || !bytes.HasPrefix(data, []byte("\ufeff")) {
		t.Fatalf("CSV export: %d", code)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) != 121 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	for _, r := range rows[1:] {
		for _, c := range []string{r[2], r[4], r[5], r[6]} {
			if !strings.HasPrefix(c, "'") || !strings.ContainsAny(c[1:2], "=+-@") {
				t.Errorf("CSV cell %q is not neutralised", c)
			}
		}
	}
	code, data = auditor.get(t, "/audit/export.xlsx?action=download")
	if code != 200 {
		t.Fatalf("XLSX export: %d", code)
	}
	checkNoFormulas(t, data, "审计日志", 122, hostile) // the CSV export is an entry too
	if _, ok := ts.audited(t, auditor.account.Login, shixincheck.AuditDownload, "audit export"); !ok {
		t.Error("the export is not audited")
	}
}

// TestLedgerExportNeutralisesFormulas: names that start like formulas come
// out of the ledger export as text.
func TestLedgerExportNeutralisesFormulas(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	hostile := []string{`=HYPERLINK("http://x","张三")`, "+1+1", "-2", "@SUM(A1)"}
	ids := []string{"11010519491231002X", "420202198001011237", "330106199201011234", "440305198812121235"}
	var cands []shixincheck.Candidate
	for i, n := range hostile {
		cands = append(cands, shixincheck.Candidate{Row: i + 2, Name: n, IDNumber: ids[i]})
	}
	_, cands, _, err := ts.ledger.CreateBatch(ctx, shixincheck.Batch{ID: "bformula000000001", ContentKey: "formula", Item: "优秀政协委员评选",
		Unit: "u", Handler: "h", Phone: "p", CreatedAt: time.Now()}, cands)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		ts.ledger.SaveCheck(ctx, shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "同等条件优先推荐", RuleVersion: "seed"})
	}
	code, data := ts.send(t, "POST", "/api/v1/ledger/export", `{"full_ids":"1"}`)
	if code != 200 {
		t.Fatalf("export: %d", code)
	}
	checkNoFormulas(t, data, "台账", 5, hostile)
}

// checkNoFormulas opens an xlsx: no cell of sheet is a formula or other
// than a string, and each of want is some cell's text exactly as written.
func checkNoFormulas(t *testing.T, data []byte, sheet string, nrows int, want []string) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(sheet)
	if err != nil || len(rows) != nrows {
		t.Fatalf("%s: %d rows, want %d: %v", sheet, len(rows), nrows, err)
	}
	seen := map[string]bool{}
	for r, row := range rows {
		for c, v := range row {
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if f, _ := x.GetCellFormula(sheet, ref); f != "" {
				t.Errorf("%s %s is the formula %q", sheet, ref, f)
			}
			if typ, _ := x.GetCellType(sheet, ref); v != "" && typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
				t.Errorf("%s %s has type %v, want a string", sheet, ref, typ)
			}
			seen[v] = true
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("%s: no cell reads %q", sheet, w)
		}
	}
}
