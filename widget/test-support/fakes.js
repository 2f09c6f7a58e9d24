// Stand-ins the unit tests (test/) share, kept out of test/ so that `node --test test/` does not run this as a test file:
// a jsdom window whose dialogs open and close, and a localStorage.
import { JSDOM } from 'jsdom';

/** A jsdom window with modal dialogs stubbed (jsdom has none): open and close are enough here. */
export function dialogWindow() {
  const { window } = new JSDOM('<!doctype html><body></body>');
  window.HTMLDialogElement.prototype.showModal = function showModal() {
    this.setAttribute('open', '');
  };
  window.HTMLDialogElement.prototype.close = function close() {
    this.removeAttribute('open');
    this.dispatchEvent(new window.Event('close'));
  };
  return window;
}

/** A window holding only a localStorage stand-in; `items` is what it stores. */
export function storageWindow() {
  const items = new Map();
  return {
    localStorage: {
      getItem: (/** @type {string} */ k) => (items.has(k) ? items.get(k) : null),
      setItem: (/** @type {string} */ k, /** @type {unknown} */ v) => items.set(k, String(v)),
      removeItem: (/** @type {string} */ k) => items.delete(k),
    },
    items,
  };
}
