// Package client talks to a running shixincheck daemon over its JSON API
// (/api/v1, described in web/openapi.yaml), and holds the command line built
// on it: submit, status and workbook.
//
// It never writes a candidate's name or ID number anywhere: the daemon's
// answers carry them masked, and only a downloaded workbook holds them.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Client is a client of one daemon.
type Client struct {
	// BaseURL is the daemon's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token string
	// HTTP sends the requests; its Timeout bounds each one.
	HTTP *http.Client
}

// New returns a client of the daemon at baseURL whose requests each take at
// most timeout.
func New(baseURL, token string, timeout time.Duration) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: timeout}}
}

// Problem is one problem of an upload: its row (0 for the file or the form
// as a whole), column and reason.
type Problem struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String is the problem as a clerk reads it: "第3行 身份证号: 校验位不正确".
func (p Problem) String() string {
	var b strings.Builder
	if p.Row > 0 {
		fmt.Fprintf(&b, "第%d行 ", p.Row)
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// APIError is an error answer of the daemon.
type APIError struct {
	Status   int       // HTTP status
	Message  string    `json:"error"`
	Problems []Problem `json:"problems"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("服务返回 %d：%s", e.Status, e.Message)
}

// ErrUnavailable is wrapped by the errors of a request that reached no
// daemon: refused, unresolvable, or unanswered in time.
var ErrUnavailable = errors.New("shixincheck 服务不可用")

// Upload is a candidate list to submit as a batch.
type Upload struct {
	File                       string // path of the .xlsx or .csv file
	Item, Unit, Handler, Phone string
	Sheet                      string // worksheet of an .xlsx file; empty for the first non-empty one
	MergeDuplicates            bool   // merge rows of the same person instead of refusing them
}

// Submitted is the daemon's answer to an upload.
type Submitted struct {
	ID         string  `json:"id"`
	Created    bool    `json:"created"` // false: the same upload was already this batch
	Candidates int     `json:"candidates"`
	Merged     []Merge `json:"merged"` // rows dropped as duplicates (Upload.MergeDuplicates)
	URL        string  `json:"url"`    // the batch's page, relative to the daemon
}

// Merge is a row dropped as the duplicate of an earlier one.
type Merge struct {
	Row  int `json:"row"`
	Into int `json:"into"`
}

// Progress counts a batch's candidates.
type Progress struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	Listed    int `json:"listed"`
	Clear     int `json:"clear"`
	Review    int `json:"review"`
	Failed    int `json:"failed"`
	Hits      int `json:"hits"`
	Cancelled int `json:"cancelled"`
}

// Batch is what the command line reads of a batch; the candidates' rows are
// left out.
type Batch struct {
	ID             string    `json:"id"`
	Item           string    `json:"item"`
	Unit           string    `json:"unit"`
	CreatedAt      time.Time `json:"created_at"`
	State          string    `json:"state"`
	StateText      string    `json:"state_text"`
	Progress       Progress  `json:"progress"`
	CaptchaBacklog int64     `json:"captcha_backlog"`
}

// The batch states after which nothing more happens to a batch.
const (
	StateDone             = "done"
	StateDoneWithFailures = "done_with_failures"
	StateCancelled        = "cancelled"
)

// Finished tells whether the batch has come to an end.
func (b Batch) Finished() bool {
	return b.State == StateDone || b.State == StateDoneWithFailures || b.State == StateCancelled
}

// PageURL is the batch's page on the daemon.
func (c *Client) PageURL(s Submitted) string {
	if s.URL != "" {
		return c.BaseURL + s.URL
	}
	return c.BaseURL + "/batches/" + url.PathEscape(s.ID)
}

// Submit uploads a candidate list. An answer listing problems with the file
// or the fields is an *APIError with its Problems.
func (c *Client) Submit(ctx context.Context, u Upload) (Submitted, error) {
	f, err := os.Open(u.File)
	if err != nil {
		return Submitted{}, fmt.Errorf("client: open list: %w", err)
	}
	defer f.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, field := range []struct{ name, value string }{
		{"item", u.Item}, {"unit", u.Unit}, {"handler", u.Handler}, {"phone", u.Phone}, {"sheet", u.Sheet},
	} {
		if field.value != "" {
			mw.WriteField(field.name, field.value)
		}
	}
	if u.MergeDuplicates {
		mw.WriteField("merge_duplicates", "1")
	}
	fw, err := mw.CreateFormFile("file", filepath.Base(u.File))
	if err != nil {
		return Submitted{}, fmt.Errorf("client: upload: %w", err)
	}
	if _, err := io.Copy(fw, f); err != nil {
		return Submitted{}, fmt.Errorf("client: read list: %w", err)
	}
	if err := mw.Close(); err != nil {
		return Submitted{}, fmt.Errorf("client: upload: %w", err)
	}

	resp, err := c.do(ctx, http.MethodPost, "/api/v1/batches", mw.FormDataContentType(), &body)
	if err != nil {
		return Submitted{}, err
	}
	defer resp.Body.Close()
	var s Submitted
	if err := decode(resp, &s); err != nil {
		return Submitted{}, err
	}
	return s, nil
}

// Batch returns a batch's state and counts, and the daemon's JSON as sent.
func (c *Client) Batch(ctx context.Context, id string) (Batch, []byte, error) {
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/batches/"+url.PathEscape(id), "", nil)
	if err != nil {
		return Batch{}, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Batch{}, nil, fmt.Errorf("client: read batch: %w", err)
	}
	var b Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		return Batch{}, nil, fmt.Errorf("client: batch answer is not the expected JSON: %w", err)
	}
	return b, raw, nil
}

// Workbook writes a batch's filing workbook to w. Unless partial, a batch
// still running is refused by the daemon with 409 (an *APIError).
func (c *Client) Workbook(ctx context.Context, id string, partial bool, w io.Writer) (int64, error) {
	path := "/api/v1/batches/" + url.PathEscape(id) + "/workbook"
	if partial {
		path += "?partial=1"
	}
	resp, err := c.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: download workbook: %w", err)
	}
	return n, nil
}

// do sends a request and returns a 2xx answer; any other answer becomes an
// *APIError, a daemon out of reach an error wrapping ErrUnavailable.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, fmt.Errorf("client: 服务地址无效（%s）：%w", c.BaseURL, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("client: %w", ctx.Err())
		case errors.As(err, &ue) && ue.Timeout():
			return nil, fmt.Errorf("%w：%s 在 %s 内没有应答", ErrUnavailable, c.BaseURL, c.HTTP.Timeout)
		default:
			if ue != nil {
				err = ue.Err // the cause; the URL is said already
			}
			return nil, fmt.Errorf("%w：无法连接 %s（服务是否已启动？可用 --server 或 SHIXINCHECK_SERVER 指定地址）：%v", ErrUnavailable, c.BaseURL, err)
		}
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	apiErr := &APIError{Status: resp.StatusCode}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(raw, apiErr) != nil || apiErr.Message == "" {
		// Not the daemon's error shape: a proxy's page, say.
		apiErr.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		apiErr.Message += "（请用 --token 或 SHIXINCHECK_TOKEN 提供有效的令牌）"
	}
	return nil, apiErr
}

func decode(resp *http.Response, v any) error {
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("client: answer is not the expected JSON: %w", err)
	}
	return nil
}
