package courtsim

import (
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Fault makes the next Count requests to Path misbehave.
// Modes: "waf" (412 challenge even with the cookie), "busy" (the site's
// overload page), "garbage" (an unrecognised HTML page), "slow" (wait Delay,
// then answer normally), "bad_json" (truncated JSON), "render_mismatch" (the
// classic page's script search.js, changed to show one row fewer than the
// answer it got: a page that disagrees with the network; the fault does
// nothing on any other path). Path is the last path element or "" for any:
// classic "searchSX.do", "captchaNew.do", "disDetailNew", "search.js"; gkw
// "searchZhcx", "searchSX", "detailZhcx", "captcha" (a new challenge),
// "check" (a captcha check).
type Fault struct {
	Mode  string
	Path  string
	Count int
	Delay time.Duration
}

// faultModes are the modes a Fault may have.
var faultModes = map[string]bool{"waf": true, "busy": true, "garbage": true, "slow": true, "bad_json": true, "render_mismatch": true}

// faultQueue holds pending faults in the order they were injected.
type faultQueue struct {
	mu      sync.Mutex
	pending []*Fault
}

func (q *faultQueue) add(f Fault) {
	if f.Count < 1 {
		f.Count = 1
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, &f)
}

// take returns the first pending fault for the request path, counting it down.
func (q *faultQueue) take(urlPath string) (Fault, bool) {
	last := path.Base(urlPath)
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.pending {
		if f.Path != "" && f.Path != last {
			continue
		}
		f.Count--
		if f.Count == 0 {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
		}
		return *f, true
	}
	return Fault{}, false
}

// busyPage is what the real site shows under load instead of an image or JSON.
const busyPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>提示</title></head>
<body><div style="text-align:center;margin-top:80px">网站当前访问量较大，请稍后再试</div></body></html>
`

// garbagePage is an HTML page no scraper knows.
const garbagePage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>维护</title></head>
<body><h1>系统维护中</h1><p>本栏目正在升级，敬请期待。</p></body></html>
`

// mismatchSearchJS is the classic search.js showing every result row but
// the first.
var mismatchSearchJS = strings.Replace(classicSearchJS,
	"for (var i = 0; i < data.result.length; i++) {", "for (var i = 1; i < data.result.length; i++) {", 1)

// badJSON is an answer cut short in the middle.
const badJSON = `[{"currentPage":1,"pageSize":10,"totalPage":2,"totalSize":13,"result":[{"id":"7`

// serveFault answers for f; it reports false when the request should go on
// to its handler (a slow fault after its delay).
func (s *Sim) serveFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Mode {
	case "waf":
		s.waf.challenge(w)
	case "busy":
		writeText(w, http.StatusOK, "text/html; charset=utf-8", busyPage)
	case "garbage":
		writeText(w, http.StatusOK, "text/html; charset=utf-8", garbagePage)
	case "bad_json":
		writeText(w, http.StatusOK, "application/json;charset=UTF-8", badJSON)
	case "render_mismatch":
		if r.URL.Path != "/shixin/js/search.js" {
			return false
		}
		writeText(w, http.StatusOK, "application/javascript; charset=utf-8", mismatchSearchJS)
	case "slow":
		if !sleepCtx(r, f.Delay) {
			return true // client gone
		}
		return false
	default:
		return false
	}
	return true
}

// sleepCtx waits d unless the request ends first; false if it ended.
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
