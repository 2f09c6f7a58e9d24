// @ts-check
// Building the widget's own elements (inside its shadow root only). Text is
// always appended as text nodes: no markup strings, no innerHTML.

/**
 * An element that can take focus: every element that can be the active one
 * (HTML, SVG, MathML) has focus(), which Element itself does not declare.
 * @typedef {Element & HTMLOrSVGElement} Focusable
 * @typedef {Node | string | null | undefined | false} Leaf  null, undefined and false are skipped
 * @typedef {Leaf | Leaf[]} Child
 * @typedef {(event: Event & {currentTarget: HTMLElement}) => void} Handler
 *   h() adds it to the element it makes, so that element is the currentTarget.
 * @typedef {Record<string, string | boolean | null | undefined | Handler>} Props
 */

/** @type {Document} set by useDocument() before the interface is built */
let doc;
let serial = 0;

/** Bind the element builder to the host document. */
export function useDocument(/** @type {Document} */ d) {
  doc = d;
}

/**
 * h('button', {class: 'primary', onclick}, 'Save'): attributes as strings,
 * on* as listeners, children as nodes or text; null/false are skipped.
 * Buttons are type=button unless props say otherwise.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = doc.createElement(tag);
  if (tag === 'button') el.setAttribute('type', 'button'); // not a submit button unless asked
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A fresh id for label/aria wiring inside the shadow root. */
export const uid = (/** @type {string} */ stem) => `tn-${stem}-${++serial}`;

/**
 * The focused element, looking inside open shadow roots.
 * @returns {Focusable | null}
 */
export function activeElement() {
  let el = doc.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return /** @type {Focusable | null} */ (el); // the active element can take focus: it has it
}

/**
 * Whether an element can take focus back (still in the page and shown).
 * @param {Element | null | undefined} el
 * @returns {el is Focusable}
 */
export const canFocus = (el) =>
  Boolean(el?.isConnected && 'focus' in el && !el.closest('[hidden]') && el.getClientRects().length);

/**
 * A modal <dialog> with a heading and its own alert line (the page behind a
 * modal dialog is inert, so errors must be shown inside it). Focus goes back
 * to where it was, or to `fallback()` if that element is gone.
 */
/**
 * @param {string} title
 * @param {(old: Focusable | null) => Focusable | null} fallback
 */
export function modalDialog(title, fallback) {
  const heading = h('h2', { id: uid('title'), tabindex: '-1' }, title);
  const alert = h('div', { class: 'alert', role: 'alert' });
  // Its own polite live region: the page's one is inert behind a modal dialog.
  const status = h('div', { class: 'sr', role: 'status' });
  const el = h('dialog', { 'aria-labelledby': heading.id }, heading, alert, status);
  /** @type {Focusable | null} */
  let returnTo = null;
  const restoreFocus = () => {
    const target = canFocus(returnTo) ? returnTo : fallback(returnTo);
    target?.focus({ preventScroll: true });
  };
  // Escape closes the dialog natively, and "close" fires a task later: by
  // then a dialog we closed ourselves has restored focus already.
  let closedByUs = false;
  el.addEventListener('close', () => {
    if (!closedByUs) restoreFocus();
    closedByUs = false;
  });
  return {
    el,
    heading,
    alert,
    status,
    get returnTo() {
      return returnTo;
    },
    open(/** @type {Focusable | null | undefined} */ from) {
      returnTo = from ?? activeElement();
      alert.textContent = '';
      if (!el.open) el.showModal();
    },
    close() {
      if (!el.open) return;
      closedByUs = true;
      el.close();
      restoreFocus(); // now, so the next dialog opened in the same turn keeps its focus
    },
  };
}
