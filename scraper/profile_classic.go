package scraper

import "time"

// classicSite is everything the scraper knows about the "classic" court site
// (/shixin/, served 2019 to at least 2025): selectors, paths, texts and timings.
// A change of the real site is a change of this value. Sources and confidence
// are in /work/shared/zxgk-site.md.
var classicSite = classicProfile{
	Name: "classic",

	SearchPath:  "/shixin/",
	ListPath:    "/shixin/searchSX.do",
	DetailPath:  "/shixin/disDetailNew",
	CheckPath:   "/shixin/checkyzm.do",
	CaptchaPath: "/shixin/captchaNew.do",

	Page: classicSelectors{
		Name:       "#pName",
		CardNum:    "#pCardNum",
		Province:   `select[name="pProvince"]`, // the note knows it by name only
		Code:       "#yzm",
		CaptchaID:  "input#captchaId",
		CaptchaImg: "#captchaImg",
		Button:     "button.btn-zxgk",
		Overlays:   "#frameImg, #layui-layer1, .layui-layer-shade",
		Results:    "#tbody-result",
		ResultRow:  "a.View",
		Rejected:   "验证码错误或验证码已过期。",
	},
	ProvinceAll: "0",

	// Parameter names; requests send them in the page's order:
	// list   pName, pCardNum, pProvince, pCode, captchaId, currentPage
	// detail id, caseCode, pCode, captchaId
	// check  captchaId, pCode (also the image: captchaId)
	Params: classicParams{
		Name: "pName", CardNum: "pCardNum", Province: "pProvince", Code: "pCode",
		CaptchaID: "captchaId", Page: "currentPage", ID: "id", CaseCode: "caseCode",
	},
	ListHeaders: map[string]string{
		"Content-Type":     "application/x-www-form-urlencoded; charset=UTF-8",
		"X-Requested-With": "XMLHttpRequest",
	},
	GetHeaders:     map[string]string{"X-Requested-With": "XMLHttpRequest"},
	PageSize:       10,
	RejectedList:   "error",
	RejectedDetail: "{}",
	CodeValid:      "1",
	CodeInvalid:    "0",
	CaptchaIDSize:  32,

	blocking: blocking{
		BlockedStatus: []int{202, 412, 502, 429, 503}, // 429/503: [guess], same meaning
		BlockedTexts:  []string{"网站当前访问量较大", "Please enable JavaScript"},
		MaxWAFPages:   3,
	},

	RenderTimeout: 5 * time.Second,
}

// classicProfile describes one version of the classic site.
type classicProfile struct {
	Name string // site profile name written in results

	SearchPath  string // the search page a tab shows
	ListPath    string // POST: one page of the list (searchSX.do)
	DetailPath  string // GET: one record (disDetailNew)
	CheckPath   string // GET: is a pCode still valid (checkyzm.do)
	CaptchaPath string // GET: the captcha image

	Page        classicSelectors
	ProvinceAll string // value of 全部 in the province select

	Params         classicParams
	ListHeaders    map[string]string // headers of a list request (the page's XHR)
	GetHeaders     map[string]string // headers of a detail or code check request
	PageSize       int               // rows per list page
	RejectedList   string            // whole body of a list answer refusing the captcha
	RejectedDetail string            // whole body of a detail answer refusing the captcha (or the id)
	CodeValid      string            // checkyzm.do body for a live code
	CodeInvalid    string            // checkyzm.do body for a dead code
	CaptchaIDSize  int               // length of a captchaId

	blocking

	RenderTimeout time.Duration // how long the page may take to show an answer it received
}

// classicSelectors are the CSS selectors and texts of the search page
// (passed to the page's scripts as JSON).
type classicSelectors struct {
	Name       string `json:"name"`       // name input
	CardNum    string `json:"cardNum"`    // ID number input
	Province   string `json:"province"`   // province select
	Code       string `json:"code"`       // captcha text input
	CaptchaID  string `json:"captchaId"`  // hidden input with the captcha id
	CaptchaImg string `json:"captchaImg"` // captcha image; a click loads a new code
	Button     string `json:"button"`     // 查询
	Overlays   string `json:"overlays"`   // floating windows that may cover the form
	Results    string `json:"results"`    // table body of the list
	ResultRow  string `json:"resultRow"`  // one per record shown in Results
	Rejected   string `json:"rejected"`   // text shown in Results after a refused captcha
}

// classicParams are the names of the request parameters.
type classicParams struct {
	Name, CardNum, Province, Code, CaptchaID, Page, ID, CaseCode string
}
