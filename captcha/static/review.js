'use strict';

// Review page of the captcha queue: long-polls for the next challenge, shows
// its picture, and sends the person's answer, skip or refresh. A text
// challenge is answered by typing; an interactive one (a picture of the court
// site's widget) by clicking and dragging on the picture, each press-to-release
// sent at once as an action in the picture's CSS pixels, with its trajectory
// and timing; the tab replays it and the next picture replaces this one.
// Plain script, loaded from a file, so a strict Content-Security-Policy applies.
(function () {
  const API = '/api/v1/captcha/';
  const OPERATOR_HEADER = 'X-Captcha-Operator';
  const RETRY_MS = 3000;        // pause after a failed request
  const NOTICE_MS = 4000;       // how long a notice stays
  const WAITING_DELAY_MS = 300; // before saying that nothing is waiting
  const ROUND_WAIT_MS = 4000;   // how long the last picture stays, dimmed, while the next round comes
  const MAX_SCALE = 2;          // interactive pictures are shown up to twice their CSS size
  const CLICK_SLOP_PX = 4;      // screen pixels a press may wander and still be a click
  const MAX_POINTS = 2000;      // points of one drag, as the server allows
  const WAITING = '暂无待处理的验证码，正在等待…';

  const $ = (id) => document.getElementById(id);
  const els = {
    main: $('main'),
    backlog: $('backlog'),
    answered: $('answered'),
    skipped: $('skipped'),
    expired: $('expired'),
    status: $('status'),
    work: $('work'),
    hint: $('hint'),
    round: $('round'),
    board: $('board'),
    image: $('captcha'),
    trail: $('trail'),
    boardNote: $('board-note'),
    form: $('answer-form'),
    label: $('answer-label'),
    input: $('answer'),
    skip: $('skip'),
    refresh: $('refresh'),
    notice: $('notice'),
  };
  const counts = { answered: 0, skipped: 0, expired: 0 };
  const operator = operatorID();
  let current = null; // the challenge on screen that can be answered
  let shownKind = 'text';
  let sending = false;
  let gesture = null; // the press in progress on an interactive picture
  let noticeTimer = 0;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  // operatorID is this tab's opaque id: the server offers a verification's
  // next round to whoever answered the previous one. It survives a reload.
  function operatorID() {
    const key = 'captcha-operator';
    try {
      const id = sessionStorage.getItem(key);
      if (id) return id;
    } catch (e) { /* storage disabled: a new id per load */ }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // unlike randomUUID, works over plain http too
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    try { sessionStorage.setItem(key, id); } catch (e) { /* see above */ }
    return id;
  }

  function notice(text) {
    els.notice.textContent = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { els.notice.textContent = ''; }, NOTICE_MS);
  }

  function showCounts() {
    els.answered.textContent = counts.answered;
    els.skipped.textContent = counts.skipped;
    els.expired.textContent = counts.expired;
  }

  function showBacklog(resp) {
    const n = resp.headers.get('X-Captcha-Backlog');
    if (n !== null) els.backlog.textContent = n;
  }

  function showStatus(text) {
    current = null;
    gesture = null;
    els.work.hidden = true;
    els.status.textContent = text;
    els.status.hidden = false;
  }

  function showChallenge(ch) {
    current = ch;
    gesture = null;
    shownKind = ch.kind === 'interactive' ? 'interactive' : 'text';
    const interactive = shownKind === 'interactive';
    els.board.classList.toggle('interactive', interactive);
    els.board.classList.remove('stale');
    els.boardNote.hidden = true;
    els.hint.hidden = !interactive;
    els.trail.hidden = !interactive;
    els.round.textContent = interactive && ch.round > 1 ? '（第 ' + ch.round + ' 步）' : '';
    els.label.textContent = interactive
      ? '需要输入文字时，在此输入后按 Enter'
      : '输入图中字符，按 Enter 提交';
    els.input.maxLength = interactive ? 64 : 16;
    if (interactive) {
      // The CSS size of the widget, scaled up to read well; points map back.
      const scale = Math.min(MAX_SCALE, (els.main.clientWidth - 2) / ch.width);
      const w = Math.round(ch.width * scale);
      const h = Math.round(ch.height * scale);
      els.image.width = w;
      els.image.height = h;
      els.trail.width = w;
      els.trail.height = h;
      clearTrail();
    }
    els.image.dataset.id = ch.id;
    els.image.src = ch.image;
    els.input.value = '';
    els.status.hidden = true;
    els.work.hidden = false;
    els.input.focus();
  }

  // A text captcha is shown at twice its own size, whatever that size is.
  els.image.addEventListener('load', () => {
    if (shownKind !== 'text') return;
    els.image.width = els.image.naturalWidth * 2;
    els.image.height = els.image.naturalHeight * 2;
  });

  // Every request names this tab; a daemon with log-ins also wants the
  // page's CSRF token on each POST (harmless on a GET).
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  function headers(more) {
    const h = { [OPERATOR_HEADER]: operator };
    if (csrfMeta && csrfMeta.content) h['X-CSRF-Token'] = csrfMeta.content;
    return Object.assign(h, more);
  }

  // next long-polls until a challenge arrives; failures are retried after a
  // pause. After an interactive round the last picture stays, dimmed, until
  // the next round replaces it; otherwise a waiting message shows when no
  // challenge comes at once.
  async function next(afterRound) {
    if (afterRound) {
      current = null;
      els.board.classList.add('stale');
      els.boardNote.hidden = false;
    } else {
      showStatus('正在获取下一个验证码…');
    }
    const waiting = setTimeout(() => showStatus(WAITING), afterRound ? ROUND_WAIT_MS : WAITING_DELAY_MS);
    try {
      for (;;) {
        try {
          const resp = await fetch(API + 'next?wait=25s', {
            cache: 'no-store',
            headers: headers({ Accept: 'application/json' }),
          });
          showBacklog(resp);
          if (resp.status === 200) {
            showChallenge(await resp.json());
            return;
          }
          if (resp.status === 204) continue;
          notice('获取验证码失败（' + resp.status + '），稍后重试');
        } catch (e) {
          notice('连接中断，稍后重试');
        }
        await sleep(RETRY_MS);
      }
    } finally {
      clearTimeout(waiting);
    }
  }

  function post(id, body, keepalive) {
    return fetch(API + encodeURIComponent(id), {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
      keepalive: keepalive,
    });
  }

  // send posts body for the challenge on screen; on success (or when the
  // challenge went away meanwhile) it counts and moves on to the next one.
  async function send(body, counter) {
    if (!current || sending) return;
    const ch = current;
    // The next picture of an interactive verification follows an answer or a refresh.
    let afterRound = ch.kind === 'interactive' && body.action !== 'skip';
    sending = true;
    try {
      const resp = await post(ch.id, body, false);
      if (resp.status === 204) {
        if (counter) counts[counter]++;
      } else if (resp.status === 404 || resp.status === 409) {
        counts.expired++;
        afterRound = false;
        notice(resp.status === 409
          ? '该验证码已由他人处理，已跳到下一个'
          : '该验证码已过期或已被他人处理，已跳到下一个');
      } else if (resp.status === 422) {
        notice(ch.kind === 'interactive' ? '操作未被接受，请重新操作' : '请输入验证码');
        clearTrail();
        els.input.focus();
        return;
      } else {
        notice('提交失败（' + resp.status + '），请重试');
        clearTrail();
        return;
      }
    } catch (e) {
      notice('连接中断，请重试');
      clearTrail();
      return;
    } finally {
      sending = false;
    }
    showCounts();
    next(afterRound);
  }

  els.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!current) return;
    const text = els.input.value.trim();
    if (current.kind === 'interactive') {
      if (text === '') {
        notice('请在图上操作，或输入文字后按 Enter');
        return;
      }
      send({ actions: [{ type: 'type', text: text }] }, 'answered');
      return;
    }
    if (text === '') {
      notice('请输入验证码');
      return;
    }
    send({ answer: text }, 'answered');
  });
  els.skip.addEventListener('click', () => send({ action: 'skip' }, 'skipped'));
  els.refresh.addEventListener('click', () => send({ action: 'refresh' }, null));

  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      els.skip.click();
    } else if (ev.altKey && ev.code === 'KeyR') {
      ev.preventDefault();
      els.refresh.click();
    }
  });

  // Pointer input on an interactive picture. A press that barely moves is a
  // click at the press point; otherwise a drag with every position the
  // pointer went through, t in ms after the press, as the site's widget
  // would have seen them.
  els.board.addEventListener('pointerdown', (ev) => {
    if (!current || current.kind !== 'interactive' || sending || gesture || ev.button !== 0) return;
    ev.preventDefault(); // no image drag, no text selection
    els.board.setPointerCapture(ev.pointerId); // moves outside the picture still count
    gesture = {
      ch: current,
      pointerId: ev.pointerId,
      rect: els.image.getBoundingClientRect(),
      t0: ev.timeStamp,
      x0: ev.clientX,
      y0: ev.clientY,
      moved: 0,
      points: [],
    };
    addPoint(ev);
    drawTrail(gesture);
  });

  els.board.addEventListener('pointermove', (ev) => {
    if (!gesture || ev.pointerId !== gesture.pointerId) return;
    const coalesced = typeof ev.getCoalescedEvents === 'function' ? ev.getCoalescedEvents() : [];
    for (const e of coalesced.length ? coalesced : [ev]) addPoint(e);
    drawTrail(gesture);
  });

  els.board.addEventListener('pointerup', (ev) => {
    if (!gesture || ev.pointerId !== gesture.pointerId) return;
    addPoint(ev);
    const g = gesture;
    gesture = null;
    const first = g.points[0];
    const action = g.moved < CLICK_SLOP_PX || g.points.length < 2
      ? { type: 'click', points: [{ x: first.x, y: first.y, t: 0 }] }
      : { type: 'drag', points: g.points };
    drawTrail({ ch: g.ch, points: action.points });
    send({ actions: [action] }, 'answered');
  });

  els.board.addEventListener('pointercancel', (ev) => {
    if (!gesture || ev.pointerId !== gesture.pointerId) return;
    gesture = null;
    clearTrail();
  });

  // addPoint maps a pointer position on the shown picture back to the
  // challenge's CSS pixels (0.1 px), kept on the picture.
  function addPoint(e) {
    const g = gesture;
    const r = g.rect;
    const x = clamp(Math.round((e.clientX - r.left) / r.width * g.ch.width * 10) / 10, 0, g.ch.width);
    const y = clamp(Math.round((e.clientY - r.top) / r.height * g.ch.height * 10) / 10, 0, g.ch.height);
    g.moved = Math.max(g.moved, Math.hypot(e.clientX - g.x0, e.clientY - g.y0));
    const p = { x: x, y: y, t: Math.max(0, Math.round(e.timeStamp - g.t0)) };
    const last = g.points[g.points.length - 1];
    if (last && (p.t <= last.t || g.points.length >= MAX_POINTS)) {
      // The same millisecond (or too long a drag): keep the latest
      // position, but never move the press point.
      if (g.points.length > 1) {
        last.x = p.x;
        last.y = p.y;
        last.t = Math.max(last.t, p.t);
      }
      return;
    }
    g.points.push(p);
  }

  function clearTrail() {
    const c = els.trail;
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }

  // drawTrail shows where the person pressed and dragged: the picture itself
  // does not move until the tab has replayed the action.
  function drawTrail(g) {
    const c = els.trail;
    const ctx = c.getContext('2d');
    const s = c.width / g.ch.width;
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.strokeStyle = 'rgba(220, 60, 20, 0.85)';
    ctx.fillStyle = 'rgba(220, 60, 20, 0.85)';
    ctx.lineWidth = 3;
    ctx.beginPath();
    g.points.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x * s, p.y * s) : ctx.lineTo(p.x * s, p.y * s)));
    ctx.stroke();
    const p0 = g.points[0];
    if (p0) {
      ctx.beginPath();
      ctx.arc(p0.x * s, p0.y * s, 6, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  // Leaving the page hands the challenge on screen to someone else.
  window.addEventListener('pagehide', () => {
    if (current) post(current.id, { action: 'skip' }, true).catch(() => {});
  });

  next(false);
})();
