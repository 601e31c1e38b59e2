package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/roster"
)

// attachment1Line is the seed's Attachment 1 line that holds two items.
const attachment1Line = "向上推荐道德模范（楷模）、劳动模范及其他评优评先，优秀政协委员评选"

// problemList is the problems of a 422 answer.
type problemList []roster.Problem

func (ps problemList) has(row int, field, fragment string) bool {
	return slices.ContainsFunc(ps, func(p roster.Problem) bool {
		return p.Row == row && p.Field == field && strings.Contains(p.Message, fragment)
	})
}

func problemsIn(t *testing.T, out map[string]any) problemList {
	t.Helper()
	raw, _ := json.Marshal(out["problems"])
	var ps problemList
	if err := json.Unmarshal(raw, &ps); err != nil {
		t.Fatal(err)
	}
	return ps
}

// postMultipartForm posts a multipart form as the upload page does: the
// session's CSRF token in its field, no header.
func (c *client) postMultipartForm(t *testing.T, path string, fields map[string]string, filename, content string) (int, string) {
	t.Helper()
	all := map[string]string{csrfField: c.csrf}
	for k, v := range fields {
		all[k] = v
	}
	body, ct := multipartBody(t, all, filename, content)
	saved := c.csrf
	c.csrf = ""
	defer func() { c.csrf = saved }()
	resp := c.do(t, "POST", path, ct, body)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// badXLSX is a list in an .xlsx, on the sheet 名单, whose one person has a
// wrong check digit.
func badXLSX(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "名单"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("名单", "A1", &[]string{"姓名", "身份证号"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow("名单", "A2", &[]string{"张三", "110105194912310021"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func with(fields map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range fields {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestUploadResolvesEachRowsItem: a person under an alias and under the
// official name, or under an empty cell and the batch's item, is one
// candidate: reported as a duplicate, or merged at the clerk's request.
func TestUploadResolvesEachRowsItem(t *testing.T) {
	ts := newTestServer(t)
	list := "姓名,身份证号,应用事项\n" +
		"张三,11010519491231002X,公职人员招录（聘）及考核\n" +
		"张三,11010519491231002X,公职人员招录\n" +
		"李四,420202198001011237,\n" +
		"李四,420202198001011237,公职人员招录资格审查\n" +
		"李四,420202198001011237,优秀政协委员评选\n"
	code, out := ts.postBatch(t, goodFields, "list.csv", list)
	ps := problemsIn(t, out)
	if code != http.StatusUnprocessableEntity || len(ps) != 2 || !ps.has(3, "身份证号", "与第2行重复") || !ps.has(5, "身份证号", "与第4行重复") {
		t.Fatalf("status %d, problems %+v; want rows 3 and 5 as duplicates", code, ps)
	}
	// The message names the upload page's checkbox as it is labelled.
	choice := ps[0].Message[strings.LastIndex(ps[0].Message, "“"):]
	if _, page := ts.clerk.get(t, "/batches"); !strings.Contains(string(page), `name="merge_duplicates" value="1" > `+strings.Trim(choice, "“”")) {
		t.Errorf("no checkbox labelled %s on the upload page", choice)
	}
	code, out = ts.postBatch(t, with(goodFields, "merge_duplicates", "1"), "list.csv", list)
	if code != http.StatusCreated || out["candidates"] != 3.0 {
		t.Fatalf("merged: status %d, %v", code, out)
	}
	cands, err := ts.ledger.Candidates(context.Background(), out["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cands {
		got = append(got, c.Name+" "+c.Item)
	}
	want := []string{"张三 公职人员招录（聘）及考核", "李四 公职人员招录（聘）及考核", "李四 优秀政协委员评选"}
	if !slices.Equal(got, want) {
		t.Errorf("candidates %q, want %q", got, want)
	}
}

// TestUploadListsUnknownItemsWithEveryProblem: unknown per-row items are
// in the same list as the file's other problems and in the annotated copy;
// Attachment 1's two-item line asks to choose one of the two.
func TestUploadListsUnknownItemsWithEveryProblem(t *testing.T) {
	ts := newTestServer(t)
	list := "姓名,身份证号,应用事项\n" +
		"张三,110105194912310021,公职人员招录\n" +
		"李四,420202198001011237,买房\n" +
		"王五,11010519491231002X," + attachment1Line + "\n"
	choose := "请改为“向上推荐道德模范（楷模）、劳动模范及其他评优评先”或“优秀政协委员评选”"
	code, out := ts.postBatch(t, goodFields, "list.csv", list)
	ps := problemsIn(t, out)
	if code != http.StatusUnprocessableEntity || len(ps) != 3 || !ps.has(2, "身份证号", "校验位") ||
		!ps.has(3, "应用事项", "未知的应用事项：买房（可选：") || !ps.has(4, "应用事项", choose) {
		t.Fatalf("status %d, problems %+v", code, ps)
	}
	body, ct := multipartBody(t, goodFields, "list.csv", list)
	resp := ts.clerk.do(t, "POST", "/api/v1/batches/annotate", ct, body)
	marked, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !cellsContain(t, marked, "未知的应用事项：买房") || !cellsContain(t, marked, choose) || !cellsContain(t, marked, "校验位") {
		t.Errorf("annotated copy: status %d, item problems missing", resp.StatusCode)
	}

	// The same line as the batch's item.
	code, out = ts.postBatch(t, with(goodFields, "item", attachment1Line), "list.csv", goodCSV)
	if ps := problemsIn(t, out); code != http.StatusUnprocessableEntity || !ps.has(0, "应用事项", choose) || strings.Contains(ps[0].Message, "未知的应用事项") {
		t.Errorf("form item %q: status %d, problems %+v", attachment1Line, code, ps)
	}
	if bs, _ := ts.ledger.Batches(context.Background(), 0); len(bs) != 0 {
		t.Errorf("%d batches stored from bad uploads", len(bs))
	}
}

// TestUploadOverTheLimit: a request over the upload limit and a file over
// 20 MB get one message, by the API and by the page's form.
func TestUploadOverTheLimit(t *testing.T) {
	ts := newTestServer(t)
	api := ts.bearerClient(t, shixincheck.RoleClerk)
	for _, size := range []int{roster.MaxFileBytes + 1, maxUpload + 1} {
		body, ct := multipartBody(t, goodFields, "list.csv", strings.Repeat("a", size))
		resp := api.do(t, "POST", "/api/v1/batches", ct, body)
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		ps := problemsIn(t, out)
		if resp.StatusCode != http.StatusUnprocessableEntity || len(ps) != 1 || ps[0].Message != roster.MsgTooBig || ps[0].Row != 0 {
			t.Errorf("file of %d bytes: status %d, problems %+v; want %q", size, resp.StatusCode, ps, roster.MsgTooBig)
		}
	}
	code, page := ts.clerk.postMultipartForm(t, "/batches", goodFields, "list.csv", strings.Repeat("a", maxUpload+1))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(page, roster.MsgTooBig) {
		t.Errorf("form over the limit: status %d, page without %q", code, roster.MsgTooBig)
	}
	if bs, _ := ts.ledger.Batches(context.Background(), 0); len(bs) != 0 || len(ts.enqueued) != 0 {
		t.Errorf("oversized uploads stored %d batches", len(bs))
	}
}

// TestAnnotateFromThePage: the page's annotate form shows the page again
// with the problems when there is nothing to mark, keeping the form; the
// API answers JSON; a marked copy is audited.
func TestAnnotateFromThePage(t *testing.T) {
	ts := newTestServer(t)
	fields := with(goodFields, "merge_duplicates", "1")
	code, page := ts.clerk.postMultipartForm(t, "/batches/annotate", fields, "report.pdf", "%PDF-1.7\n")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="problems"`) || !strings.Contains(page, "另存为") ||
		!strings.Contains(page, `value="政协黄石市委员会办公室"`) || !strings.Contains(page, `name="merge_duplicates" value="1" checked`) {
		t.Errorf("annotate of a PDF from the page: status %d, page %.400s", code, page)
	}
	code, page = ts.clerk.postMultipartForm(t, "/batches/annotate", fields, "", "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "请选择要上传的名单文件") {
		t.Errorf("annotate without a file from the page: status %d", code)
	}
	body, ct := multipartBody(t, goodFields, "report.pdf", "%PDF-1.7\n")
	resp := ts.clerk.do(t, "POST", "/api/v1/batches/annotate", ct, body)
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || len(problemsIn(t, out)) != 1 {
		t.Errorf("annotate of a PDF by the API: status %d, %v", resp.StatusCode, out)
	}
	if _, ok := ts.audited(t, ts.clerk.account.Login, shixincheck.AuditDownload, "upload"); ok {
		t.Error("a refused annotate is audited as a download")
	}

	code, page = ts.clerk.postMultipartForm(t, "/batches/annotate", goodFields, "list.csv", "姓名,身份证号\n张三,110105194912310021\n")
	if code != http.StatusOK || !cellsContain(t, []byte(page), "校验位") {
		t.Fatalf("annotated copy from the page: status %d", code)
	}
	e, ok := ts.audited(t, ts.clerk.account.Login, shixincheck.AuditDownload, "upload")
	if !ok || e.Detail != "annotated copy, 1 problems" || strings.Contains(e.Target+e.Detail, "张三") || strings.Contains(e.Target+e.Detail, "list") {
		t.Errorf("annotate download audit entry: %+v, %v", e, ok)
	}
}

// TestBatchListFilters: the list filters by item (official name or alias)
// and by upload date, both ends inclusive; the page keeps the dates chosen.
func TestBatchListFilters(t *testing.T) {
	ts := newTestServer(t)
	api := ts.bearerClient(t, shixincheck.RoleClerk)
	upload := func(at time.Time, item string) string {
		t.Helper()
		ts.setNow(at)
		body, ct := multipartBody(t, with(goodFields, "item", item), "list.csv", goodCSV)
		resp := api.do(t, "POST", "/api/v1/batches", ct, body)
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %v", resp.StatusCode, out)
		}
		return out["id"].(string)
	}
	// Dates are Beijing dates: 00:30 on 5 March in Beijing is still 4 March in UTC.
	first := upload(time.Date(2026, 3, 2, 23, 30, 0, 0, shanghai), "公职人员招录（聘）及考核")
	second := upload(time.Date(2026, 3, 5, 0, 30, 0, 0, shanghai), "优秀政协委员评选")
	list := func(query string) []string {
		t.Helper()
		code, body := api.send(t, "GET", "/api/v1/batches"+query, "")
		var out struct{ Batches []batchView }
		if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		var ids []string
		for _, b := range out.Batches {
			ids = append(ids, b.ID)
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{first, second}
	slices.Sort(both)
	for query, want := range map[string][]string{
		"": both,
		"?item=公职人员招录（聘）及考核":                          {first},
		"?item=公职人员招录":                                {first}, // an alias
		"?item=优秀政协委员评选":                              {second},
		"?item=政协委员候选人推荐":                             nil,
		"?from=2026-03-02&to=2026-03-02":              {first},
		"?from=2026-03-03&to=2026-03-04":              nil,
		"?from=2026-03-03":                            {second},
		"?to=2026-03-04":                              {first},
		"?to=2026-03-05":                              both,
		"?from=2026-03-05&item=优秀政协委员评选&state=queued": {second},
		"?from=2026-03-05&item=公职人员招录（聘）及考核":          nil,
	} {
		if got := list(query); !slices.Equal(got, want) {
			t.Errorf("batches%s = %v, want %v", query, got, want)
		}
	}
	if code, _ := api.send(t, "GET", "/api/v1/batches?from=3.5.2026", ""); code != http.StatusUnprocessableEntity {
		t.Errorf("a date not like 2026-11-30: %d, want 422", code)
	}

	// The page keeps the dates and the item chosen.
	page := ts.login(t, shixincheck.RoleClerk)
	code, body := page.get(t, "/batches?from=2026-03-03&to=2026-03-05&item=优秀政协委员评选")
	html := string(body)
	if code != http.StatusOK || !strings.Contains(html, `name="from" value="2026-03-03"`) || !strings.Contains(html, `name="to" value="2026-03-05"`) ||
		!strings.Contains(html, "<option selected>优秀政协委员评选</option>") || !strings.Contains(html, second) || strings.Contains(html, first) {
		t.Errorf("filtered list page: status %d, filter not kept or wrong batches", code)
	}
}

// TestCancelAnsweredByExistence: an unknown batch is 404 and leaves no
// audit entry; a cancelled one answers 409 to a second cancel.
func TestCancelAnsweredByExistence(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	if code, body := ts.send(t, "POST", "/api/v1/batches/"+id+"/cancel", ""); code != http.StatusOK {
		t.Fatalf("cancel: %d %s", code, body)
	}
	code, body := ts.send(t, "POST", "/api/v1/batches/"+id+"/cancel", "")
	if code != http.StatusConflict || !strings.Contains(string(body), "批次已经取消") {
		t.Errorf("cancel again: %d %s, want 409", code, body)
	}
	if code, _ := ts.send(t, "POST", "/api/v1/batches/nope/cancel", ""); code != http.StatusNotFound {
		t.Errorf("cancel an unknown batch: %d, want 404", code)
	}
	cancels := 0
	for _, e := range ts.auditEntries(t) {
		if e.Action == shixincheck.AuditBatchControl && e.Detail == "cancel" {
			cancels++
			if e.Target != "batch "+id {
				t.Errorf("audit entry for a cancel that did not happen: %+v", e)
			}
		}
	}
	if cancels != 1 {
		t.Errorf("%d cancel entries in the audit trail, want 1", cancels)
	}
	if _, err := ts.ledger.Batch(context.Background(), "nope"); err == nil {
		t.Error("cancelling an unknown batch made one")
	}
}
