// @ts-check
// A note body as the dialogs show it (imported by dialogs.js only, so the first load does not
// carry it): the HTML is parsed into an inert document (note-body.js) and only a few harmless
// elements are copied across, everything else as text.
import { DROP, isElement, isText, parseBody, stripTags } from './note-body.js';

const KEEP = new Set(['P', 'BR', 'STRONG', 'EM', 'B', 'I', 'UL', 'OL', 'LI', 'A']);
function safeHref(/** @type {string | null} */ href) {
  try {
    const url = new URL(href ?? '');
    return ['http:', 'https:', 'mailto:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/** Copy `from`'s allowed elements and text into `to`, as nodes of `doc`. */
function copySafe(/** @type {Node} */ from, /** @type {Node & ParentNode} */ to, /** @type {Document} */ doc) {
  for (const node of from.childNodes) {
    if (isText(node)) {
      to.append(doc.createTextNode(node.data));
      continue;
    }
    if (!isElement(node) || DROP.has(node.tagName)) continue;
    const href = node.tagName === 'A' && safeHref(node.getAttribute('href'));
    if (!KEEP.has(node.tagName) || (node.tagName === 'A' && !href)) {
      copySafe(node, to, doc); // unknown element: keep its text only
      continue;
    }
    const el = doc.createElement(node.tagName.toLowerCase());
    if (href) Object.assign(el, { href, rel: 'noopener noreferrer nofollow', target: '_blank' });
    copySafe(node, el, doc);
    to.append(el);
  }
}

/** A fragment of `doc` showing the body HTML with only the allowed elements. */
export function renderBody(/** @type {string | null | undefined} */ html, /** @type {Document} */ doc) {
  const fragment = doc.createDocumentFragment();
  const parsed = parseBody(html ?? '', doc.defaultView);
  if (parsed) copySafe(parsed.body, fragment, doc);
  else fragment.append(doc.createTextNode(stripTags(html ?? '')));
  return fragment;
}
