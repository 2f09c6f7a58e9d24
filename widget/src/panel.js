// @ts-check
// "My notes": the panel listing the page's notes (go to, open), the note actions' buttons, and
// where the notes are kept (the recovery key, the devices). Not needed to draw the notes: ui.js
// builds it from this module after the first draw (beside layout.js, which docks it), or when the
// reader opens it first; until then the launcher's count is all the list shows.
import { h, uid } from './dom.js';
import { colorLabel } from './highlights.js';
import { day, t } from './i18n.js';
import { bodyPreview, firstWords } from './note-body.js';

/**
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {import('./ui.js').NoteView} NoteView
 * @typedef {ReturnType<typeof createPanel>} Panel
 */

// CSS.escape is missing from some test DOMs; ids are UUIDs, so a strict filter is enough.
const idOnly = (/** @type {unknown} */ s) => String(s).replace(/[^\w-]/g, '');

/**
 * The panel, not yet in the page: ui.js appends `el` and shows it.
 * @param {object} deps
 * @param {Document} deps.doc
 * @param {string} deps.id  the launcher's aria-controls
 * @param {import('./ui.js').Actions} deps.actions
 * @param {() => void} deps.close  close it, focus back on the launcher
 */
export function createPanel({ doc, id, actions, close }) {
  const title = h('h2', { id: uid('title'), tabindex: '-1' }, t('myNotes'));
  const alert = h('div', { class: 'alert', role: 'alert' });
  const help = h('p', { class: 'muted' });
  const list = h('ol', { class: 'notes' });
  const orphanTitle = h('h3', { hidden: true }, t('notFoundHere'));
  const orphans = h('ul', { class: 'notes', hidden: true });

  // Where the notes live and whether their recovery key was saved; the key itself, the devices and
  // link codes are dialogs of their own (recovery.js, devices.js), fetched when first opened.
  const keyState = h('p', { class: 'key-state' });
  const showKey = h('button', { onclick: (e) => actions.more('recovery', e.currentTarget) }, t('recoveryKey'));
  const linkDevice = h('button', { onclick: (e) => actions.more('link', e.currentTarget) }, t('linkAnotherDevice'));
  const devices = h('button', { onclick: (e) => actions.more('devices', e.currentTarget) }, t('devices'));
  const useKey = h('button', { onclick: (e) => actions.more('restore', e.currentTarget) }, t('useAnotherKey'));
  const useCode = h('button', { onclick: (e) => actions.more('redeem', e.currentTarget) }, t('useLinkCode'));
  const el = h(
    'dialog',
    { id, class: 'panel', 'aria-labelledby': title.id },
    h('div', { class: 'top' }, title, h('button', { onclick: () => close() }, t('hidePanel'))),
    alert,
    h(
      'div',
      { class: 'row' },
      h('button', { onclick: (e) => actions.addToParagraph(e.currentTarget) }, t('addToParagraph')),
      h('button', { onclick: (e) => actions.openShare(e.currentTarget) }, t('share')),
    ),
    help,
    list,
    orphanTitle,
    orphans,
    h(
      'section',
      { class: 'key' },
      h('h3', null, t('recoveryKey')),
      keyState,
      h(
        'div',
        { class: 'row' },
        showKey,
        useKey,
      ),
      h('h3', null, t('yourDevices')),
      h(
        'div',
        { class: 'row' },
        linkDevice,
        useCode,
        devices,
      ),
    ),
  );
  el.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    close();
  });

  /** Say where the notes live and whether their key was saved; offer only what a notebook allows. */
  function showKeyState() {
    const store = actions.tokens();
    const saved = store.keySaved();
    const has = Boolean(store.read());
    const account = store.kind === 'account';
    keyState.textContent = account
      ? t('keptWithAccount')
      : !has
        ? t('noKeyYet')
        : saved
          ? t(`keySaved.${saved.how}`, { date: day(saved.at) })
          : t('keyNotSaved');
    keyState.classList.toggle('warn', has && !saved && !account);
    showKey.hidden = linkDevice.hidden = devices.hidden = !has;
    // Another notebook's key or code would go where the account's token is kept.
    useKey.hidden = useCode.hidden = account;
  }

  function noteItem(/** @type {NoteView} */ note) {
    const label = note.readable ? firstWords(note.quote) : t('unreadable');
    const open = h(
      'button',
      { 'data-id': note.id, onclick: (e) => actions.openNote(note.id, e.currentTarget) },
      t('openNoteNamed', { words: label }),
    );
    if (!note.readable) return h('li', null, open);
    /** @type {HTMLButtonElement | null} */
    let go = null;
    if (note.anchored) {
      // The visible words start the accessible name (WCAG 2.5.3), so "Open note" alone is shown.
      open.setAttribute('aria-label', open.textContent);
      open.textContent = t('openNote');
      open.className = 'open';
      go = h(
        'button',
        { 'data-id': `go-${note.id}`, onclick: (e) => actions.goTo(note.id, e.currentTarget) },
        t('goToNamed', { words: label }),
      );
    }
    const preview = bodyPreview(note.body, doc);
    return h(
      'li',
      null,
      go ?? open,
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'chip' }, h('span', { class: `sw c-${note.color}`, 'aria-hidden': 'true' }), colorLabel(note.color)),
        go ? open : null,
      ),
      note.change ? h('p', { class: 'muted' }, t('textChanged')) : null,
      preview ? h('p', { dir: 'auto' }, preview) : null,
      note.replies,
    );
  }

  const view = /** @type {Window & typeof globalThis} */ (doc.defaultView);
  // Where there is no requestIdleCallback (Safari), a while after the first draw's frame.
  const whenIdle = (/** @type {() => void} */ fn) =>
    view.requestIdleCallback ? view.requestIdleCallback(fn, { timeout: 2000 }) : view.setTimeout(fn, 300);
  /** @type {{notes: NoteView[], canHighlight: boolean} | null} a list not built yet (the panel is closed) */
  let pending = null;
  /** @type {string | null} the note "Go to highlight" went to, marked again in a list built later */
  let current = null;

  /** Build the list of `notes` (placed ones first); the current note stays marked. */
  function build(/** @type {NoteView[]} */ notes, /** @type {boolean} */ canHighlight) {
    pending = null;
    const placed = notes.filter((n) => n.anchored);
    const lost = notes.filter((n) => !n.anchored);
    list.replaceChildren(...placed.map(noteItem));
    orphans.replaceChildren(...lost.map(noteItem));
    orphanTitle.hidden = orphans.hidden = !lost.length;
    help.textContent = !notes.length ? t('noNotesYet') : canHighlight ? '' : t('noHighlightApi');
    markCurrent(current);
    showKeyState();
  }

  function markCurrent(/** @type {string | null} */ noteId) {
    current = noteId;
    for (const b of list.querySelectorAll('button[aria-current]')) b.removeAttribute('aria-current');
    list.querySelector(`button[data-id="go-${idOnly(noteId)}"]`)?.setAttribute('aria-current', 'true');
  }

  return {
    el,
    title,
    alert,
    showKeyState,

    /**
     * List notes in page order; unanchored and unreadable ones at the end. A closed panel builds its
     * list once the browser is idle, or when it is shown if that comes first: 500 notes' items
     * (buttons, previews of their bodies) took more of the first draw than anchoring and drawing
     * them, and nobody sees the list before the panel opens.
     */
    render(/** @type {NoteView[]} */ notes, canHighlight = true) {
      if (el.open) return build(notes, canHighlight);
      if (!pending) whenIdle(() => el.isConnected && pending && build(pending.notes, pending.canHighlight));
      pending = { notes, canHighlight };
    },

    /** Show the panel (not modal), its list up to date. */
    show() {
      if (pending) build(pending.notes, pending.canHighlight);
      el.show();
    },

    /** Mark the list item of the note "Go to highlight" went to (null: none). */
    markCurrent,
  };
}
