// @ts-check
// Note bodies: the user types plain text, the API stores sanitized HTML.
// The server sanitizes, but the widget still never hands that HTML to
// innerHTML: it is parsed into an inert document and only a few harmless
// elements are copied across, everything else as text. That copy is note-render.js's, imported
// by the dialogs only. Nothing here is in the first load: the panel, the dialogs, the note actions
// and the selection's announcements use it, so it imports nothing of the first load's (a module
// of the first load imported here would split that load's chunk).

/** Length of a string in code points, as the service counts a body (an emoji is one, not two UTF-16 units). */
export function codePointLength(/** @type {string} */ s) {
  return s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

// Elements whose text is code or metadata, not prose: dropped with their content.
export const DROP = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'TITLE', 'IFRAME', 'OBJECT', 'SVG', 'MATH']);
const BLOCK = new Set(['P', 'UL', 'OL', 'LI', 'DIV']);

// Text content needs only these three escaped; quotes stay as typed, so an apostrophe is
// one character against the service's limit, not five ("&#39;").
/** @type {Record<string, string>} */
const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeHtml = (/** @type {string} */ s) => s.replace(/[&<>]/g, (c) => ESCAPES[c]);

/** Plain text -> HTML: escaped; blank-line-separated paragraphs become <p>, single newlines <br>. */
export function textToHtml(/** @type {string} */ text) {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split(/\n[ \t]*\n\s*/)
    .filter(Boolean)
    .map((para) => `<p>${escapeHtml(para).replace(/\n/g, '<br>')}</p>`)
    .join('');
}

/**
 * The parts of the Trusted Types API used here (not in TypeScript's DOM types).
 * A policy's createHTML() gives a TrustedHTML, which DOMParser takes in place of a string.
 * @typedef {{createHTML(html: string): unknown}} Policy
 * @typedef {{createPolicy(name: string, rules: {createHTML(html: string): string}): Policy}} PolicyFactory
 */

/**
 * The Trusted Types policy that lets the widget parse bodies: undefined until
 * first needed, null where the page forbids it (or has no Trusted Types).
 * @type {Policy | null | undefined}
 */
let policy;
/**
 * An inert document holding `html` (scripts never run, images never load),
 * or null where the page's Trusted Types policy forbids parsing strings.
 * @param {string} html
 * @param {(Window & typeof globalThis & {trustedTypes?: PolicyFactory}) | null} view
 */
export function parseBody(html, view) {
  if (!view) return null;
  try {
    if (view.trustedTypes && policy === undefined) {
      policy = view.trustedTypes.createPolicy('trial-notes', { createHTML: (s) => s });
    }
    const source = policy ? policy.createHTML(html) : html;
    return new view.DOMParser().parseFromString(/** @type {string} */ (source), 'text/html'); // or a TrustedHTML
  } catch {
    policy = null;
    return null;
  }
}

/** @returns {node is Text} */
export const isText = (/** @type {Node} */ node) => node.nodeType === 3; // TEXT_NODE
/** @returns {node is Element} */
export const isElement = (/** @type {Node} */ node) => node.nodeType === 1; // ELEMENT_NODE

function appendText(/** @type {Node} */ node, /** @type {string[]} */ parts) {
  for (const child of node.childNodes) {
    if (isText(child)) parts.push(child.data);
    if (!isElement(child) || DROP.has(child.tagName)) continue;
    if (child.tagName === 'BR') parts.push('\n');
    if (child.tagName === 'LI') parts.push('\n- ');
    appendText(child, parts);
    if (BLOCK.has(child.tagName) && child.tagName !== 'LI') parts.push('\n\n');
  }
}

/** HTML body -> the plain text the user would type to get it (for editing). */
export function htmlToText(/** @type {string | null | undefined} */ html, /** @type {Document} */ doc) {
  const parsed = parseBody(html ?? '', doc.defaultView);
  if (!parsed) return stripTags(html ?? '');
  /** @type {string[]} */
  const parts = [];
  appendText(parsed.body, parts);
  return parts
    .join('')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// Fallback where parsing is forbidden: tags off, the common entities decoded.
export function stripTags(/** @type {string} */ html) {
  /** @type {Record<string, string>} */
  const entities = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: '\u00a0' };
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|li|ul|ol)>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e) => entities[e])
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// Previews already made, by number of words then body: an open "My notes" is built again on
// every change, and parsing each of 500 bodies again took most of that (a CPU profile: about
// 0.1 ms a body). A body is the same text whatever the page, so its preview is too. The bodies
// are the notes' own strings (a key holds a reference, not a copy); past PREVIEWS the oldest go.
const PREVIEWS = 2000;
/** @type {Map<number, Map<string, string>>} */
const previews = new Map();

/** One-line plain text of a body, for previews and announcements. */
export function bodyPreview(/** @type {string | null | undefined} */ html, /** @type {Document} */ doc, words = 14) {
  const made = previews.get(words) ?? previews.set(words, new Map()).get(words) ?? new Map();
  const body = html ?? '';
  let preview = made.get(body);
  if (preview === undefined) {
    preview = firstWords(htmlToText(body, doc), words);
    if (made.size >= PREVIEWS) made.delete(made.keys().next().value ?? '');
    made.set(body, preview);
  }
  return preview;
}

/** The first `count` words of `text`, with an ellipsis when cut. */
export function firstWords(/** @type {string | null | undefined} */ text, count = 8) {
  const words = (text ?? '').trim().split(/\s+/).filter(Boolean);
  let out = words.slice(0, count).join(' ');
  if (out.length > 80) out = out.slice(0, 79);
  return out.length < words.join(' ').length ? `${out}…` : out;
}
