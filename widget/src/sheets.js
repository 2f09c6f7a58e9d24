// @ts-check
// Styles of the on-demand modules: each adds its own constructed sheet to the widget's shadow
// root when it is first drawn, so the first load's stylesheet (styles.js) carries none of them.

/** @type {WeakMap<ShadowRoot, Set<string>>} */
const added = new WeakMap();

/**
 * Adopt `css` in the shadow root that holds `el` (once per root).
 * @param {Element} el  an element already inside the widget's shadow root
 * @param {string} css
 */
export function addSheet(el, css) {
  const root = /** @type {ShadowRoot} */ (el.getRootNode());
  if (root.nodeType !== 11) return; // not in the shadow root (yet): nothing to style
  const done = added.get(root) ?? new Set();
  if (done.has(css)) return;
  const view = /** @type {Window & typeof globalThis} */ (el.ownerDocument.defaultView);
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(css);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  done.add(css);
  added.set(root, done);
}
