// Package web serves the daemon's pages and its JSON API: batch upload,
// progress and the filing workbook for clerks, the captcha review page for
// operators, the ledger and audit trail for auditors, accounts and the rules
// and settings in force for admins, and /metrics. Every route names the
// roles that may use it (routes.go); browsers log in with a session cookie,
// scripts send an API token.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/captcha"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/roster"
	"github.com/shixincheck/shixincheck/rules"
	"github.com/shixincheck/shixincheck/workbook"
	"github.com/shixincheck/shixincheck/workdays"
)

// maxUpload bounds an upload request: the roster's own 20 MB file limit plus the form fields.
const maxUpload = 21 << 20

// Server holds the handlers' dependencies.
type Server struct {
	Ledger  *ledger.Store
	Rules   *rules.Rules
	Captcha *captcha.Queue
	Metrics http.Handler
	Tasks   Tasks
	// Calendar counts working days; DueDate gives a filing's deadline.
	Calendar *workdays.Calendar
	DueDate  DueDate
	// Instrument wraps a route's handler with metrics; nil for none.
	Instrument func(pattern string, h http.Handler) http.Handler
	Log        *slog.Logger
	Now        func() time.Time

	// Log-in and sessions; zero values take the defaults.
	LoginMaxFailures int           // failed log-ins in a row that lock an account, default 5
	LoginLock        time.Duration // how long the lock lasts, default 15m
	SessionIdle      time.Duration // a session unused this long ends, default 30m (and at SessionMax in any case)
	// InsecureCookies drops Secure and the __Host- prefix from cookies, for
	// a daemon served over plain HTTP to other machines (browsers keep
	// Secure cookies of http://127.0.0.1 and localhost). Off by default.
	InsecureCookies bool
	// TrustForwardedFor takes the client's address for the audit trail from
	// the last X-Forwarded-For entry, for a daemon behind its own reverse
	// proxy. Off by default: a client could write anything there.
	TrustForwardedFor bool

	// Settings is what the admin's settings page shows of the daemon's
	// configuration; nothing secret.
	Settings Settings

	patterns []string          // every route's pattern, as routes registered them
	policies map[string]policy // who may use each pattern
}

// Tasks is the queue of the candidates' checks.
type Tasks interface {
	Enqueue(ctx context.Context, candidateIDs []int64) error
	Wake(candidateIDs []int64) // run now the tasks of a resumed batch
	Drop(candidateIDs []int64) // delete the tasks of a cancelled batch
}

// Handler returns the daemon's HTTP handler.
func (s *Server) Handler() http.Handler { return s.routes() }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// upload is a parsed batch upload: the form's fields and the file's rows.
type upload struct {
	batch  shixincheck.Batch
	cands  []shixincheck.Candidate
	merged []roster.Merge // duplicate rows merged at the clerk's request

	// The file as sent, so its problems can be marked in a copy of it.
	filename string
	data     []byte
}

// parseUpload reads and validates a multipart upload. Problems with the input
// come back as roster.Problems, each naming its row and field; nothing is stored.
func (s *Server) parseUpload(r *http.Request) (upload, error) {
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return upload{}, roster.Problems{{Message: roster.MsgTooBig}}
		}
		return upload{}, roster.Problems{{Field: "file", Message: "无法读取上传内容：请通过表单上传文件"}}
	}
	defer r.MultipartForm.RemoveAll()

	var problems roster.Problems
	field := func(name, label string, max int) string {
		v := strings.TrimSpace(r.FormValue(name))
		switch {
		case v == "":
			problems = append(problems, roster.Problem{Field: label, Message: label + "不能为空"})
		case len([]rune(v)) > max:
			problems = append(problems, roster.Problem{Field: label, Message: fmt.Sprintf("%s过长（最多 %d 个字）", label, max)})
		}
		return v
	}
	itemName := field("item", "应用事项", 100)
	unit := field("unit", "单位", 100)
	handler := field("handler", "经办人", 50)
	phone := field("phone", "联系电话", 30)
	item, ok := s.Rules.Lookup(itemName)
	if itemName != "" && !ok {
		problems = append(problems, roster.Problem{Field: "应用事项", Message: s.Rules.UnknownItem(itemName)})
	}

	file, header, err := r.FormFile("file")
	if err != nil {
		problems = append(problems, roster.Problem{Field: "file", Message: "请选择要上传的名单文件（.xlsx 或 .csv）"})
		return upload{}, problems
	}
	defer file.Close()
	u := upload{filename: header.Filename}
	if u.data, err = io.ReadAll(io.LimitReader(file, roster.MaxFileBytes+1)); err != nil {
		return u, fmt.Errorf("web: read upload: %w", err)
	}
	// Each row's 应用事项 is resolved by the rules (the batch's item when
	// empty), so duplicates and unknown items are found with every other
	// problem of the file.
	res, err := roster.Read(bytes.NewReader(u.data), header.Filename, roster.Options{
		Sheet: strings.TrimSpace(r.FormValue("sheet")), MergeDuplicates: r.FormValue("merge_duplicates") == "1",
		Item: item.Name, LookupItem: s.Rules.Resolve,
	})
	var fileProblems roster.Problems
	if errors.As(err, &fileProblems) {
		return u, append(problems, fileProblems...)
	} else if err != nil {
		return u, fmt.Errorf("web: read roster: %w", err)
	}
	if len(problems) > 0 {
		return u, problems
	}
	u.merged = res.Merged
	cands := make([]shixincheck.Candidate, 0, len(res.Rows))
	for _, row := range res.Rows {
		cands = append(cands, shixincheck.Candidate{Row: row.Line, Name: row.Name, IDNumber: row.IDNumber, Item: row.Item})
	}
	u.batch = shixincheck.Batch{Item: item.Name, Unit: unit, Handler: handler, Phone: phone, CreatedAt: s.now().UTC()}
	u.batch.ContentKey = s.Ledger.Lookup(contentKey(u.batch, cands, s.now()))
	u.cands = cands
	return u, nil
}

// contentKey identifies an upload: the same people for the same item, unit and
// clerk on the same day are one batch, so a double submit checks nobody twice.
// It is stored only through the ledger's keyed Lookup hash, since a plain
// hash of names and ID numbers can be reversed by guessing.
func contentKey(b shixincheck.Batch, cands []shixincheck.Candidate, now time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00", now.In(shanghai).Format("2006-01-02"), b.Item, b.Unit, b.Handler, b.Phone)
	for _, c := range cands {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", c.Name, c.IDNumber, c.Item)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var shanghai = time.FixedZone("CST", 8*3600)

func newBatchID() string {
	var b [8]byte
	rand.Read(b[:])
	return "b" + hex.EncodeToString(b[:])
}

// submit stores the upload, queues its checks and audits it. created is
// false when the same upload was already a batch.
func (s *Server) submit(r *http.Request, u upload) (shixincheck.Batch, bool, error) {
	ctx := r.Context()
	u.batch.ID = newBatchID()
	b, cands, created, err := s.Ledger.CreateBatch(ctx, u.batch, u.cands)
	if err != nil {
		return b, false, fmt.Errorf("web: store batch: %w", err)
	}
	if !created {
		if cands, err = s.Ledger.Candidates(ctx, b.ID); err != nil {
			return b, false, fmt.Errorf("web: load batch: %w", err)
		}
	}
	var ids []int64
	for _, c := range cands {
		if c.State == shixincheck.StateQueued {
			ids = append(ids, c.ID)
		}
	}
	// The batch is stored: if queueing fails now, the daemon's sweep queues it later.
	if err := s.Tasks.Enqueue(ctx, ids); err != nil {
		s.Log.Error("enqueue batch", "batch", b.ID, "err", err)
	}
	s.Log.Info("batch submitted", "batch", b.ID, "candidates", len(cands), "created", created)
	detail := fmt.Sprintf("%d rows", len(cands))
	if !created {
		detail += ", same upload as before"
	}
	s.auditAfter(r, shixincheck.AuditUpload, "batch "+b.ID, detail)
	return b, created, nil
}

// batchView is a batch with its progress and each candidate's result, masked.
type batchView struct {
	ID             string                   `json:"id"`
	Item           string                   `json:"item"`
	Unit           string                   `json:"unit"`
	Handler        string                   `json:"handler"`
	CreatedAt      time.Time                `json:"created_at"`
	Control        shixincheck.BatchControl `json:"control"`
	State          string                   `json:"state"`
	StateText      string                   `json:"state_text"`
	Progress       ledger.Progress          `json:"progress"`
	CaptchaBacklog int64                    `json:"captcha_backlog"` // captchas no person has taken yet, all batches
	WaitingCaptcha int64                    `json:"waiting_captcha"` // this batch's checks waiting for a person's answer
	batch          shixincheck.Batch        // as stored, for the workbook's header
	// PerVerification is the candidates checked per verification a person did ("" before any).
	PerVerification string          `json:"per_verification,omitempty"`
	Candidates      []candidateView `json:"candidates"`
}

type candidateView struct {
	ID        int64      `json:"candidate_id"` // POST /api/v1/candidates/{candidate_id}/unmask shows the full name and ID
	Row       int        `json:"row"`
	Name      string     `json:"name"`      // masked
	IDNumber  string     `json:"id_number"` // masked
	Item      string     `json:"item"`
	State     string     `json:"state"`
	Outcome   string     `json:"outcome,omitempty"`
	Hits      int        `json:"hits"`
	Result    string     `json:"result,omitempty"`
	Measure   string     `json:"measure,omitempty"`
	QueriedAt *time.Time `json:"queried_at,omitempty"`
	ErrorKind string     `json:"error_kind,omitempty"`
	CheckID   int64      `json:"check_id,omitempty"` // its evidence: /api/v1/checks/{check_id}/evidence
	Captchas  int        `json:"captchas"`           // captchas a person solved for this check
}

func (s *Server) loadBatch(ctx context.Context, id string) (batchView, []ledger.Entry, error) {
	b, err := s.Ledger.Batch(ctx, id)
	if err != nil {
		return batchView{}, nil, err
	}
	// Progress before entries: a page that sees the batch finished must also
	// see every candidate's result, since it stops polling then.
	p, err := s.Ledger.Progress(ctx, id)
	if err != nil {
		return batchView{}, nil, fmt.Errorf("web: load progress: %w", err)
	}
	entries, err := s.Ledger.Entries(ctx, id)
	if err != nil {
		return batchView{}, nil, fmt.Errorf("web: load entries: %w", err)
	}
	backlog, waiting := s.captchaCounts(ctx, id)
	v := summary(b, p, backlog, waiting[id])
	for _, e := range entries {
		cv := candidateView{
			ID: e.Candidate.ID, Row: e.Candidate.Row, Name: shixincheck.MaskName(e.Candidate.Name), IDNumber: shixincheck.MaskID(e.Candidate.IDNumber),
			Item: e.Candidate.Item, State: string(e.Candidate.State),
		}
		if c := e.Check; c != nil && e.Candidate.State == shixincheck.StateDone {
			t := c.QueriedAt
			cv.Outcome, cv.Hits, cv.Measure, cv.QueriedAt = string(c.Outcome), c.HitCount, c.Measure, &t
			cv.Result = shixincheck.ResultText(c.Outcome, c.HitCount)
			cv.ErrorKind = string(c.ErrorKind)
			cv.CheckID, cv.Captchas = c.ID, c.Captchas
		}
		v.Candidates = append(v.Candidates, cv)
	}
	return v, entries, nil
}

// captchaCounts returns the captchas no person has taken yet (all batches)
// and, per batch, its checks waiting for a person's answer; zeros when Redis
// cannot say.
func (s *Server) captchaCounts(ctx context.Context, batchIDs ...string) (int64, map[string]int64) {
	backlog, err := s.Captcha.Backlog(ctx)
	if err != nil {
		backlog = 0
	}
	waiting, err := s.Captcha.Waiting(ctx, batchIDs...)
	if err != nil {
		waiting = nil
	}
	return backlog, waiting
}

// summary is a batch's view without its candidates.
func summary(b shixincheck.Batch, p ledger.Progress, backlog, waiting int64) batchView {
	v := batchView{ID: b.ID, Item: b.Item, Unit: b.Unit, Handler: b.Handler, CreatedAt: b.CreatedAt, Control: b.Control,
		Progress: p, CaptchaBacklog: backlog, WaitingCaptcha: waiting, batch: b}
	v.State = batchState(b.Control, p, waiting)
	if p.Captchas > 0 {
		v.PerVerification = strconv.FormatFloat(float64(p.Done)/float64(p.Captchas), 'f', 1, 64)
	}
	v.StateText = stateText[v.State]
	return v
}

// Batch states as a clerk reads them. ("validating" is the upload itself:
// a batch exists only once its whole file is read and valid.)
const (
	stateQueued           = "queued"
	stateRunning          = "running"
	stateWaitingCaptcha   = "waiting_captcha"
	statePaused           = "paused"
	stateDone             = "done"
	stateDoneWithFailures = "done_with_failures"
	stateCancelled        = "cancelled"
)

var stateText = map[string]string{
	stateQueued:           "排队中",
	stateRunning:          "核查中",
	stateWaitingCaptcha:   "等待验证码",
	statePaused:           "已暂停",
	stateDone:             "已完成",
	stateDoneWithFailures: "已完成（有需人工核查的记录）",
	stateCancelled:        "已取消",
}

// batchState derives a batch's state from what the clerk asked, its progress
// and how many of its checks wait for a person's captcha answer.
func batchState(c shixincheck.BatchControl, p ledger.Progress, waiting int64) string {
	switch {
	case c == shixincheck.ControlCancelled:
		return stateCancelled
	case p.Done == p.Total && p.Failed+p.Review > 0:
		return stateDoneWithFailures
	case p.Done == p.Total:
		return stateDone
	case c == shixincheck.ControlPaused:
		return statePaused
	case waiting > 0:
		return stateWaitingCaptcha
	case p.Done == 0:
		return stateQueued
	default:
		return stateRunning
	}
}

// finished tells whether a batch's checks are over (done or cancelled).
func (v batchView) finished() bool {
	return v.State == stateDone || v.State == stateDoneWithFailures || v.State == stateCancelled
}

// filing builds the filing workbook of a batch from its recorded checks.
func filing(b shixincheck.Batch, entries []ledger.Entry) workbook.Filing {
	f := workbook.Filing{Unit: b.Unit, Handler: b.Handler, Phone: b.Phone}
	for _, e := range entries {
		if e.Check != nil && e.Candidate.State == shixincheck.StateDone {
			f.Rows = append(f.Rows, workbookRow(e.Candidate, *e.Check))
		}
	}
	return f
}

// workbookRow is a check as a row of the filing workbook (Attachment 2).
func workbookRow(c shixincheck.Candidate, k shixincheck.Check) workbook.Row {
	return workbook.Row{
		Item: c.Item, Name: c.Name, IDNumber: c.IDNumber,
		Result: shixincheck.ResultText(k.Outcome, k.HitCount), QueriedAt: k.QueriedAt, Measure: k.Measure,
		Records: k.Records,
	}
}

func (s *Server) handleWorkbook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, entries, err := s.loadBatch(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !v.finished() && r.URL.Query().Get("partial") != "1" {
		s.writeError(w, r, http.StatusConflict, "批次尚未核查完毕：完成后再下载登记表（或加参数 partial=1 下载已完成部分）")
		return
	}
	f := filing(v.batch, entries)
	var buf bytes.Buffer
	if err := workbook.Write(&buf, f); err != nil {
		s.fail(w, r, fmt.Errorf("web: workbook: %w", err))
		return
	}
	detail := "filing workbook, full IDs"
	if !v.finished() {
		detail += ", partial"
	}
	if err := s.audit(r, shixincheck.AuditDownload, "batch "+v.ID, detail); err != nil {
		s.fail(w, r, err)
		return
	}
	sendXLSX(w, v.ID+".xlsx", "信用信息核查应用情况登记表-"+v.ID+".xlsx", buf.Bytes())
	s.Log.Info("batch workbook downloaded", "batch", v.ID)
}

// sendXLSX sends a workbook as a download; name is the file name in Chinese,
// ascii the fallback for old clients.
func sendXLSX(w http.ResponseWriter, ascii, name string, data []byte) {
	sendFile(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ascii, name, data)
}

// sendFile sends data as a download of the given type.
func sendFile(w http.ResponseWriter, contentType, ascii, name string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", "attachment; filename=\""+ascii+"\"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
}

// fail maps an error to its HTTP answer.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var problems roster.Problems
	switch {
	case errors.As(err, &problems):
		s.writeProblems(w, r, problems)
	case errors.Is(err, ledger.ErrNotFound):
		s.writeError(w, r, http.StatusNotFound, "没有找到")
	case errors.Is(err, ledger.ErrBatchRunning):
		s.writeError(w, r, http.StatusConflict, "批次尚未核查完毕，完成后才能备案")
	case errors.Is(err, ledger.ErrAlreadyFiled):
		s.writeError(w, r, http.StatusConflict, "这些核查记录已在其他备案中")
	case errors.Is(err, ledger.ErrNothingToFile):
		s.writeError(w, r, http.StatusUnprocessableEntity, "所选范围内没有尚未备案的核查记录")
	case errors.Is(err, ledger.ErrAlreadySubmitted):
		s.writeError(w, r, http.StatusConflict, "该备案已报送，报送信息不可更改")
	default:
		s.Log.Error("request failed", "route", r.Pattern, "err", err)
		s.writeError(w, r, http.StatusInternalServerError, "服务器内部错误，请稍后重试")
	}
}

func wantsJSON(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	title := "出错了"
	switch code {
	case http.StatusForbidden:
		title = "无权访问"
	case http.StatusNotFound:
		title = "没有找到"
	}
	s.render(w, r, code, "error.html", map[string]any{"Title": title, "Message": msg})
}

func (s *Server) writeProblems(w http.ResponseWriter, r *http.Request, p roster.Problems) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "上传内容有误，未登记任何人员", "problems": p})
}

// decodeJSON reads a small JSON request body, refusing unknown fields.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("请求内容不是有效的 JSON：%v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (s *Server) handleUploadAPI(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	u, err := s.parseUpload(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, created, err := s.submit(r, u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	}
	writeJSON(w, code, map[string]any{"id": b.ID, "created": created, "candidates": len(u.cands), "merged": u.merged, "url": "/batches/" + b.ID})
}

// handleAnnotate takes the same upload and answers a copy of the clerk's own
// file with an error column, so the problems are fixed in place; 204 when
// the file has none. Nothing is stored. The copy holds the clerk's people,
// so it is audited like every download of personal data.
func (s *Server) handleAnnotate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	u, err := s.parseUpload(r)
	var problems roster.Problems
	if !errors.As(err, &problems) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if wantsJSON(r) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.writeError(w, r, http.StatusOK, "名单没有发现错误，可以直接上传")
		return
	}
	// Without a file to mark (none sent, or not a table at all) the list
	// is all there is: JSON for the API, the upload page for the form.
	listOnly := func() {
		if wantsJSON(r) {
			s.fail(w, r, problems)
			return
		}
		s.showUploadProblems(w, r, problems)
	}
	if u.data == nil {
		listOnly()
		return
	}
	out, err := roster.Annotate(u.data, u.filename, problems)
	if err != nil {
		listOnly()
		return
	}
	if err := s.audit(r, shixincheck.AuditDownload, "upload", fmt.Sprintf("annotated copy, %d problems", len(problems))); err != nil {
		s.fail(w, r, err)
		return
	}
	sendXLSX(w, "errors.xlsx", "名单错误标注-"+strings.TrimSuffix(u.filename, filepath.Ext(u.filename))+".xlsx", out)
}

// handleTemplate serves the candidate list template, with the configured items.
func (s *Server) handleTemplate(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := workbook.Template(&buf, s.Rules.Names()); err != nil {
		s.fail(w, r, fmt.Errorf("web: template: %w", err))
		return
	}
	sendXLSX(w, "template.xlsx", "信用信息核查名单模板.xlsx", buf.Bytes())
}

func (s *Server) handleBatchAPI(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.loadBatch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// pathID reads the numeric id named name from the request's path; a path
// that names no number names nothing: ledger.ErrNotFound.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, ledger.ErrNotFound
	}
	return id, nil
}
