// Package shixincheck holds the domain types shared by every part of the daemon:
// batches of candidates, the checks made for them on the court site, their
// outcomes and the errors a check can end in. It imports the standard library only.
package shixincheck

import (
	"errors"
	"fmt"
	"time"
)

// Channel is the 查询渠道 written in the ledger and the filing workbook.
const Channel = "失信被执行人信息公开网"

// Batch is one upload: a list of candidates checked for one application item.
type Batch struct {
	ID         string
	Item       string // 应用事项, the default for rows that do not name their own
	Unit       string // 单位
	Handler    string // 经办人
	Phone      string // 联系电话
	CreatedAt  time.Time
	ContentKey string // hash of the item, unit, day and rows: the same upload twice is one batch
	Control    BatchControl
	// PurgedAt is when retention removed the batch's personal data and
	// evidence (names and ID numbers now masked); nil while they are kept.
	PurgedAt *time.Time
}

// BatchControl is what a clerk has asked of a batch.
type BatchControl string

const (
	ControlActive    BatchControl = "active"    // checks run
	ControlPaused    BatchControl = "paused"    // checks wait until resumed
	ControlCancelled BatchControl = "cancelled" // unchecked candidates are dropped
)

// CandidateState tells where a candidate is in its check.
type CandidateState string

const (
	StateQueued    CandidateState = "queued"    // waiting for, or in, a check
	StateDone      CandidateState = "done"      // a check is recorded (whatever its outcome)
	StateCancelled CandidateState = "cancelled" // its batch was cancelled before it was checked
)

// Candidate is one person of a batch. Name and IDNumber are personal data:
// never log them, never put them in a URL or a metric label.
type Candidate struct {
	ID       int64
	BatchID  string
	Row      int // row number in the uploaded file (1-based, as the clerk sees it)
	Name     string
	IDNumber string // 18 characters, upper-case X
	Item     string // 应用事项 for this person
	State    CandidateState
}

// Outcome is what one check established.
type Outcome string

const (
	OutcomeListed Outcome = "listed" // at least one record is this person's
	OutcomeClear  Outcome = "clear"  // the site positively answered: no record of this person
	OutcomeReview Outcome = "review" // records a machine cannot attribute (no usable ID): a person decides
	OutcomeFailed Outcome = "failed" // the check could not be completed: a person decides
)

// Match says how one record of the site relates to the candidate searched for.
type Match string

const (
	MatchHit      Match = "hit"      // same name, masked ID consistent with the candidate's ID
	MatchNamesake Match = "namesake" // same name, masked ID of someone else: kept, not counted
	MatchUnclear  Match = "unclear"  // same name, no usable ID: a person decides
	MatchOther    Match = "other"    // another name returned by the site's loose search
)

// Record is one entry of the 失信被执行人 list as the site showed it.
// Field names follow the site's detail answer (disDetailNew).
type Record struct {
	SiteID      string `json:"id"`
	Name        string `json:"iname"`
	CaseCode    string `json:"caseCode"`              // 案号
	CardNum     string `json:"cardNum,omitempty"`     // masked by the site: 4202021980****1234
	CourtName   string `json:"courtName,omitempty"`   // 执行法院
	AreaName    string `json:"areaName,omitempty"`    // 省份
	RegDate     string `json:"regDate,omitempty"`     // 立案时间
	PublishDate string `json:"publishDate,omitempty"` // 发布时间
	GistID      string `json:"gistId,omitempty"`      // 执行依据文号
	GistUnit    string `json:"gistUnit,omitempty"`    // 做出执行依据单位
	Duty        string `json:"duty,omitempty"`        // 生效法律文书确定的义务
	Performance string `json:"performance,omitempty"` // 被执行人的履行情况
	DisruptType string `json:"disruptTypeName,omitempty"`
	Match       Match  `json:"match"`
}

// SiteResult is what the scraper read from the site for one candidate.
type SiteResult struct {
	Site      string         // site profile that ran the search ("classic", "gkw")
	QueriedAt time.Time      // when the site answered the search
	TotalSize int            // number of records the site reported for the search
	Records   []Record       // every record of every page, each with its Match
	Evidence  []byte         // the site's raw answers, as JSON, kept as evidence
	Files     []EvidenceFile // the result list and each detail as the browser showed them
	Captchas  int            // captchas a person solved for this check
}

// EvidenceFile is a page of the site as the browser showed it (Chromium's own
// PDF print or screenshot), kept so a reviewer can see later what was seen.
type EvidenceFile struct {
	Name string // e.g. "list-1.pdf", "detail-03.pdf": no personal data
	MIME string // application/pdf or image/png
	Data []byte
}

// Hits counts the records that are this person's.
func (r SiteResult) Hits() int {
	n := 0
	for _, rec := range r.Records {
		if rec.Match == MatchHit {
			n++
		}
	}
	return n
}

// Outcome judges a result that was read completely. A record that cannot be
// attributed sends the whole check to a person, even next to hits.
func (r SiteResult) Outcome() Outcome {
	for _, rec := range r.Records {
		if rec.Match == MatchUnclear {
			return OutcomeReview
		}
	}
	if r.Hits() > 0 {
		return OutcomeListed
	}
	return OutcomeClear
}

// Check is one recorded check of a candidate: the ledger's 台账 row.
type Check struct {
	ID          int64
	CandidateID int64
	QueriedAt   time.Time
	Channel     string
	Site        string
	Outcome     Outcome
	HitCount    int
	Records     []Record
	Measure     string // 应用措施 by the rules; NeedsPerson when no automatic measure applies
	RuleVersion string
	// Stage (核查环节) and Departments (应用科室) are the item's as the rules
	// said when the check was judged: a later rules change must not rewrite
	// the ledger. Empty for checks recorded before they were kept.
	Stage       string
	Departments string
	Evidence    []byte
	ErrorKind   ErrorKind // set when Outcome is OutcomeFailed
	Captchas    int
	Files       []EvidenceFile // pages as the browser showed them; not loaded by listings
}

// NeedsPerson is the measure written when the rules cannot decide: the check
// failed, or a record could not be attributed.
const NeedsPerson = "需人工核查"

// ResultText is the 查询结果 wording of Attachment 2.
func ResultText(o Outcome, hits int) string {
	switch o {
	case OutcomeListed:
		return fmt.Sprintf("有%d条“失信被执行人”记录", hits)
	case OutcomeClear:
		return "无“失信被执行人”记录"
	case OutcomeReview:
		return "有同名记录待人工核对"
	default:
		return "查询未完成"
	}
}

// Challenge is a captcha shown to a person.
type Challenge struct {
	Site  string // site profile asking
	Image []byte // PNG as the browser showed it: the captcha image, or a picture of the whole widget box
	// SiteRef is the site's own id of this captcha (classic: the 32-char captchaId).
	// It is no personal data; the simulator's side door answers by it, so a test can act as the person.
	SiteRef string
	// Kind says how a person answers: ChallengeText (type the characters) or
	// ChallengeInteractive (act on the picture: click, drag; see Action).
	Kind ChallengeKind
	// Width and Height are the widget's size in CSS pixels: action points are
	// in that space, from the picture's top-left corner, whatever its pixel size.
	Width, Height float64
	// Session ties the rounds of one interactive verification together: after a
	// person's actions are replayed, the new picture comes back as the next
	// round, offered first to the same person.
	Session string
}

// ChallengeKind is how a person answers a challenge.
type ChallengeKind string

const (
	ChallengeText        ChallengeKind = "text"
	ChallengeInteractive ChallengeKind = "interactive"
)

// Solution is a person's answer to a Challenge.
type Solution struct {
	ChallengeID string
	Text        string   // a text challenge's answer
	Actions     []Action // an interactive challenge's answer, replayed in order
}

// Action is one thing a person did on an interactive challenge's picture.
type Action struct {
	Type   ActionType `json:"type"`
	Points []Point    `json:"points,omitempty"` // click: one point; drag: the whole trajectory, press to release
	Text   string     `json:"text,omitempty"`   // type: the keys typed
}

// ActionType names an Action.
type ActionType string

const (
	ActionClick    ActionType = "click"
	ActionDrag     ActionType = "drag"
	ActionTypeText ActionType = "type"
)

// Point is a position on a challenge's picture in CSS pixels from its
// top-left corner, at T milliseconds after the action began.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	T int     `json:"t"`
}

// ErrCaptchaRefresh is returned by a solver when the person asked for another image.
var ErrCaptchaRefresh = errors.New("captcha: person asked for a new image")

// ErrorKind classifies why a check could not be completed.
type ErrorKind string

const (
	KindCaptchaRejected   ErrorKind = "captcha_rejected"   // the site refused the answer too many times
	KindCaptchaUnanswered ErrorKind = "captcha_unanswered" // no person answered in time
	KindBlocked           ErrorKind = "blocked"            // WAF page, 412/502, "访问量较大"
	KindTimeout           ErrorKind = "timeout"            // the site did not answer in time
	KindUnrecognised      ErrorKind = "unrecognised"       // an answer or page we cannot read
	KindInternal          ErrorKind = "internal"           // our side: browser crashed, store failed
)

// CheckError is an error that ends a check, with its kind.
type CheckError struct {
	Kind ErrorKind
	Err  error
}

func (e *CheckError) Error() string { return string(e.Kind) + ": " + e.Err.Error() }
func (e *CheckError) Unwrap() error { return e.Err }

// Errorf builds a CheckError of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) error {
	return &CheckError{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of err, KindInternal when it has none.
func KindOf(err error) ErrorKind {
	var ce *CheckError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return KindInternal
}

// FilingState is where a filing (备案) with the city credit office stands.
// Overdue is not a state: it is derived, see Filing.Overdue.
type FilingState string

const (
	FilingPrepared  FilingState = "prepared"  // grouped and ready, not yet handed in
	FilingSubmitted FilingState = "submitted" // handed in; its workbook is kept as submitted
)

// Filing groups checks for the city credit office: those of one batch, or
// those made in a period for one department's items.
type Filing struct {
	ID                   int64
	Title                string    // e.g. "批次 b1234…" or "政工科 2026年11月"
	BatchID              string    // set for a per-batch filing
	Department           string    // set for a per-period filing
	Items                []string  // the 应用事项 it covers
	From, To             time.Time // its checks were made in [From, To)
	Unit, Handler, Phone string    // header of the workbook (单位/经办人/联系电话)
	CompletedAt          time.Time // when its last check was completed
	// DueDate is the Beijing date (00:00 UTC+8) by whose end the filing is
	// due: the 7th working day after its first check's date; nil when the
	// working-day calendar does not know the year.
	DueDate     *time.Time
	State       FilingState
	CreatedAt   time.Time
	SubmittedAt *time.Time
	SubmittedBy string
	Receipt     string // the credit office's receipt number, if it gave one
	// SubmittedRecords tells whether the workbook handed in (and kept) had
	// the sheet of records behind each hit; meaningful once submitted.
	SubmittedRecords bool
}

// SubmittedLate tells whether the filing was handed in after its due date:
// the Beijing date of its submission is later than the due date.
func (f Filing) SubmittedLate() bool {
	return f.SubmittedAt != nil && f.DueDate != nil && !f.SubmittedAt.Before(f.DueDate.AddDate(0, 0, 1))
}

// Overdue tells whether the filing is still prepared after its due date has
// ended. A filing without a known due date is never reported overdue here.
func (f Filing) Overdue(now time.Time) bool {
	return f.State == FilingPrepared && f.DueDate != nil && !now.Before(f.DueDate.AddDate(0, 0, 1))
}

// FilingStatus is what a clerk has to do about a filing now.
type FilingStatus string

const (
	StatusSubmitted  FilingStatus = "submitted"   // nothing: handed in
	StatusOverdue    FilingStatus = "overdue"     // past its due date
	StatusDueSoon    FilingStatus = "due_soon"    // due within DueSoonWorkdays working days
	StatusPrepared   FilingStatus = "prepared"    // due later
	StatusDueUnknown FilingStatus = "due_unknown" // the calendar does not know the year
)

// DueSoonWorkdays is how close a due date makes a filing due soon.
const DueSoonWorkdays = 2

// Workdays counts working days on the official calendar.
type Workdays interface {
	// WorkdaysBetween counts the working days after from up to and including to.
	WorkdaysBetween(from, to time.Time) (int, error)
}

// Status says where the filing stands at now, and the working days left until
// its due date (negative: how late it is) when they can be counted.
func (f Filing) Status(now time.Time, cal Workdays) (FilingStatus, *int) {
	if f.State == FilingSubmitted {
		return StatusSubmitted, nil
	}
	if f.DueDate == nil {
		return StatusDueUnknown, nil
	}
	var left *int
	if n, err := cal.WorkdaysBetween(now, *f.DueDate); err == nil {
		left = &n
	}
	switch {
	case f.Overdue(now):
		return StatusOverdue, left
	case left != nil && *left <= DueSoonWorkdays:
		return StatusDueSoon, left
	default:
		return StatusPrepared, left
	}
}

// Role is what an account may do. An account holds one or more roles.
type Role string

const (
	RoleClerk    Role = "clerk"    // uploads batches, downloads workbooks, marks filings submitted
	RoleOperator Role = "operator" // solves captchas; never sees a name or an ID number
	RoleAuditor  Role = "auditor"  // reads the ledger and the audit trail
	RoleAdmin    Role = "admin"    // accounts, rules, settings
)

// Roles lists every role, in the order pages show them.
var Roles = []Role{RoleClerk, RoleOperator, RoleAuditor, RoleAdmin}

// RoleText is a role as the pages name it.
var RoleText = map[Role]string{RoleClerk: "经办人", RoleOperator: "验证码操作员", RoleAuditor: "审计员", RoleAdmin: "管理员"}

// Actions written to the audit trail. Targets name ids (batch, candidate,
// check, filing, account) or masked values, never a name or an ID number.
const (
	AuditLogin           = "login"
	AuditLoginFailed     = "login_failed"
	AuditLogout          = "logout"
	AuditUpload          = "upload"
	AuditBatchControl    = "batch_control" // pause, resume, cancel, retry the failed
	AuditViewBatch       = "view_batch"
	AuditViewPerson      = "view_person" // a ledger search or a person's history
	AuditUnmask          = "unmask"
	AuditDownload        = "download" // a workbook or an evidence file
	AuditFilingCreated   = "filing_created"
	AuditFilingSubmitted = "filing_submitted"
	AuditAccountCreated  = "account_created"
	AuditAccountChanged  = "account_changed"
	AuditTokenCreated    = "token_created"
	AuditTokenRevoked    = "token_revoked"
	AuditRulesLoaded     = "rules_loaded"
	AuditPurge           = "purge"
	AuditKeysRotated     = "keys_rotated"
)
