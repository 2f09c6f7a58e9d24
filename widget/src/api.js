// The notes service's JSON API. Cross-origin calls carry no cookies and no
// referrer (the host page's address is none of our business); the owner is
// known only by the bearer token.

// The 422 `errors` fields a user can fix in the widget, by the names the widget shows.
const FIELDS = { body: 'Note', target: 'Highlighted text', passcode: 'Passcode' };

/**
 * A failed call: status 0 for a network failure, else the problem's (RFC 9457)
 * title/detail/errors. Its message is plain words for the user: the detail (else the
 * title, as a sentence), each invalid field the user can fix, and when to try again.
 */
export class ApiError extends Error {
  constructor(status, title, detail = '', extra = {}) {
    // Only 422s carry `errors`; fields the widget has no words for are left to the detail.
    const fields = Object.entries(extra.errors || {}).map(([name, said]) => {
      const label = FIELDS[name.split('.')[0]];
      return label && `${label} ${[said].flat().join('; ')}.`;
    });
    // Retry-After in seconds, the form the service sends (a date or junk gives NaN: no wait said).
    const wait = Math.ceil(extra.retryAfter);
    const words = [detail || `${title}.`, ...fields, wait > 0 && `Try again in ${wait} second${wait > 1 ? 's' : ''}.`];
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

/** An API client for `base` (an origin); `getToken()` gives the current notebook token. */
export function createApi(base, getToken, fetchImpl = (...args) => fetch(...args)) {
  async function call(method, path, body, token = getToken()) {
    const headers = { Accept: 'application/json, application/problem+json' };
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
      throw new ApiError(0, '', "Can't reach the notes service. Check your connection and try again.");
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      // not JSON: handled below
    }
    if (!response.ok) {
      const problem = data && typeof data === 'object' ? data : {};
      throw new ApiError(
        response.status,
        problem.title || response.statusText || `The notes service answered ${response.status}`,
        problem.detail || '',
        { errors: problem.errors, retryAfter: response.headers.get('Retry-After') },
      );
    }
    if (data === null) {
      throw new ApiError(response.status, 'Unexpected answer from the notes service');
    }
    return data;
  }

  return {
    createNotebook: () => call('POST', '/api/v1/notebooks', {}, null),
    listNotes: (trial, token) => call('GET', `/api/v1/trials/${enc(trial)}/notes`, undefined, token),
    createNote: (trial, note) => call('POST', `/api/v1/trials/${enc(trial)}/notes`, note),
    updateNote: (id, changes) => call('PATCH', `/api/v1/notes/${enc(id)}`, changes),
    deleteNote: (id) => call('DELETE', `/api/v1/notes/${enc(id)}`),
    createShare: (share) => call('POST', '/api/v1/shares', share),
    listShares: (trial) => call('GET', `/api/v1/shares?trial_id=${enc(trial)}`),
    revokeShare: (id) => call('DELETE', `/api/v1/shares/${enc(id)}`),
  };
}
