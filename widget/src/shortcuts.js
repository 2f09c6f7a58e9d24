// @ts-check
// The page's keyboard shortcuts: Alt+N adds a note (on the selection, else
// the caret's paragraph, else the panel opens with a hint); N does the same
// while "Add note" shows; Escape hides "Add note". Dialogs handle their own keys.

/** Whether typing in `el` is the page's own business. */
const editable = (/** @type {EventTarget | undefined} */ el) =>
  el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/**
 * Listen for the shortcuts on `doc` through `listeners`.
 * @param {object} deps
 * @param {Document} deps.doc
 * @param {import('./listeners.js').Listeners} deps.listeners
 * @param {import('./ui.js').UI} deps.ui
 * @param {() => void} deps.addNote
 */
export function bindShortcuts({ doc, listeners, ui, addNote }) {
  listeners.on(doc, 'keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || ui.modalOpen()) return;
    if (event.key === 'Escape' && ui.adderShown()) return ui.hideAdder();
    if (editable(event.composedPath()[0])) return;
    // The code is the key's place (Alt+N types "˜" on a Mac); the key, its letter on other layouts.
    const altN = event.altKey && !event.shiftKey && (event.code === 'KeyN' || event.key.toLowerCase() === 'n');
    const n = !event.altKey && event.key.toLowerCase() === 'n' && ui.adderShown();
    if (!altN && !n) return;
    event.preventDefault();
    addNote();
  });
}
