package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/captcha"
)

// apiDoc is the OpenAPI document, parsed into plain maps.
type apiDoc map[string]any

func loadAPIDoc(t *testing.T) apiDoc {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(openAPI, &m); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	doc := apiDoc(m)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi.yaml: version %v, want 3.1.0", doc["openapi"])
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// operations lists the document's "METHOD /path" pairs.
func (d apiDoc) operations() []string {
	var ops []string
	for path, item := range d["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if slices.Contains(httpMethods, method) {
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// operation returns the operation object of a method and path.
func (d apiDoc) operation(method, path string) map[string]any {
	item, _ := d["paths"].(map[string]any)[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// resolve follows a local $ref ("#/components/...").
func (d apiDoc) resolve(ref string) (map[string]any, error) {
	var node any = map[string]any(d)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %s: %s is not an object", ref, part)
		}
		if node, ok = m[part]; !ok {
			return nil, fmt.Errorf("$ref %s: no %s", ref, part)
		}
	}
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %s is not an object", ref)
	}
	return m, nil
}

// deref follows $ref until an object without one.
func (d apiDoc) deref(m map[string]any) (map[string]any, error) {
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		r, err := d.resolve(ref)
		if err != nil {
			return nil, err
		}
		m = r
	}
}

// apiPatterns is every /api/v1 route routes.go registers, as "METHOD /path"
// in the document's spelling ({name...} and {$} dropped to their OpenAPI form).
func apiPatterns(t *testing.T) []string {
	t.Helper()
	s := &Server{Metrics: http.NotFoundHandler()}
	s.Handler()
	wildcard := regexp.MustCompile(`\{(\w+)\.\.\.\}`)
	var out []string
	for _, p := range s.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method: every route names its method", p)
			continue
		}
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		out = append(out, method+" "+wildcard.ReplaceAllString(path, "{$1}"))
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIMatchesRoutes holds the document against the routes: every
// /api/v1 route is documented, and every documented operation is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadAPIDoc(t)
	documented, routed := doc.operations(), apiPatterns(t)
	if len(routed) == 0 {
		t.Fatal("routes registered no /api/ route")
	}
	var undocumented, unrouted []string
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			undocumented = append(undocumented, r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			unrouted = append(unrouted, d)
		}
	}
	if len(undocumented) > 0 {
		t.Errorf("routes missing from web/openapi.yaml:\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(unrouted) > 0 {
		t.Errorf("web/openapi.yaml documents operations routes.go does not register:\n  %s", strings.Join(unrouted, "\n  "))
	}
}

// TestOpenAPIRolesMatchRoutes holds each operation's x-roles against the
// policy routes.go gives the route: the document tells who may call what.
func TestOpenAPIRolesMatchRoutes(t *testing.T) {
	doc := loadAPIDoc(t)
	s := &Server{Metrics: http.NotFoundHandler()}
	s.Handler()
	for _, p := range s.patterns {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		op := doc.operation(method, path)
		if op == nil {
			continue // TestOpenAPIMatchesRoutes names it
		}
		pol := s.policies[p]
		var want []string
		switch {
		case pol.public:
			if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s is public: the document should say security: []", p)
			}
		case len(pol.roles) == 0:
			want = []string{"any"}
		default:
			for _, r := range pol.roles {
				want = append(want, string(r))
			}
		}
		var got []string
		xs, _ := op["x-roles"].([]any)
		for _, x := range xs {
			got = append(got, fmt.Sprint(x))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: x-roles %v, routes.go allows %v", p, got, want)
		}
		if len(want) > 0 {
			rs, _ := op["responses"].(map[string]any)
			if rs["401"] == nil || rs["403"] == nil {
				t.Errorf("%s needs an account: document its 401 and 403", p)
			}
		}
	}
}

// TestOpenAPIIsWellFormed checks what a reader of the document relies on:
// every $ref resolves, every path parameter is declared, every operation
// has an answer.
func TestOpenAPIIsWellFormed(t *testing.T) {
	doc := loadAPIDoc(t)
	var walk func(where string, node any)
	walk = func(where string, node any) {
		switch n := node.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok {
				if _, err := doc.resolve(ref); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
			for k, v := range n {
				walk(where+"/"+k, v)
			}
		case []any:
			for i, v := range n {
				walk(where+"/"+strconv.Itoa(i), v)
			}
		}
	}
	walk("#", map[string]any(doc))

	// Every example of an answer fits the answer's schema.
	var examples func(where string, node any)
	examples = func(where string, node any) {
		switch n := node.(type) {
		case map[string]any:
			if ex, ok := n["example"]; ok {
				if schema, ok := n["schema"].(map[string]any); ok {
					raw, _ := json.Marshal(ex) // YAML's ints become JSON's numbers
					var v any
					json.Unmarshal(raw, &v)
					for _, e := range doc.checkSchema(schema, v, where+" example") {
						t.Error(e)
					}
				}
			}
			for k, v := range n {
				examples(where+"/"+k, v)
			}
		case []any:
			for i, v := range n {
				examples(where+"/"+strconv.Itoa(i), v)
			}
		}
	}
	examples("#", map[string]any(doc))

	param := regexp.MustCompile(`\{(\w+)\}`)
	for path, v := range doc["paths"].(map[string]any) {
		item := v.(map[string]any)
		for _, method := range httpMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
			declared := map[string]bool{}
			for _, list := range []any{item["parameters"], op["parameters"]} {
				ps, _ := list.([]any)
				for _, p := range ps {
					pm, err := doc.deref(p.(map[string]any))
					if err != nil {
						t.Fatal(err)
					}
					if pm["in"] == "path" {
						declared[pm["name"].(string)] = true
					}
				}
			}
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s is not declared", method, path, m[1])
				}
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t)
	resp, err := http.Get(ts.URL + "/api/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") || !bytes.Equal(body, openAPI) {
		t.Fatalf("status %d, type %q, %d bytes; want the embedded document", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}

// checkSchema checks a decoded JSON value against a schema of the document:
// types, enums, date-times, required properties, and no property the schema
// does not name. It returns every disagreement.
func (d apiDoc) checkSchema(schema map[string]any, v any, where string) []string {
	var errs []string
	if ref, ok := schema["$ref"].(string); ok {
		target, err := d.resolve(ref)
		if err != nil {
			return []string{where + ": " + err.Error()}
		}
		errs = append(errs, d.checkSchema(target, v, where)...)
	}
	if all, ok := schema["allOf"].([]any); ok {
		for _, s := range all {
			errs = append(errs, d.checkSchema(s.(map[string]any), v, where)...)
		}
	}
	if typ, ok := schema["type"]; ok {
		var types []string
		switch ts := typ.(type) {
		case string:
			types = []string{ts}
		case []any:
			for _, x := range ts {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			return append(errs, fmt.Sprintf("%s: %s, documented as %v", where, jsonType(v), types))
		}
	}
	if enum, ok := schema["enum"].([]any); ok && v != nil {
		if !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", where, v, enum))
		}
	}
	if schema["format"] == "date-time" {
		if s, ok := v.(string); ok {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				errs = append(errs, fmt.Sprintf("%s: %q is no date-time", where, s))
			}
		}
	}
	switch val := v.(type) {
	case map[string]any:
		props, hasProps := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := val[r.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s: required property %q missing", where, r))
				}
			}
		}
		for k, pv := range val {
			ps, documented := props[k].(map[string]any)
			if !documented {
				if hasProps && schema["additionalProperties"] != true {
					errs = append(errs, fmt.Sprintf("%s: property %q is sent but not documented", where, k))
				}
				continue
			}
			errs = append(errs, d.checkSchema(ps, pv, where+"."+k)...)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range val {
				errs = append(errs, d.checkSchema(items, x, fmt.Sprintf("%s[%d]", where, i))...)
			}
		}
	}
	return errs
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// checkAnswer sends a request to the live server and holds its answer
// against the document: the status is one the operation documents, and a
// JSON body fits the documented schema. It returns the decoded body.
func (d apiDoc) checkAnswer(t *testing.T, c *client, method, path, docPath, contentType string, body io.Reader, wantStatus int) any {
	t.Helper()
	resp := c.do(t, method, path, contentType, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	where := method + " " + docPath
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s: status %d, want %d: %s", where, resp.StatusCode, wantStatus, raw)
	}
	op := d.operation(method, docPath)
	if op == nil {
		t.Fatalf("%s is not documented", where)
	}
	answer, ok := op["responses"].(map[string]any)[strconv.Itoa(resp.StatusCode)].(map[string]any)
	if !ok {
		t.Fatalf("%s: status %d is not documented", where, resp.StatusCode)
	}
	answer, err := d.deref(answer)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := answer["content"].(map[string]any)
	if len(raw) == 0 {
		if len(content) > 0 {
			t.Errorf("%s %d: empty body, documented with %v", where, resp.StatusCode, content)
		}
		return nil
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if _, ok := content[strings.Split(resp.Header.Get("Content-Type"), ";")[0]]; !ok {
			t.Errorf("%s %d: content type %q is not documented", where, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return nil
	}
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		t.Fatalf("%s %d: JSON sent, none documented", where, resp.StatusCode)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	for _, e := range d.checkSchema(media["schema"].(map[string]any), v, where+" "+strconv.Itoa(resp.StatusCode)) {
		t.Error(e)
	}
	return v
}

// TestOpenAPIAnswersMatchLive drives the real server through a batch's life
// and holds each answer against the documented schema, as a clerk's script
// (an API token) and a captcha operator would.
func TestOpenAPIAnswersMatchLive(t *testing.T) {
	doc := loadAPIDoc(t)
	ts := newTestServer(t)
	ctx := context.Background()
	api := ts.bearerClient(t, shixincheck.RoleClerk)
	op := ts.bearerClient(t, shixincheck.RoleOperator)

	body, ct := multipartBody(t, goodFields, "list.csv", goodCSV)
	created := doc.checkAnswer(t, api, "POST", "/api/v1/batches", "/api/v1/batches", ct, body, http.StatusCreated)
	id := created.(map[string]any)["id"].(string)
	body, ct = multipartBody(t, goodFields, "list.csv", goodCSV)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches", "/api/v1/batches", ct, body, http.StatusOK)
	body, ct = multipartBody(t, map[string]string{"item": "公职人员招录资格审查"}, "list.csv", "姓名,身份证号\n张三,110105194912310021\n")
	bad := doc.checkAnswer(t, api, "POST", "/api/v1/batches", "/api/v1/batches", ct, body, http.StatusUnprocessableEntity)
	if ps, _ := bad.(map[string]any)["problems"].([]any); len(ps) < 4 {
		t.Errorf("422 lists %d problems, want the 3 missing fields and the check digit", len(ps))
	}
	// A workbook's problems name their worksheet.
	body, ct = multipartBody(t, goodFields, "list.xlsx", badXLSX(t))
	badSheet := doc.checkAnswer(t, api, "POST", "/api/v1/batches", "/api/v1/batches", ct, body, http.StatusUnprocessableEntity)
	if ps, _ := badSheet.(map[string]any)["problems"].([]any); len(ps) != 1 || ps[0].(map[string]any)["sheet"] != "名单" {
		t.Errorf("422 of an .xlsx = %v, want one problem on sheet 名单", badSheet)
	}

	body, ct = multipartBody(t, goodFields, "list.csv", "姓名,身份证号\n张三,110105194912310021\n")
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/annotate", "/api/v1/batches/annotate", ct, body, http.StatusOK)
	body, ct = multipartBody(t, goodFields, "list.csv", goodCSV)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/annotate", "/api/v1/batches/annotate", ct, body, http.StatusNoContent)

	doc.checkAnswer(t, api, "GET", "/api/v1/batches/template.xlsx", "/api/v1/batches/template.xlsx", "", nil, http.StatusOK)
	batchPath := "/api/v1/batches/{id}"
	doc.checkAnswer(t, api, "GET", "/api/v1/batches/"+id, batchPath, "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "GET", "/api/v1/batches?state=queued", "/api/v1/batches", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "GET", "/api/v1/batches?state=nope", "/api/v1/batches", "", nil, http.StatusUnprocessableEntity)
	paused := doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/pause", batchPath+"/pause", "", nil, http.StatusOK)
	if s := paused.(map[string]any)["state"]; s != "paused" {
		t.Errorf("state after pause: %v", s)
	}
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/resume", batchPath+"/resume", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "GET", "/api/v1/batches/"+id+"/workbook", "/api/v1/batches/{id}/workbook", "", nil, http.StatusConflict)
	doc.checkAnswer(t, api, "GET", "/api/v1/batches/nope", batchPath, "", nil, http.StatusNotFound)

	// Record the checks: one listed with hits, one failed, so every optional field shows.
	cands, err := ts.ledger.Candidates(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cands {
		check := shixincheck.Check{CandidateID: c.ID, QueriedAt: time.Now(), Channel: shixincheck.Channel, Site: "classic",
			Outcome: shixincheck.OutcomeListed, HitCount: 2, Measure: "取消报名资格", RuleVersion: "v"}
		if i == 1 {
			check.Outcome, check.HitCount, check.Measure, check.ErrorKind = shixincheck.OutcomeFailed, 0, "需人工核查", shixincheck.KindTimeout
		}
		if _, _, err := ts.ledger.SaveCheck(ctx, check); err != nil {
			t.Fatal(err)
		}
	}
	done := doc.checkAnswer(t, api, "GET", "/api/v1/batches/"+id, batchPath, "", nil, http.StatusOK)
	if s := done.(map[string]any)["state"]; s != "done_with_failures" {
		t.Errorf("state %v, want done_with_failures", s)
	}
	first := done.(map[string]any)["candidates"].([]any)[0].(map[string]any)
	checkID, _ := first["check_id"].(float64)
	doc.checkAnswer(t, api, "GET", fmt.Sprintf("/api/v1/checks/%d/evidence", int64(checkID)), "/api/v1/checks/{check}/evidence", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "GET", "/api/v1/checks/999999/evidence", "/api/v1/checks/{check}/evidence", "", nil, http.StatusNotFound)
	doc.checkAnswer(t, api, "GET", "/api/v1/batches/"+id+"/workbook", "/api/v1/batches/{id}/workbook", "", nil, http.StatusOK)

	f, err := ts.ledger.CreateBatchFiling(ctx, id, func(done time.Time) (*time.Time, error) {
		d := done.AddDate(0, 0, 9)
		return &d, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := doc.checkAnswer(t, api, "GET", "/api/v1/filings", "/api/v1/filings", "", nil, http.StatusOK)
	if fs, _ := list.(map[string]any)["filings"].([]any); len(fs) != 1 {
		t.Fatalf("filings = %v, want the batch's", list)
	}
	filingPath := fmt.Sprintf("/api/v1/filings/%d", f.ID)
	one := doc.checkAnswer(t, api, "GET", filingPath, "/api/v1/filings/{id}", "", nil, http.StatusOK)
	if n := one.(map[string]any)["checks"]; n != 2.0 {
		t.Errorf("filing checks = %v, want 2", n)
	}
	doc.checkAnswer(t, api, "POST", filingPath+"/submit", "/api/v1/filings/{id}/submit", "application/json",
		strings.NewReader(`{"submitted_at":"`+time.Now().Format("2006-01-02")+`","submitted_by":"王经办"}`), http.StatusNoContent)
	doc.checkAnswer(t, api, "POST", filingPath+"/submit", "/api/v1/filings/{id}/submit", "application/json",
		strings.NewReader(`{"submitted_at":"`+time.Now().Format("2006-01-02")+`","submitted_by":"王经办"}`), http.StatusConflict)
	doc.checkAnswer(t, api, "GET", filingPath, "/api/v1/filings/{id}", "", nil, http.StatusOK)

	// The failed check again, then the batch cancelled: a cancelled batch is not steered.
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/retry-failed", batchPath+"/retry-failed", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/cancel", batchPath+"/cancel", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/cancel", batchPath+"/cancel", "", nil, http.StatusConflict)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/nope/cancel", batchPath+"/cancel", "", nil, http.StatusNotFound)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/"+id+"/pause", batchPath+"/pause", "", nil, http.StatusConflict)
	doc.checkAnswer(t, api, "POST", "/api/v1/batches/nope/resume", batchPath+"/resume", "", nil, http.StatusNotFound)

	res := doc.checkAnswer(t, api, "POST", "/api/v1/ledger/query", "/api/v1/ledger/query", "application/json",
		strings.NewReader(`{"id_number":"11010519491231002X"}`), http.StatusOK)
	if h, _ := res.(map[string]any)["history"].([]any); len(h) != 1 {
		t.Errorf("ledger history = %v, want one check", res)
	}
	doc.checkAnswer(t, api, "POST", "/api/v1/ledger/query", "/api/v1/ledger/query", "application/json",
		strings.NewReader(`{"outcome":"maybe"}`), http.StatusUnprocessableEntity)

	// A person's full data on request, the caller's tokens, the audit trail, and refusals.
	candID := int64(first["candidate_id"].(float64))
	unmasked := doc.checkAnswer(t, api, "POST", fmt.Sprintf("/api/v1/candidates/%d/unmask", candID), "/api/v1/candidates/{id}/unmask", "", nil, http.StatusOK)
	if unmasked.(map[string]any)["id_number"] != "11010519491231002X" {
		t.Errorf("unmask = %v", unmasked)
	}
	doc.checkAnswer(t, api, "POST", "/api/v1/candidates/999999/unmask", "/api/v1/candidates/{id}/unmask", "", nil, http.StatusNotFound)
	tok := doc.checkAnswer(t, api, "POST", "/api/v1/tokens", "/api/v1/tokens", "application/json", strings.NewReader(`{"name":"夜间导入"}`), http.StatusCreated)
	tokPath := fmt.Sprintf("/api/v1/tokens/%d", int64(tok.(map[string]any)["id"].(float64)))
	doc.checkAnswer(t, api, "POST", "/api/v1/tokens", "/api/v1/tokens", "application/json", strings.NewReader(`{"name":" "}`), http.StatusUnprocessableEntity)
	doc.checkAnswer(t, api, "GET", "/api/v1/tokens", "/api/v1/tokens", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "DELETE", tokPath, "/api/v1/tokens/{id}", "", nil, http.StatusNoContent)
	doc.checkAnswer(t, api, "DELETE", tokPath, "/api/v1/tokens/{id}", "", nil, http.StatusNotFound)
	listed := doc.checkAnswer(t, api, "GET", "/api/v1/tokens", "/api/v1/tokens", "", nil, http.StatusOK)
	if ts := listed.(map[string]any)["tokens"].([]any); len(ts) != 2 {
		t.Errorf("tokens = %v, want the test's and the revoked one", ts)
	}
	auditor := ts.bearerClient(t, shixincheck.RoleAuditor)
	trail := doc.checkAnswer(t, auditor, "GET", "/api/v1/audit?action=unmask", "/api/v1/audit", "", nil, http.StatusOK)
	if es := trail.(map[string]any)["entries"].([]any); len(es) != 1 {
		t.Errorf("unmask entries = %v, want one", es)
	}
	doc.checkAnswer(t, auditor, "GET", "/api/v1/audit?action=nope", "/api/v1/audit", "", nil, http.StatusUnprocessableEntity)
	doc.checkAnswer(t, auditor, "GET", "/api/v1/audit/verify", "/api/v1/audit/verify", "", nil, http.StatusOK)
	doc.checkAnswer(t, api, "GET", "/api/v1/audit", "/api/v1/audit", "", nil, http.StatusForbidden)
	doc.checkAnswer(t, ts.anonymous(), "GET", "/api/v1/batches", "/api/v1/batches", "", nil, http.StatusUnauthorized)

	doc.checkAnswer(t, op, "GET", "/api/v1/captcha/next?wait=0s", "/api/v1/captcha/next", "", nil, http.StatusNoContent)

	// A challenge of each kind, posted by another node on the same Redis: the
	// operator API hands it out and takes its answer.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: testRedisDB})
	defer rdb.Close()
	node := captcha.New(rdb, captcha.Config{AnswerTimeout: 10 * time.Second})
	for _, tc := range []struct {
		ch     shixincheck.Challenge
		answer string
	}{
		{shixincheck.Challenge{Site: "classic", SiteRef: "c1", Image: tinyPNG(t)}, `{"answer":"ab3d"}`},
		{shixincheck.Challenge{Site: "gkw", Image: tinyPNG(t), Kind: shixincheck.ChallengeInteractive, Width: 300, Height: 200, Session: "s1"},
			`{"actions":[{"type":"click","points":[{"x":10,"y":20,"t":0}]},{"type":"drag","points":[{"x":1,"y":2,"t":0},{"x":50,"y":2,"t":300}]}]}`},
	} {
		solved := make(chan error, 1)
		go func() {
			_, err := node.Solve(ctx, tc.ch)
			solved <- err
		}()
		next := doc.checkAnswer(t, op, "GET", "/api/v1/captcha/next?wait=5s", "/api/v1/captcha/next", "", nil, http.StatusOK)
		chID, _ := next.(map[string]any)["id"].(string)
		doc.checkAnswer(t, op, "POST", "/api/v1/captcha/"+chID, "/api/v1/captcha/{id}", "application/json", strings.NewReader(tc.answer), http.StatusNoContent)
		if err := <-solved; err != nil {
			t.Errorf("%s challenge: %v", tc.ch.Kind, err)
		}
	}
	doc.checkAnswer(t, op, "POST", "/api/v1/captcha/nope", "/api/v1/captcha/{id}", "application/json",
		strings.NewReader(`{"answer":"ab3d"}`), http.StatusNotFound)
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCheckSchemaFindsDrift makes sure the schema check above can fail.
func TestCheckSchemaFindsDrift(t *testing.T) {
	var m map[string]any
	err := yaml.Unmarshal([]byte(`
components:
  schemas:
    Count:
      type: object
      required: [total, at]
      properties:
        total: {type: integer}
        at: {type: string, format: date-time}
        state: {type: string, enum: [running, done]}
`), &m)
	if err != nil {
		t.Fatal(err)
	}
	doc := apiDoc(m)
	schema := map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Count"}}
	good := []any{map[string]any{"total": 2.0, "at": "2026-11-30T08:00:00Z", "state": "done"}}
	if errs := doc.checkSchema(schema, good, "c"); len(errs) > 0 {
		t.Fatalf("good answer refused: %v", errs)
	}
	for name, v := range map[string]any{
		"missing":    map[string]any{"total": 2.0},
		"extra":      map[string]any{"total": 2.0, "at": "2026-11-30T08:00:00Z", "paused": true},
		"wrong type": map[string]any{"total": "2", "at": "2026-11-30T08:00:00Z"},
		"fraction":   map[string]any{"total": 2.5, "at": "2026-11-30T08:00:00Z"},
		"enum":       map[string]any{"total": 2.0, "at": "2026-11-30T08:00:00Z", "state": "paused"},
		"date":       map[string]any{"total": 2.0, "at": "yesterday"},
	} {
		if errs := doc.checkSchema(schema, []any{v}, "c"); len(errs) == 0 {
			t.Errorf("%s: no disagreement found", name)
		}
	}
}
