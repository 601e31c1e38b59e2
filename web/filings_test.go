package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
	if f.Status != shixincheck.StatusSubmitted || f.Receipt != "XY-1" || f.SubmittedBy != "王经办" || f.Checks != 2 ||
		!f.SubmittedRecords || !f.SubmittedLate || !strings.Contains(string(body), `"submitted_late": true`) {
		t.Errorf("after submission on 4 Mar, due 2 Mar: %s", body)
	}
	if code, _ := ts.send(t, "POST", "/api/v1/filings/999/submit", `{"submitted_at":"2026-03-04","submitted_by":"王"}`); code != http.StatusNotFound {
		t.Errorf("unknown filing: status %d", code)
	}
}

// section returns the part of a page from the heading with the given id to
// the next heading.
func section(page, id string) string {
	_, rest, ok := strings.Cut(page, `<h2 id="`+id+`">`)
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "<h2"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// The filing pages list each filing in its group, offer the submit form on
// a prepared one, and flag a late submission; the clerk says whether the
// records sheet was handed in, and exactly that workbook is kept.
func TestFilingPages(t *testing.T) {
	ts := newTestServer(t)
	beijing := time.FixedZone("CST", 8*3600)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, beijing) }
	// file checks people at checked (uploaded that day, unless it is in
	// 2031, beyond the session) and files them as a period filing of that day.
	file := func(checked time.Time) filingView {
		t.Helper()
		ts.setNow(checked)
		if checked.Year() == 2031 {
			ts.setNow(day(3, 1))
		}
		ts.checked(t, checked)
		ts.setNow(day(3, 4))
		d := checked.Format("2006-01-02")
		code, body := ts.send(t, "POST", "/api/v1/filings", `{"department":"政工科","from":"`+d+`","to":"`+d+`","unit":"u","handler":"h","phone":"p"}`)
		var f filingView
		if code != http.StatusCreated || json.Unmarshal(body, &f) != nil {
			t.Fatalf("filing of %s: %d %s", d, code, body)
		}
		return f
	}
	overdue := file(day(2, 13))                                             // due 2 Mar
	late := file(day(2, 12))                                                // due 28 Feb (a make-up Saturday)
	dueSoon := file(day(2, 25))                                             // due 5 Mar
	onTime := file(day(3, 2))                                               // due 11 Mar
	later := file(day(3, 3))                                                // due 12 Mar
	unknown := file(time.Date(2031, 1, 6, 10, 0, 0, 0, beijing))            // the calendar does not know 2031
	for _, f := range []filingView{overdue, late, dueSoon, onTime, later} { // all prepared, due as said
		if f.DueDate == nil {
			t.Fatalf("filing %d has no due date", f.ID)
		}
	}
	if unknown.DueDate != nil {
		t.Fatalf("filing of 2031 has due date %v", unknown.DueDate)
	}

	// A form post, as the page sends it: late, and without the records sheet.
	resp := ts.clerk.postForm(t, fmt.Sprintf("/filings/%d/submit", late.ID), url.Values{
		"submitted_at": {"2026-03-03"}, "submitted_by": {"王经办"}, "receipt": {"XY-7"}, "records": {"0"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit form: status %d", resp.StatusCode)
	}
	if code, body := ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", onTime.ID), `{"submitted_at":"2026-03-04","submitted_by":"李","records":"yes"}`); code != http.StatusUnprocessableEntity {
		t.Errorf("records=yes: %d %s", code, body)
	}
	if code, body := ts.send(t, "POST", fmt.Sprintf("/api/v1/filings/%d/submit", onTime.ID), `{"submitted_at":"2026-03-04","submitted_by":"李","records":"1"}`); code != http.StatusNoContent {
		t.Fatalf("submit on time: %d %s", code, body)
	}

	code, page := ts.clerk.get(t, "/filings")
	if code != http.StatusOK {
		t.Fatalf("/filings: %d", code)
	}
	link := func(f filingView) string { return fmt.Sprintf(`href="/filings/%d"`, f.ID) }
	all := []filingView{overdue, late, dueSoon, onTime, later, unknown}
	for _, group := range []struct {
		id   string
		want []filingView
	}{
		{"overdue", []filingView{overdue}},
		{"due-soon", []filingView{dueSoon}},
		{"prepared", []filingView{later}},
		{"due-unknown", []filingView{unknown}},
		{"submitted", []filingView{late, onTime}},
	} {
		part := section(string(page), group.id)
		for _, f := range all {
			want := slices.ContainsFunc(group.want, func(g filingView) bool { return g.ID == f.ID })
			if strings.Contains(part, link(f)) != want {
				t.Errorf("/filings group %s lists filing %d: %v, want %v", group.id, f.ID, !want, want)
			}
		}
	}
	if sub := section(string(page), "submitted"); strings.Count(sub, "逾期报送") != 1 {
		t.Errorf("submitted group flags %d filings late, want 1:\n%s", strings.Count(sub, "逾期报送"), sub)
	}

	// One filing's page: the submit form while prepared; then who, when, the
	// variant handed in and the late flag.
	_, page = ts.clerk.get(t, fmt.Sprintf("/filings/%d", overdue.ID))
	for _, want := range []string{fmt.Sprintf(`action="/filings/%d/submit"`, overdue.ID), `name="submitted_at"`, `name="records"`, "已逾期", "2026年3月2日", "2026-02-13 10:00"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page of the overdue filing lacks %q", want)
		}
	}
	_, page = ts.clerk.get(t, fmt.Sprintf("/filings/%d", late.ID))
	for _, want := range []string{`id="late"`, "2026年3月3日，王经办，回执号 XY-7", "不含失信记录表", "已报送"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page of the late filing lacks %q", want)
		}
	}
	if strings.Contains(string(page), `/submit"`) {
		t.Error("a submitted filing's page offers the submit form")
	}
	if _, page = ts.clerk.get(t, fmt.Sprintf("/filings/%d", onTime.ID)); strings.Contains(string(page), `id="late"`) || !strings.Contains(string(page), "含失信记录表") {
		t.Error("the filing submitted on time is flagged late, or does not say the records sheet was handed in")
	}
	for _, c := range []struct {
		f    filingView
		late bool
	}{{late, true}, {onTime, false}, {overdue, false}} {
		_, body := ts.send(t, "GET", fmt.Sprintf("/api/v1/filings/%d", c.f.ID), "")
		var got filingView
		json.Unmarshal(body, &got)
		if got.SubmittedLate != c.late {
			t.Errorf("filing %d: submitted_late %v, want %v", c.f.ID, got.SubmittedLate, c.late)
		}
	}

	// The kept workbook is the variant handed in, and the default download.
	kept, err := ts.ledger.SubmittedWorkbook(context.Background(), late.ID)
	if err != nil || cellsContain(t, kept, "(2019)鄂0202执1号") || !cellsContain(t, kept, "11010519491231002X") {
		t.Fatalf("kept workbook: %v; want full IDs, no records sheet", err)
	}
	path := fmt.Sprintf("/api/v1/filings/%d/workbook", late.ID)
	for _, q := range []string{"", "?records=0"} {
		if _, got := ts.send(t, "GET", path+q, ""); !bytes.Equal(got, kept) {
			t.Errorf("GET workbook%s is not the kept workbook", q)
		}
	}
	if _, got := ts.send(t, "GET", path+"?records=1", ""); bytes.Equal(got, kept) || !cellsContain(t, got, "(2019)鄂0202执1号") {
		t.Error("records=1 of a filing handed in without them does not add the records sheet")
	}
	if kept, _ := ts.ledger.SubmittedWorkbook(context.Background(), onTime.ID); !cellsContain(t, kept, "(2019)鄂0202执1号") {
		t.Error("the workbook handed in with records=1 lacks the records sheet")
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
		{`{"item":"公职人员招录资格审查","department":"委员工委"}`, 0}, // both filters hold
		{`{"item":"优秀政协委员评选","department":"委员工委"}`, 1},
		{`{"item":"公职人员招录资格审查","department":"政工科"}`, 2},
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

// TestLedgerExportKeepsCheckStage: the export's 核查环节 is the one each check
// was judged under, whatever the rules loaded now say; only a check saved
// before checks kept it takes the stage from the rules.
func TestLedgerExportKeepsCheckStage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ids := []string{"11010519491231002X", "420202198001011237", "330106199201011234"}
	items := []string{"已撤销事项", "优秀政协委员评选", "优秀政协委员评选"} // the first is not in the rules loaded now
	stored := []string{"资格复审", "旧的环节", ""}             // the last as saved before stages were kept
	want := []string{"资格复审", "旧的环节", "报名资格审查"}
	var cands []shixincheck.Candidate
	for i := range ids {
		cands = append(cands, shixincheck.Candidate{Row: i + 2, Name: fmt.Sprintf("张%d", i), IDNumber: ids[i], Item: items[i]})
	}
	_, cands, _, err := ts.ledger.CreateBatch(ctx, shixincheck.Batch{ID: "bstage00000000001", ContentKey: "stage", Item: items[0],
		Unit: "u", Handler: "h", Phone: "p", CreatedAt: time.Now()}, cands)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cands {
		if _, _, err := ts.ledger.SaveCheck(ctx, shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "old", Stage: stored[i]}); err != nil {
			t.Fatal(err)
		}
	}
	code, data := ts.send(t, "POST", "/api/v1/ledger/export", `{"full_ids":"1"}`)
	if code != http.StatusOK {
		t.Fatalf("export: %d %s", code, data)
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("台账")
	if err != nil || len(rows) != 1+len(ids) || rows[0][2] != "核查环节" || rows[0][4] != "身份证号" {
		t.Fatalf("台账: %d rows, header %q, %v", len(rows), rows[0], err)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[4]] = r[2]
	}
	for i, id := range ids {
		if got[id] != want[i] {
			t.Errorf("%s (%s, stored %q): 核查环节 %q, want %q", shixincheck.MaskID(id), items[i], stored[i], got[id], want[i])
		}
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
		Files: []shixincheck.EvidenceFile{{Name: "list-1.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.7")},
			{Name: "list-1.html", MIME: "text/html; charset=utf-8", Data: []byte("<!DOCTYPE html><html></html>")}}})
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
	// A PDF shows in the browser; a page of the site is a download, sandboxed.
	for name, want := range map[string]string{"list-1.pdf": `inline; filename="list-1.pdf"`, "list-1.html": `attachment; filename="list-1.html"`} {
		resp := ts.clerk.do(t, "GET", fmt.Sprintf("/api/v1/checks/%d/files/%s", checkID, name), "", nil)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Disposition"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("%s: %d, Content-Disposition %q, want %q", name, resp.StatusCode, got, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") {
			t.Errorf("%s: Content-Security-Policy %q, want a sandbox", name, csp)
		}
	}
	if code, _ := ts.send(t, "GET", fmt.Sprintf("/api/v1/checks/%d/files/other.pdf", checkID), ""); code != http.StatusNotFound {
		t.Errorf("missing evidence file: %d", code)
	}
}
