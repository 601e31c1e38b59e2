package scraper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shixincheck/shixincheck"
)

// errRefused means the site refused the captcha answer: the list answered
// `error`, a detail answered `{}` while the code was dead.
var errRefused = errors.New("captcha answer refused by the site")

// listPage is one page of the list as the site answered it.
type listPage struct {
	currentPage int // 0 when the answer does not say
	totalPage   int
	totalSize   int
	items       []listItem
}

// listItem is one row of the list.
type listItem struct {
	ID       string
	Name     string
	CaseCode string
	RegDate  string
}

// parseList reads a searchSX.do answer for page number page. It returns
// errRefused for the bare word `error`.
func (p *classicProfile) parseList(body []byte, page int) (listPage, error) {
	trimmed := bytes.TrimSpace(body)
	if string(trimmed) == p.RejectedList {
		return listPage{}, errRefused
	}
	if err := p.pageInstead(body); err != nil {
		return listPage{}, err
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(trimmed, &arr); err != nil || len(arr) == 0 {
		return listPage{}, unrecognised("list answer is not a JSON array of pages", err)
	}
	var head struct {
		Result      *[]map[string]json.RawMessage `json:"result"`
		TotalSize   *int                          `json:"totalSize"`
		TotalPage   *int                          `json:"totalPage"`
		CurrentPage *int                          `json:"currentPage"`
	}
	if err := json.Unmarshal(arr[0], &head); err != nil {
		return listPage{}, unrecognised("list answer", err)
	}
	if head.Result == nil || head.TotalSize == nil || head.TotalPage == nil {
		return listPage{}, unrecognised("list answer lacks result, totalSize or totalPage", nil)
	}
	lp := listPage{totalSize: *head.TotalSize, totalPage: *head.TotalPage}
	if head.CurrentPage != nil {
		lp.currentPage = *head.CurrentPage
	}
	items, err := listItems(*head.Result, "iname")
	if err != nil {
		return listPage{}, err
	}
	lp.items = items
	if err := checkPage(lp, page, p.PageSize); err != nil {
		return listPage{}, err
	}
	return lp, nil
}

// listItems reads the rows of a list answer; nameKey is the name's field.
func listItems(result []map[string]json.RawMessage, nameKey string) ([]listItem, error) {
	var items []listItem
	for i, raw := range result {
		var it listItem
		var err error
		if it.ID, err = jsonText(raw["id"], true); err == nil {
			if it.Name, err = jsonText(raw[nameKey], true); err == nil {
				if it.CaseCode, err = jsonText(raw["caseCode"], true); err == nil {
					it.RegDate, err = jsonText(raw["regDate"], false)
				}
			}
		}
		if err != nil {
			return nil, unrecognised(fmt.Sprintf("list row %d", i+1), err)
		}
		items = append(items, it)
	}
	return items, nil
}

// checkPage checks a page's counts against each other: totalPage follows
// from totalSize (1 for none), and every page but the last is full.
func checkPage(lp listPage, page, size int) error {
	pages := max(1, (lp.totalSize+size-1)/size)
	want := min(size, lp.totalSize-(page-1)*size)
	switch {
	case lp.totalSize < 0:
		return unrecognised(fmt.Sprintf("totalSize %d", lp.totalSize), nil)
	case lp.totalPage != pages:
		return unrecognised(fmt.Sprintf("totalPage %d for totalSize %d", lp.totalPage, lp.totalSize), nil)
	case lp.currentPage != 0 && lp.currentPage != page:
		return unrecognised(fmt.Sprintf("currentPage %d, asked for %d", lp.currentPage, page), nil)
	case page > pages || len(lp.items) != want:
		return unrecognised(fmt.Sprintf("page %d of %d has %d rows for totalSize %d", page, pages, len(lp.items), lp.totalSize), nil)
	}
	return nil
}

// parseDetail reads a disDetailNew answer for the list row it was asked
// for. `{}` is errRefused: a dead captcha (or an unknown id; the caller
// tells them apart).
func (p *classicProfile) parseDetail(body []byte, want listItem) (shixincheck.Record, error) {
	if err := p.pageInstead(body); err != nil {
		return shixincheck.Record{}, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &obj); err != nil || obj == nil {
		return shixincheck.Record{}, unrecognised("detail answer is not a JSON object", err)
	}
	if len(obj) == 0 {
		return shixincheck.Record{}, errRefused
	}
	return recordOf(obj, want)
}

// recordOf reads a detail answer's fields (the classic names, which the gkw
// site kept) for the list row it was asked for.
func recordOf(obj map[string]json.RawMessage, want listItem) (shixincheck.Record, error) {
	var rec shixincheck.Record
	fields := []struct {
		key      string
		dst      *string
		required bool
	}{
		{"id", &rec.SiteID, true}, {"iname", &rec.Name, true}, {"caseCode", &rec.CaseCode, true},
		{"cardNum", &rec.CardNum, false}, {"courtName", &rec.CourtName, false},
		{"areaName", &rec.AreaName, false}, {"regDate", &rec.RegDate, false},
		{"publishDate", &rec.PublishDate, false}, {"gistId", &rec.GistID, false},
		{"gistUnit", &rec.GistUnit, false}, {"duty", &rec.Duty, false},
		{"performance", &rec.Performance, false}, {"disruptTypeName", &rec.DisruptType, false},
	}
	for _, f := range fields {
		v, err := jsonText(obj[f.key], f.required)
		if err != nil {
			return shixincheck.Record{}, unrecognised("detail field "+f.key, err)
		}
		*f.dst = v
	}
	if rec.SiteID != want.ID || rec.CaseCode != want.CaseCode || !sameName(rec.Name, want.Name) {
		return shixincheck.Record{}, unrecognised("detail answer is for another record than its list row", nil)
	}
	return rec, nil
}

// jsonText reads a JSON string or number as text; null or a missing value
// is "" unless required.
func jsonText(raw json.RawMessage, required bool) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return "", errors.New("missing")
		}
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
	} else {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("neither text nor number: %w", err)
		}
		s = string(n)
	}
	if required && s == "" {
		return "", errors.New("empty")
	}
	return s, nil
}

func unrecognised(what string, err error) error {
	if err != nil {
		return shixincheck.Errorf(shixincheck.KindUnrecognised, "%s: %w", what, err)
	}
	return shixincheck.Errorf(shixincheck.KindUnrecognised, "%s", what)
}
