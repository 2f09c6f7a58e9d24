// @ts-check
// The notebook token: kept in the host page's localStorage under a key named
// for the service, in memory where the page may not keep storage. Written on
// the first save (or a recovery key the reader pastes), never on page load.

/** localStorage key of the notebook token for the service at `apiBase` (`kind` 'account': a vouched one). */
export const tokenKey = (/** @type {string} */ apiBase, kind = 'token') => `trial-notes:${kind}:${apiBase}`;

/**
 * @typedef {object} TokenStore
 * @property {string} kind  'token' (the browser's own notebook) or 'account' (vouched for by the host site)
 * @property {() => string | null} read  The token, or null before the first save.
 * @property {(token: string) => void} store  Keep a token the service gave or accepted.
 * @property {() => void} reject  The service refused the token (a 401): a save makes a new notebook only
 *   when the reader chooses "Save in a new notebook" (note-actions.js).
 * @property {() => boolean} usable  Whether there is a token the service has not refused.
 * @property {() => void} forget  Take the token out of this browser (a removed device, a host's sign-out).
 * @property {() => {how: string, at: string} | null} keySaved  How and when this token's recovery key was saved.
 * @property {(how: string) => void} markKeySaved  The reader copied, downloaded or printed the key.
 */

/**
 * The token store for the service at `apiBase`, in `view`'s localStorage.
 * @param {Window} view
 * @param {string} apiBase
 * @param {string} [kind]  'token' (this browser's own notebook) or 'account' (one a host site vouches for)
 * @returns {TokenStore}
 */
export function createTokenStore(view, apiBase, kind = 'token') {
  const key = tokenKey(apiBase, kind);
  const savedKey = `${key}:saved`;
  /** @type {string | null} */
  let memory = null; // used only where the page may not keep localStorage
  let rejected = false;
  // Storage may be blocked (then the token lives until the page closes; the panel shows it).
  const storage = (/** @type {(s: Storage) => any} */ use) => {
    try {
      return use(view.localStorage);
    } catch {
      return null;
    }
  };
  const read = () => storage((s) => s.getItem(key)) ?? memory;

  return {
    kind,
    read,
    store(token) {
      // A new notebook's key is not saved yet: the mark goes with the token it was made for.
      if (token !== read()) storage((s) => s.removeItem(savedKey));
      memory = token;
      rejected = false;
      storage((s) => s.setItem(key, token));
    },
    reject() {
      rejected = true;
    },
    usable: () => Boolean(read()) && !rejected,
    forget() {
      memory = null;
      rejected = false;
      storage((s) => [key, savedKey].forEach((k) => s.removeItem(k)));
    },
    keySaved: () => (read() && storage((s) => JSON.parse(s.getItem(savedKey) ?? 'null'))) || null,
    markKeySaved(how) {
      if (read()) storage((s) => s.setItem(savedKey, JSON.stringify({ how, at: new Date().toISOString() })));
    },
  };
}
