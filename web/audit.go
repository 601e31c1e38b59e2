package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
)

// audit writes an entry of the request's account to the audit trail. A
// handler that hands out personal data audits first and refuses on an error:
// nothing is shown that the trail does not record.
func (s *Server) audit(r *http.Request, action, target, detail string) error {
	_, err := s.Ledger.Audit(r.Context(), ledger.AuditEntry{
		At: s.now(), Actor: actor(r), Action: action, Target: target, Detail: detail, Remote: s.remote(r),
	})
	if err != nil {
		return fmt.Errorf("web: audit %s: %w", action, err)
	}
	return nil
}

// auditAs writes an entry of the given actor (log-in, log-out), logging a failure.
func (s *Server) auditAs(r *http.Request, who, action, target, detail string) {
	_, err := s.Ledger.Audit(r.Context(), ledger.AuditEntry{
		At: s.now(), Actor: who, Action: action, Target: target, Detail: detail, Remote: s.remote(r),
	})
	if err != nil {
		s.Log.Error("audit", "action", action, "err", err)
	}
}

// auditAfter records an action already done (an upload stored, a batch
// paused): a failure to record is logged, the action stands.
func (s *Server) auditAfter(r *http.Request, action, target, detail string) {
	if err := s.audit(r, action, target, detail); err != nil {
		s.Log.Error("audit", "action", action, "err", err)
	}
}

// auditText names the actions on the audit page.
var auditText = map[string]string{
	shixincheck.AuditLogin:           "登录",
	shixincheck.AuditLoginFailed:     "登录失败",
	shixincheck.AuditLogout:          "退出",
	shixincheck.AuditUpload:          "上传名单",
	shixincheck.AuditBatchControl:    "批次操作",
	shixincheck.AuditViewBatch:       "查看批次",
	shixincheck.AuditViewPerson:      "查询台账",
	shixincheck.AuditUnmask:          "查看完整身份信息",
	shixincheck.AuditDownload:        "下载",
	shixincheck.AuditFilingCreated:   "生成备案",
	shixincheck.AuditFilingSubmitted: "标记备案已报送",
	shixincheck.AuditAccountCreated:  "创建账户",
	shixincheck.AuditAccountChanged:  "修改账户",
	shixincheck.AuditTokenCreated:    "创建 API 令牌",
	shixincheck.AuditTokenRevoked:    "吊销 API 令牌",
	shixincheck.AuditRulesLoaded:     "加载规则",
	shixincheck.AuditPurge:           "清理过期数据",
	shixincheck.AuditKeysRotated:     "轮换密钥",
}

// auditActions lists the actions in the order the filter offers them.
var auditActions = []string{
	shixincheck.AuditLogin, shixincheck.AuditLoginFailed, shixincheck.AuditLogout, shixincheck.AuditUpload,
	shixincheck.AuditBatchControl, shixincheck.AuditViewBatch, shixincheck.AuditViewPerson, shixincheck.AuditUnmask,
	shixincheck.AuditDownload, shixincheck.AuditFilingCreated, shixincheck.AuditFilingSubmitted,
	shixincheck.AuditAccountCreated, shixincheck.AuditAccountChanged, shixincheck.AuditTokenCreated,
	shixincheck.AuditTokenRevoked, shixincheck.AuditRulesLoaded, shixincheck.AuditPurge, shixincheck.AuditKeysRotated,
}

// auditLine is an audit entry as the page and the API show it.
type auditLine struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	ActionText string    `json:"action_text"`
	Target     string    `json:"target"`
	Detail     string    `json:"detail"`
	Remote     string    `json:"remote"`
	Hash       string    `json:"hash"`
}

func newAuditLine(e ledger.AuditEntry) auditLine {
	text := auditText[e.Action]
	if text == "" {
		text = e.Action
	}
	return auditLine{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, ActionText: text,
		Target: e.Target, Detail: e.Detail, Remote: e.Remote, Hash: e.Hash}
}

// auditPageSize is the entries of one page of the trail.
const auditPageSize = 100

// auditQuery reads the trail's filters: from, to (dates, to inclusive),
// actor, action, page (from 1). The filters hold no personal data, so they
// may sit in a URL.
func auditQuery(q url.Values) (ledger.AuditQuery, int, error) {
	aq := ledger.AuditQuery{Actor: strings.TrimSpace(q.Get("actor")), Action: q.Get("action")}
	if aq.Action != "" && auditText[aq.Action] == "" {
		return aq, 1, fmt.Errorf("未知的操作类别：%s", aq.Action)
	}
	for _, d := range []struct {
		key  string
		dst  *time.Time
		days int
	}{{"from", &aq.From, 0}, {"to", &aq.To, 1}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, shanghai)
			if err != nil {
				return aq, 1, fmt.Errorf("日期格式应为 2026-11-30：%s", v)
			}
			*d.dst = t.AddDate(0, 0, d.days)
		}
	}
	page := 1
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 1 {
		page = p
	}
	return aq, page, nil
}

// auditChain is the result of verifying the trail's hash chain.
type auditChain struct {
	OK      bool   `json:"ok"`
	Entries int    `json:"entries"`         // entries checked
	Error   string `json:"error,omitempty"` // where the chain breaks
}

func (s *Server) verifyChain(r *http.Request) auditChain {
	n, err := s.Ledger.VerifyAudit(r.Context())
	if err != nil {
		return auditChain{Entries: n, Error: err.Error()}
	}
	return auditChain{OK: true, Entries: n}
}

// auditPage reads one page of the trail; more tells whether another follows.
func (s *Server) auditPage(r *http.Request, q ledger.AuditQuery, page int) (lines []auditLine, more bool, err error) {
	q.Limit, q.Offset = auditPageSize+1, (page-1)*auditPageSize
	entries, err := s.Ledger.AuditLog(r.Context(), q)
	if err != nil {
		return nil, false, fmt.Errorf("web: audit log: %w", err)
	}
	if len(entries) > auditPageSize {
		entries, more = entries[:auditPageSize], true
	}
	lines = make([]auditLine, len(entries))
	for i, e := range entries {
		lines[i] = newAuditLine(e)
	}
	return lines, more, nil
}

func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request) {
	q, page, qerr := auditQuery(r.URL.Query())
	data := map[string]any{"Title": "审计日志", "Query": r.URL.Query(), "Actions": auditActions, "ActionText": auditText,
		"Chain": s.verifyChain(r), "Page": page}
	if qerr != nil {
		data["Error"] = qerr.Error()
		s.render(w, r, http.StatusUnprocessableEntity, "audit.html", data)
		return
	}
	lines, more, err := s.auditPage(r, q, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["Lines"] = lines
	pageURL := func(n int) string {
		q := url.Values{}
		for _, k := range []string{"from", "to", "actor", "action"} {
			if v := r.URL.Query().Get(k); v != "" {
				q.Set(k, v)
			}
		}
		q.Set("page", strconv.Itoa(n))
		return "/audit?" + q.Encode()
	}
	if page > 1 {
		data["Prev"] = pageURL(page - 1)
	}
	if more {
		data["Next"] = pageURL(page + 1)
	}
	s.render(w, r, http.StatusOK, "audit.html", data)
}

func (s *Server) handleAuditAPI(w http.ResponseWriter, r *http.Request) {
	q, page, err := auditQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	lines, more, err := s.auditPage(r, q, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": lines, "page": page, "more": more})
}

func (s *Server) handleAuditVerifyAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.verifyChain(r))
}

var auditColumns = []string{"序号", "时间", "操作人", "操作", "对象", "说明", "来源地址", "哈希"}

func (l auditLine) cells() []string {
	return []string{strconv.FormatInt(l.Seq, 10), l.At.In(shanghai).Format("2006-01-02 15:04:05"), l.Actor,
		l.ActionText, l.Target, l.Detail, l.Remote, l.Hash}
}

// exportAudit calls row for every entry the filters select, oldest first;
// the export itself is audited first.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, format string, row func(auditLine) error) bool {
	q, _, err := auditQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, http.StatusUnprocessableEntity, err.Error())
		return false
	}
	var lines []auditLine
	err = s.Ledger.AuditEntries(r.Context(), func(e ledger.AuditEntry) error {
		if auditMatches(q, e) {
			lines = append(lines, newAuditLine(e))
		}
		return nil
	})
	if err == nil {
		err = s.audit(r, shixincheck.AuditDownload, "audit export", fmt.Sprintf("%s, %d entries", format, len(lines)))
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: audit export: %w", err))
		return false
	}
	for _, l := range lines {
		if err := row(l); err != nil {
			s.fail(w, r, fmt.Errorf("web: audit export: %w", err))
			return false
		}
	}
	return true
}

// auditMatches applies an AuditQuery's filters to one entry (the export
// streams the whole trail in order, as its chain is kept).
func auditMatches(q ledger.AuditQuery, e ledger.AuditEntry) bool {
	return (q.From.IsZero() || !e.At.Before(q.From)) && (q.To.IsZero() || e.At.Before(q.To)) &&
		(q.Actor == "" || e.Actor == q.Actor) && (q.Action == "" || e.Action == q.Action)
}

func (s *Server) handleAuditCSV(w http.ResponseWriter, r *http.Request) {
	var buf strings.Builder
	buf.WriteString("\ufeff") // a BOM, so Excel reads the file as UTF-8
	cw := csv.NewWriter(&buf)
	cw.Write(auditColumns)
	ok := s.exportAudit(w, r, "csv", func(l auditLine) error {
		cells := l.cells()
		for i := range cells {
			cells[i] = csvCell(cells[i])
		}
		return cw.Write(cells)
	})
	if !ok {
		return
	}
	cw.Flush()
	sendFile(w, "text/csv; charset=utf-8", "audit.csv", s.auditFileName()+".csv", []byte(buf.String()))
}

func (s *Server) handleAuditXLSX(w http.ResponseWriter, r *http.Request) {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "审计日志"
	x.SetSheetName("Sheet1", sheet)
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: audit workbook: %w", err))
		return
	}
	// Every value is a string cell, never a formula: an actor or a detail
	// starting with = stays text (as the workbook package writes its sheets).
	n := 1
	addRow := func(values []string) error {
		row := make([]any, len(values))
		for i, v := range values {
			row[i] = v
		}
		ref, _ := excelize.CoordinatesToCellName(1, n)
		n++
		return sw.SetRow(ref, row)
	}
	addRow(auditColumns)
	if !s.exportAudit(w, r, "xlsx", func(l auditLine) error { return addRow(l.cells()) }) {
		return
	}
	if err := sw.Flush(); err != nil {
		s.fail(w, r, fmt.Errorf("web: audit workbook: %w", err))
		return
	}
	buf, err := x.WriteToBuffer()
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: audit workbook: %w", err))
		return
	}
	sendXLSX(w, "audit.xlsx", s.auditFileName()+".xlsx", buf.Bytes())
}

func (s *Server) auditFileName() string {
	return "审计日志-" + s.now().In(shanghai).Format("20060102")
}

// csvCell keeps a CSV cell from being read as a formula by a spreadsheet
// (OWASP's advice): a value starting with = + - @, a tab or a carriage
// return gets a leading apostrophe.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
