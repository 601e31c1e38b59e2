package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
)

// seeded is what the route walk needs to fill in path parameters.
type seeded struct {
	batch, filing, check, candidate, victim string
}

func (ts *testServer) seed(t *testing.T) seeded {
	t.Helper()
	ctx := context.Background()
	batch := ts.checked(t, time.Now())
	entries, err := ts.ledger.Entries(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ts.ledger.CreateBatchFiling(ctx, batch, func(done time.Time) (*time.Time, error) {
		d := done.AddDate(0, 0, 9)
		return &d, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	victim := ts.newAccount(t, shixincheck.RoleClerk)
	return seeded{batch: batch, filing: strconv.FormatInt(f.ID, 10), check: strconv.FormatInt(entries[0].Check.ID, 10),
		candidate: strconv.FormatInt(entries[0].Candidate.ID, 10), victim: strconv.FormatInt(victim.ID, 10)}
}

// examplePath turns a route's pattern into a request path with real ids.
func (d seeded) examplePath(pattern string) (string, bool) {
	_, path, _ := strings.Cut(pattern, " ")
	switch path {
	case "/{$}":
		return "/", true
	case "/static/":
		return "/static/site.css", true
	case "/captcha/static/":
		return "/captcha/static/review.js", true
	case "/api/v1/captcha/next":
		return path + "?wait=0s", true
	}
	if !strings.Contains(path, "{") {
		return path, true
	}
	var id string
	switch {
	case strings.HasPrefix(path, "/batches/{id}"), strings.HasPrefix(path, "/api/v1/batches/{id}"):
		id = d.batch
	case strings.HasPrefix(path, "/filings/{id}"), strings.HasPrefix(path, "/api/v1/filings/{id}"):
		id = d.filing
	case strings.HasPrefix(path, "/api/v1/candidates/{id}"):
		id = d.candidate
	case strings.HasPrefix(path, "/api/v1/captcha/{id}"):
		id = "nope"
	case strings.HasPrefix(path, "/account/tokens/{id}"), strings.HasPrefix(path, "/api/v1/tokens/{id}"):
		id = "999999"
	case strings.HasPrefix(path, "/admin/accounts/{id}"):
		id = d.victim
	case strings.HasPrefix(path, "/api/v1/checks/{check}"):
		path = strings.ReplaceAll(path, "{check}", d.check)
		path = strings.ReplaceAll(path, "{name}", "list-1.pdf")
		return path, true
	default:
		return "", false
	}
	return strings.ReplaceAll(path, "{id}", id), true
}

// identity is who sends a request in the route walk.
type identity struct {
	name  string
	c     *client
	roles []shixincheck.Role // nil: anonymous
	token bool               // by API token (accepted on /api/ only)
}

// TestEveryRouteRefusesWhoItShould walks every route the server registered
// with anonymous, every role by session cookie and every role by API token:
// each is let through or refused as routes.go declares, and a refusal
// carries no personal data.
func TestEveryRouteRefusesWhoItShould(t *testing.T) {
	ts := newTestServer(t)
	data := ts.seed(t)
	ids := []identity{{name: "anonymous", c: ts.anonymous()}}
	for _, r := range shixincheck.Roles {
		ids = append(ids,
			identity{name: string(r) + " (session)", c: ts.login(t, r), roles: []shixincheck.Role{r}},
			identity{name: string(r) + " (token)", c: ts.bearerClient(t, r), roles: []shixincheck.Role{r}, token: true})
	}

	patterns := slices.Clone(ts.srv.patterns)
	// Log-out ends the session the walk uses: last.
	sort.SliceStable(patterns, func(i, j int) bool { return patterns[j] == "POST /logout" && patterns[i] != "POST /logout" })
	personal := []string{"110105", "420202", "张*", "李*", "张三"}
	for _, pattern := range patterns {
		pol, ok := ts.srv.policies[pattern]
		if !ok {
			t.Errorf("%s has no policy", pattern)
			continue
		}
		path, ok := data.examplePath(pattern)
		if !ok {
			t.Errorf("%s: the walk has no example path: add one to examplePath", pattern)
			continue
		}
		if pattern == "POST /login" {
			continue // public, but refuses a post without its own form token: TestLogIn
		}
		method, _, _ := strings.Cut(pattern, " ")
		api := strings.HasPrefix(path, "/api/")
		for _, id := range ids {
			resp := id.c.do(t, method, path, "", nil)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			code, loc := resp.StatusCode, resp.Header.Get("Location")
			where := fmt.Sprintf("%s as %s: %d", pattern, id.name, code)
			loggedIn := id.roles != nil && (api || !id.token)
			allowed := pol.public || loggedIn && (len(pol.roles) == 0 || access.HasRole(id.roles, pol.roles...))
			toLogin := code == http.StatusSeeOther && (loc == "/login" || strings.HasPrefix(loc, "/login?next="))
			switch {
			case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden || toLogin):
				t.Errorf("%s, want it let through: %.200s", where, body)
			case allowed:
			case !loggedIn && api && code != http.StatusUnauthorized:
				t.Errorf("%s, want 401", where)
			case !loggedIn && !api && !toLogin:
				t.Errorf("%s (to %q), want a redirect to /login", where, loc)
			case loggedIn && code != http.StatusForbidden:
				t.Errorf("%s, want 403", where)
			}
			if !allowed {
				for _, p := range personal {
					if bytes.Contains(body, []byte(p)) {
						t.Errorf("%s: the refusal shows %q", where, p)
					}
				}
				if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("%s: the refusal lacks the security headers", where)
				}
			}
			if !pol.public && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", where, resp.Header.Get("Cache-Control"))
			}
		}
	}
}

// TestPoliciesKeepToTheRoles pins the shape of routes.go's table: what is
// public, and that the captcha operator reaches the captcha queue only.
func TestPoliciesKeepToTheRoles(t *testing.T) {
	s := &Server{Metrics: http.NotFoundHandler()}
	s.Handler()
	var publicRoutes, operatorRoutes []string
	for _, p := range s.patterns {
		pol := s.policies[p]
		switch {
		case pol.public:
			publicRoutes = append(publicRoutes, p)
		case access.HasRole(pol.roles, shixincheck.RoleOperator):
			operatorRoutes = append(operatorRoutes, p)
			if len(pol.roles) != 1 {
				t.Errorf("%s: the captcha queue is the operator's only", p)
			}
		}
	}
	sort.Strings(publicRoutes)
	want := []string{"GET /api/v1/openapi.yaml", "GET /captcha/static/", "GET /healthz", "GET /login", "GET /metrics", "GET /static/", "POST /login"}
	if !slices.Equal(publicRoutes, want) {
		t.Errorf("public routes %q, want %q", publicRoutes, want)
	}
	sort.Strings(operatorRoutes)
	if want := []string{"GET /api/v1/captcha/next", "GET /captcha", "POST /api/v1/captcha/{id}"}; !slices.Equal(operatorRoutes, want) {
		t.Errorf("operator routes %q, want %q", operatorRoutes, want)
	}
}

// TestHomeGoesToTheFirstPageOfTheRoles sends each account to its page.
func TestHomeGoesToTheFirstPageOfTheRoles(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		roles []shixincheck.Role
		want  string
	}{
		{[]shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAdmin}, "/batches"},
		{[]shixincheck.Role{shixincheck.RoleOperator}, "/captcha"},
		{[]shixincheck.Role{shixincheck.RoleAuditor, shixincheck.RoleAdmin}, "/ledger"},
		{[]shixincheck.Role{shixincheck.RoleAdmin}, "/admin/accounts"},
	} {
		c := ts.login(t, tc.roles...)
		resp := c.do(t, "GET", "/", "", nil)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != tc.want {
			t.Errorf("%v: %d to %q, want %q", tc.roles, resp.StatusCode, loc, tc.want)
		}
	}
	// The nav shows only what the account may open, its name and 退出.
	_, page := ts.login(t, shixincheck.RoleAuditor).get(t, "/ledger")
	nav := regexp.MustCompile(`(?s)<nav>.*?</nav>`).Find(page)
	for _, want := range []string{`href="/filings"`, `href="/ledger"`, `href="/audit"`} {
		if !bytes.Contains(nav, []byte(want)) {
			t.Errorf("auditor's nav lacks %s: %s", want, nav)
		}
	}
	for _, not := range []string{`href="/batches"`, `href="/captcha"`, `href="/admin/accounts"`} {
		if bytes.Contains(nav, []byte(not)) {
			t.Errorf("auditor's nav offers %s: %s", not, nav)
		}
	}
	if !bytes.Contains(page, []byte(`id="logout"`)) || !bytes.Contains(page, []byte("测试auditor-")) {
		t.Error("the page lacks the account's name or 退出")
	}
}

// TestCSRF refuses a session's state-changing request without its token,
// and changes nothing; with the token (header or form field) it works; an
// API token needs none.
func TestCSRF(t *testing.T) {
	ts := newTestServer(t)
	_, out := ts.postBatch(t, goodFields, "list.csv", goodCSV)
	id := out["id"].(string)
	state := func() shixincheck.BatchControl {
		b, err := ts.ledger.Batch(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return b.Control
	}
	clerk := ts.clerk
	token := clerk.csrf
	for _, tc := range []struct {
		name   string
		header string
		form   url.Values
	}{
		{"no token", "", nil},
		{"wrong header", strings.Repeat("A", len(token)), nil},
		{"empty form field", "", url.Values{"csrf_token": {""}}},
		{"wrong form field", "", url.Values{"csrf_token": {token + "x"}}},
		{"another session's token", ts.login(t, shixincheck.RoleClerk).csrf, nil},
	} {
		clerk.csrf = tc.header
		var resp *http.Response
		if tc.form != nil {
			resp = clerk.do(t, "POST", "/batches/"+id+"/pause", "application/x-www-form-urlencoded", strings.NewReader(tc.form.Encode()))
		} else {
			resp = clerk.do(t, "POST", "/api/v1/batches/"+id+"/pause", "", nil)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "CSRF") {
			t.Errorf("%s: %d %.200s, want 403 naming CSRF", tc.name, resp.StatusCode, body)
		}
		if state() != shixincheck.ControlActive {
			t.Fatalf("%s: the batch was paused", tc.name)
		}
	}
	clerk.csrf = token
	// A multipart upload without its token is refused too, and stores nothing.
	clerk.csrf = ""
	body, ct := multipartBody(t, goodFields, "list.csv", "姓名,身份证号\n王芳,330106199201011234\n")
	resp := clerk.do(t, "POST", "/batches", ct, body)
	resp.Body.Close()
	clerk.csrf = token
	if bs, _ := ts.ledger.Batches(context.Background(), 0); resp.StatusCode != http.StatusForbidden || len(bs) != 1 {
		t.Errorf("upload without token: %d, %d batches", resp.StatusCode, len(bs))
	}

	// With the token: in the header, and in the form field.
	if code, _ := clerk.send(t, "POST", "/api/v1/batches/"+id+"/pause", ""); code != http.StatusOK || state() != shixincheck.ControlPaused {
		t.Errorf("pause with the token: %d", code)
	}
	resp = clerk.postForm(t, "/batches/"+id+"/resume", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || state() != shixincheck.ControlActive {
		t.Errorf("resume with the form's token: %d", resp.StatusCode)
	}
	body, ct = multipartBody(t, map[string]string{"csrf_token": token, "item": goodFields["item"], "unit": "u", "handler": "h", "phone": "p"},
		"list.csv", "姓名,身份证号\n王芳,330106199201011234\n")
	saved := clerk.csrf
	clerk.csrf = ""
	resp = clerk.do(t, "POST", "/batches", ct, body)
	resp.Body.Close()
	clerk.csrf = saved
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/batches/b") {
		t.Errorf("upload form with its token: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// An API token carries no ambient authority: no CSRF token needed.
	script := ts.bearerClient(t, shixincheck.RoleClerk)
	if code, body := script.send(t, "POST", "/api/v1/batches/"+id+"/pause", ""); code != http.StatusOK {
		t.Errorf("pause by API token: %d %s", code, body)
	}
	// The token is not taken on a page route, which needs the session.
	resp = script.do(t, "POST", "/batches/"+id+"/resume", "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") || state() != shixincheck.ControlPaused {
		t.Errorf("API token on a page: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestEveryFormCarriesTheCSRFToken reads the templates: every POST form has
// the hidden csrf_token field.
func TestEveryFormCarriesTheCSRFToken(t *testing.T) {
	form := regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>(.*?)</form>`)
	files, _ := templateFS.ReadDir("templates")
	n := 0
	for _, f := range files {
		data, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range form.FindAllSubmatch(data, -1) {
			n++
			if !bytes.Contains(m[1], []byte(`{{template "csrf"`)) && !bytes.Contains(m[1], []byte(`name="csrf_token"`)) {
				t.Errorf("%s: a POST form without csrf_token: %.120s", f.Name(), m[0])
			}
		}
	}
	if n < 15 {
		t.Errorf("found %d POST forms: the pattern misses some", n)
	}
	for _, js := range []string{"static/unmask.js", "../captcha/static/review.js"} {
		data, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("X-CSRF-Token")) || !bytes.Contains(data, []byte(`meta[name="csrf-token"]`)) {
			t.Errorf("%s: its POSTs do not send the page's CSRF token", js)
		}
	}
}

// TestLogIn covers the log-in page: wrong passwords and the lock, expiry,
// log-out, a new session id at each log-in, disabled accounts, next.
func TestLogIn(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.LoginMaxFailures = 3
	ctx := context.Background()
	a := ts.newAccount(t, shixincheck.RoleAuditor)
	pw := testPassword(a.Login)
	b := ts.anonymous()

	// A page asked for while logged out leads to the log-in page and back.
	resp := b.do(t, "GET", "/ledger", "", nil)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fledger" {
		t.Fatalf("logged-out page: %d to %q", resp.StatusCode, loc)
	}
	if code, loc := b.logIn(t, a.Login, pw, "/ledger"); code != http.StatusSeeOther || loc != "/ledger" {
		t.Fatalf("log-in with next: %d to %q", code, loc)
	}
	first := sessionCookieOf(t, b)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login?next=/x"} {
		if code, loc := b.logIn(t, a.Login, pw, next); code != http.StatusSeeOther || loc != "/" {
			t.Errorf("next %q: %d to %q, want /", next, code, loc)
		}
	}
	// A new session id at every log-in; the old one is gone.
	second := sessionCookieOf(t, b)
	if second == first {
		t.Error("the session id did not change at log-in")
	}
	if _, err := ts.ledger.Session(ctx, access.HashSecret(first)); err != ledger.ErrNotFound {
		t.Errorf("the old session survives a new log-in: %v", err)
	}
	if code, _ := b.get(t, "/audit"); code != http.StatusOK {
		t.Errorf("logged in: /audit %d", code)
	}

	// Log-in CSRF: a post without the log-in page's own cookie and field is refused.
	stranger := ts.anonymous()
	form := url.Values{"login": {a.Login}, "password": {pw}, "csrf_token": {"forged"}}
	resp = stranger.do(t, "POST", "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || sessionCookieOf(t, stranger) != "" {
		t.Errorf("log-in without its form token: %d", resp.StatusCode)
	}

	// Wrong passwords: the same message for every refusal; the account locks.
	refused := func(login, password string) string {
		t.Helper()
		c := ts.anonymous()
		code, page := c.postLoginPage(t, login, password)
		m := regexp.MustCompile(`id="login-error">([^<]*)<`).FindSubmatch(page)
		if code != http.StatusUnauthorized || sessionCookieOf(t, c) != "" || m == nil {
			t.Fatalf("log-in %s: %d, want 401, a message and no session", login, code)
		}
		return string(m[1])
	}
	msg := refused(a.Login, "wrong-password-1")
	if !strings.Contains(msg, "用户名或密码错误") {
		t.Errorf("refusal message %q", msg)
	}
	if got := refused("nobody-here", "whatever-123"); got != msg {
		t.Errorf("unknown login says %q, wrong password %q: they must not differ", got, msg)
	}
	refused(a.Login, "wrong-password-2")
	if locked, _ := ts.ledger.Account(ctx, a.Login); locked.LockedUntil != nil {
		t.Fatal("locked after 2 failures of 3")
	}
	refused(a.Login, "wrong-password-3")
	// Locked: now even the right password is refused, with the same words.
	if got := refused(a.Login, pw); got != msg {
		t.Errorf("locked account says %q", got)
	}
	locked, _ := ts.ledger.Account(ctx, a.Login)
	if locked.LockedUntil == nil || !locked.LockedUntil.After(time.Now()) {
		t.Fatalf("account not locked after 3 failures: %+v", locked.LockedUntil)
	}
	if e, ok := ts.audited(t, a.Login, shixincheck.AuditLoginFailed, "account "+a.Login); !ok || e.Detail != "account locked" {
		t.Errorf("refusal while locked audited as %+v", e)
	}
	if _, ok := ts.audited(t, "anonymous", shixincheck.AuditLoginFailed, "unknown account"); !ok {
		t.Error("unknown login not audited")
	}
	// The lock ends after LoginLock (15 minutes).
	ts.setNow(time.Now().Add(16 * time.Minute))
	if code, _ := ts.anonymous().logIn(t, a.Login, pw, ""); code != http.StatusSeeOther {
		t.Errorf("after the lock: %d", code)
	}

	// Idle expiry, by the server's clock: 29 minutes keep it, 31 end it.
	base := time.Now()
	ts.setNow(base)
	c := ts.login(t, shixincheck.RoleAuditor)
	ts.setNow(base.Add(29 * time.Minute))
	if code, _ := c.get(t, "/audit"); code != http.StatusOK {
		t.Errorf("after 29 idle minutes: %d", code)
	}
	ts.setNow(base.Add(29*time.Minute + 31*time.Minute))
	if code, _ := c.get(t, "/audit"); code != http.StatusSeeOther {
		t.Errorf("after 31 more idle minutes: %d, want the log-in page", code)
	}
	if code, _ := c.send(t, "GET", "/api/v1/audit", ""); code != http.StatusUnauthorized {
		t.Errorf("API after expiry: %d", code)
	}
	// SessionMax (12 h) ends even a session in use every 20 minutes.
	ts.setNow(base)
	c = ts.login(t, shixincheck.RoleAuditor)
	for at := 20 * time.Minute; at < 12*time.Hour; at += 20 * time.Minute {
		ts.setNow(base.Add(at))
		if code, _ := c.get(t, "/audit"); code != http.StatusOK {
			t.Fatalf("in use after %v: %d", at, code)
		}
	}
	ts.setNow(base.Add(12*time.Hour + time.Minute))
	if code, _ := c.get(t, "/audit"); code != http.StatusSeeOther {
		t.Errorf("after 12 h: %d, want the log-in page", code)
	}
	ts.setNow(base)

	// Log-out ends the session on the server, not just the cookie.
	c = ts.login(t, shixincheck.RoleAuditor)
	id := sessionCookieOf(t, c)
	resp = c.postForm(t, "/logout", url.Values{})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?logged_out=1" {
		t.Errorf("log-out: %d", resp.StatusCode)
	}
	if _, err := ts.ledger.Session(ctx, access.HashSecret(id)); err != ledger.ErrNotFound {
		t.Errorf("session after log-out: %v", err)
	}
	if _, ok := ts.audited(t, c.account.Login, shixincheck.AuditLogout, ""); !ok {
		t.Error("log-out not audited")
	}

	// A disabled account cannot log in, and its open session ends.
	c = ts.login(t, shixincheck.RoleAuditor)
	acct := c.account
	acct.Disabled = true
	if err := ts.ledger.UpdateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.get(t, "/audit"); code != http.StatusSeeOther {
		t.Errorf("disabled account's session: %d", code)
	}
	if got := refused(acct.Login, testPassword(acct.Login)); got != msg {
		t.Errorf("disabled account says %q", got)
	}
}

// postLoginPage posts the log-in form once more and returns the page.
func (c *client) postLoginPage(t *testing.T, login, password string) (int, []byte) {
	t.Helper()
	_, page := c.get(t, "/login")
	m := hiddenToken.FindSubmatch(page)
	form := url.Values{"login": {login}, "password": {password}, "csrf_token": {string(m[1])}}
	resp := c.do(t, "POST", "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// sessionCookieOf is the session cookie the client's jar holds, "" if none.
func sessionCookieOf(t *testing.T, c *client) string {
	t.Helper()
	u, _ := url.Parse(c.ts.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == "__Host-"+sessionCookie {
			return ck.Value
		}
	}
	return ""
}

// TestSessionCookieAttributes pins the cookie: HttpOnly, SameSite=Strict,
// Secure with the __Host- prefix, or neither with InsecureCookies.
func TestSessionCookieAttributes(t *testing.T) {
	ts := newTestServer(t)
	a := ts.newAccount(t, shixincheck.RoleClerk)
	for _, insecure := range []bool{false, true} {
		ts.srv.InsecureCookies = insecure
		c := ts.anonymous()
		_, page := c.get(t, "/login")
		token := hiddenToken.FindSubmatch(page)[1]
		form := url.Values{"login": {a.Login}, "password": {testPassword(a.Login)}, "csrf_token": {string(token)}}
		resp := c.do(t, "POST", "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		resp.Body.Close()
		var set string
		for _, h := range resp.Header.Values("Set-Cookie") {
			if strings.Contains(h, sessionCookie+"=") && !strings.Contains(h, "Max-Age=0") {
				set = h
			}
		}
		want := []string{"__Host-sxc_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"}
		if insecure {
			want = []string{"sxc_session=", "Path=/", "HttpOnly", "SameSite=Strict"}
		}
		for _, w := range want {
			if !strings.Contains(set, w) {
				t.Errorf("insecure=%v: Set-Cookie %q lacks %s", insecure, set, w)
			}
		}
		if insecure && (strings.Contains(set, "Secure") || strings.Contains(set, "__Host-")) {
			t.Errorf("insecure cookies: %q", set)
		}
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("insecure=%v: log-in %d", insecure, resp.StatusCode)
		}
	}
}

// TestAPITokens: the secret is shown once, works on the API, and a revoked
// token gets 401.
func TestAPITokens(t *testing.T) {
	ts := newTestServer(t)
	c := ts.clerk
	resp := c.postForm(t, "/account/tokens", url.Values{"name": {"办公室脚本"}})
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`id="token-secret">(sxc_[A-Za-z0-9_-]{43})<`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("new token page: %d, no secret shown", resp.StatusCode)
	}
	secret := string(m[1])
	if _, again := c.get(t, "/account"); bytes.Contains(again, []byte(secret)) {
		t.Error("the account page shows the secret again")
	}
	if _, _, err := ts.ledger.TokenAccount(context.Background(), secret, time.Now()); err != ledger.ErrNotFound {
		t.Error("the secret itself is stored, not only its hash")
	}
	script := ts.anonymous()
	script.hc.Jar, script.bearer = nil, secret
	if code, body := script.get(t, "/api/v1/batches"); code != http.StatusOK {
		t.Fatalf("token on the API: %d %s", code, body)
	}
	if code, _ := script.get(t, "/batches"); code != http.StatusSeeOther {
		t.Errorf("token on a page: %d, want the log-in page", code)
	}
	// Revoked on the page: 401 at once.
	tokens, _ := ts.ledger.Tokens(context.Background(), c.account.ID)
	resp = c.postForm(t, fmt.Sprintf("/account/tokens/%d/revoke", tokens[0].ID), url.Values{})
	resp.Body.Close()
	if code, _ := script.get(t, "/api/v1/batches"); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", code)
	}
	for _, action := range []string{shixincheck.AuditTokenCreated, shixincheck.AuditTokenRevoked} {
		if _, ok := ts.audited(t, c.account.Login, action, fmt.Sprintf("token %d", tokens[0].ID)); !ok {
			t.Errorf("%s not audited", action)
		}
	}
	// Someone else's token cannot be revoked.
	other := ts.bearerClient(t, shixincheck.RoleClerk)
	otherTokens, _ := ts.ledger.Tokens(context.Background(), other.account.ID)
	if code, _ := c.send(t, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", otherTokens[0].ID), ""); code != http.StatusNotFound {
		t.Errorf("revoking another account's token: %d", code)
	}
	if code, _ := other.get(t, "/api/v1/batches"); code != http.StatusOK {
		t.Errorf("the other token stopped working: %d", code)
	}
	// A malformed Authorization header is no credential.
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer ", "Bearer sxc_nope"} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/batches", nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
}

// TestAccountAdmin: an admin creates accounts, changes roles, disables and
// resets passwords; never removes their own admin role or disables
// themselves.
func TestAccountAdmin(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	admin := ts.login(t, shixincheck.RoleAdmin)
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp := admin.postForm(t, path, form)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := post("/admin/accounts", url.Values{"login": {"wang.jb"}, "display_name": {"王经办"}, "roles": {"clerk", "auditor"}, "password": {"short"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "至少") {
		t.Errorf("short password: %d", code)
	}
	if code, _ := post("/admin/accounts", url.Values{"login": {"wang.jb"}, "display_name": {"王经办"}, "password": {"long-enough-pw"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("no role: %d", code)
	}
	if code, _ := post("/admin/accounts", url.Values{"login": {"<b>x"}, "display_name": {"x"}, "roles": {"clerk"}, "password": {"long-enough-pw"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("bad login: %d", code)
	}
	if code, body := post("/admin/accounts", url.Values{"login": {"wang.jb"}, "display_name": {"王经办"}, "roles": {"clerk", "auditor"}, "password": {"long-enough-pw"}}); code != http.StatusSeeOther {
		t.Fatalf("create: %d %.300s", code, body)
	}
	if code, _ := post("/admin/accounts", url.Values{"login": {"wang.jb"}, "display_name": {"又一个"}, "roles": {"clerk"}, "password": {"long-enough-pw"}}); code != http.StatusConflict {
		t.Errorf("taken login: %d", code)
	}
	a, err := ts.ledger.Account(ctx, "wang.jb")
	if err != nil || !slices.Equal(a.Roles, []shixincheck.Role{shixincheck.RoleClerk, shixincheck.RoleAuditor}) || !access.CheckPassword(a.PasswordHash, "long-enough-pw") {
		t.Fatalf("created account: %+v %v", a, err)
	}
	if e, ok := ts.audited(t, admin.account.Login, shixincheck.AuditAccountCreated, "account wang.jb"); !ok || strings.Contains(e.Detail, "long-enough") {
		t.Errorf("creation audited: %+v", e)
	}
	_, list := admin.get(t, "/admin/accounts")
	if !bytes.Contains(list, []byte("wang.jb")) || !bytes.Contains(list, []byte("经办人、审计员")) {
		t.Errorf("list lacks the account")
	}

	base := fmt.Sprintf("/admin/accounts/%d", a.ID)
	if code, _ := post(base+"/roles", url.Values{"display_name": {"王经办"}, "roles": {"operator"}}); code != http.StatusSeeOther {
		t.Errorf("roles: %d", code)
	}
	if e, ok := ts.audited(t, admin.account.Login, shixincheck.AuditAccountChanged, "account wang.jb"); !ok || e.Detail != "roles clerk,auditor -> operator" {
		t.Errorf("role change audited as %q", e.Detail)
	}

	// Locked by wrong passwords; a reset unlocks and ends its sessions.
	w := ts.anonymous()
	if code, _ := w.logIn(t, "wang.jb", "long-enough-pw", ""); code != http.StatusSeeOther {
		t.Fatalf("log-in: %d", code)
	}
	for range 5 {
		ts.anonymous().logIn(t, "wang.jb", "wrong-password", "")
	}
	_, edit := admin.get(t, base)
	if !bytes.Contains(edit, []byte("已锁定")) {
		t.Error("edit page does not say locked")
	}
	if code, _ := post(base+"/password", url.Values{"password": {"a-new-password"}}); code != http.StatusSeeOther {
		t.Errorf("reset: %d", code)
	}
	if code, _ := w.get(t, "/captcha"); code != http.StatusSeeOther {
		t.Errorf("session after a reset: %d, want ended", code)
	}
	if code, _ := ts.anonymous().logIn(t, "wang.jb", "a-new-password", ""); code != http.StatusSeeOther {
		t.Errorf("log-in after reset (unlocked): %d", code)
	}
	if e, _ := ts.audited(t, admin.account.Login, shixincheck.AuditAccountChanged, "account wang.jb"); strings.Contains(e.Detail, "a-new-password") || !strings.Contains(e.Detail, "password") {
		t.Errorf("reset audited as %q", e.Detail)
	}

	if code, _ := post(base+"/disabled", url.Values{"disabled": {"1"}}); code != http.StatusSeeOther {
		t.Errorf("disable: %d", code)
	}
	if a, _ := ts.ledger.Account(ctx, "wang.jb"); !a.Disabled {
		t.Error("not disabled")
	}

	// The admin keeps their own admin role and cannot disable themselves.
	self := fmt.Sprintf("/admin/accounts/%d", admin.account.ID)
	if code, body := post(self+"/roles", url.Values{"display_name": {"x"}, "roles": {"clerk"}}); code != http.StatusConflict || !strings.Contains(body, "管理员角色") {
		t.Errorf("removing own admin role: %d", code)
	}
	if code, _ := post(self+"/disabled", url.Values{"disabled": {"1"}}); code != http.StatusConflict {
		t.Errorf("disabling oneself: %d", code)
	}
	if me, _ := ts.ledger.AccountByID(ctx, admin.account.ID); me.Disabled || !access.HasRole(me.Roles, shixincheck.RoleAdmin) {
		t.Errorf("the admin changed themselves: %+v", me)
	}
}

// TestOwnPasswordChange: the current password is asked; other sessions end,
// this one goes on.
func TestOwnPasswordChange(t *testing.T) {
	ts := newTestServer(t)
	c := ts.login(t, shixincheck.RoleAuditor)
	other := ts.anonymous()
	other.logIn(t, c.account.Login, testPassword(c.account.Login), "")
	resp := c.postForm(t, "/account/password", url.Values{"current": {"wrong"}, "password": {"brand-new-pw-1"}, "password2": {"brand-new-pw-1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("wrong current password: %d", resp.StatusCode)
	}
	resp = c.postForm(t, "/account/password", url.Values{"current": {testPassword(c.account.Login)}, "password": {"brand-new-pw-1"}, "password2": {"brand-new-pw-1"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", resp.StatusCode)
	}
	if code, _ := c.get(t, "/audit"); code != http.StatusOK {
		t.Errorf("this browser after the change: %d", code)
	}
	if code, _ := other.get(t, "/audit"); code != http.StatusSeeOther {
		t.Errorf("the other session after the change: %d, want ended", code)
	}
}
