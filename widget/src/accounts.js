// @ts-check
// Accounts a host site vouches for. A page whose widget tag has `data-grant-url` asks that URL
// (on the host, with the host's own cookies) for a grant: a short-lived JWT the host signs for its
// signed-in reader. The service trades it for a device token of that reader's notebook
// (POST /api/v1/grants), kept beside this browser's own notebook, never over it: signing out on
// the host (the grant URL answers 401 or 403, or gives no grant) forgets the account's token, and
// the browser's own notes show again. When this browser has notes of its own, the reader is
// offered to move them into the account (POST /api/v1/notebooks/me/imports); nothing is lost
// either way. Loaded only on pages whose tag names a grant URL.
import { deviceName } from './device-name.js';

/**
 * @typedef {import('./token-store.js').TokenStore} TokenStore
 * @typedef {import('./ui.js').Context} Context
 * @typedef {object} Vouching
 * @property {Window & typeof globalThis} view
 * @property {import('./api.js').Api} api
 * @property {string} apiBase
 * @property {string} grantUrl  absolute, or relative to the page
 * @property {TokenStore} own  this browser's own notebook
 * @property {TokenStore} account  the vouched notebook's token ('account' in localStorage)
 * @property {typeof import('./i18n.js').t} t  the widget's words (handed over: this module adds no chunk to the first load)
 */

const CSS = `
.notice{position:fixed;inset-inline-end:16px;bottom:76px;z-index:2147483001;width:min(384px,calc(100vw - 32px));background:#fff;border:1px solid #1d4ed8;border-inline-start-width:6px;border-radius:8px;padding:12px 14px;box-shadow:0 4px 16px rgba(0,0,0,.2)}
.notice h3{margin:0 0 4px}
.notice .row{margin-top:10px}
`;

/** The reader the grant is for, as `iss` and `sub` (read, not verified: the service verifies). */
export function grantSubject(/** @type {string} */ grant) {
  try {
    const part = grant.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part));
    return typeof claims.iss === 'string' && typeof claims.sub === 'string' ? `${claims.iss}\n${claims.sub}` : null;
  } catch {
    return null;
  }
}

/** A SHA-256 of the reader, so localStorage names no host user id. */
async function fingerprint(/** @type {Window & typeof globalThis} */ view, /** @type {string} */ who) {
  const digest = await view.crypto.subtle.digest('SHA-256', new TextEncoder().encode(who));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// A host that does not answer within this long is taken as one that could not be asked: a note
// saved meanwhile waits for the sign-in, and must not wait forever.
export const GRANT_WAIT_MS = 10_000;

/**
 * Ask the host for a grant: the grant, null when the reader is signed out (401, 403, no grant),
 * undefined when the host could not be asked (offline, a 5xx, no answer in GRANT_WAIT_MS):
 * then nothing changes.
 * @param {Window & typeof globalThis} view
 * @param {string} url
 * @returns {Promise<string | null | undefined>}
 */
export async function fetchGrant(view, url, wait = GRANT_WAIT_MS) {
  let response;
  try {
    const signal = view.AbortSignal.timeout(wait);
    response = await view.fetch(url, { credentials: 'include', cache: 'no-store', headers: { Accept: 'application/json' }, signal });
  } catch {
    return undefined;
  }
  if (response.status === 401 || response.status === 403) return null;
  if (!response.ok) return undefined;
  try {
    const { grant } = await response.json();
    return typeof grant === 'string' && grant ? grant : null;
  } catch {
    return null;
  }
}

/**
 * The token store the widget should use on this page: the account's while the host vouches for
 * a signed-in reader, else this browser's own. A grant the service refuses leaves the reader on
 * their own notebook, with `refusal` saying why.
 * @param {Vouching} v
 * @returns {Promise<{tokens: TokenStore, refusal?: unknown, created?: boolean, mark?: string}>}
 */
export async function vouchedTokens({ view, api, apiBase, grantUrl, own, account, t }) {
  const { kept, keep } = who(view, apiBase);
  // Signing out (or another reader signing in) takes this browser's device out of the account,
  // so sign-ins don't pile up devices; best effort: the token is forgotten here either way.
  const leave = async () => {
    const token = account.read();
    if (token && kept.device) {
      await api.call('DELETE', `/api/v1/notebooks/me/devices/${encodeURIComponent(kept.device)}`, undefined, token).catch(() => null);
    }
    account.forget();
    keep(null);
  };

  const grant = await fetchGrant(view, new URL(grantUrl, view.location.href).href);
  if (grant === undefined) return { tokens: account.read() ? account : own };
  if (grant === null) {
    await leave();
    return { tokens: own };
  }
  const mark = await markOf(view, grant);
  if (account.read() && mark && kept.mark === mark) return { tokens: account, mark };
  if (account.read()) await leave();
  try {
    const got = await exchange({ view, api, apiBase, account, t }, grant, mark);
    return { tokens: account, created: got.created, mark };
  } catch (refusal) {
    return { tokens: own, refusal };
  }
}

/**
 * Which reader the account's token is for, and its device, kept in localStorage (storage may be
 * blocked: then nothing).
 * @param {Window} view
 * @param {string} apiBase
 */
function who(view, apiBase) {
  const whoKey = `trial-notes:account-who:${apiBase}`;
  /** @type {{mark?: string, device?: string}} */
  let kept = {};
  try {
    kept = JSON.parse(view.localStorage.getItem(whoKey) ?? '{}') ?? {};
  } catch {
    // nothing kept
  }
  const keep = (/** @type {{mark?: string, device?: string} | null} */ value) => {
    try {
      if (value) view.localStorage.setItem(whoKey, JSON.stringify(value));
      else view.localStorage.removeItem(whoKey);
    } catch {
      // nothing kept
    }
  };
  return { kept, keep };
}

/** The mark a grant's reader is kept by (undefined when the grant names nobody). */
async function markOf(/** @type {Window & typeof globalThis} */ view, /** @type {string} */ grant) {
  const subject = grantSubject(grant);
  return subject ? fingerprint(view, subject) : undefined;
}

/**
 * Trade a grant for a new device token of the reader's account notebook, and keep it.
 * @param {Pick<Vouching, 'view' | 'api' | 'apiBase' | 'account' | 't'>} v
 * @param {string} grant
 * @param {string | undefined} mark
 * @returns {Promise<{token: string, device_id: string, created: boolean}>}
 */
async function exchange({ view, api, apiBase, account, t }, grant, mark) {
  /** @type {{token: string, device_id: string, created: boolean}} */
  const got = await api.call('POST', '/api/v1/grants', { grant, device_name: deviceName(view.navigator, t) }, null);
  account.store(got.token);
  who(view, apiBase).keep({ mark, device: got.device_id });
  return got;
}

/**
 * How the widget's calls get a new account token when the service refuses this one: this
 * browser's device was removed from the account (on another device), but the host still vouches
 * for the same reader, so its grant adds this browser again (a new device of the same notebook:
 * DESIGN.md, "the next grant adds a device") and the call goes once more. Nothing changes when
 * the token is not the account's, the host can't be asked, the reader signed out or another one
 * signed in (the next page load sees to those), or the service refuses the grant: the 401 stands.
 * Refusals at once share one renewal; a call refused with a token the account had before goes
 * again with the one it holds now (renewed meanwhile, in this tab or another, for the same
 * reader). Two tabs refused at the same moment each trade a grant: one device more, listed.
 * @param {Vouching} v
 * @param {string | undefined} reader  the signed-in reader's mark (`vouchedTokens`), kept here too
 *   for a page that may not keep localStorage
 * @returns {(token: string) => Promise<string | null>}
 */
export function renewal(v, reader) {
  const { view, grantUrl, account } = v;
  /** @type {Promise<string | null> | null} */
  let pending = null;
  const held = new Set([account.read()]); // the account's tokens this page has known
  const renew = async (/** @type {string} */ refused) => {
    const grant = await fetchGrant(view, new URL(grantUrl, view.location.href).href);
    const mark = grant ? await markOf(view, grant) : undefined;
    if (!grant || !mark || mark !== reader || account.read() !== refused) return null;
    try {
      const { token } = await exchange(v, grant, mark);
      held.add(token);
      return token;
    } catch {
      return null;
    }
  };
  return (token) => {
    const now = account.read();
    const kept = who(view, v.apiBase).kept.mark; // none where storage is blocked: no other tab shares it
    if (now && now !== token && held.has(token) && (kept === undefined || kept === reader)) return Promise.resolve(now);
    if (token !== now) return Promise.resolve(null); // not the account's (this browser's own, an import's)
    pending ??= renew(token).finally(() => (pending = null));
    return pending;
  };
}

/**
 * `call` for a widget using the account's token: when the service refuses the token sent (401),
 * and `renew` gives a new one, the call goes once more with it. (A 401 is answered before anything
 * is done: sending it again does nothing twice.) Only a refusal of the token itself: a 401 naming
 * a field (a notebook's token in an import's body, a grant) refuses what was sent, not who sent it.
 * @param {import('./api.js').Api['call']} call
 * @param {TokenStore} account  the store whose token a call sends unless given another
 * @param {(token: string) => Promise<string | null>} renew
 * @returns {import('./api.js').Api['call']}
 */
export function renewing(call, account, renew) {
  return async (method, path, body, token = account.read()) => {
    try {
      return await call(method, path, body, token);
    } catch (err) {
      const refused = /** @type {{status?: number, errors?: unknown}} */ (err);
      const again = refused.status === 401 && !refused.errors && token && (await renew(token));
      if (!again) throw err;
      return call(method, path, body, again);
    }
  };
}

/**
 * Sign in with the host's grant and show the notes of the notebook that gives; offer to move this
 * browser's own notes into the account when it has some.
 * @param {Vouching} v
 * @param {{ui: import('./ui.js').UI, use: (tokens: TokenStore) => void, load: () => Promise<number>,
 *   showError: (err: unknown) => void}} widget
 */
export async function signIn(v, { ui, use, load, showError }) {
  const { t } = v;
  const { tokens, refusal, mark } = await vouchedTokens(v);
  if (tokens === v.account) v.api.call = renewing(v.api.call, v.account, renewal(v, mark));
  use(tokens);
  await load();
  // Said in the service's words, and not as a 401 of this browser's own token (which is fine).
  if (refusal) return showError(new Error(t('accountRefused', { why: refusal instanceof Error ? refusal.message : '' }).trim()));
  const count = tokens === v.account ? await ownNoteCount(v.api, v.own) : 0;
  if (count) ui.withModule(async () => null, (_, ctx) => offerMove(ctx, { ...v, count, reload: load }));
}

/**
 * How many notes this browser's own notebook holds (0 when it has none, or its token is refused).
 * @param {import('./api.js').Api} api
 * @param {TokenStore} own
 */
export async function ownNoteCount(api, own) {
  const token = own.read();
  if (!token) return 0;
  try {
    /** @type {{total?: number}} */
    const page = await api.call('GET', '/api/v1/notebooks/me/export?limit=1', undefined, token);
    return page.total ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Offer to move this browser's own notes into the account: "Move them" imports them (and the
 * browser's own token goes: its notebook is gone), "Keep them apart" leaves both as they are
 * (asked again on a later visit: nothing is decided for the reader).
 * @param {Context} ctx
 * @param {{api: import('./api.js').Api, own: TokenStore, account: TokenStore, count: number,
 *   reload: () => Promise<number>}} move
 */
export function offerMove(ctx, { api, own, account, count, reload }) {
  const { h, view, shadow, t } = ctx;
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
  const alert = h('div', { class: 'alert', role: 'alert' });
  const moveButton = h('button', { class: 'primary' }, t('moveIn'));
  const id = `tn-move-${Date.now()}`;
  const notice = h(
    'div',
    { class: 'notice', role: 'region', 'aria-labelledby': id },
    h('h3', { id }, t('beforeSignIn')),
    h(
      'p',
      null,
      t('moveOffer', { n: count }),
    ),
    alert,
    h('div', { class: 'row' }, moveButton, h('button', { onclick: () => close() }, t('keepApart'))),
  );
  // Gone with the focus in it: the focus goes on to the launcher, not back to the page's top.
  const close = () => {
    const focused = notice.contains(shadow.activeElement);
    notice.remove();
    if (focused) /** @type {HTMLElement | null} */ (shadow.querySelector('.launcher'))?.focus();
  };
  moveButton.addEventListener('click', async () => {
    if (moveButton.getAttribute('aria-busy') === 'true') return;
    moveButton.setAttribute('aria-busy', 'true');
    alert.textContent = '';
    try {
      /** @type {{moved: number}} */
      const done = await api.call('POST', '/api/v1/notebooks/me/imports', { token: own.read() }, account.read());
      own.forget(); // the service deleted that notebook once its notes moved
      await reload();
      close();
      ctx.refresh();
      ctx.announce(t('moved', { n: done.moved }));
    } catch (err) {
      // A 401 names the browser's own token (the account's was just accepted): nothing left to move.
      if (err instanceof Error && 'status' in err && err.status === 401) {
        own.forget();
        close();
        ctx.announce(t('moveGone'));
      } else {
        alert.textContent = ctx.explain(err);
      }
    } finally {
      moveButton.removeAttribute('aria-busy');
    }
  });
  shadow.append(notice);
}
