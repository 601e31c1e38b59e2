package scraper

import "time"

// gkwSite is everything the scraper knows about the "gkw" court site (the
// 2026 front end under /gkw/, with a behavioural captcha): paths, selectors,
// texts, answer codes and timings. A change of the real site is a change of
// this value. Sources and confidence are in /work/shared/zxgk-site.md.
var gkwSite = gkwProfile{
	Name: "gkw",

	// The 失信 search. The combined search (全国法院信息综合查询) works the
	// same way — Path "/gkw/html/zhzxgk/index.html" (also "/zhzxgk/"), Form
	// "#zhcx-search-form", ListPath "/gkw/zhcx/searchZhcx" — but its list is
	// not limited to the 失信 list this daemon checks against.
	Search: gkwSearchPage{
		Path:     "/gkw/html/shixin/index.html",
		Form:     "#myform",
		ListPath: "/gkw/sx/searchSX",
	},
	DetailPath: "/gkw/zhcx/detailZhcx",
	CreatePath: "/gkw/zhcx/captcha/captcha",
	CheckPath:  "/gkw/zhcx/captcha/captcha/check",

	Page: gkwSelectors{
		Name:        "#pName",
		CardNum:     "#pCardNum",
		Province:    `select[name="pProvince"]`,
		CaptchaID:   "#captchaId",
		Token:       "#pCode",
		Button:      ".buttons .btn-zxgk", // inside the form; a hidden twin sits in .advanced-search
		Pill:        "#tianai-rest-captcha-status",
		Overlay:     ".tianai-captcha-ui-overlay",
		Parent:      "#tianai-captcha-parent",
		Box:         "#tianai-captcha-box", // the picture a person sees: the widget and nothing else
		Loading:     "#tianai-captcha-loading",
		Widget:      "#tianai-captcha",
		Slider:      "tianai-captcha-slider",
		WordClick:   "tianai-captcha-word-click",
		TipError:    "#tianai-captcha-tips.tianai-captcha-tips-error",
		Refresh:     "#tianai-captcha-slider-refresh-btn",
		Close:       "#tianai-captcha-slider-close-btn",
		Results:     "#tbody-result",
		Row:         "a.View",
		Placeholder: "tr.placeholder-row",
		Warning:     "p.warning-result .important",
		NoResult:    "p.no-result",
		Thead:       "#result-thead",
		Pager:       "#page-div",
		PageText:    "#page-div .page-text",
		CurrentPage: "#currentPage-show",
		TotalPage:   "#totalPage-show",
		TotalSize:   "#totalSize-show",
		Next:        "#next-btn",
		Hidden:      "hide",
		Sections:    "#detail-sections",
		Label:       "strong", // inside a row's first cell
		DetailError: "#detail-error",
	},
	ProvinceAll: "0",

	Texts: gkwTexts{
		Passed:   "验证已通过，正在查询…",
		Failed:   "验证未通过，请重新验证。",
		Expired:  "验证已失效：安全验证已失效。请重新验证。",
		Warning:  "验证码错误或验证码已过期。",
		NoMatch:  "在全国法院（包含地方各级法院）范围内没有找到 %s 相关的结果。",
		PageText: "%d/%d页",
		Empty:    "—",
	},

	// Answers are {"success","code","msg","data"}.
	CodeRefused:  401, // the token is dead: the page verifies again and redoes the action
	CodeNotFound: 404, // a detail the site does not have
	ListName:     "pname",
	Params:       gkwParams{Name: "pName", Page: "currentPage", ID: "id", CaseCode: "caseCode"},
	PageSize:     10,

	// Tianai's own answer to a check of a challenge it no longer has (too
	// old, or checked already): the person was too slow, not wrong.
	CodeChallengeExpired: 4000,

	// Label of a detail.html row -> field of the detail answer, compared
	// with each other.
	DetailLabels: map[string]string{
		"被执行人姓名/名称：":    "iname",
		"身份证号码/组织机构代码：": "cardNum",
		"省份：":           "areaName",
		"执行法院：":         "courtName",
		"执行依据文号：":       "gistId",
		"立案时间：":         "regDate",
		"案号：":           "caseCode",
		"做出执行依据单位：":     "gistUnit",
		"生效法律文书确定的义务：":  "duty",
		"被执行人的履行情况：":    "performance",
		"失信被执行人行为具体情形：": "disruptTypeName",
		"发布时间：":         "publishDate",
	},

	blocking: blocking{
		BlockedStatus: []int{202, 412, 502, 429, 503}, // 429/503: [guess], same meaning
		BlockedTexts:  []string{"网站当前访问量较大", "Please enable JavaScript"},
		MaxWAFPages:   3,
	},

	RenderTimeout:    5 * time.Second,
	Settle:           100 * time.Millisecond,
	Poll:             100 * time.Millisecond,
	MaxRounds:        10,
	MaxVerifications: 20,
}

// gkwProfile describes one version of the gkw site.
type gkwProfile struct {
	Name string // site profile name written in results

	Search     gkwSearchPage
	DetailPath string // POST: one record, for a new tab (detailZhcx)
	CreatePath string // POST: a new challenge
	CheckPath  string // POST: a person's track for a challenge

	Page        gkwSelectors
	ProvinceAll string // value of 全部 in the province select, where the form has one
	Texts       gkwTexts

	CodeRefused  int    // answer code of a dead token
	CodeNotFound int    // answer code of a detail the site does not have
	ListName     string // field of a list row with the name
	Params       gkwParams
	PageSize     int // rows per list page

	// CodeChallengeExpired is the captcha check's answer code for a
	// challenge that expired before the person's answer reached it.
	CodeChallengeExpired int

	DetailLabels map[string]string

	blocking

	RenderTimeout time.Duration // how long the page may take to show what the network answered
	// Settle is how long the widget may take after a person's actions to
	// send its check; without one it waits for more input (word-click).
	Settle           time.Duration
	Poll             time.Duration // longest wait between two looks at a page that does not change
	MaxRounds        int           // pictures shown in one verification
	MaxVerifications int           // verifications one check may use up
}

// gkwSearchPage is a search page and the list request its form sends.
type gkwSearchPage struct {
	Path     string // the page a tab shows
	Form     string // its search form
	ListPath string // POST: one page of the list
}

// gkwSelectors are the CSS selectors of the search and detail pages
// (passed to the page's scripts as JSON). Slider, WordClick and Hidden are
// class names.
type gkwSelectors struct {
	Form        string `json:"form"` // set from gkwSearchPage.Form
	Name        string `json:"name"`
	CardNum     string `json:"cardNum"`
	Province    string `json:"province"` // only on some forms
	CaptchaID   string `json:"captchaId"`
	Token       string `json:"token"`   // pCode: empty until a verification passed
	Button      string `json:"button"`  // 查询, the visible one inside the form
	Pill        string `json:"pill"`    // status pill
	Overlay     string `json:"overlay"` // exists only while the popup is open
	Parent      string `json:"parent"`  // the popup
	Box         string `json:"box"`     // the widget's box
	Loading     string `json:"loading"` // shown by display while a challenge loads
	Widget      string `json:"widget"`  // present only when a challenge is ready
	Slider      string `json:"slider"`
	WordClick   string `json:"wordClick"`
	TipError    string `json:"tipError"` // shown for a moment after a refused check
	Refresh     string `json:"refresh"`
	Close       string `json:"close"`
	Results     string `json:"results"`
	Row         string `json:"row"` // one per real record; placeholder rows have none
	Placeholder string `json:"placeholder"`
	Warning     string `json:"warning"` // the failed-search markup's text
	NoResult    string `json:"noResult"`
	Thead       string `json:"thead"`
	Pager       string `json:"pager"`
	PageText    string `json:"pageText"`
	CurrentPage string `json:"currentPage"`
	TotalPage   string `json:"totalPage"`
	TotalSize   string `json:"totalSize"`
	Next        string `json:"next"`
	Hidden      string `json:"hidden"`
	Sections    string `json:"sections"`    // detail.html: tables of label/value rows
	Label       string `json:"label"`       // detail.html: the label element in a row's first cell
	DetailError string `json:"detailError"` // detail.html: shown (Hidden removed) on an error
}

// gkwTexts are the texts the pages show.
type gkwTexts struct {
	Passed   string // pill after a passed check; it stays afterwards
	Failed   string // pill after a refused check
	Expired  string // pill after a refused token; it stays while the new widget loads and waits
	Warning  string // the failed-search markup in the results
	NoMatch  string // the whole results text when nothing matched; %s is the name searched
	PageText string // the pager's text; %d/%d are the page and the number of pages
	Empty    string // a detail value the site does not have
}

// gkwParams are the names of the request parameters checked on the network.
type gkwParams struct {
	Name, Page, ID, CaseCode string
}
