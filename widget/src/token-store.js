// @ts-check
// The notebook token: kept in the host page's localStorage under a key named
// for the service, in memory where the page may not keep storage. Written on
// the first save (or a recovery key the reader pastes), never on page load.

/** localStorage key of the notebook token for the service at `apiBase`. */
export const tokenKey = (/** @type {string} */ apiBase) => `trial-notes:token:${apiBase}`;

/**
 * @typedef {object} TokenStore
 * @property {() => string | null} read  The token, or null before the first save.
 * @property {(token: string) => void} store  Keep a token the service gave or accepted.
 * @property {() => void} reject  The service refused the token (a 401): the next save makes a new notebook.
 * @property {() => boolean} usable  Whether there is a token the service has not refused.
 */

/**
 * The token store for the service at `apiBase`, in `view`'s localStorage.
 * @param {Window} view
 * @param {string} apiBase
 * @returns {TokenStore}
 */
export function createTokenStore(view, apiBase) {
  const key = tokenKey(apiBase);
  /** @type {string | null} */
  let memory = null; // used only where the page may not keep localStorage
  let rejected = false;

  function read() {
    try {
      return view.localStorage.getItem(key) ?? memory;
    } catch {
      return memory;
    }
  }

  return {
    read,
    store(token) {
      memory = token;
      rejected = false;
      try {
        view.localStorage.setItem(key, token);
      } catch {
        // Storage blocked: the token lives until the page closes; the panel shows it.
      }
    },
    reject() {
      rejected = true;
    },
    usable: () => Boolean(read()) && !rejected,
  };
}
