// Building the widget's own elements (inside its shadow root only). Text is
// always appended as text nodes: no markup strings, no innerHTML.

let doc = null;
let serial = 0;

/** Bind the element builder to the host document. */
export function useDocument(d) {
  doc = d;
}

/**
 * h('button', {class: 'primary', onclick}, 'Save'): attributes as strings,
 * on* as listeners, children as nodes or text; null/false are skipped.
 * Buttons are type=button unless props say otherwise.
 */
export function h(tag, props, ...children) {
  const el = doc.createElement(tag);
  if (tag === 'button') el.type = 'button'; // not a submit button unless asked
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A fresh id for label/aria wiring inside the shadow root. */
export const uid = (stem) => `tn-${stem}-${++serial}`;

/** The focused element, looking inside open shadow roots. */
export function activeElement() {
  let el = doc.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

/** Whether an element can take focus back (still in the page and shown). */
export const canFocus = (el) =>
  Boolean(el?.isConnected && el.focus && !el.closest?.('[hidden]') && el.getClientRects().length);

/**
 * A modal <dialog> with a heading and its own alert line (the page behind a
 * modal dialog is inert, so errors must be shown inside it). Focus goes back
 * to where it was, or to `fallback()` if that element is gone.
 */
export function modalDialog(title, fallback) {
  const heading = h('h2', { id: uid('title'), tabindex: '-1' }, title);
  const alert = h('div', { class: 'alert', role: 'alert' });
  // Its own polite live region: the page's one is inert behind a modal dialog.
  const status = h('div', { class: 'sr', role: 'status' });
  const el = h('dialog', { 'aria-labelledby': heading.id }, heading, alert, status);
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
    open(from) {
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
