package courtsim

import "html/template"

// classicIndexData fills the search page.
type classicIndexData struct {
	CaptchaID string
	Provinces []province
}

// classicIndexTemplate is the search page /shixin/. Its ids, names and
// texts are the contract with the scraper; all script is in search.js. The
// province select has only a name: the site note knows it by name only.
var classicIndexTemplate = template.Must(template.New("shixin").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>失信被执行人</title>
<style>
body { font-family: "Microsoft YaHei", sans-serif; margin: 0; background: #f4f4f4; }
.head { background: #b30000; color: #fff; padding: 12px 24px; font-size: 22px; }
.container { width: 900px; margin: 20px auto; background: #fff; padding: 20px; }
.row { margin: 10px 0; }
.row label { display: inline-block; width: 200px; text-align: right; }
.row input, .row select { width: 220px; padding: 4px; }
#captchaImg { vertical-align: middle; cursor: pointer; border: 1px solid #ccc; }
.btn-zxgk { margin-left: 204px; padding: 6px 40px; background: #b30000; color: #fff; border: 0; cursor: pointer; }
#result-block table { width: 100%; border-collapse: collapse; margin-top: 20px; }
#result-block th, #result-block td { border: 1px solid #ddd; padding: 6px; text-align: center; }
#result-pager { margin-top: 10px; text-align: right; }
#frameImg { position: fixed; left: 5%; top: 5%; width: 90%; height: 90%; z-index: 19891014;
  background: #fffbe6; border: 2px solid #b30000; box-shadow: 0 0 20px rgba(0,0,0,.4); }
#frameImg .title { background: #b30000; color: #fff; padding: 8px 12px; font-size: 18px; }
#frameImg .close { position: absolute; right: 12px; top: 8px; color: #fff; text-decoration: none; }
#frameImg .content { padding: 20px; line-height: 2; }
#show { display: none; position: fixed; left: 50%; top: 40px; width: 700px; margin-left: -350px;
  z-index: 19891015; background: #fff; border: 1px solid #999; padding: 16px; }
#partyDetail td { padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
#partyDetail td:first-child { white-space: nowrap; text-align: right; font-weight: bold; }
#layui-layer1 { display: none; position: fixed; left: 50%; top: 30%; width: 300px; margin-left: -150px;
  z-index: 19891016; background: #fff; border: 1px solid #999; box-shadow: 0 0 10px rgba(0,0,0,.3); }
.layui-layer-content { padding: 20px; }
.layui-layer-btn { text-align: right; padding: 0 12px 12px; }
</style>
</head>
<body>
<div class="head">中国执行信息公开网 · 失信被执行人</div>
<div class="container">
  <div class="row"><label for="pName">被执行人姓名/名称：</label><input type="text" id="pName" name="pName" autocomplete="off"></div>
  <div class="row"><label for="pCardNum">身份证号码/组织机构代码：</label><input type="text" id="pCardNum" name="pCardNum" autocomplete="off"></div>
  <div class="row"><label>执行法院范围：</label><select name="pProvince">
    <option value="0" selected>全部</option>
{{- range .Provinces}}
    <option value="{{.Code}}">{{.Name}}</option>
{{- end}}
  </select></div>
  <div class="row"><label for="yzm">验证码：</label><input type="text" id="yzm" name="pCode" maxlength="4" autocomplete="off">
    <img id="captchaImg" width="160" height="70" alt="验证码" title="看不清？点击换一张"></div>
  <input type="hidden" id="captchaId" name="captchaId" value="{{.CaptchaID}}">
  <div class="row"><button type="button" class="btn-zxgk">查询</button></div>

  <div id="result-block">
    <table>
      <thead id="result-thead"><tr><th>序号</th><th>姓名/名称</th><th>立案时间</th><th>案号</th><th>查看</th></tr></thead>
      <tbody id="tbody-result"></tbody>
    </table>
    <div id="result-pager"></div>
  </div>
</div>

<div id="frameImg">
  <div class="title">公告</div>
  <a href="javascript:void(0)" class="close">关闭</a>
  <div class="content">
    <p>根据《最高人民法院关于公布失信被执行人名单信息的若干规定》，本网站公布失信被执行人名单信息。</p>
    <p>查询请输入被执行人姓名/名称及验证码。</p>
  </div>
</div>

<div id="show">
  <a href="javascript:void(0)" class="close-show">关闭</a>
  <table id="partyDetail"></table>
</div>

<div id="layui-layer1" class="layui-layer">
  <div class="layui-layer-content">验证码错误或验证码已过期。</div>
  <div class="layui-layer-btn"><a href="javascript:void(0)" class="layui-layer-btn0">确定</a></div>
</div>

<script src="/shixin/js/search.js"></script>
</body>
</html>
`))

// classicSearchJS is /shixin/js/search.js: captcha refresh, search,
// result rows, pager and detail view.
const classicSearchJS = `(function () {
  'use strict';

  var ERROR_TEXT = '验证码错误或验证码已过期。';
  var LABELS = [
    ['被执行人姓名/名称：', 'iname'],
    ['性别：', 'sexy'],
    ['身份证号码/组织机构代码：', 'cardNum'],
    ['执行法院：', 'courtName'],
    ['省份：', 'areaName'],
    ['执行依据文号：', 'gistId'],
    ['立案时间：', 'regDate'],
    ['案号：', 'caseCode'],
    ['做出执行依据单位：', 'gistUnit'],
    ['生效法律文书确定的义务：', 'duty'],
    ['被执行人的履行情况：', 'performance'],
    ['失信被执行人行为具体情形：', 'disruptTypeName'],
    ['发布时间：', 'publishDate']
  ];

  function $(id) { return document.getElementById(id); }

  function esc(s) {
    return String(s == null ? '' : s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
      .replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  function encodeForm(params) {
    var parts = [];
    for (var k in params) {
      parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(params[k]));
    }
    return parts.join('&');
  }

  // A new image makes the server issue a new code for the same captchaId.
  function refreshCaptcha() {
    $('captchaImg').src = '/shixin/captchaNew.do?captchaId=' + encodeURIComponent($('captchaId').value) +
      '&random=' + Math.random();
  }

  function showError() {
    $('tbody-result').innerHTML = '<p>' + ERROR_TEXT + '</p>';
    $('result-pager').innerHTML = '';
    $('layui-layer1').style.display = 'block';
  }

  function search(page) {
    var body = encodeForm({
      pName: $('pName').value,
      pCardNum: $('pCardNum').value,
      pProvince: document.querySelector('select[name="pProvince"]').value,
      pCode: $('yzm').value,
      captchaId: $('captchaId').value,
      currentPage: page
    });
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/shixin/searchSX.do', true);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.onload = function () { showResult(xhr.status, xhr.responseText); };
    xhr.onerror = function () { showResult(0, ''); };
    xhr.send(body);
  }

  function showResult(status, text) {
    var tbody = $('tbody-result'), pager = $('result-pager');
    if (status === 200 && text.replace(/^\s+|\s+$/g, '') === 'error') {
      showError();
      return;
    }
    var data = null;
    try { data = JSON.parse(text)[0]; } catch (e) { data = null; }
    if (status !== 200 || !data || !data.result) {
      tbody.innerHTML = '';
      pager.innerHTML = '';
      return;
    }
    window.lastSearch = data;
    $('layui-layer1').style.display = 'none';
    var rows = '';
    for (var i = 0; i < data.result.length; i++) {
      var it = data.result[i];
      rows += '<tr><td>' + (i + 1) + '</td><td>' + esc(it.iname) + '</td><td>' + esc(it.regDate) +
        '</td><td>' + esc(it.caseCode) + '</td><td><a href="javascript:void(0)" class="View" data-id="' +
        esc(it.id) + '" data-case="' + esc(it.caseCode) + '">查看</a></td></tr>';
    }
    if (data.totalSize === 0) {
      rows = '<tr><td colspan="5">没有找到相关的结果</td></tr>';
    }
    tbody.innerHTML = rows;
    pager.innerHTML = '<a href="javascript:void(0)" class="prev">上一页</a> ' +
      '<span class="page-info">第 ' + data.currentPage + '/' + data.totalPage + ' 页，共 ' + data.totalSize + ' 条</span> ' +
      '<a href="javascript:void(0)" class="next">下一页</a>';
  }

  function showDetail(id, caseCode) {
    var url = '/shixin/disDetailNew?id=' + encodeURIComponent(id) + '&caseCode=' + encodeURIComponent(caseCode) +
      '&pCode=' + encodeURIComponent($('yzm').value) + '&captchaId=' + encodeURIComponent($('captchaId').value);
    var xhr = new XMLHttpRequest();
    xhr.open('GET', url, true);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.onload = function () {
      var d = null;
      try { d = JSON.parse(xhr.responseText); } catch (e) { d = null; }
      if (xhr.status !== 200 || !d || !d.id) {
        $('layui-layer1').style.display = 'block';
        return;
      }
      var rows = '';
      for (var i = 0; i < LABELS.length; i++) {
        rows += '<tr><td>' + LABELS[i][0] + '</td><td>' + esc(d[LABELS[i][1]]) + '</td></tr>';
      }
      $('partyDetail').innerHTML = rows;
      $('show').style.display = 'block';
    };
    xhr.send();
  }

  function clearedRefresh(e) {
    if (e.target.value === '') { refreshCaptcha(); }
  }

  $('captchaImg').addEventListener('click', refreshCaptcha);
  $('pName').addEventListener('input', clearedRefresh);
  $('pCardNum').addEventListener('input', clearedRefresh);
  document.querySelector('button.btn-zxgk').addEventListener('click', function () { search(1); });
  $('tbody-result').addEventListener('click', function (e) {
    var a = e.target.closest('a.View');
    if (a) { showDetail(a.getAttribute('data-id'), a.getAttribute('data-case')); }
  });
  $('result-pager').addEventListener('click', function (e) {
    var last = window.lastSearch;
    if (!last) { return; }
    if (e.target.classList.contains('prev') && last.currentPage > 1) { search(last.currentPage - 1); }
    if (e.target.classList.contains('next') && last.currentPage < last.totalPage) { search(last.currentPage + 1); }
  });
  document.querySelector('#frameImg .close').addEventListener('click', function () {
    $('frameImg').style.display = 'none';
  });
  document.querySelector('#show .close-show').addEventListener('click', function () {
    $('show').style.display = 'none';
  });
  document.querySelector('#layui-layer1 .layui-layer-btn0').addEventListener('click', function () {
    $('layui-layer1').style.display = 'none';
  });

  refreshCaptcha();
})();
`
