package scraper

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/shixincheck/shixincheck"
)

func TestCheckListed(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	ctx := context.Background()
	for _, p := range e.people(t, "listed", 3) {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		if res.Outcome() != shixincheck.OutcomeListed || res.Hits() != p.Records {
			t.Fatalf("outcome %s with %d hits, want listed with %d", res.Outcome(), res.Hits(), p.Records)
		}
		if res.Site != "classic" || res.QueriedAt.IsZero() || len(res.Records) != res.TotalSize {
			t.Fatalf("result %s at %v: %d records for totalSize %d", res.Site, res.QueriedAt, len(res.Records), res.TotalSize)
		}
		for _, rec := range res.Records {
			if rec.Match == shixincheck.MatchHit && (rec.CardNum == "" || rec.CourtName == "" || rec.Performance == "") {
				t.Fatalf("hit without its detail: %+v", rec)
			}
		}
		checkEvidence(t, res, p.Name, p.IDNumber)
	}
}

// checkEvidence checks that the evidence holds the site's raw answers and
// that its URLs carry no personal data.
func checkEvidence(t *testing.T, res shixincheck.SiteResult, name, id string) {
	t.Helper()
	var ev struct {
		Site    string     `json:"site"`
		Answers []evidence `json:"answers"`
	}
	if err := json.Unmarshal(res.Evidence, &ev); err != nil {
		t.Fatalf("evidence: %v", err)
	}
	lists, details := 0, 0
	for _, a := range ev.Answers {
		if strings.Contains(a.URL, "pName") || strings.Contains(a.URL, id) || strings.Contains(a.URL, "pCode") ||
			strings.Contains(a.URL, "captchaId") {
			t.Fatalf("evidence URL with query data: %s", a.URL)
		}
		switch {
		case strings.HasPrefix(a.URL, classicSite.ListPath+"?currentPage="):
			lists++
		case strings.HasPrefix(a.URL, classicSite.DetailPath+"?id="):
			details++
		}
		if a.Status != 200 || a.Body == "" {
			t.Fatalf("evidence answer %s: status %d, %d bytes", a.URL, a.Status, len(a.Body))
		}
	}
	wantDetails := 0
	for _, rec := range res.Records {
		if rec.Match != shixincheck.MatchOther {
			wantDetails++
		}
	}
	if ev.Site != "classic" || lists != max(1, (res.TotalSize+9)/10) || details != wantDetails {
		t.Fatalf("evidence of %s: %d list pages, %d details; want %d details", ev.Site, lists, details, wantDetails)
	}
	// The page shows the first list page only: it is the one file, with
	// what was searched and the rows the network answered.
	if len(res.Files) != 1 || res.Files[0].Name != "list-1.html" {
		t.Fatalf("%d evidence files, want list-1.html", len(res.Files))
	}
	page := evidencePage(t, res.Files[0])
	rows := min(10, res.TotalSize)
	if !strings.Contains(page, `value="`+name+`"`) || !strings.Contains(page, `value="`+id+`"`) ||
		strings.Count(page, `class="View"`) != rows {
		t.Fatalf("the page kept does not show the name, the ID number and %d rows", rows)
	}
}

// evidencePage returns a page kept as evidence, checked to be a whole page
// without scripts that finds the site's styles from a saved file.
func evidencePage(t *testing.T, f shixincheck.EvidenceFile) string {
	t.Helper()
	page := string(f.Data)
	if f.MIME != pageMIME || !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "</html>") {
		t.Fatalf("evidence %s: type %q, not a whole page", f.Name, f.MIME)
	}
	if strings.Contains(page, "<script") {
		t.Fatalf("evidence %s keeps scripts", f.Name)
	}
	if !regexp.MustCompile(`<head><meta charset="utf-8"><base href="http://[^"]+">`).MatchString(page) {
		t.Fatalf("evidence %s has no charset and base first in its head", f.Name)
	}
	return page
}

func TestCheckMultipage(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	p := e.people(t, "multipage", 1)[0]
	res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if res.TotalSize <= 10 || len(res.Records) != res.TotalSize || res.Hits() != p.Records {
		t.Fatalf("%d records of %d, %d hits; want > 10 records and %d hits", len(res.Records), res.TotalSize, res.Hits(), p.Records)
	}
	seen := map[string]bool{}
	for _, rec := range res.Records {
		if seen[rec.SiteID] {
			t.Fatalf("record %s twice", rec.SiteID)
		}
		seen[rec.SiteID] = true
	}
	checkEvidence(t, res, p.Name, p.IDNumber)
}

func TestCheckNamesakeAndClean(t *testing.T) {
	e := newEnv(t, simConfig(), Config{Tabs: 1})
	ctx := context.Background()
	for _, p := range e.people(t, "namesake", 2) {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("namesake check: %v", err)
		}
		namesakes := 0
		for _, rec := range res.Records {
			switch rec.Match {
			case shixincheck.MatchNamesake:
				namesakes++
				if rec.CardNum == "" {
					t.Fatalf("namesake without its detail: %+v", rec)
				}
			case shixincheck.MatchOther:
			default:
				t.Fatalf("namesake's record matched as %s", rec.Match)
			}
		}
		if namesakes == 0 || res.Outcome() != shixincheck.OutcomeClear {
			t.Fatalf("%d namesake records, outcome %s", namesakes, res.Outcome())
		}
		checkEvidence(t, res, p.Name, p.IDNumber)
	}
	for _, p := range e.people(t, "clean", 2) {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("clean check: %v", err)
		}
		if res.TotalSize != 0 || len(res.Records) != 0 || res.Outcome() != shixincheck.OutcomeClear {
			t.Fatalf("clean person: totalSize %d, %d records, %s", res.TotalSize, len(res.Records), res.Outcome())
		}
		checkEvidence(t, res, p.Name, p.IDNumber)
	}
}
