package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/workbook"
)

// filingView is a filing with what a clerk needs to act on it.
type filingView struct {
	shixincheck.Filing
	Status     shixincheck.FilingStatus `json:"status"`
	StatusText string                   `json:"status_text"`
	DaysLeft   *int                     `json:"days_left,omitempty"` // working days until due; negative when overdue
	Checks     int                      `json:"checks"`
	// SubmittedLate: handed in on a Beijing date after the due date.
	SubmittedLate bool `json:"submitted_late"`
}

var statusText = map[shixincheck.FilingStatus]string{
	shixincheck.StatusSubmitted:  "已报送",
	shixincheck.StatusOverdue:    "已逾期",
	shixincheck.StatusDueSoon:    "即将到期",
	shixincheck.StatusPrepared:   "待报送",
	shixincheck.StatusDueUnknown: "待报送（日历未覆盖该年份，无法计算截止日期）",
}

func (s *Server) viewFiling(f shixincheck.Filing, now time.Time) filingView {
	v := filingView{Filing: f, SubmittedLate: f.SubmittedLate()}
	v.Status, v.DaysLeft = f.Status(now, s.Calendar)
	v.StatusText = statusText[v.Status]
	return v
}

// DueDate is the 7-working-day deadline of checks made at checked.
type DueDate func(checked time.Time) (*time.Time, error)

func (s *Server) filings(ctx context.Context) ([]filingView, error) {
	fs, err := s.Ledger.Filings(ctx)
	if err != nil {
		return nil, fmt.Errorf("web: filings: %w", err)
	}
	now := s.now()
	out := make([]filingView, len(fs))
	for i, f := range fs {
		out[i] = s.viewFiling(f, now)
	}
	return out, nil
}

func (s *Server) handleFilingsAPI(w http.ResponseWriter, r *http.Request) {
	fs, err := s.filings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if want := r.URL.Query().Get("status"); want != "" {
		kept := fs[:0]
		for _, f := range fs {
			if string(f.Status) == want {
				kept = append(kept, f)
			}
		}
		fs = kept
	}
	writeJSON(w, http.StatusOK, map[string]any{"filings": fs})
}

func (s *Server) handleFilingsPage(w http.ResponseWriter, r *http.Request) {
	fs, err := s.filings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups := map[string][]filingView{}
	for _, f := range fs {
		groups[string(f.Status)] = append(groups[string(f.Status)], f)
	}
	s.render(w, r, http.StatusOK, "filings.html", map[string]any{
		"Title": "备案", "Groups": groups, "Departments": s.Rules.Departments(),
	})
}

// handleCreatePeriodFiling prepares a filing of one department's checks made
// in a period: form or JSON fields department, from, to (dates, to inclusive),
// unit, handler, phone.
func (s *Server) handleCreatePeriodFiling(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	dept := form.Get("department")
	items := s.Rules.ItemsOf(dept)
	from, errFrom := time.ParseInLocation("2006-01-02", form.Get("from"), shanghai)
	to, errTo := time.ParseInLocation("2006-01-02", form.Get("to"), shanghai)
	switch {
	case len(items) == 0:
		s.writeError(w, r, http.StatusUnprocessableEntity, "未知的科室："+dept+"（可选："+strings.Join(s.Rules.Departments(), "、")+"）")
		return
	case errFrom != nil || errTo != nil || to.Before(from):
		s.writeError(w, r, http.StatusUnprocessableEntity, "请填写起止日期（如 2026-11-01 至 2026-11-30），截止日期不早于起始日期")
		return
	case form.Get("unit") == "" || form.Get("handler") == "" || form.Get("phone") == "":
		s.writeError(w, r, http.StatusUnprocessableEntity, "单位、经办人、联系电话均不能为空")
		return
	}
	f, err := s.Ledger.CreatePeriodFiling(r.Context(), shixincheck.Filing{
		Title:      fmt.Sprintf("%s %s至%s", dept, from.Format("2006年1月2日"), to.Format("2006年1月2日")),
		Department: dept, Items: items, From: from, To: to.AddDate(0, 0, 1),
		Unit: form.Get("unit"), Handler: form.Get("handler"), Phone: form.Get("phone"),
	}, s.DueDate)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("filing prepared", "filing", f.ID, "department_items", len(items))
	s.auditAfter(r, shixincheck.AuditFilingCreated, fmt.Sprintf("filing %d", f.ID), dept+" "+form.Get("from")+" to "+form.Get("to"))
	s.created(w, r, f)
}

func (s *Server) created(w http.ResponseWriter, r *http.Request, f shixincheck.Filing) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusCreated, s.viewFiling(f, s.now()))
		return
	}
	http.Redirect(w, r, "/filings/"+strconv.FormatInt(f.ID, 10), http.StatusSeeOther)
}

func (s *Server) loadFiling(r *http.Request) (filingView, []ledger.Row, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return filingView{}, nil, err
	}
	f, err := s.Ledger.Filing(r.Context(), id)
	if err != nil {
		return filingView{}, nil, err
	}
	rows, err := s.Ledger.FilingRows(r.Context(), id)
	if err != nil {
		return filingView{}, nil, fmt.Errorf("web: filing rows: %w", err)
	}
	v := s.viewFiling(f, s.now())
	v.Checks = len(rows)
	return v, rows, nil
}

func (s *Server) handleFilingAPI(w http.ResponseWriter, r *http.Request) {
	v, _, err := s.loadFiling(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) handleFilingPage(w http.ResponseWriter, r *http.Request) {
	v, rows, err := s.loadFiling(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type line struct {
		Item, Name, IDNumber, Result, Measure string
		QueriedAt                             time.Time
	}
	lines := make([]line, len(rows))
	for i, row := range rows {
		c := row.Check
		lines[i] = line{row.Candidate.Item, shixincheck.MaskName(row.Candidate.Name), shixincheck.MaskID(row.Candidate.IDNumber),
			shixincheck.ResultText(c.Outcome, c.HitCount), c.Measure, c.QueriedAt}
	}
	var first *time.Time // the due date counts from it
	for _, row := range rows {
		if t := row.Check.QueriedAt; first == nil || t.Before(*first) {
			first = &t
		}
	}
	s.render(w, r, http.StatusOK, "filing.html", map[string]any{"Title": v.Title, "Filing": v, "Lines": lines,
		"FirstCheck": first, "Today": s.now().In(shanghai).Format("2006-01-02")})
}

// filingWorkbook writes a filing's workbook: full IDs for the official
// filing, masked IDs for a copy to share; records adds the sheet of the
// records behind each hit.
func filingWorkbook(f shixincheck.Filing, rows []ledger.Row, masked, records bool) ([]byte, error) {
	wf := workbook.Filing{Unit: f.Unit, Handler: f.Handler, Phone: f.Phone, Records: records, MaskIDs: masked}
	for _, row := range rows {
		wf.Rows = append(wf.Rows, workbookRow(row.Candidate, row.Check))
	}
	var buf bytes.Buffer
	if err := workbook.Write(&buf, wf); err != nil {
		return nil, fmt.Errorf("web: filing workbook: %w", err)
	}
	return buf.Bytes(), nil
}

// handleFilingWorkbook serves a filing's workbook (masked=1: IDs masked;
// records=0 or 1: without or with the sheet of records, by default with).
// Once submitted, the official copy is the one kept at submission, byte for
// byte, and it is the default: records then defaults to what was handed in.
func (s *Server) handleFilingWorkbook(w http.ResponseWriter, r *http.Request) {
	v, rows, err := s.loadFiling(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	submitted := v.State == shixincheck.FilingSubmitted
	masked := r.URL.Query().Get("masked") == "1"
	records := true
	switch q := r.URL.Query().Get("records"); {
	case q == "0":
		records = false
	case q == "" && submitted:
		records = v.SubmittedRecords
	}
	var data []byte
	if submitted && !masked && records == v.SubmittedRecords {
		data, err = s.Ledger.SubmittedWorkbook(r.Context(), v.ID)
	} else {
		data, err = filingWorkbook(v.Filing, rows, masked, records)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("信用信息核查应用情况登记表-备案%d", v.ID)
	detail := "filing workbook, full IDs"
	if masked {
		name += "-脱敏"
		detail = "filing workbook, masked IDs"
	}
	if err := s.audit(r, shixincheck.AuditDownload, fmt.Sprintf("filing %d", v.ID), detail); err != nil {
		s.fail(w, r, err)
		return
	}
	sendXLSX(w, fmt.Sprintf("filing-%d.xlsx", v.ID), name+".xlsx", data)
	s.Log.Info("filing workbook downloaded", "filing", v.ID, "masked", masked)
}

// handleSubmitFiling marks a filing submitted to the credit office: date,
// who, optional receipt number, and whether the workbook handed in had the
// sheet of records (records: 1, the default, or 0). That workbook, with full
// IDs, is written from the filing's rows at that moment and kept unchanged.
func (s *Server) handleSubmitFiling(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	v, _, err := s.loadFiling(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at, err := time.ParseInLocation("2006-01-02", form.Get("submitted_at"), shanghai)
	if err != nil || at.After(s.now()) {
		s.writeError(w, r, http.StatusUnprocessableEntity, "报送日期无效：请填写不晚于今天的日期，如 2026-11-30")
		return
	}
	by := strings.TrimSpace(form.Get("submitted_by"))
	if by == "" {
		s.writeError(w, r, http.StatusUnprocessableEntity, "请填写报送人")
		return
	}
	var records bool
	switch form.Get("records") {
	case "1", "":
		records = true
	case "0":
	default:
		s.writeError(w, r, http.StatusUnprocessableEntity, "请选择报送的登记表是否包含失信记录表")
		return
	}
	sub := ledger.Submission{At: at, By: by, Receipt: strings.TrimSpace(form.Get("receipt")), Records: records}
	err = s.Ledger.MarkSubmitted(r.Context(), v.ID, sub, func(rows []ledger.Row) ([]byte, error) {
		return filingWorkbook(v.Filing, rows, false, records)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("filing submitted", "filing", v.ID, "records", records)
	s.auditAfter(r, shixincheck.AuditFilingSubmitted, fmt.Sprintf("filing %d", v.ID), "submitted "+at.Format("2006-01-02"))
	if wantsJSON(r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/filings/"+strconv.FormatInt(v.ID, 10), http.StatusSeeOther)
}

// readForm reads a form post, or a JSON object of strings for the API.
func readForm(r *http.Request) (url.Values, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]string
		if err := decodeJSON(r, &m); err != nil {
			return nil, err
		}
		v := url.Values{}
		for k, s := range m {
			v.Set(k, strings.TrimSpace(s))
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, errors.New("无法读取表单")
	}
	for k, vs := range r.PostForm {
		for i := range vs {
			vs[i] = strings.TrimSpace(vs[i])
		}
		r.PostForm[k] = vs
	}
	return r.PostForm, nil
}
