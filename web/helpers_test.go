package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
)

// client is a logged-in browser (cookie jar and the session's CSRF token)
// or a script with an API token. It never follows redirects, so tests see
// them.
type client struct {
	ts      *testServer
	hc      *http.Client
	account ledger.Account
	csrf    string // sent as X-CSRF-Token on every request but GET
	bearer  string // sent as Authorization: Bearer when set
}

// testPassword is every test account's password.
func testPassword(login string) string { return "pw-" + login + "-0123456789" }

// newAccount stores an account with roles and returns it.
func (ts *testServer) newAccount(t *testing.T, roles ...shixincheck.Role) ledger.Account {
	t.Helper()
	ts.mu.Lock()
	ts.accounts++
	n := ts.accounts
	ts.mu.Unlock()
	names := access.FormatRoles(roles)
	if names == "" {
		names = "none"
	}
	login := fmt.Sprintf("%s-%d", strings.ReplaceAll(names, ",", "-"), n)
	hash, err := access.HashPassword(testPassword(login))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ts.ledger.CreateAccount(context.Background(), ledger.Account{Login: login, DisplayName: "测试" + login, Roles: roles, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// anonymous is a browser that has not logged in.
func (ts *testServer) anonymous() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login makes an account with roles and logs it in through the log-in page.
func (ts *testServer) login(t *testing.T, roles ...shixincheck.Role) *client {
	t.Helper()
	c := ts.anonymous()
	c.account = ts.newAccount(t, roles...)
	if code, loc := c.logIn(t, c.account.Login, testPassword(c.account.Login), ""); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("log-in of %s: status %d, location %q", c.account.Login, code, loc)
	}
	c.csrf = c.pageToken(t)
	return c
}

// bearerClient makes an account with roles and an API token for it.
func (ts *testServer) bearerClient(t *testing.T, roles ...shixincheck.Role) *client {
	t.Helper()
	c := ts.anonymous()
	c.hc.Jar = nil
	c.account = ts.newAccount(t, roles...)
	c.bearer = access.NewSecret("sxc_")
	if _, err := ts.ledger.CreateToken(context.Background(), c.account.ID, "test", access.HashSecret(c.bearer)); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	hiddenToken = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	metaToken   = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)
)

// logIn fetches the log-in page (for its form token) and posts the form;
// it returns the status and the redirect's target.
func (c *client) logIn(t *testing.T, login, password, next string) (int, string) {
	t.Helper()
	code, page := c.get(t, "/login")
	m := hiddenToken.FindSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("log-in page: status %d, no token", code)
	}
	form := url.Values{"login": {login}, "password": {password}, "csrf_token": {string(m[1])}, "next": {next}}
	resp := c.do(t, "POST", "/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// pageToken reads the session's CSRF token from a page's meta csrf-token.
func (c *client) pageToken(t *testing.T) string {
	t.Helper()
	code, page := c.get(t, "/account")
	m := metaToken.FindSubmatch(page)
	if code != http.StatusOK || m == nil || len(m[1]) == 0 {
		t.Fatalf("account page: status %d, no CSRF token", code)
	}
	return string(m[1])
}

// do sends a request with the client's credentials.
func (c *client) do(t *testing.T, method, path, contentType string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, c.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// send sends a request with a JSON body (if any) and returns status and body.
func (c *client) send(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	resp := c.do(t, method, path, ct, strings.NewReader(body))
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (c *client) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	return c.send(t, "GET", path, "")
}

// postForm posts a form as a browser would, the CSRF token in its field.
func (c *client) postForm(t *testing.T, path string, form url.Values) *http.Response {
	t.Helper()
	if c.csrf != "" && !form.Has(csrfField) {
		form.Set(csrfField, c.csrf)
	}
	saved := c.csrf
	c.csrf = "" // the field, not the header
	defer func() { c.csrf = saved }()
	return c.do(t, "POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// send and get of the test server act as its logged-in clerk.
func (ts *testServer) send(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return ts.clerk.send(t, method, path, body)
}

// auditEntries returns the trail, oldest first.
func (ts *testServer) auditEntries(t *testing.T) []ledger.AuditEntry {
	t.Helper()
	var out []ledger.AuditEntry
	if err := ts.ledger.AuditEntries(context.Background(), func(e ledger.AuditEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// audited finds the newest entry of action by actor whose target contains target.
func (ts *testServer) audited(t *testing.T, actor, action, target string) (ledger.AuditEntry, bool) {
	t.Helper()
	entries := ts.auditEntries(t)
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Actor == actor && e.Action == action && strings.Contains(e.Target, target) {
			return e, true
		}
	}
	return ledger.AuditEntry{}, false
}

// recordChecks records a check of each candidate of a batch, as a worker
// would: clear, unless edit (when given) changes the i-th one.
func (ts *testServer) recordChecks(t *testing.T, batchID string, edit func(i int, c *shixincheck.Check)) {
	t.Helper()
	ctx := context.Background()
	cands, err := ts.ledger.Candidates(ctx, batchID)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cands {
		check := shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel, Site: "classic",
			Outcome: shixincheck.OutcomeClear, Measure: "同等条件优先推荐", RuleVersion: "seed"}
		if edit != nil {
			edit(i, &check)
		}
		if _, _, err := ts.ledger.SaveCheck(ctx, check); err != nil {
			t.Fatal(err)
		}
	}
}
