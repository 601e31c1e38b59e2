// detail.js: detail.html shows the answer openZhcxDetail left in
// sessionStorage, one table per section, one row per field.
(function () {
  'use strict';

  var SECTIONS = [
    ['被执行人信息', [
      ['被执行人姓名/名称：', 'iname'],
      ['性别：', 'sexy'],
      ['年龄：', 'age'],
      ['身份证号码/组织机构代码：', 'cardNum'],
      ['法定代表人或者负责人姓名：', 'businessEntity'],
      ['省份：', 'areaName']
    ]],
    ['失信被执行人信息', [
      ['执行法院：', 'courtName'],
      ['执行依据文号：', 'gistId'],
      ['立案时间：', 'regDate'],
      ['案号：', 'caseCode'],
      ['做出执行依据单位：', 'gistUnit'],
      ['生效法律文书确定的义务：', 'duty'],
      ['被执行人的履行情况：', 'performance'],
      ['已履行部分：', 'performedPart'],
      ['未履行部分：', 'unperformPart'],
      ['失信被执行人行为具体情形：', 'disruptTypeName'],
      ['发布时间：', 'publishDate']
    ]]
  ];

  function $(id) { return document.getElementById(id); }

  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  function goBack() { window.close(); }
  window.goBack = goBack;

  var d = null;
  try { d = JSON.parse(sessionStorage.getItem('zhcxDetail')); } catch (e) { d = null; }
  if (!d || !d.success || !d.data) {
    var box = $('detail-error');
    box.textContent = (d && d.msg) || '未获取到详细信息，请关闭本页后重新查询。';
    box.classList.remove('hide');
    return;
  }
  var html = '';
  for (var i = 0; i < SECTIONS.length; i++) {
    var rows = '', fields = SECTIONS[i][1];
    for (var k = 0; k < fields.length; k++) {
      var v = d.data[fields[k][1]];
      rows += '<tr><td><strong>' + fields[k][0] + '</strong></td><td>' +
        (v == null || v === '' ? '—' : esc(v)) + '</td></tr>';
    }
    html += '<div class="detail-section"><h4>' + SECTIONS[i][0] + '</h4><table class="table detail-table"><tbody>' +
      rows + '</tbody></table></div>';
  }
  $('detail-sections').innerHTML = html;
})();
