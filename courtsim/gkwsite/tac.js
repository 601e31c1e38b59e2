// tac.js: a Tianai-like behavioural captcha in the main document (no
// iframe, no canvas). #tianai-captcha is created only once the images have
// loaded, so its presence means "ready".
(function () {
  'use strict';

  var CREATE_URL = '/gkw/zhcx/captcha/captcha';
  var CHECK_URL = '/gkw/zhcx/captcha/captcha/check';
  var SHOW_W = 300, SHOW_H = 180; // the background as shown, CSS px
  var PIECE_W = 55;               // the slider piece and button, CSS px
  var RETRY_DELAY = 600;          // ms the failure tip shows before a new challenge

  function el(id) { return document.getElementById(id); }

  function post(url, contentType, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', url, true);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
    xhr.onload = function () {
      var d = null;
      try { d = JSON.parse(xhr.responseText); } catch (e) { d = null; }
      done(xhr.status, d);
    };
    xhr.onerror = function () { done(0, null); };
    xhr.send(body);
  }

  // TianaiCaptcha drives the widget inside #tianai-captcha-parent.
  // opts: onChallenge(id) when a challenge arrives, onSuccess(id, token),
  // onFail() after a refused check, onClose() when the person closes it.
  function TianaiCaptcha(opts) {
    var self = this;
    this.opts = opts;
    this.seq = 0;        // drops answers of a widget that was replaced
    this.lastId = '';    // the previous challenge: after a failure the server switches type
    this.unbind = null;  // removes document listeners of the current widget
    el('tianai-captcha-slider-refresh-btn').addEventListener('click', function () { self.reload(); });
    el('tianai-captcha-slider-close-btn').addEventListener('click', function () {
      self.close();
      if (opts.onClose) { opts.onClose(); }
    });
  }

  TianaiCaptcha.prototype.open = function () {
    if (!document.querySelector('.tianai-captcha-ui-overlay')) {
      var overlay = document.createElement('div');
      overlay.className = 'tianai-captcha-ui-overlay';
      document.body.appendChild(overlay);
    }
    el('tianai-captcha-parent').style.display = 'block';
    this.reload();
  };

  TianaiCaptcha.prototype.close = function () {
    this.seq++;
    this.removeWidget();
    var overlay = document.querySelector('.tianai-captcha-ui-overlay');
    if (overlay) { overlay.parentNode.removeChild(overlay); }
    el('tianai-captcha-parent').style.display = 'none';
  };

  TianaiCaptcha.prototype.removeWidget = function () {
    if (this.unbind) { this.unbind(); this.unbind = null; }
    var w = el('tianai-captcha');
    if (w) { w.parentNode.removeChild(w); }
  };

  TianaiCaptcha.prototype.reload = function () {
    var self = this, seq = ++this.seq;
    this.removeWidget();
    var loading = el('tianai-captcha-loading');
    loading.querySelector('.loading-text').textContent = '加载中…';
    loading.style.display = 'block';
    post(CREATE_URL, 'application/x-www-form-urlencoded; charset=UTF-8',
      'previousId=' + encodeURIComponent(this.lastId), function (status, d) {
        if (seq !== self.seq) { return; }
        if (status !== 200 || !d || !d.success || !d.data) {
          loading.querySelector('.loading-text').textContent = '验证码加载失败，请点击刷新';
          return;
        }
        self.lastId = d.data.id;
        self.opts.onChallenge(d.data.id);
        self.preload(d.data, seq);
      });
  };

  // preload waits for both images before the widget is built.
  TianaiCaptcha.prototype.preload = function (data, seq) {
    var self = this, left = 2;
    var loaded = function () {
      left--;
      if (left === 0 && seq === self.seq) { self.build(data, seq); }
    };
    var failed = function () {
      if (seq === self.seq) {
        el('tianai-captcha-loading').querySelector('.loading-text').textContent = '验证码加载失败，请点击刷新';
      }
    };
    [data.backgroundImage, data.templateImage].forEach(function (src) {
      var img = new Image();
      img.onload = loaded;
      img.onerror = failed;
      img.src = src;
    });
  };

  TianaiCaptcha.prototype.build = function (data, seq) {
    var w = document.createElement('div');
    w.id = 'tianai-captcha';
    if (data.type === 'SLIDER') {
      this.buildSlider(w, data, seq);
    } else {
      this.buildWordClick(w, data, seq);
    }
    el('tianai-captcha-loading').style.display = 'none';
    el('tianai-captcha-box').appendChild(w);
  };

  TianaiCaptcha.prototype.buildSlider = function (w, data, seq) {
    var self = this;
    w.className = 'tianai-captcha-slider';
    w.innerHTML =
      '<div class="slider-tip"><span id="tianai-captcha-slider-move-track-font">拖动滑块完成拼图</span></div>' +
      '<div class="content">' +
      '<div class="bg-img-div"><img id="tianai-captcha-slider-bg-img" draggable="false" alt=""></div>' +
      '<div class="slider-img-div" id="tianai-captcha-slider-img-div"><img id="tianai-captcha-slider-move-img" draggable="false" alt=""></div>' +
      '<div class="tianai-captcha-tips" id="tianai-captcha-tips"></div>' +
      '</div>' +
      '<div class="slider-move">' +
      '<div class="slider-move-track"><div id="tianai-captcha-slider-move-track-mask"></div><div class="slider-move-shadow"></div>向右拖动滑块填充拼图</div>' +
      '<div class="slider-move-btn" id="tianai-captcha-slider-move-btn"></div>' +
      '</div>';
    w.querySelector('#tianai-captcha-slider-bg-img').src = data.backgroundImage;
    w.querySelector('#tianai-captcha-slider-move-img').src = data.templateImage;
    var btn = w.querySelector('#tianai-captcha-slider-move-btn');
    var piece = w.querySelector('#tianai-captcha-slider-img-div');
    var mask = w.querySelector('#tianai-captcha-slider-move-track-mask');
    var maxX = SHOW_W - PIECE_W;
    var drag = null, done = false;

    var move = function (e) {
      if (!drag) { return; }
      var x = Math.max(0, Math.min(maxX, e.pageX - drag.sx));
      drag.x = x;
      btn.style.transform = 'translate(' + x + 'px, 0px)';
      piece.style.transform = 'translate(' + x + 'px, 0px)';
      mask.style.width = x + 'px';
      drag.track.push({ x: Math.round(x), y: Math.round(e.pageY - drag.sy), type: 'move', t: Date.now() - drag.start });
    };
    var up = function (e) {
      if (!drag) { return; }
      var d = drag;
      drag = null;
      done = true;
      d.track.push({ x: Math.round(d.x), y: Math.round(e.pageY - d.sy), type: 'up', t: Date.now() - d.start });
      self.check(data.id, {
        bgImageWidth: SHOW_W, bgImageHeight: SHOW_H,
        templateImageWidth: PIECE_W, templateImageHeight: SHOW_H,
        startTime: d.start, stopTime: Date.now(), trackList: d.track
      }, seq);
    };
    btn.addEventListener('mousedown', function (e) {
      if (done) { return; }
      e.preventDefault();
      drag = { sx: e.pageX, sy: e.pageY, x: 0, start: Date.now(), track: [] };
      drag.track.push({ x: 0, y: 0, type: 'down', t: 0 });
    });
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
    this.unbind = function () {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
    };
  };

  TianaiCaptcha.prototype.buildWordClick = function (w, data, seq) {
    var self = this;
    w.className = 'tianai-captcha-word-click';
    w.innerHTML =
      '<div class="click-tip"><span id="tianai-captcha-click-track-font">请依次点击:</span>' +
      '<img id="tianai-captcha-tip-img" class="tip-img" draggable="false" alt=""></div>' +
      '<div class="content">' +
      '<div class="bg-img-div"><img id="tianai-captcha-slider-bg-img" draggable="false" alt=""><div id="bg-img-click-mask"></div></div>' +
      '<div class="tianai-captcha-tips" id="tianai-captcha-tips"></div>' +
      '</div>';
    w.querySelector('#tianai-captcha-slider-bg-img').src = data.backgroundImage;
    w.querySelector('#tianai-captcha-tip-img').src = data.templateImage;
    var clickMask = w.querySelector('#bg-img-click-mask');
    var want = (data.data && data.data.wordCount) || 4;
    var start = Date.now(), track = [];
    clickMask.addEventListener('click', function (e) {
      if (track.length >= want) { return; }
      var r = clickMask.getBoundingClientRect();
      var x = e.clientX - r.left, y = e.clientY - r.top;
      track.push({ x: Math.round(x), y: Math.round(y), type: 'click', t: Date.now() - start });
      var mark = document.createElement('span');
      mark.className = 'click-span';
      mark.textContent = String(track.length);
      mark.style.left = x + 'px';
      mark.style.top = y + 'px';
      clickMask.appendChild(mark);
      if (track.length === want) {
        self.check(data.id, {
          bgImageWidth: SHOW_W, bgImageHeight: SHOW_H,
          templateImageWidth: 120, templateImageHeight: 30,
          startTime: start, stopTime: Date.now(), trackList: track
        }, seq);
      }
    });
  };

  TianaiCaptcha.prototype.tip = function (text, ok) {
    var t = el('tianai-captcha-tips');
    if (!t) { return; }
    t.textContent = text;
    t.className = 'tianai-captcha-tips tianai-captcha-tips-on ' + (ok ? 'tianai-captcha-tips-success' : 'tianai-captcha-tips-error');
  };

  TianaiCaptcha.prototype.check = function (id, trackData, seq) {
    var self = this;
    post(CHECK_URL, 'application/json;charset=UTF-8', JSON.stringify({ id: id, data: trackData }), function (status, d) {
      if (seq !== self.seq) { return; }
      if (status === 200 && d && d.success && d.data) {
        self.close();
        self.opts.onSuccess(d.data.id, d.data.validToken);
        return;
      }
      self.tip(d && d.code === 4000 ? '验证码已失效，请重新验证' : '验证失败，请重新尝试', false);
      self.opts.onFail();
      setTimeout(function () {
        if (seq === self.seq) { self.reload(); }
      }, RETRY_DELAY);
    });
  };

  window.TianaiCaptcha = TianaiCaptcha;
})();
