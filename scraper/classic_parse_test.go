package scraper

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shixincheck/shixincheck"
)

// listJSON builds a list answer with rows rows numbered from first.
func listJSON(page, totalPage, totalSize, first, rows int) string {
	var items []string
	for i := range rows {
		n := first + i
		items = append(items, fmt.Sprintf(`{"id":"%d","iname":"张三","caseCode":"(2019)鄂0202执%d号","regDate":"2019年03月05日"}`, n, n))
	}
	return fmt.Sprintf(`[{"currentPage":%d,"pageSize":10,"totalPage":%d,"totalSize":%d,"result":[%s]}]`,
		page, totalPage, totalSize, strings.Join(items, ","))
}

func TestParseList(t *testing.T) {
	p := &classicSite
	tests := []struct {
		name  string
		body  string
		page  int
		rows  int
		total int
		kind  shixincheck.ErrorKind // "" for success
		refus bool
	}{
		{name: "one page", body: listJSON(1, 1, 2, 1, 2), page: 1, rows: 2, total: 2},
		{name: "none", body: `[{"currentPage":1,"pageSize":10,"totalPage":1,"totalSize":0,"result":[]}]`, page: 1, total: 0},
		{name: "full first of three", body: listJSON(1, 3, 23, 1, 10), page: 1, rows: 10, total: 23},
		{name: "last of three", body: listJSON(3, 3, 23, 21, 3), page: 3, rows: 3, total: 23},
		{name: "numeric id, no currentPage", body: `[{"totalPage":1,"totalSize":1,"result":[{"id":702263424,"iname":"张三","caseCode":"(2019)鄂0202执1号"}]}]`, page: 1, rows: 1, total: 1},
		{name: "refused", body: "error", refus: true},
		{name: "refused with spaces", body: " error\r\n", refus: true},
		{name: "busy page", body: "<html><body>网站当前访问量较大，请稍后再试</body></html>", kind: shixincheck.KindBlocked},
		{name: "javascript page", body: "<html><body>Please enable JavaScript and refresh the page.</body></html>", kind: shixincheck.KindBlocked},
		{name: "other page", body: "<!DOCTYPE html><html><body>维护中</body></html>", kind: shixincheck.KindUnrecognised},
		{name: "truncated", body: listJSON(1, 1, 2, 1, 2)[:60], page: 1, kind: shixincheck.KindUnrecognised},
		{name: "empty array", body: "[]", page: 1, kind: shixincheck.KindUnrecognised},
		{name: "object not array", body: `{"totalSize":0}`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "no totalSize", body: `[{"totalPage":1,"result":[]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "no result", body: `[{"totalPage":1,"totalSize":0}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "totalSize as text", body: `[{"totalPage":1,"totalSize":"0","result":[]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "totalPage inconsistent", body: listJSON(1, 1, 23, 1, 10), page: 1, kind: shixincheck.KindUnrecognised},
		{name: "zero pages", body: `[{"totalPage":0,"totalSize":0,"result":[]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "short page", body: listJSON(1, 3, 23, 1, 9), page: 1, kind: shixincheck.KindUnrecognised},
		{name: "rows but totalSize 0", body: `[{"totalPage":1,"totalSize":0,"result":[{"id":"1","iname":"张三","caseCode":"x"}]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "other page than asked", body: listJSON(2, 3, 23, 11, 10), page: 3, kind: shixincheck.KindUnrecognised},
		{name: "row without iname", body: `[{"totalPage":1,"totalSize":1,"result":[{"id":"1","caseCode":"x"}]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "row with empty id", body: `[{"totalPage":1,"totalSize":1,"result":[{"id":"","iname":"张三","caseCode":"x"}]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "row of wrong type", body: `[{"totalPage":1,"totalSize":1,"result":["张三"]}]`, page: 1, kind: shixincheck.KindUnrecognised},
		{name: "trailing garbage", body: listJSON(1, 1, 2, 1, 2) + "<br>", page: 1, kind: shixincheck.KindUnrecognised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lp, err := p.parseList([]byte(tt.body), max(tt.page, 1))
			switch {
			case tt.refus:
				if !errors.Is(err, errRefused) {
					t.Fatalf("err = %v, want errRefused", err)
				}
			case tt.kind != "":
				if err == nil || shixincheck.KindOf(err) != tt.kind {
					t.Fatalf("err = %v, want kind %s", err, tt.kind)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if len(lp.items) != tt.rows || lp.totalSize != tt.total {
					t.Fatalf("got %d rows of %d, want %d of %d", len(lp.items), lp.totalSize, tt.rows, tt.total)
				}
			}
		})
	}
}

func TestParseDetail(t *testing.T) {
	p := &classicSite
	want := listItem{ID: "101", Name: "张三", CaseCode: "(2019)鄂0202执123号"}
	good := `{"id":"101","iname":"张三","caseCode":"(2019)鄂0202执123号","age":39,"sexy":"男性",
		"cardNum":"4202021980****1234","businessEntity":"","courtName":"黄石市西塞山区人民法院","areaName":"湖北",
		"partyTypeName":"580","gistId":"(2018)鄂0203民初1号","regDate":"2019年03月05日","gistUnit":"黄石市西塞山区人民法院",
		"duty":"给付","performance":"全部未履行","performedPart":"暂无","unperformPart":"暂无",
		"disruptTypeName":"有履行能力而拒不履行生效法律文书确定义务","publishDate":"2019年04月01日","qysler":[]}`
	rec, err := p.parseDetail([]byte(good), want)
	if err != nil {
		t.Fatalf("good detail: %v", err)
	}
	if rec.CardNum != "4202021980****1234" || rec.CourtName != "黄石市西塞山区人民法院" || rec.Performance != "全部未履行" ||
		rec.SiteID != "101" || rec.Name != "张三" || rec.AreaName != "湖北" || rec.PublishDate != "2019年04月01日" {
		t.Fatalf("good detail read as %+v", rec)
	}

	tests := []struct {
		name  string
		body  string
		kind  shixincheck.ErrorKind
		refus bool
	}{
		{name: "empty object", body: "{}", refus: true},
		{name: "empty object spaced", body: " { }\n", refus: true},
		{name: "another record", body: strings.Replace(good, `"id":"101"`, `"id":"102"`, 1), kind: shixincheck.KindUnrecognised},
		{name: "another case", body: strings.Replace(good, "执123号", "执124号", 1), kind: shixincheck.KindUnrecognised},
		{name: "no iname", body: strings.Replace(good, `"iname":"张三",`, "", 1), kind: shixincheck.KindUnrecognised},
		{name: "cardNum of wrong type", body: strings.Replace(good, `"cardNum":"4202021980****1234"`, `"cardNum":{}`, 1), kind: shixincheck.KindUnrecognised},
		{name: "truncated", body: good[:80], kind: shixincheck.KindUnrecognised},
		{name: "array", body: "[" + good + "]", kind: shixincheck.KindUnrecognised},
		{name: "null", body: "null", kind: shixincheck.KindUnrecognised},
		{name: "busy page", body: "<html>网站当前访问量较大，请稍后再试</html>", kind: shixincheck.KindBlocked},
		{name: "other page", body: "<html><body>404</body></html>", kind: shixincheck.KindUnrecognised},
		{name: "the word error", body: "error", kind: shixincheck.KindUnrecognised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.parseDetail([]byte(tt.body), want)
			switch {
			case tt.refus:
				if !errors.Is(err, errRefused) {
					t.Fatalf("err = %v, want errRefused", err)
				}
			case err == nil || shixincheck.KindOf(err) != tt.kind:
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
}

func TestFailure(t *testing.T) {
	p := &classicSite
	tests := []struct {
		name string
		ex   exchange
		body string
		kind shixincheck.ErrorKind // "" for none
	}{
		{"ok json", exchange{status: 200, mime: "application/json"}, `[{}]`, ""},
		{"ok error word", exchange{status: 200, mime: "text/html"}, "error", ""},
		{"waf 412", exchange{status: 412, mime: "text/html"}, "<html><script>document.cookie=1</script></html>", shixincheck.KindBlocked},
		{"waf 202", exchange{status: 202}, "", shixincheck.KindBlocked},
		{"bad gateway", exchange{status: 502}, "", shixincheck.KindBlocked},
		{"redirect", exchange{status: 200, redirect: 302}, "<html></html>", shixincheck.KindBlocked},
		{"not found", exchange{status: 404}, "", shixincheck.KindUnrecognised},
		{"network failure", exchange{failed: "net::ERR_CONNECTION_RESET"}, "", shixincheck.KindTimeout},
		{"busy 200", exchange{status: 200, mime: "text/html"}, "<html>网站当前访问量较大，请稍后再试</html>", shixincheck.KindBlocked},
		{"garbage 200", exchange{status: 200, mime: "text/html"}, "<html><body>hello</body></html>", shixincheck.KindUnrecognised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.failure(tt.ex, []byte(tt.body))
			if tt.kind == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil || shixincheck.KindOf(err) != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
		})
	}
}
