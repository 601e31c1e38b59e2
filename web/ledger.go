package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	shixincheck "github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/access"
	"github.com/shixincheck/shixincheck/ledger"
	"github.com/shixincheck/shixincheck/roster"
	"github.com/shixincheck/shixincheck/workbook"
)

// The ledger (台账) is searched with POST only: a search by name or ID number
// must never put them in a URL, where proxies and browser histories keep them.

// ledgerQuery reads the filters of a ledger search: id_number, name, item,
// department, from, to (dates, to inclusive), outcome, measure, batch, page.
func (s *Server) ledgerQuery(form url.Values) (ledger.Query, roster.Problems) {
	var q ledger.Query
	var problems roster.Problems
	if v := form.Get("id_number"); v != "" {
		id, err := roster.NormalizeID(v)
		if err != nil {
			problems = append(problems, roster.Problem{Field: "身份证号", Message: err.Error()})
		}
		q.IDNumber = id
	}
	if v := form.Get("name"); v != "" {
		name, err := roster.NormalizeName(v)
		if err != nil {
			problems = append(problems, roster.Problem{Field: "姓名", Message: err.Error()})
		}
		q.Name = name
	}
	if v := form.Get("item"); v != "" {
		it, ok := s.Rules.Lookup(v)
		if !ok {
			problems = append(problems, roster.Problem{Field: "应用事项", Message: "未知的应用事项：" + v})
		}
		q.Items = []string{it.Name}
	}
	if v := form.Get("department"); v != "" {
		items := s.Rules.ItemsOf(v)
		if len(items) == 0 {
			problems = append(problems, roster.Problem{Field: "科室", Message: "未知的科室：" + v})
		}
		q.DepartmentItems = items // with an item too, both hold: an item outside the department finds nothing
	}
	for _, d := range []struct {
		key, label string
		dst        *time.Time
		days       int
	}{{"from", "起始日期", &q.From, 0}, {"to", "截止日期", &q.To, 1}} {
		if v := form.Get(d.key); v != "" {
			t, err := time.ParseInLocation("2006-01-02", v, shanghai)
			if err != nil {
				problems = append(problems, roster.Problem{Field: d.label, Message: d.label + "格式应为 2026-11-30"})
			}
			*d.dst = t.AddDate(0, 0, d.days)
		}
	}
	for _, o := range form["outcome"] {
		switch shixincheck.Outcome(o) {
		case shixincheck.OutcomeListed, shixincheck.OutcomeClear, shixincheck.OutcomeReview, shixincheck.OutcomeFailed:
			q.Outcomes = append(q.Outcomes, shixincheck.Outcome(o))
		case "":
		default:
			problems = append(problems, roster.Problem{Field: "查询结果", Message: "未知的结果类别：" + o})
		}
	}
	q.Measure = form.Get("measure")
	q.BatchID = form.Get("batch")
	q.Limit = ledgerPage
	if p := formPage(form); p > 1 {
		q.Offset = (p - 1) * ledgerPage
	}
	return q, problems
}

// formPage is the page a search asks for; 0 when it names none.
func formPage(form url.Values) int {
	p, err := strconv.Atoi(form.Get("page"))
	if err != nil || p < 1 {
		return 0
	}
	return p
}

// ledgerPage is the rows of one page of a ledger search.
const ledgerPage = 100

// ledgerLine is one ledger row as pages and the API show it: masked.
type ledgerLine struct {
	CandidateID int64     `json:"candidate_id"` // POST /api/v1/candidates/{candidate_id}/unmask shows the full name and ID
	BatchID     string    `json:"batch_id"`
	Row         int       `json:"row"`
	Item        string    `json:"item"`
	Name        string    `json:"name"`
	IDNumber    string    `json:"id_number"`
	Channel     string    `json:"channel"`
	Outcome     string    `json:"outcome"`
	Hits        int       `json:"hits"`
	Result      string    `json:"result"`
	QueriedAt   time.Time `json:"queried_at"`
	Measure     string    `json:"measure"`
	RuleVersion string    `json:"rule_version"`
}

func ledgerLines(rows []ledger.Row) []ledgerLine {
	out := make([]ledgerLine, len(rows))
	for i, r := range rows {
		c := r.Check
		out[i] = ledgerLine{
			CandidateID: r.Candidate.ID, BatchID: r.Batch.ID, Row: r.Candidate.Row, Item: r.Candidate.Item,
			Name: shixincheck.MaskName(r.Candidate.Name), IDNumber: shixincheck.MaskID(r.Candidate.IDNumber),
			Channel: c.Channel, Outcome: string(c.Outcome), Hits: c.HitCount, Result: shixincheck.ResultText(c.Outcome, c.HitCount),
			QueriedAt: c.QueriedAt, Measure: c.Measure, RuleVersion: c.RuleVersion,
		}
	}
	return out
}

type ledgerResult struct {
	Total   int          `json:"total"`
	Rows    []ledgerLine `json:"rows"`
	History []ledgerLine `json:"history,omitempty"` // every check of the ID asked for, across batches, oldest first
}

// searchLedger runs a search; with an ID number it also gives that person's
// history across batches (was this ID checked before, with what result).
func (s *Server) searchLedger(r *http.Request, form url.Values) (ledgerResult, error) {
	q, problems := s.ledgerQuery(form)
	if len(problems) > 0 {
		return ledgerResult{}, problems
	}
	rows, total, err := s.Ledger.Query(r.Context(), q)
	if err != nil {
		return ledgerResult{}, fmt.Errorf("web: ledger query: %w", err)
	}
	res := ledgerResult{Total: total, Rows: ledgerLines(rows)}
	if q.IDNumber != "" {
		hist, err := s.Ledger.History(r.Context(), q.IDNumber)
		if err != nil {
			return ledgerResult{}, fmt.Errorf("web: ledger history: %w", err)
		}
		res.History = ledgerLines(hist)
	}
	detail := fmt.Sprintf("%d of %d rows", len(rows), total)
	if q.IDNumber != "" {
		detail += fmt.Sprintf(", history %d checks", len(res.History))
	}
	if err := s.audit(r, shixincheck.AuditViewPerson, searchTarget(q), detail); err != nil {
		return ledgerResult{}, err
	}
	s.Log.Info("ledger searched", "rows", len(rows), "by_person", q.IDNumber != "" || q.Name != "")
	return res, nil
}

// searchTarget says in the audit trail what a search looked for: a masked
// ID number, or that it was by name (never the name itself).
func searchTarget(q ledger.Query) string {
	switch {
	case q.IDNumber != "":
		return "id " + shixincheck.MaskID(q.IDNumber)
	case q.Name != "":
		return "name search"
	default:
		return "ledger search"
	}
}

func (s *Server) handleLedgerAPI(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.searchLedger(r, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// ledgerTable is a table of ledger rows on the page; a clerk's rows link to
// their batch.
type ledgerTable struct {
	Rows        []ledgerLine
	LinkBatches bool
}

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request, code int, form url.Values, res *ledgerResult, problems roster.Problems) {
	data := map[string]any{
		"Title": "台账", "Form": form, "Problems": problems,
		"Items": s.Rules.Names(), "Departments": s.Rules.Departments(),
	}
	if res != nil {
		link := access.HasRole(who(r).account.Roles, shixincheck.RoleClerk)
		// Pages are asked for by the search form's own buttons (POST): a
		// person's name or ID never lands in a URL.
		page := max(1, formPage(form))
		data["Result"] = map[string]any{"Total": res.Total, "Rows": ledgerTable{res.Rows, link}, "History": ledgerTable{res.History, link},
			"Page": page, "Prev": page - 1, "Next": page + 1, "Pages": (res.Total + ledgerPage - 1) / ledgerPage,
			"First": (page-1)*ledgerPage + 1, "Last": (page-1)*ledgerPage + len(res.Rows)}
	}
	s.render(w, r, code, "ledger.html", data)
}

func (s *Server) handleLedgerPage(w http.ResponseWriter, r *http.Request) {
	s.ledgerPage(w, r, http.StatusOK, url.Values{}, nil, nil)
}

func (s *Server) handleLedgerSearch(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.searchLedger(r, form)
	if problems, ok := err.(roster.Problems); ok {
		s.ledgerPage(w, r, http.StatusUnprocessableEntity, form, nil, problems)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.ledgerPage(w, r, http.StatusOK, form, &res, nil)
}

// checkStage is the 核查环节 a check was judged under; only a check recorded
// before checks kept it takes the stage from the rules loaded now.
func (s *Server) checkStage(row ledger.Row) string {
	if row.Check.Stage != "" {
		return row.Check.Stage
	}
	if it, ok := s.Rules.Lookup(row.Candidate.Item); ok {
		return it.Stage
	}
	return ""
}

// handleLedgerExport writes the selection (every page of it) as a workbook,
// with masked ID numbers unless full_ids=1 asks for the full ones (audited
// either way).
func (s *Server) handleLedgerExport(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error())
		return
	}
	q, problems := s.ledgerQuery(form)
	if len(problems) > 0 {
		s.fail(w, r, problems)
		return
	}
	q.Limit, q.Offset = ledger.MaxLimit, 0
	rows, total, err := s.Ledger.Query(r.Context(), q)
	if err != nil {
		s.fail(w, r, fmt.Errorf("web: ledger export: %w", err))
		return
	}
	if total > len(rows) {
		s.writeError(w, r, http.StatusUnprocessableEntity, fmt.Sprintf("所选记录共 %d 条，超过一次导出的上限 %d 条：请缩小日期范围", total, ledger.MaxLimit))
		return
	}
	out := make([]workbook.LedgerRow, len(rows))
	for i, row := range rows {
		c := row.Check
		out[i] = workbook.LedgerRow{
			BatchID: row.Batch.ID, Item: row.Candidate.Item, Stage: s.checkStage(row),
			Name: row.Candidate.Name, IDNumber: row.Candidate.IDNumber, Channel: c.Channel,
			Result: shixincheck.ResultText(c.Outcome, c.HitCount), QueriedAt: c.QueriedAt,
			Measure: c.Measure, RuleVersion: c.RuleVersion,
		}
	}
	masked := form.Get("full_ids") != "1"
	detail := fmt.Sprintf("ledger export, %d rows, ", len(rows))
	if masked {
		detail += "masked IDs"
	} else {
		detail += "full IDs"
	}
	if err := s.audit(r, shixincheck.AuditDownload, searchTarget(q), detail); err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := workbook.WriteLedger(&buf, out, masked); err != nil {
		s.fail(w, r, fmt.Errorf("web: ledger export: %w", err))
		return
	}
	name := "信用信息核查台账-" + s.now().In(shanghai).Format("20060102")
	if masked {
		name += "-脱敏"
	}
	sendXLSX(w, "ledger.xlsx", name+".xlsx", buf.Bytes())
	s.Log.Info("ledger exported", "rows", len(rows), "masked", masked)
}
