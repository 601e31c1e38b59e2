// Package courtsim simulates the court site 中国执行信息公开网 (zxgk.court.gov.cn)
// so the scraper can be developed and tested offline. It serves two versions of
// the site, each under its own paths, both by default (Config.Sites, flag
// --site classic|gkw|both): the "classic" 失信被执行人 search (/shixin/) and the
// 2026 "gkw" front end (/gkw/, /zhzxgk/). Both share the data set, WAF, faults
// and side door.
//
// # Classic
//
// Faithful to /work/shared/zxgk-site.md (section "classic"):
//   - the search page at /shixin/ and /shixin/index_form.do with #pName, #pCardNum,
//     the select named pProvince (no id: the note knows only its name; 0 = 全部),
//     #yzm sent as pCode, hidden #captchaId of 32 [0-9A-Za-z],
//     #captchaImg with src /shixin/captchaNew.do?captchaId=<id>&random=<Math.random()>,
//     button.btn-zxgk 查询, the #frameImg overlay over the button, #result-block,
//     #result-thead, #tbody-result, #show with #partyDetail and the real detail labels;
//   - a PNG captcha of 160x70 with 4 characters of a-zA-Z0-9; clicking the image or
//     clearing the name / ID input loads a new one;
//   - GET /shixin/checkyzm.do answering 1 or 0;
//   - POST /shixin/searchSX.do, form-encoded, answering a JSON array whose first
//     element holds currentPage, pageSize, totalPage, totalSize and result items with
//     id, iname, caseCode, regDate; 10 rows a page; totalPage 1 for zero and one page;
//     totalSize 0 when nothing matches; the bare word "error" for a wrong or expired
//     captcha, after which the page writes <p>验证码错误或验证码已过期。</p> into
//     #tbody-result and shows the layui popup #layui-layer1;
//   - GET /shixin/disDetailNew answering the real field names (cardNum masked as
//     first 10, ****, last 4; dates like 2018年01月17日; qysler []) or {} for a bad id
//     or a dead captcha;
//   - one code serves the list, its further pages and the details until it dies;
//   - loose name matching: other names come back;
//   - a JavaScript cookie WAF with the 2025-26 cookie name lqWVdQzgOVyaO/P answering
//     412 to a client without it; the overload page "网站当前访问量较大，请稍后再试"
//     instead of an image or JSON under load (as an injected fault).
//
// [sim choice] where the note is silent:
//   - captcha codes avoid look-alikes (0 O o 1 l I) and compare case-insensitively;
//     a code lives Config.CaptchaTTL (2m) and allows Config.CaptchaUses (50) searches
//     and details; a new image for a captchaId replaces its code; checkyzm.do uses
//     nothing up; captchaNew.do answers 400 for an id the server did not hand out;
//   - the captcha image is Go Bold glyphs, each rotated, sheared, scaled and coloured
//     differently, over a light gradient with wavy lines and dots;
//   - the WAF cookie is "<nonce>.<FNV-1a hex of the nonce repeated 200 times>" with an
//     HMAC-signed nonce, valid for the simulator's lifetime; the side door is never
//     behind it and never delayed;
//   - matching: every record whose name contains pName; pCardNum ignored (the worst
//     case); pProvince other than 0 narrows to courts of that province; order by
//     regDate descending, then id; a page past the last one has no rows; an empty
//     pName is 400 "pName required" and uses no captcha;
//   - the empty list renders <tr><td colspan="5">没有找到相关的结果</td></tr>; the pager
//     reads 第 n/m 页，共 N 条; the last answer is on window.lastSearch (not for scrapers);
//   - detail: partyTypeName "580", businessEntity "", age at filing, sexy from the ID's
//     17th digit, performedPart/unperformPart "暂无" when nothing was performed; a {}
//     answer shows #layui-layer1;
//   - the data set: Config.People listed people from a seed (5000, seed 1): common
//     surnames and given names, IDs valid under GB 11643 with real county codes of
//     several provinces (Hubei weighted), born 1950-2000; 1-5 records each, mostly 1;
//     deliberate namesake groups (one name, 2-3 IDs), names that contain other listed
//     names, and several people with more than 10 records (one with 23); people of
//     the same name always differ in their masked ID; courts are the basic court of a
//     county (黄石市西塞山区人民法院, case code 鄂0203 from the county code) or the
//     intermediate court of its city (鄂02); case numbers (2019)鄂0203执123号 with the
//     year of regDate; regDate 2014 to mid-2026, publishDate 7-120 days later;
//   - faults (waf, busy, garbage, slow, bad_json, render_mismatch) queue in order and
//     hit only pages the site has; a fault other than slow answers without touching
//     the captcha; render_mismatch serves a search.js that shows one result row fewer
//     than the answer has (the page and the network disagree);
//   - Config.Latency delays every site answer.
//
// # Gkw
//
// Faithful to /work/shared/zxgk-site.md (section "gkw"):
//   - pages /gkw/html/zhzxgk/index.html (also /zhzxgk/) with form #zhcx-search-form
//     posting to /gkw/zhcx/searchZhcx, and /gkw/html/shixin/index.html with form
//     #myform (pName, pCardNum, pProvince, pCode, captchaId, currentPage) posting to
//     /gkw/sx/searchSX; #pName; the one visible button 查询 runs submitCaptcha(),
//     which sets #currentPage to 1 and calls search(), which posts the serialized
//     form by XHR and gets JSON; 10 rows a page, no page-size parameter;
//   - the Tianai-like captcha in the main document, no iframe, no canvas:
//     #tianai-captcha-parent > #tianai-captcha-box > #tianai-captcha-loading (always
//     there, shown by display) and #tianai-captcha, created only once its images
//     have loaded; .tianai-captcha-ui-overlay only while the popup is open; the
//     status pill #tianai-rest-captcha-status; slider parts
//     #tianai-captcha-slider-img-div and #tianai-captcha-slider-move-img; endpoints
//     POST /gkw/zhcx/captcha/captcha (the server picks the type) and POST
//     /gkw/zhcx/captcha/captcha/check; types SLIDER and WORD_IMAGE_CLICK; the
//     slider check wants a drag of >= 300 ms and >= 10 track points; the type
//     switches after a failed check; the widget takes Config.GkwCaptchaDelay (1s)
//     to load;
//   - success: the pill says 验证已通过，正在查询… and the query runs by itself;
//     the token (captchaId, pCode) stays in the page and serves every search, page
//     turn and detail until the server refuses it; only a reload starts afresh;
//   - a refused token: the pill says 验证已失效：安全验证已失效。请重新验证。 and keeps
//     saying it while the new widget loads and waits; a refused search writes
//     <p class="bg-warning warning-result"><span class="important">验证码错误或验证码已过期。</span></p>
//     into the results and hides #page-div and #result-thead; a refused detail
//     leaves the old results visible;
//   - results: headers 序号 / 姓名 / 立案时间 / 案号 / 查看; a real row has
//     a.View with onclick="openZhcxDetail('<pname>','<caseCode>','<opaque>')";
//     pages are padded to 10 rows with invisible placeholder rows without a.View;
//     serial numbers restart on each page; some filing dates are empty;
//   - pager #page-div: #first-btn, #pre-btn, #next-btn (disabled on the last page),
//     #last-btn, #goto, hidden #currentPage, #currentPage-show, #totalPage-show,
//     #totalSize-show (class hide), text like 1/21页;
//   - no match: 在全国法院（包含地方各级法院）范围内没有找到 <name> 相关的结果。;
//   - detail: openZhcxDetail posts to /gkw/zhcx/detailZhcx, puts the answer in
//     sessionStorage and opens detail.html in a new tab, which fills
//     #detail-sections with tables of <td><strong>标签：</strong></td><td>值</td> rows,
//     empty values as —, an error box #detail-error (class hide) and one 关闭
//     button whose goBack() closes the tab; ID numbers masked.
//
// [sim choice] where the note is silent:
//   - the token: a passed challenge's id is captchaId and the check answers pCode
//     (validToken); both live in the form's hidden inputs #captchaId and #pCode;
//     #captchaId takes each new challenge's id as it arrives (before the widget is
//     ready), #pCode is empty until success and emptied when a token is refused;
//   - a token lives Config.GkwTokenTTL (60s) from its success and serves
//     Config.GkwTokenUses (20) searches (page turns count, details do not); the
//     next search is refused and kills it, details then are refused too; a
//     challenge takes one check, within Config.GkwChallengeTTL (5m);
//   - the widget opens (as a popup over the page) when a search or detail needs a
//     token; after a refused token it opens by itself and the refused action runs
//     again after success; closing it drops that action;
//   - answers: {"success","code","msg","data"}; searches give data {currentPage,
//     pageSize, totalPage (1 for none), totalSize, result [{id (32 hex, opaque,
//     new each run), pname, caseCode, regDate}]}; a refused token code 401 msg
//     安全验证已失效。请重新验证。; an empty name HTTP 400; a detail the classic field
//     names with id opaque, or code 404 for an unknown id (detail.html then shows
//     #detail-error); captcha create and check codes as Tianai's: 200, 4000
//     验证码已失效 (unknown, used or old challenge), 4001 基础校验失败 (not solved),
//     403 无效参数 (HTTP 400);
//   - a fresh challenge's type is random unless Config.GkwCaptchaType forces one;
//     after a failed check the next challenge of that widget (the create request
//     carries previousId) is the other type;
//   - images: background 600x360 JPEG of a drawn landscape shown at 300x180 CSS px
//     (2 image px per CSS px); SLIDER template a 110x360 PNG strip with the piece
//     (shown 55x180), the piece's left edge must end within 2% of the width (12
//     image px, 6 CSS px) of its hole, the piece moves with the slider button, the
//     track's x is the piece's offset in CSS px and the last point counts; no
//     check that the drag slows down; WORD_IMAGE_CLICK: 5 characters of A-Z2-8
//     without look-alikes (Go Bold, turned, with a white halo), the template a
//     240x60 PNG of the 4 to click in order, each click within 28 image px (14 CSS
//     px) of its character's centre, the check sent by itself after the 4th click;
//     after a failed check the widget shows a tip for 0.6 s, then loads anew;
//   - the pill says 验证未通过，请重新验证。 after a failed check and nothing while the
//     first widget loads; it keeps 验证已通过，正在查询… after the results arrive;
//   - a search answer the page does not know (busy, garbage, bad JSON) changes
//     nothing on the page; a second, hidden 查询 button sits in a hidden
//     .advanced-search block; the no-match sentence and the failed-search markup
//     sit in one <tr><td colspan="5"> of #tbody-result, with #result-thead and
//     #page-div hidden;
//   - detail sections 被执行人信息 and 失信被执行人信息 with the classic labels plus
//     年龄：, 法定代表人或者负责人姓名： (—), 已履行部分：, 未履行部分：; the
//     sessionStorage key is zhcxDetail; detail.html sits next to each search page;
//   - GET /gkw/sx/getPersonList is not served (unverified, and a list without a
//     verification would be a way around the captcha);
//   - fault paths: searchZhcx, searchSX, detailZhcx, captcha (create), check.
//
// # Side door
//
// The side door (Config.SideDoor, off by default; 404 when off) serves
// GET /__sim/captcha, GET /__sim/gkw/captcha?id=<challenge id>, GET /__sim/people
// and POST /__sim/fault for tests; the same is available in Go as
// Sim.CaptchaAnswer, Sim.GkwCaptcha, Sim.People and Sim.InjectFault. For gkw the
// id is the page's #captchaId (also data.id of the create answer); the answer
// tells the type, the slider's target offset in image and CSS px (the distance
// to drag the button) and the points to click in order in image and CSS px from
// the top-left of #tianai-captcha-slider-bg-img.
package courtsim
