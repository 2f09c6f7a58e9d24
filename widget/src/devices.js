// @ts-check
// One notebook on every device: "Link another device" (a one-time code, as text and as a QR code
// of its URL, with its 10-minute countdown), "Use a link code" (this browser gets its own device
// token for that notebook), and "Your devices" (name, when linked, last used; "Remove" asks first).
// Loaded on demand from My notes, or by the service's /link page (the code in the URL fragment
// fills the field; linking takes the reader's click).
import { deviceName } from './device-name.js';
import { qrSvg } from './qr.js';

/**
 * @typedef {import('./ui.js').Context} Context
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {import('./token-store.js').TokenStore} TokenStore
 * @typedef {{code: string, url: string, expires_at: string}} LinkCode
 * @typedef {{token: string, notebook_id: string, device_id: string}} Redeemed
 * @typedef {{id: string, name: string, created_at: string, last_used_at: string | null, current: boolean}} Device
 * @typedef {object} Linker  the controller's side
 * @property {import('./api.js').Api} api
 * @property {() => TokenStore} tokens  the token in use
 * @property {string} apiBase
 * @property {() => Promise<number>} reload  load this page's notes again; their count
 * @property {boolean} onTrialPage  false on the service's /link page
 */

const CSS = `
.link-code{display:block;width:100%;color:inherit;font:600 clamp(.9em,4.2vw,1.5em)/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.04em;text-align:center;margin:12px 0;padding:10px;border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa;overflow-wrap:anywhere}
.qr{display:block;width:min(200px,60vw);height:auto;margin:8px auto}
.timer{text-align:center;font-weight:600}
.devices li{display:flex;gap:8px;align-items:center;justify-content:space-between;padding:10px 0;border-bottom:1px solid #eaeef2}
.devices .this{display:inline-block;margin-inline-start:6px;padding:0 8px;border-radius:999px;background:#e8effd;color:#1d4ed8;font-size:.85em;font-weight:600}
`;

/** A code as the reader reads it: groups of four joined by dashes (typed back in any case, with or without them). */
export const showCode = (/** @type {string} */ code) =>
  code.includes('-') ? code : code.replace(/(.{4})(?=.)/g, '$1-');

/** "9:05" left until `until` (ms since the epoch), at `now`; "0:00" once past. */
export function timeLeft(/** @type {number} */ until, /** @type {number} */ now) {
  const s = Math.max(0, Math.ceil((until - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}


/** @type {WeakMap<ShadowRoot, ReturnType<typeof build>>} */
const built = new WeakMap();

/**
 * The device dialogs for the interface in `ctx` (built once per widget).
 * @param {Context} ctx
 * @param {Linker} linker
 */
export function devices(ctx, linker) {
  let parts = built.get(ctx.shadow);
  if (!parts) built.set(ctx.shadow, (parts = build(ctx, linker)));
  return parts;
}

/**
 * Run `task` once at a time from `button`, showing failures in `dialog.alert`. (dialogs.js has
 * the same; importing it from here would split the editor's module into two requests.)
 * @param {HTMLButtonElement} button
 * @param {{alert: HTMLElement}} dialog
 * @param {(err: unknown) => string} explain
 * @param {() => Promise<void>} task
 */
async function busy(button, dialog, explain, task) {
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  dialog.alert.textContent = '';
  try {
    await task();
  } catch (err) {
    dialog.alert.textContent = explain(err);
  } finally {
    button.removeAttribute('aria-busy');
  }
}

/**
 * @param {Context} ctx
 * @param {Linker} linker
 */
function build(ctx, linker) {
  const { doc, view, shadow, explain, h, modalDialog, t } = ctx;
  const day = (/** @type {string | null} */ iso) => ctx.day(iso) || t('notYet');
  const { api } = linker;
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];

  // ---- "Link another device" ----
  const link = modalDialog(t('linkAnotherDevice'), ctx.fallback);
  // A read-only field, so that a blocked clipboard can fall back to selecting it.
  const codeText = h('input', { class: 'link-code', id: `${link.heading.id}-code`, readonly: true, spellcheck: 'false' });
  const qr = h('div');
  const timer = h('p', { class: 'timer', role: 'timer' });
  const again = h('button', null, t('newCode'));
  const copyCode = h('button', null, t('copyCode'));
  link.el.append(
    h(
      'p',
      null,
      t('linkHowTo'),
    ),
    h('label', { for: codeText.id }, t('linkCode')),
    codeText,
    qr,
    timer,
    h(
      'p',
      { class: 'muted' },
      t('linkWarning'),
    ),
    h('div', { class: 'row' }, copyCode, again, h('button', { onclick: () => link.close() }, t('close'))),
  );
  let ticking = 0;
  const stopTimer = () => view.clearInterval(ticking);
  link.el.addEventListener('close', stopTimer);

  async function newCode() {
    stopTimer();
    codeText.value = '…';
    qr.replaceChildren();
    timer.textContent = '';
    const made = /** @type {LinkCode} */ (await api.call('POST', '/api/v1/notebooks/me/link-codes', {}));
    const url = new URL(made.url, linker.apiBase).href;
    codeText.value = showCode(made.code);
    qr.replaceChildren(qrSvg(doc, url, t('linkQr')));
    const until = Date.parse(made.expires_at);
    const tick = () => {
      // A widget taken away with the dialog open leaves no timer behind.
      if (!link.el.isConnected) return stopTimer();
      const left = timeLeft(until, Date.now());
      timer.textContent = left === '0:00' ? t('codeExpired') : t('expiresIn', { time: left });
      if (left === '0:00') {
        stopTimer();
        codeText.classList.add('muted');
        ctx.announce(t('codeExpiredSaid'));
      }
    };
    codeText.classList.remove('muted');
    tick();
    ticking = view.setInterval(tick, 1000);
    ctx.announce(t('codeReady'));
  }
  again.addEventListener('click', () => busy(again, link, explain, newCode));
  copyCode.addEventListener('click', () => ctx.copy(codeText, t('codeCopied')));

  // ---- "Use a link code" ----
  const redeem = modalDialog(t('useLinkCode'), ctx.fallback);
  const input = h('input', {
    id: `${redeem.heading.id}-in`,
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    'aria-describedby': `${redeem.heading.id}-hint`,
  });
  const merge = h(
    'p',
    { class: 'note-box', id: `${redeem.heading.id}-merge`, hidden: true },
    t('mergeWarning'),
  );
  const submit = h('button', { type: 'submit', class: 'primary' }, t('linkThisBrowser'));
  const form = h(
    'form',
    null,
    h(
      'p',
      { id: `${redeem.heading.id}-hint` },
      t('redeemHowTo'),
    ),
    h('label', { for: input.id }, t('linkCode')),
    input,
    merge,
    h('div', { class: 'row' }, submit, h('button', { onclick: () => redeem.close() }, t('cancel'))),
  );
  redeem.el.append(form);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, redeem, explain, async () => {
      const code = input.value.trim();
      if (!code) throw new Error(t('typeCodeFirst'));
      const tokens = linker.tokens();
      // Not in an account's place: it would be taken for the account's notebook on the next visit.
      if (tokens.kind === 'account') throw new Error(t('accountAccessRemoved'));
      const before = tokens.usable() ? tokens.read() : null;
      // A used, expired or unknown code: the service's one problem says what to do next.
      /** @type {Redeemed} */
      const got = await api.call('POST', '/api/v1/link-codes/redeem', { code, device_name: deviceName(view.navigator, t) }, null);
      // Nothing lost: the notes this browser had move into the linked notebook before its token goes.
      // If they can't, the new device is taken back (best effort), so no half-linked browser is left.
      if (before) {
        await moveInto(got.token, before).catch(async (err) => {
          await api.call('DELETE', `/api/v1/notebooks/me/devices/${encodeURIComponent(got.device_id)}`, undefined, got.token).catch(() => null);
          throw err;
        });
      }
      tokens.store(got.token);
      const count = await linker.reload();
      ctx.refresh();
      if (!linker.onTrialPage) {
        // The /link page shows no notes: say it here, where the reader is looking.
        form.hidden = true;
        done.hidden = false;
        doneClose.focus();
        return;
      }
      redeem.close();
      ctx.announce(t('linkedCount', { n: count }));
    });
  });
  const doneClose = h('button', { class: 'primary', onclick: () => redeem.close() }, t('close'));
  const done = h(
    'div',
    { hidden: true, role: 'status' },
    h('p', null, h('strong', null, t('linkedDone'))),
    h('p', null, t('linkedDoneHint')),
    h('div', { class: 'row' }, doneClose),
  );
  redeem.el.append(done);

  /** Move the notebook of `from` into the one of `into`; a notebook already gone has nothing to move. */
  async function moveInto(/** @type {string} */ into, /** @type {string} */ from) {
    try {
      await api.call('POST', '/api/v1/notebooks/me/imports', { token: from }, into);
    } catch (err) {
      // `into` was issued a moment ago: a 401 is the service refusing `from` (removed, or unknown);
      // "the token of this notebook": this browser was on that notebook already. Nothing to move.
      const e = /** @type {{status?: number, errors?: Record<string, unknown>}} */ (err);
      if (!(e.status === 401 || (e.status === 422 && /of this notebook/.test(String(e.errors?.token))))) throw err;
    }
  }

  // ---- "Your devices" ----
  const list = modalDialog(t('yourDevices'), ctx.fallback);
  const items = h('ul', { class: 'devices' });
  const listHeading = list.heading;
  const confirmText = h('p');
  const yes = h('button', { class: 'primary' }, t('yesRemove'));
  const keepIt = h('button', null, t('keepIt'));
  const confirm = h('div', { class: 'note-box', hidden: true }, confirmText, h('div', { class: 'row' }, yes, keepIt));
  list.el.append(
    h('p', { class: 'muted' }, t('devicesIntro')),
    items,
    confirm,
    h('div', { class: 'row' }, h('button', { onclick: () => list.close() }, t('close'))),
  );
  /** @type {Device | null} */
  let removing = null;
  /** @type {Device[]} */
  let known = [];

  async function showDevices() {
    items.replaceChildren(h('li', { class: 'muted' }, t('loading')));
    known = await api.all('/api/v1/notebooks/me/devices', 'devices', 50);
    items.replaceChildren(
      ...known.map((d) => {
        const remove = h('button', { 'aria-label': t('removeNamed', { name: d.name }) }, t('remove'));
        remove.addEventListener('click', () => ask(d));
        return h(
          'li',
          null,
          h(
            'span',
            null,
            h('strong', null, d.name || t('aBrowser')),
            d.current ? h('span', { class: 'this' }, t('thisBrowser')) : null,
            h('br'),
            h('span', { class: 'muted' }, t('linkedUsed', { linked: day(d.created_at), used: day(d.last_used_at) })),
          ),
          remove,
        );
      }),
    );
    if (!known.length) items.append(h('li', { class: 'muted' }, t('noDevices')));
  }

  function ask(/** @type {Device} */ d) {
    removing = d;
    // The service deletes a notebook with its last device, unless a host site's account keeps it.
    const last = known.length === 1;
    confirmText.textContent = last && linker.tokens().kind === 'account'
      ? t('removeAccount')
      : last
      ? d.current ? t('removeLastThis') : t('removeLast', { name: d.name })
      : d.current
        ? t('removeThis')
        : t('removeOther', { name: d.name });
    confirm.hidden = false;
    keepIt.focus();
  }
  keepIt.addEventListener('click', () => {
    confirm.hidden = true;
    listHeading.focus();
  });
  yes.addEventListener('click', () =>
    busy(yes, list, explain, async () => {
      const d = removing;
      if (!d) return;
      await api.call('DELETE', `/api/v1/notebooks/me/devices/${encodeURIComponent(d.id)}`);
      confirm.hidden = true;
      removing = null;
      if (d.current) {
        // This browser's token stopped working: it goes, and the page shows no notes.
        linker.tokens().forget();
        await linker.reload();
        list.close();
        ctx.refresh();
        ctx.announce(t('removedThis'));
        return;
      }
      await showDevices();
      listHeading.focus();
      ctx.announce(`${d.name} was removed.`);
    }),
  );

  for (const d of [link, redeem, list]) {
    ctx.register(d);
    shadow.append(d.el);
  }

  return {
    /**
     * Open one of the dialogs; `code` fills "Use a link code" (the /link page), linked on a click.
     * @param {'link' | 'redeem' | 'devices'} what
     * @param {Focusable | null} from
     * @param {string} [code]
     */
    open(what, from, code) {
      if (what === 'link') {
        link.open(from);
        busy(again, link, explain, newCode);
        again.focus();
      } else if (what === 'redeem') {
        form.hidden = false;
        done.hidden = true;
        redeem.open(from);
        const tokens = linker.tokens();
        merge.hidden = !tokens.usable();
        // The button says what moving this browser's notes means before it is pressed.
        if (merge.hidden) submit.removeAttribute('aria-describedby');
        else submit.setAttribute('aria-describedby', merge.id);
        input.value = code ?? '';
        // A code from the /link page's address only fills the field: linking (and moving this
        // browser's notes into that notebook) waits for the reader's click, so that a link someone
        // else sent can't take them. The button then has the focus, the warning above it in view.
        if (code) submit.focus();
        else input.focus();
      } else {
        confirm.hidden = true;
        list.open(from);
        listHeading.focus();
        busy(yes, list, explain, showDevices);
      }
    },
  };
}
