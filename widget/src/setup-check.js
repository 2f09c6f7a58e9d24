// @ts-check
// The embedding checked once at start, so that a mistake explains itself: one console
// message naming the fix for the site's developer, one plain sentence for the reader
// instead of a misleading one ("Check your connection" when the service refused the page).
// A module of its own, imported after the first draw: it never delays the notes.

const SAY = 'Trial Notes:';

/**
 * @typedef {{kind: 'csp' | 'origin' | 'trial' | 'root'}} SetupProblem
 *   what is wrong; the reader is told the catalog's `setup.<kind>` sentence instead of a misleading one
 * @typedef {{known: boolean, origin: string | null, origin_allowed: boolean}} EmbedCheck
 */

/**
 * Check the page's setup: the browser, the page's CSP, its origin, the trial, the notes root.
 * @param {object} deps
 * @param {Document} deps.doc
 * @param {Window & typeof globalThis} deps.view
 * @param {string} deps.trial  the script tag's data-trial
 * @param {string} deps.apiBase  the service's origin
 * @param {() => Element | null} deps.getRoot
 * @param {boolean} deps.canHighlight  whether the Custom Highlight API is there
 * @param {typeof import('./i18n.js').t} deps.t  the widget's words (handed over: this module imports nothing)
 * @param {number} [deps.rootGrace]  ms a page may take to add its notes root
 * @param {(problem: SetupProblem, sentence: string) => void} report  told of the first problem found, if any,
 *   with the sentence the reader is told
 */
export async function checkSetup({ doc, view, trial, apiBase, getRoot, canHighlight, t, rootGrace = 3000 }, report) {
  const problem = await findProblem({ doc, view, trial, apiBase, getRoot, canHighlight, t, rootGrace });
  // The root may have come while the check ran: only a problem still true is reported.
  if (problem && !(problem.kind === 'root' && getRoot())) report(problem, t(`setup.${problem.kind}`));
}

/**
 * The first thing wrong with the page's setup, or null.
 * @param {Parameters<typeof checkSetup>[0] & {rootGrace: number}} deps
 * @returns {Promise<SetupProblem | null>}
 */
async function findProblem({ doc, view, trial, apiBase, getRoot, canHighlight, rootGrace }) {
  const sleep = (/** @type {number} */ ms) => new Promise((resolve) => view.setTimeout(resolve, ms));
  if (!canHighlight) {
    console.warn(
      `${SAY} this browser has no CSS Custom Highlight API (Chrome and Edge 105, Safari 17.2 and Firefox 140 ` +
        'have it): notes still work and are listed in "My notes", but passages are not highlighted.',
    );
  }

  /** @type {string[]} */
  const blocked = [];
  const onViolation = (/** @type {SecurityPolicyViolationEvent} */ event) => {
    if (event.blockedURI.startsWith(apiBase)) blocked.push(event.effectiveDirective);
  };
  doc.addEventListener('securitypolicyviolation', onViolation);
  /** @type {EmbedCheck | null} */
  let answer = null;
  try {
    const response = await view.fetch(`${apiBase}/api/v1/trials/${encodeURIComponent(trial)}/embedding`, {
      mode: 'cors',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    answer = response.ok ? await response.json() : null;
  } catch {
    await sleep(100); // a CSP violation is reported in a task of its own
  } finally {
    doc.removeEventListener('securitypolicyviolation', onViolation);
  }

  if (blocked.length) {
    console.error(
      `${SAY} this page's Content-Security-Policy blocks the notes service (${blocked[0]}): ` +
        `add ${apiBase} to its connect-src.`,
    );
    return { kind: 'csp' };
  }
  // Not reached, or it failed: "Check your connection", said when the reader acts, is right.
  if (!answer) return null;
  if (!answer.origin_allowed) {
    console.error(
      `${SAY} the notes service at ${apiBase} does not accept this page's origin ` +
        `(${answer.origin ?? view.location.origin}): add it to the service's NOTES_ALLOWED_ORIGINS.`,
    );
    return { kind: 'origin' };
  }
  if (!answer.known) {
    console.error(
      `${SAY} data-trial="${trial}" is not a trial the notes service at ${apiBase} holds: check the NCT ` +
        'number on the script tag, or load the record into the service (flask trials load).',
    );
    return { kind: 'trial' };
  }
  if (!getRoot()) await sleep(rootGrace); // a client-rendered page may add it a little later
  if (!getRoot()) {
    console.error(
      `${SAY} no element on this page has the data-notes-root attribute: put it on the element that ` +
        "holds the trial's text (notes anchor to the text inside it).",
    );
    return { kind: 'root' };
  }
  return null;
}
