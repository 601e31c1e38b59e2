// search.js: the gkw search pages. One verification gives a token
// (captchaId, pCode) kept in the form's hidden inputs and reused by every
// search, page turn and detail until the server says it is dead.
(function () {
  'use strict';

  var PASSED = '验证已通过，正在查询…';
  var EXPIRED = '验证已失效：';
  var FAILED = '验证未通过，请重新验证。';
  var WARNING = '<p class="bg-warning warning-result"><span class="important">验证码错误或验证码已过期。</span></p>';
  var PAGE_SIZE = 10;
  var DETAIL_URL = '/gkw/zhcx/detailZhcx';

  function $(id) { return document.getElementById(id); }

  function esc(s) {
    return String(s == null ? '' : s).replace(/&/g, '&amp;').replace(/</g, '&lt;')
      .replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  // jsq quotes s as a JavaScript string for an onclick attribute.
  function jsq(s) {
    return "'" + String(s == null ? '' : s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
  }

  function post(url, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', url, true);
    xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.onload = function () {
      var d = null;
      try { d = JSON.parse(xhr.responseText); } catch (e) { d = null; }
      done(xhr.status, d);
    };
    xhr.onerror = function () { done(0, null); };
    xhr.send(body);
  }

  var form = document.querySelector('form[data-search-url]');
  var searchURL = form.getAttribute('data-search-url');
  var pending = null;   // what to run once verified
  var searchSeq = 0;    // only the latest search is shown
  var shown = { page: 1, total: 1 };

  function setStatus(text) { $('tianai-rest-captcha-status').textContent = text; }
  function hasToken() { return $('pCode').value !== ''; }

  var captcha = new window.TianaiCaptcha({
    onChallenge: function (id) {
      $('captchaId').value = id;
      $('pCode').value = '';
    },
    onSuccess: function (id, token) {
      $('captchaId').value = id;
      $('pCode').value = token;
      setStatus(PASSED);
      var run = pending;
      pending = null;
      if (run) { run(); }
    },
    onFail: function () { setStatus(FAILED); },
    onClose: function () { pending = null; }
  });

  function verifyThen(run) {
    pending = run;
    captcha.open();
  }

  // tokenDead drops the token and opens a new challenge; the pill keeps
  // saying so until the next verification outcome.
  function tokenDead(msg, run) {
    $('pCode').value = '';
    setStatus(EXPIRED + (msg || '安全验证已失效。请重新验证。'));
    verifyThen(run);
  }

  function formBody() {
    var params = new URLSearchParams(new FormData(form));
    if (!form.contains($('currentPage'))) { params.set('currentPage', $('currentPage').value); }
    return params.toString();
  }

  function submitCaptcha() {
    if ($('pName').value.replace(/^\s+|\s+$/g, '') === '') {
      $('pName').focus();
      return;
    }
    $('currentPage').value = '1';
    search();
  }

  function search() {
    if (!hasToken()) {
      verifyThen(search);
      return;
    }
    var seq = ++searchSeq;
    var name = $('pName').value.replace(/^\s+|\s+$/g, '');
    post(searchURL, formBody(), function (status, d) {
      if (seq !== searchSeq || status !== 200 || !d) { return; }
      if (!d.success && d.code === 401) {
        showWarning();
        tokenDead(d.msg, search);
        return;
      }
      if (d.success && d.data) { showResult(name, d.data); }
    });
  }

  function showWarning() {
    $('tbody-result').innerHTML = '<tr><td colspan="5">' + WARNING + '</td></tr>';
    $('result-thead').classList.add('hide');
    $('page-div').classList.add('hide');
  }

  function showResult(name, data) {
    if (data.totalSize === 0) {
      $('tbody-result').innerHTML = '<tr><td colspan="5"><p class="no-result">在全国法院（包含地方各级法院）范围内没有找到 ' +
        esc(name) + ' 相关的结果。</p></td></tr>';
      $('result-thead').classList.add('hide');
      $('page-div').classList.add('hide');
      return;
    }
    var rows = '', items = data.result || [];
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      rows += '<tr><td>' + (i + 1) + '</td><td>' + esc(it.pname) + '</td><td>' + esc(it.regDate) + '</td><td>' +
        esc(it.caseCode) + '</td><td><a href="javascript:void(0);" class="View" onclick="' +
        esc('openZhcxDetail(' + jsq(it.pname) + ',' + jsq(it.caseCode) + ',' + jsq(it.id) + ')') + '">查看</a></td></tr>';
    }
    for (var k = items.length; k < PAGE_SIZE; k++) {
      rows += '<tr class="placeholder-row"><td>&nbsp;</td><td></td><td></td><td></td><td></td></tr>';
    }
    $('tbody-result').innerHTML = rows;
    $('result-thead').classList.remove('hide');

    shown = { page: data.currentPage, total: data.totalPage };
    $('currentPage').value = String(data.currentPage);
    $('currentPage-show').textContent = data.currentPage;
    $('totalPage-show').textContent = data.totalPage;
    $('totalSize-show').textContent = data.totalSize;
    setDisabled($('first-btn'), shown.page <= 1);
    setDisabled($('pre-btn'), shown.page <= 1);
    setDisabled($('next-btn'), shown.page >= shown.total);
    setDisabled($('last-btn'), shown.page >= shown.total);
    $('page-div').classList.remove('hide');
  }

  function setDisabled(btn, off) {
    btn.disabled = off;
    btn.classList.toggle('disabled', off);
  }

  function goPage(n) {
    $('currentPage').value = String(Math.max(1, Math.min(shown.total, n)));
    search();
  }

  // openZhcxDetail fetches a record, hands it to detail.html through
  // sessionStorage and opens that in a new tab.
  function openZhcxDetail(pname, caseCode, id) {
    var again = function () { openZhcxDetail(pname, caseCode, id); };
    if (!hasToken()) {
      verifyThen(again);
      return;
    }
    var body = new URLSearchParams({
      id: id, caseCode: caseCode, pName: pname, captchaId: $('captchaId').value, pCode: $('pCode').value
    }).toString();
    post(DETAIL_URL, body, function (status, d) {
      if (status !== 200 || !d) { return; }
      if (!d.success && d.code === 401) {
        tokenDead(d.msg, again);
        return;
      }
      sessionStorage.setItem('zhcxDetail', JSON.stringify(d));
      window.open('detail.html', '_blank');
    });
  }

  $('first-btn').addEventListener('click', function () { goPage(1); });
  $('pre-btn').addEventListener('click', function () { goPage(shown.page - 1); });
  $('next-btn').addEventListener('click', function () { goPage(shown.page + 1); });
  $('last-btn').addEventListener('click', function () { goPage(shown.total); });
  $('goto').addEventListener('click', function () {
    var n = parseInt($('goto-page').value, 10);
    if (n > 0) { goPage(n); }
  });

  window.submitCaptcha = submitCaptcha;
  window.search = search;
  window.openZhcxDetail = openZhcxDetail;
})();
