package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	shixincheck "github.com/shixincheck/shixincheck"
)

// checked uploads goodCSV and records a check for each person at the given
// time: the first listed, the second clear.
func (ts *testServer) checked(t *testing.T, at time.Time) string {
	t.Helper()
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	cands, _ := ts.ledger.Candidates(context.Background(), id)
	for i, c := range cands {
		check := shixincheck.Check{CandidateID: c.ID, QueriedAt: at, Channel: shixincheck.Channel, Site: "classic",
			Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "seed"}
		if i == 0 {
			check.Outcome, check.HitCount, check.Measure = shixincheck.OutcomeListed, 1, "取消报名资格"
			check.Records = []shixincheck.Record{{SiteID: "1", Name: c.Name, CaseCode: "(2019)鄂0202执1号", CardNum: "1101051949****002X", CourtName: "黄石市西塞山区人民法院", Match: shixincheck.MatchHit}}
		}
		if _, _, err := ts.ledger.SaveCheck(context.Background(), check); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestPeriodFilingDueOverdueSubmitted(t *testing.T) {
	ts := newTestServer(t)
	beijing := time.FixedZone("CST", 8*3600)
	// Checked on Fri 13 Feb 2026. Working days after it: 14 Feb (Sat, make-up) 1; 15-23 Feb Spring
	// Festival; 24, 25, 26, 27 Feb 2-5; 28 Feb (Sat, make-up) 6; 2 Mar 7: due Mon 2 Mar.
	checkedAt := time.Date(2026, 2, 13, 10, 0, 0, 0, beijing)
	ts.checked(t, checkedAt)
	ts.setNow(time.Date(2026, 2, 27, 9, 0, 0, 0, beijing))

	code, body := ts.send(t, "POST", "/api/v1/filings", `{"department":"政工科","from":"2026-02-01","to":"2026-02-28","unit":"政协黄石市委员会办公室","handler":"王经办","phone":"0714-6666666"}`)
	if code != http.StatusCreated {
		t.Fatalf("create filing: %d %s", code, body)
	}
	var f filingView
	json.Unmarshal(body, &f)
	if f.DueDate == nil || f.DueDate.In(beijing).Format("2006-01-02") != "2026-03-02" {
		t.Fatalf("due date = %v, want 2026-03-02", f.DueDate)
	}
	if f.Status != shixincheck.StatusDueSoon || f.DaysLeft == nil || *f.DaysLeft != 2 { // 28 Feb and 2 Mar
		t.Errorf("on 27 Feb: status %s, days left %v; want due soon, 2", f.Status, f.DaysLeft)
	}
	// Nothing left to file in that period.
	if code, _ := ts.send(t, "POST", "/api/v1/filings", `{"department":"政工科","from":"2026-02-01","to":"2026-02-28","unit":"u","handler":"h","phone":"p"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("second filing of the same checks: status %d, want 422", code)
	}
	if code, body := ts.send(t, "POST", "/api/v1/filings", `{"department":"财务科","from":"2026-02-01","to":"2026-02-28","unit":"u","handler":"h","phone":"p"}`); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "未知的科室") {
		t.Errorf("unknown department: %d %s", code, body)
	}

	ts.setNow(time.Date(2026, 3, 4, 9, 0, 0, 0, beijing))
	_, body = ts.send(t, "GET", "/api/v1/filings?status=overdue", "")
	var list struct{ Filings []filingView }
	json.Unmarshal(body, &list)
	if len(list.Filings) != 1 || list.Filings[0].ID != f.ID || *list.Filings[0].DaysLeft != -2 { // 3 and 4 Mar late
		t.Fatalf("overdue filings on 4 Mar = %s", body)
	}

	// The masked copy shows no full ID; the official one does.
	path := fmt.Sprintf("/api/v1/filings/%d/workbook", f.ID)
	_, masked := ts.send(t, "GET", path+"?masked=1", "")
	if bytes.Contains(masked, []byte("11010519491231002X")) || cellsContain(t, masked, "11010519491231002X") {
		t.Error("masked workbook carries a full ID")
	}
	if !cellsContain(t, masked, "110105********002X") || !cellsContain(t, masked, "(2019)鄂0202执1号") {
		t.Error("masked workbook lacks the masked ID or the records sheet")
	}
	if _, plain := ts.send(t, "GET", path+"?records=0", ""); cellsContain(t, plain, "(2019)鄂0202执1号") {
		t.Error("records=0 still has the records sheet")
	}

	if code, _ := ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", f.ID), `{"submitted_at":"2026-03-05","submitted_by":"王经办"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("submission dated tomorrow: status %d, want 422", code)
	}
	code, body = ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", f.ID), `{"submitted_at":"2026-03-04","submitted_by":"王经办","receipt":"XY-1"}`)
	if code != http.StatusNoContent {
		t.Fatalf("submit: %d %s", code, body)
	}
	if code, _ := ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", f.ID), `{"submitted_at":"2026-03-04","submitted_by":"李"}`); code != http.StatusConflict {
		t.Errorf("second submission: status %d, want 409", code)
	}
	kept, _ := ts.ledger.SubmittedWorkbook(context.Background(), f.ID)
	_, got := ts.send(t, "GET", path, "")
	if !bytes.Equal(kept, got) || !cellsContain(t, got, "11010519491231002X") {
		t.Error("the submitted workbook is not served as kept, with full IDs")
	}
	_, body = ts.send(t, "GET", fmt.Sprintf("/api/v1/filings/%d", f.ID), "")
	json.Unmarshal(body, &f)
	if f.Status != shixincheck.StatusSubmitted || f.Receipt != "XY-1" || f.SubmittedBy != "王经办" || f.Checks != 2 {
		t.Errorf("after submission: %s", body)
	}
	if code, _ := ts.send(t, "POST", "/api/v1/filings/999/submit", `{"submitted_at":"2026-03-04","submitted_by":"王"}`); code != http.StatusNotFound {
		t.Errorf("unknown filing: status %d", code)
	}
}

// cellsContain tells whether any cell of any sheet of an xlsx holds s.
func cellsContain(t *testing.T, xlsx []byte, s string) bool {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for _, r := range rows {
			for _, c := range r {
				if strings.Contains(c, s) {
					return true
				}
			}
		}
	}
	return false
}

func TestLedgerSearchHistoryAndExport(t *testing.T) {
	ts := newTestServer(t)
	first := ts.checked(t, time.Now().Add(-48*time.Hour))
	fields := map[string]string{"item": "优秀政协委员评选", "unit": "u", "handler": "h", "phone": "p"}
	_, out := ts.postBatch(t, fields, "list.csv", "姓名,身份证号\n张三,11010519491231002X\n")
	second := out["id"].(string)
	cands, _ := ts.ledger.Candidates(context.Background(), second)
	ts.ledger.SaveCheck(context.Background(), shixincheck.Check{CandidateID: cands[0].ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
		Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "同等条件优先推荐", RuleVersion: "seed"})

	code, body := ts.send(t, "POST", "/api/v1/ledger/query", `{"id_number":"11010519491231002x"}`)
	var res ledgerResult
	json.Unmarshal(body, &res)
	if code != http.StatusOK || res.Total != 2 || len(res.History) != 2 || res.History[0].BatchID != first || res.History[1].BatchID != second {
		t.Fatalf("by ID: %d %s", code, body)
	}
	if bytes.Contains(body, []byte("11010519491231002X")) || bytes.Contains(body, []byte("张三")) {
		t.Errorf("ledger API shows personal data unmasked: %s", body)
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{`{"department":"委员工委"}`, 1},
		{`{"item":"公职人员招录资格审查"}`, 2},
		{`{"outcome":"listed"}`, 1},
		{`{"measure":"同等条件优先推荐"}`, 1},
		{`{"name":"李四"}`, 1},
		{`{"from":"2000-01-01","to":"2000-12-31"}`, 0},
	} {
		_, body := ts.send(t, "POST", "/api/v1/ledger/query", tc.filter)
		var res ledgerResult
		json.Unmarshal(body, &res)
		if res.Total != tc.want {
			t.Errorf("%s: %d rows, want %d: %s", tc.filter, res.Total, tc.want, body)
		}
	}
	if code, body := ts.send(t, "POST", "/api/v1/ledger/query", `{"id_number":"110105194912310021","from":"yesterday"}`); code != http.StatusUnprocessableEntity ||
		!strings.Contains(string(body), "身份证号") || !strings.Contains(string(body), "起始日期") {
		t.Errorf("bad filters: %d %s", code, body)
	}
	code, xlsx := ts.send(t, "POST", "/api/v1/ledger/export", `{"item":"公职人员招录资格审查","full_ids":"1"}`)
	if code != http.StatusOK || !cellsContain(t, xlsx, "11010519491231002X") || !cellsContain(t, xlsx, "取消报名资格") {
		t.Errorf("export: status %d", code)
	}
	if _, xlsx := ts.send(t, "POST", "/api/v1/ledger/export", `{}`); cellsContain(t, xlsx, "11010519491231002X") || !cellsContain(t, xlsx, "110105********002X") {
		t.Error("the export without full_ids does not mask the ID")
	}
}

func TestCancelPauseAndFilter(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	code, body := ts.send(t, "POST", "/api/v1/batches/"+id+"/pause", "")
	var v batchView
	json.Unmarshal(body, &v)
	if code != http.StatusOK || v.State != statePaused {
		t.Fatalf("pause: %d %s", code, body)
	}
	_, body = ts.send(t, "GET", "/api/v1/batches?state=paused", "")
	if !strings.Contains(string(body), id) {
		t.Errorf("paused filter misses the batch: %s", body)
	}
	_, body = ts.send(t, "GET", "/api/v1/batches?state=done", "")
	if strings.Contains(string(body), id) {
		t.Errorf("done filter lists a paused batch: %s", body)
	}
	if code, _ := ts.send(t, "GET", "/api/v1/batches?state=sleeping", ""); code != http.StatusUnprocessableEntity {
		t.Errorf("unknown state filter: %d", code)
	}
	code, body = ts.send(t, "POST", "/api/v1/batches/"+id+"/cancel", "")
	json.Unmarshal(body, &v)
	if code != http.StatusOK || v.State != stateCancelled || v.Progress.Cancelled != 2 || len(ts.dropped) != 2 {
		t.Fatalf("cancel: %d %s, dropped %v", code, body, ts.dropped)
	}
	for _, action := range []string{"pause", "resume", "retry-failed"} {
		if code, _ := ts.send(t, "POST", "/api/v1/batches/"+id+"/"+action, ""); code != http.StatusConflict {
			t.Errorf("%s on a cancelled batch: %d, want 409", action, code)
		}
	}
	// A cancelled batch's workbook is final.
	if code, _ := ts.send(t, "GET", "/api/v1/batches/"+id+"/workbook", ""); code != http.StatusOK {
		t.Errorf("workbook of a cancelled batch: %d", code)
	}
}

func TestEvidenceOfACheck(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	cands, _ := ts.ledger.Candidates(context.Background(), id)
	checkID, _, err := ts.ledger.SaveCheck(context.Background(), shixincheck.Check{CandidateID: cands[0].ID, QueriedAt: time.Now(),
		Channel: shixincheck.Channel, Site: "gkw", Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "seed",
		Evidence: []byte(`{"site":"gkw","answers":[{"url":"/gkw/zhcx/searchZhcx?page=1","status":200,"body":"{}"}]}`),
		Files:    []shixincheck.EvidenceFile{{Name: "list-1.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.7")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, body := ts.send(t, "GET", "/api/v1/batches/"+id, "")
	if !strings.Contains(string(body), fmt.Sprintf(`"check_id": %d`, checkID)) {
		t.Errorf("batch API does not link the check: %s", body)
	}
	code, body := ts.send(t, "GET", fmt.Sprintf("/api/v1/checks/%d/evidence", checkID), "")
	if code != http.StatusOK || !strings.Contains(string(body), `"url": "/gkw/zhcx/searchZhcx?page=1"`) || !strings.Contains(string(body), "files/list-1.pdf") {
		t.Fatalf("evidence: %d %s", code, body)
	}
	code, pdf := ts.send(t, "GET", fmt.Sprintf("/api/v1/checks/%d/files/list-1.pdf", checkID), "")
	if code != http.StatusOK || string(pdf) != "%PDF-1.7" {
		t.Errorf("evidence file: %d %q", code, pdf)
	}
	if code, _ := ts.send(t, "GET", fmt.Sprintf("/api/v1/checks/%d/files/other.pdf", checkID), ""); code != http.StatusNotFound {
		t.Errorf("missing evidence file: %d", code)
	}
}
