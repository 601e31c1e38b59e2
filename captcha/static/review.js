'use strict';

// Review page of the captcha queue: long-polls for the next challenge, shows
// its image, and sends the person's answer, skip or refresh. Plain script,
// loaded from a file, so a strict Content-Security-Policy can apply.
(function () {
  const API = '/api/v1/captcha/';
  const RETRY_MS = 3000;   // pause after a failed request
  const NOTICE_MS = 4000;  // how long a notice stays
  const WAITING_DELAY_MS = 300;
  const WAITING = '暂无待处理的验证码，正在等待…';

  const $ = (id) => document.getElementById(id);
  const els = {
    backlog: $('backlog'),
    answered: $('answered'),
    skipped: $('skipped'),
    expired: $('expired'),
    status: $('status'),
    work: $('work'),
    image: $('captcha'),
    form: $('answer-form'),
    input: $('answer'),
    skip: $('skip'),
    refresh: $('refresh'),
    notice: $('notice'),
  };
  const counts = { answered: 0, skipped: 0, expired: 0 };
  let current = null; // the challenge on screen
  let sending = false;
  let noticeTimer = 0;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
    els.work.hidden = true;
    els.status.textContent = text;
    els.status.hidden = false;
  }

  function showChallenge(ch) {
    current = ch;
    els.image.dataset.id = ch.id;
    els.image.src = ch.image;
    els.input.value = '';
    els.status.hidden = true;
    els.work.hidden = false;
    els.input.focus();
  }

  // Show the image at twice its own size, whatever that size is.
  els.image.addEventListener('load', () => {
    els.image.width = els.image.naturalWidth * 2;
    els.image.height = els.image.naturalHeight * 2;
  });

  // next long-polls until a challenge arrives; failures are retried after a
  // pause. The waiting message shows only when no challenge comes at once.
  async function next() {
    showStatus('正在获取下一个验证码…');
    const waiting = setTimeout(() => { els.status.textContent = WAITING; }, WAITING_DELAY_MS);
    try {
      for (;;) {
        try {
          const resp = await fetch(API + 'next?wait=25s', {
            cache: 'no-store',
            headers: { Accept: 'application/json' },
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
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      keepalive: keepalive,
    });
  }

  // send posts body for the challenge on screen; on success (or when the
  // challenge expired meanwhile) it counts and moves on to the next one.
  async function send(body, counter) {
    if (!current || sending) return;
    sending = true;
    try {
      const resp = await post(current.id, body, false);
      if (resp.status === 204) {
        if (counter) counts[counter]++;
      } else if (resp.status === 404) {
        counts.expired++;
        notice('该验证码已过期或已被他人处理，已跳到下一个');
      } else if (resp.status === 422) {
        notice('请输入验证码');
        els.input.focus();
        return;
      } else {
        notice('提交失败（' + resp.status + '），请重试');
        return;
      }
    } catch (e) {
      notice('连接中断，请重试');
      return;
    } finally {
      sending = false;
    }
    showCounts();
    next();
  }

  els.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = els.input.value.trim();
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

  // Leaving the page hands the challenge on screen to someone else.
  window.addEventListener('pagehide', () => {
    if (current) post(current.id, { action: 'skip' }, true).catch(() => {});
  });

  next();
})();
