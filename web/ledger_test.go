package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/roster"
)

// A search of more rows than a page holds pages with the form's own buttons:
// the filters travel in the POST body, never in a URL.
func TestLedgerPagePages(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	var cands []shixincheck.Candidate
	for i := range ledgerPage + 5 {
		id, err := roster.NormalizeID(fmt.Sprintf("110105491231%03d", i+1)) // old 15-digit IDs, upgraded
		if err != nil {
			t.Fatal(err)
		}
		cands = append(cands, shixincheck.Candidate{Row: i + 2, Name: "张三", IDNumber: id, Item: "公职人员招录（聘）及考核"})
	}
	_, cands, _, err := ts.ledger.CreateBatch(ctx, shixincheck.Batch{ID: "bpages", ContentKey: "bpages", Item: "公职人员招录（聘）及考核",
		Unit: "u", Handler: "h", Phone: "p", CreatedAt: time.Now()}, cands)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if _, _, err := ts.ledger.SaveCheck(ctx, shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel,
			Site: "classic", Outcome: shixincheck.OutcomeClear, Measure: "按正常政策程序办理", RuleVersion: "seed"}); err != nil {
			t.Fatal(err)
		}
	}
	search := func(page string) string {
		t.Helper()
		form := url.Values{"name": {"张三"}}
		if page != "" {
			form.Set("page", page)
		}
		resp := ts.clerk.postForm(t, "/ledger", form)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("search page %q: %d %v", page, resp.StatusCode, err)
		}
		return string(body)
	}
	first := search("")
	if !strings.Contains(first, fmt.Sprintf("共 %d 条（第 1–%d 条）", ledgerPage+5, ledgerPage)) || !strings.Contains(first, "第 1 / 2 页") ||
		!strings.Contains(first, `form="ledger-search" name="page" value="2" id="next-page"`) || strings.Contains(first, `id="prev-page"`) {
		t.Fatalf("first page: no count, range or pager to page 2")
	}
	if n := strings.Count(first, `class="outcome-clear"`); n != ledgerPage {
		t.Errorf("first page shows %d rows, want %d", n, ledgerPage)
	}
	second := search("2")
	if !strings.Contains(second, fmt.Sprintf("（第 %d–%d 条）", ledgerPage+1, ledgerPage+5)) || !strings.Contains(second, "第 2 / 2 页") ||
		!strings.Contains(second, `value="1" id="prev-page"`) || strings.Contains(second, `id="next-page"`) {
		t.Fatalf("second page: no range or pager back to page 1")
	}
	if n := strings.Count(second, `class="outcome-clear"`); n != 5 {
		t.Errorf("second page shows %d rows, want 5", n)
	}
	if !strings.Contains(second, `name="name" autocomplete="off" value="张三"`) {
		t.Error("the second page lost the search's filters, which the pager sends again")
	}
}
