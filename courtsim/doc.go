// Package courtsim simulates the court site 中国执行信息公开网 (zxgk.court.gov.cn)
// so the scraper can be developed and tested offline. It serves the "classic"
// 失信被执行人 search (/shixin/); the 2026 "gkw" front end is to join it, reusing
// the data set, WAF, faults and side door, which live in their own files.
//
// Faithful to /work/shared/zxgk-site.md (section "classic"):
//   - the search page at /shixin/ and /shixin/index_form.do with #pName, #pCardNum,
//     pProvince (0 = 全部), #yzm sent as pCode, hidden #captchaId of 32 [0-9A-Za-z],
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
//   - faults (waf, busy, garbage, slow, bad_json) queue in order and hit only pages the
//     site has; a fault other than slow answers without touching the captcha;
//   - Config.Latency delays every site answer.
//
// The side door (Config.SideDoor, off by default; 404 when off) serves
// GET /__sim/captcha, GET /__sim/people and POST /__sim/fault for tests; the same
// is available in Go as Sim.CaptchaAnswer, Sim.People and Sim.InjectFault.
package courtsim
