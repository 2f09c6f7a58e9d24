// @ts-check
// The notes service's JSON API. Cross-origin calls carry no cookies and no
// referrer (the host page's address is none of our business); the owner is
// known only by the bearer token.

import { language, t } from './i18n.js';

/**
 * The shapes the widget reads (the OpenAPI document has them all).
 * @typedef {import('./anchoring.js').Selector} Selector
 * @typedef {{selector?: Selector[]}} Target
 * @typedef {object} Note
 * @property {string} id
 * @property {string} color
 * @property {string} body  sanitized HTML
 * @property {string} created_at
 * @property {string} [updated_at]
 * @property {string} [trial_id]  the trial's NCT number
 * @property {Target | null} [target]  null when the note can't be read
 * @property {boolean} [readable]
 * @property {Change | null} [change]  with anchor "changed": how the trial's text of the passage changed
 * @typedef {{before: string, after: string | null, since: string | null}} Change
 *   the words highlighted, the words there now (null: gone), the data date of the version they changed in
 * @typedef {{target: Target, body: string, color: string, idempotency_key?: string}} NewNote
 *   `idempotency_key`: chosen by the widget, so that a save sent again finds the note it stored
 * @typedef {object} NewShare
 * @property {string[]} note_ids
 * @property {number} expires_in_days
 * @property {string} [passcode]
 * @property {string} [trial_id]
 * @property {string} [sender_name]  shown to the family before the passcode
 * @property {string} [label]  the owner's own name for the share
 * @property {boolean} [replies_allowed]
 * @property {string} [language]  the language the family reads the share in (en, es, ar)
 * @typedef {object} Share
 * @property {string} id
 * @property {string} url  absolute, or relative to the service origin
 * @property {string} [passcode]  only in the answer that made it
 * @property {string | null} [trial_id]
 * @property {string} state  active, expired, revoked, used_up, locked
 * @property {string | null} [expires_at]
 * @property {number} note_count
 * @property {number} views
 * @property {number | null} [max_views]
 * @property {number} [failed_attempts]
 * @property {string[]} [note_ids]
 * @property {string} [created_at]
 * @property {string | null} [label]
 * @property {string | null} [sender_name]
 * @property {boolean} [replies_allowed]
 * @property {number} [reply_count]
 * @property {number} [unread_replies]
 * @typedef {object} Reply  a family member's answer to a shared note
 * @property {string} id
 * @property {string} note_id
 * @property {string} share_id
 * @property {string | null} name  plain text
 * @property {string} body  sanitized HTML, like a note's
 * @property {string} created_at
 * @property {boolean} unread
 * @typedef {Record<string, string | string[]>} FieldErrors
 */

// The 422 `errors` fields a user can fix in the widget: the catalog's names for them ("field.body").
const FIELDS = ['body', 'target', 'passcode', 'sender_name', 'label'];

/**
 * A failed call: status 0 for a network failure, else the problem's (RFC 9457)
 * title/detail/errors. Its message is plain words for the user: the detail (else the
 * title, as a sentence), each invalid field the user can fix, and when to try again.
 */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} title
   * @param {string} [detail]
   * @param {{errors?: FieldErrors, retryAfter?: string | null}} [extra]
   */
  constructor(status, title, detail = '', extra = {}) {
    // Only 422s carry `errors`; fields the widget has no words for are left to the detail. The
    // service's words are a predicate in the reader's language ("must be a string") that cannot agree
    // with our name for the field: `fieldSaid` is a label form ("Passcode: must …"), each language's
    // own, and a field's several messages are listed the language's way ("…, … and …").
    const fields = Object.entries(extra.errors || {}).map(([name, said]) => {
      const field = name.split('.')[0];
      return FIELDS.includes(field) && t('fieldSaid', { field: t(`field.${field}`), said: new Intl.ListFormat(language()).format([said].flat(9).map(String)) });
    });
    // Retry-After in seconds, the form the service sends (a date or junk gives NaN: no wait said).
    const wait = Math.ceil(Number(extra.retryAfter));
    const words = [detail || t('sentence', { title }), ...fields, wait > 0 && t('tryAgainIn', { n: wait })];
    super(words.filter(Boolean).join(' '));
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = extra.errors;
    this.retryAfter = extra.retryAfter;
  }
}

const enc = encodeURIComponent;

/**
 * @typedef {object} Api
 * @property {(trial: string, token?: string) => Promise<{notes: Note[]}>} listNotes  every page
 * @property {<T>(method: string, path: string, body?: unknown, token?: string | null) => Promise<T>} call
 *   any other route (the on-demand modules' own: notes changed, devices, link codes, grants)
 * @property {<T>(path: string, key: string, limit: number) => Promise<T[]>} all  every page of a list
 */

/**
 * An API client for `base` (an origin); `getToken()` gives the current notebook token.
 * @param {string} base
 * @param {() => string | null} getToken
 * @param {typeof fetch} [fetchImpl]
 * @returns {Api}
 */
export function createApi(base, getToken, fetchImpl = (...args) => fetch(...args)) {
  /**
   * One call; the answer's JSON (null for a 204), or an ApiError.
   * @template T  the route's answer, as the OpenAPI document describes it
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {string | null} [token]
   * @returns {Promise<T>}
   */
  async function call(method, path, body, token = getToken()) {
    /** @type {Record<string, string>} */
    // The service's problem words come in the widget's language (a CORS-safelisted header).
    const headers = { Accept: 'application/json, application/problem+json', 'Accept-Language': language() };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetchImpl(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        mode: 'cors',
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch {
      // fetch rejects with an opaque TypeError for DNS, offline and CORS failures alike.
      throw new ApiError(0, '', t('unreachable'));
    }
    if (response.status === 204) return /** @type {T} */ (null); // the routes that answer 204 are typed null
    let data = null;
    try {
      data = await response.json();
    } catch {
      // not JSON: handled below
    }
    if (!response.ok) {
      /** @type {{title?: string, detail?: string, errors?: FieldErrors}} */
      const problem = data && typeof data === 'object' ? data : {};
      throw new ApiError(
        response.status,
        problem.title || response.statusText || t('answered', { status: String(response.status) }),
        problem.detail || '',
        { errors: problem.errors, retryAfter: response.headers.get('Retry-After') },
      );
    }
    if (data === null) {
      throw new ApiError(response.status, t('unexpected'));
    }
    return data;
  }

  // Every list is paged (a bounded count and at most 4 MiB a page): follow `next` until it is null,
  // so a notebook of any size loads whole. A cursor seen twice would loop: stop with an error.
  /**
   * @template T
   * @param {string} path
   * @param {string} key  the list's name in each page
   * @param {number} limit
   * @param {string | null} [token]  else each page's call sends the token in use then
   * @returns {Promise<T[]>}
   */
  async function all(path, key, limit, token) {
    /** @type {T[]} */
    const items = [];
    const seen = new Set();
    let cursor = null;
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      /** @type {Record<string, T[]> & {next?: string | null}} */
      const page = await self.call('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`,
        undefined, token);
      items.push(...(page[key] || []));
      cursor = page.next;
      if (!cursor) return items;
      if (seen.has(cursor)) throw new ApiError(0, t('unexpected'));
      seen.add(cursor);
    }
  }

  // Pages are asked for through `self.call`: a call wrapped after (accounts.js `renewing`) is theirs too.
  /** @type {Api} */
  const self = {
    // The service's largest pages: 100 notes, 20 shares (a share carries up to 5,000 note ids).
    listNotes: async (trial, token) => ({ notes: await all(`/api/v1/trials/${enc(trial)}/notes`, 'notes', 100, token) }),
    call,
    all: (path, key, limit) => all(path, key, limit),
  };
  return self;
}
