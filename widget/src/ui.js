// @ts-check
// The widget's interface, all inside one open shadow root on one host element
// appended to <body>: the "My notes" button and panel, the "Add note" control,
// the dialogs, the live region and the error line. No other host DOM changes.
import { canFocus, h, uid, useDocument } from './dom.js';
import { colorLabel } from './highlights.js';
import { bodyPreview, firstWords } from './note-body.js';
import { CSS } from './styles.js';

export const HOST_TAG = 'trial-notes-widget';

/**
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {object} Actions  the controller's, called by the controls
 * @property {() => void} addFromSelection
 * @property {(from: Focusable | null) => void} addToParagraph
 * @property {(id: string, from: Focusable | null) => void} goTo
 * @property {(id: string, from: Focusable | null) => void} openNote
 * @property {(from: Focusable | null) => void} openShare
 * @property {() => string | null} currentKey  the recovery key, null before the first save
 * @property {(text: string) => Promise<void>} useKey  open the notebook of a pasted key, or throw
 * @property {(err: unknown) => string} explain  the words for an error
 * @typedef {{id: string, quote: string, color: string, body: string, readable: boolean, anchored: boolean,
 *   replies?: Node | null}} NoteView  a note as the interface shows it (`replies`: replies.js's "Replies" button)
 * @typedef {ReturnType<typeof createUI>} UI
 * @typedef {import('./dialogs.js')} DialogsModule
 * @typedef {{editor: ReturnType<DialogsModule['noteEditor']>, view: ReturnType<DialogsModule['noteView']>,
 *   share: ReturnType<DialogsModule['shareDialog']>}} Dialogs
 */

// Said when the dialogs' module can't be fetched (offline, or the service is down).
const UNREACHABLE = "Can't reach the notes service. Check your connection and try again.";

/**
 * Build the UI, appended to `doc`'s body.
 * @param {Document} doc
 * @param {Actions} actions
 */
export function createUI(doc, actions) {
  useDocument(doc);
  const view = /** @type {Window & typeof globalThis} */ (doc.defaultView); // the page's window
  const host = doc.createElement(HOST_TAG);
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [sheet];

  const live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite' });

  // Errors when no dialog or panel is open.
  const toastText = h('div', { class: 'alert', role: 'alert' });
  const toastKey = h('button', { hidden: true, onclick: () => openKeyForm() }, 'Use another recovery key');
  const toast = h(
    'div',
    { class: 'toast', hidden: true },
    toastText,
    toastKey,
    h('button', { onclick: () => hideToast() }, 'Dismiss'),
  );

  // "Add note": floats by the selection, or a bottom bar on touch screens.
  const addButton = h(
    'button',
    { class: 'primary', 'aria-keyshortcuts': 'N Alt+N', onclick: () => actions.addFromSelection() },
    'Add note',
    h('kbd', { 'aria-hidden': 'true' }, 'N'),
  );
  const adder = h('div', { class: 'adder', hidden: true }, addButton);
  // Keep the page's selection: a press on the control must not clear it.
  adder.addEventListener('mousedown', (event) => event.preventDefault());

  const count = h('span', { class: 'count', 'aria-hidden': 'true' }, '0');
  const panelId = uid('panel');
  const launcher = h(
    'button',
    {
      class: 'launcher',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      'aria-keyshortcuts': 'Alt+N',
      onclick: () => (panel.open ? closePanel() : openPanel()),
    },
    'My notes',
    count,
  );

  const panelTitle = h('h2', { id: uid('title'), tabindex: '-1' }, 'My notes');
  const panelAlert = h('div', { class: 'alert', role: 'alert' });
  const help = h('p', { class: 'muted' });
  const list = h('ol', { class: 'notes' });
  const orphanTitle = h('h3', { hidden: true }, 'Could not find on this page');
  const orphans = h('ul', { class: 'notes', hidden: true });

  const keyField = h('input', { id: uid('key'), readonly: true, spellcheck: 'false' });
  const keyBox = h(
    'div',
    { hidden: true },
    h('label', { for: keyField.id }, 'Your recovery key'),
    h(
      'div',
      { class: 'field' },
      keyField,
      h('button', { onclick: () => copy(keyField, 'Recovery key copied.') }, 'Copy recovery key'),
    ),
    h(
      'p',
      { class: 'muted' },
      'Anyone with this key can read your notes. Keep it somewhere safe, such as a password manager: it is the only way to reach your notes from another browser or after clearing this one.',
    ),
  );
  const noKey = h('p', { class: 'muted', hidden: true }, 'You have no recovery key yet: it is made when you save your first note.');
  const showKey = h('button', { 'aria-expanded': 'false', onclick: () => toggleKey() }, 'Show recovery key');
  const pasteField = h('input', { id: uid('paste'), autocomplete: 'off', spellcheck: 'false' });
  const useKeyButton = h('button', { type: 'submit', class: 'primary' }, 'Use this key');
  const useForm = h(
    'form',
    { hidden: true },
    h('label', { for: pasteField.id }, 'Paste recovery key'),
    pasteField,
    h(
      'p',
      { class: 'muted' },
      'The notes saved with that key replace the ones shown here. Copy your current key first if you want to come back to it.',
    ),
    h('div', { class: 'row' }, useKeyButton),
  );
  const useKey = h('button', { 'aria-expanded': 'false', onclick: () => toggleKeyForm() }, 'Use another recovery key');

  const panel = h(
    'dialog',
    { id: panelId, class: 'panel', 'aria-labelledby': panelTitle.id },
    h(
      'div',
      { class: 'top' },
      panelTitle,
      h('button', { onclick: () => closePanel() }, 'Hide panel'),
    ),
    panelAlert,
    h(
      'div',
      { class: 'row' },
      h('button', { onclick: (e) => actions.addToParagraph(e.currentTarget) }, 'Add a note to this paragraph'),
      h('button', { onclick: (e) => actions.openShare(e.currentTarget) }, 'Share'),
    ),
    help,
    list,
    orphanTitle,
    orphans,
    h('section', { class: 'key' }, h('h3', null, 'Recovery key'), noKey, keyBox, h('div', { class: 'row' }, showKey, useKey), useForm),
  );
  panel.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    closePanel();
  });

  // After a list is re-drawn, its old buttons are gone: find the new one for the same note.
  const fallback = (/** @type {Focusable | null} */ old) => {
    const id = old?.dataset?.id;
    const same = id ? shadow.querySelector(`button[data-id="${CSS_escape(id)}"]`) : null;
    if (canFocus(same)) return same;
    return panel.open ? panelTitle : null;
  };
  const explain = (/** @type {unknown} */ err) => actions.explain(err);

  // The dialogs are a module of their own, imported the first time one opens: most visits
  // only read, and the first load stays small. A failed import is tried again next time.
  /** @type {Dialogs | null} */
  let dialogs = null;
  /** @type {Promise<Dialogs> | null} */
  let loading = null;
  const loadDialogs = () =>
    (loading ??= import('./dialogs.js').then(
      ({ noteEditor, noteView, shareDialog }) => {
        const built = {
          editor: noteEditor({ explain, fallback }),
          view: noteView({ explain, fallback, doc }),
          share: shareDialog({ explain, fallback, copy }),
        };
        shadow.append(built.editor.el, built.view.el, built.share.el);
        return (dialogs = built);
      },
      (err) => {
        loading = null;
        throw err;
      },
    ));
  /**
   * Run `use` once the dialogs are there; false (and the reader told) when they can't be loaded.
   * @param {(d: Dialogs) => void} use
   */
  const withDialogs = (use) =>
    loadDialogs().then(
      (d) => {
        use(d);
        return true;
      },
      () => {
        showError(UNREACHABLE);
        return false;
      },
    );
  const openModal = () => (dialogs ? [dialogs.editor, dialogs.view, dialogs.share].find((m) => m.el.open) ?? null : null);

  shadow.append(live, adder, launcher, toast, panel);
  doc.body.append(host);

  function openPanel() {
    hideToast();
    panelAlert.textContent = '';
    panel.show();
    launcher.setAttribute('aria-expanded', 'true');
    panelTitle.focus();
  }

  function closePanel(refocus = true) {
    if (!panel.open) return;
    panel.close();
    launcher.setAttribute('aria-expanded', 'false');
    toggleKey(false); // don't leave the key on screen
    toggleKeyForm(false);
    if (refocus) launcher.focus();
  }

  function toggleKey(show = !!(keyBox.hidden && noKey.hidden)) {
    const key = actions.currentKey();
    keyField.value = key ?? '';
    keyBox.hidden = !show || !key;
    noKey.hidden = !show || Boolean(key);
    showKey.textContent = show ? 'Hide recovery key' : 'Show recovery key';
    showKey.setAttribute('aria-expanded', String(show));
    if (show) toggleKeyForm(false);
  }

  function toggleKeyForm(show = !!useForm.hidden) {
    useForm.hidden = !show;
    useKey.setAttribute('aria-expanded', String(show));
    if (!show) return;
    toggleKey(false);
    pasteField.value = '';
    pasteField.focus();
  }

  function openKeyForm() {
    if (!panel.open) openPanel();
    toggleKeyForm(true);
  }

  useForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (useKeyButton.getAttribute('aria-busy') === 'true') return;
    useKeyButton.setAttribute('aria-busy', 'true');
    panelAlert.textContent = '';
    try {
      await actions.useKey(pasteField.value);
      toggleKeyForm(false);
      panelTitle.focus();
    } catch (err) {
      panelAlert.textContent = explain(err);
    } finally {
      useKeyButton.removeAttribute('aria-busy');
    }
  });

  function hideToast() {
    toast.hidden = true;
    toastText.textContent = '';
  }

  /** Say `message` politely to screen readers (inside the open dialog if there is one). */
  function announce(/** @type {string} */ message) {
    const region = openModal()?.status ?? live;
    region.textContent = '';
    // A fresh text node after a pause makes screen readers repeat an identical message.
    view.setTimeout(() => {
      region.textContent = message;
    }, 60);
  }

  /** Show an error (or instruction) where the user is looking, as role="alert". */
  function showError(/** @type {string} */ message, { offerKey = false } = {}) {
    const modal = openModal();
    if (modal) {
      modal.alert.textContent = message;
    } else if (panel.open) {
      panelAlert.textContent = message;
    } else {
      toastText.textContent = message;
      toastKey.hidden = !offerKey;
      toast.hidden = false;
    }
  }

  /** Copy `input`'s value, and say `done`. */
  async function copy(/** @type {HTMLInputElement} */ input, /** @type {string} */ done) {
    try {
      await view.navigator.clipboard.writeText(input.value);
      announce(done);
    } catch {
      input.focus();
      input.select();
      announce('Copying was blocked: the text is selected, press Control+C to copy it.');
    }
  }

  function noteItem(/** @type {NoteView} */ note) {
    const label = note.readable ? firstWords(note.quote) : "This note can't be read";
    const open = h(
      'button',
      { 'data-id': note.id, onclick: (e) => actions.openNote(note.id, e.currentTarget) },
      `Open note: ${label}`,
    );
    if (!note.readable) return h('li', null, open);
    /** @type {HTMLButtonElement | null} */
    let go = null;
    if (note.anchored) {
      // The visible words start the accessible name (WCAG 2.5.3), so "Open note" alone is shown.
      open.setAttribute('aria-label', open.textContent);
      open.textContent = 'Open note';
      open.className = 'open';
      go = h(
        'button',
        { 'data-id': `go-${note.id}`, onclick: (e) => actions.goTo(note.id, e.currentTarget) },
        `Go to highlight: ${label}`,
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
      preview ? h('p', null, preview) : null,
      note.replies,
    );
  }

  return {
    host,
    /**
     * Open the note editor; true once it is open.
     * @param {import('./dialogs.js').EditorOptions} options
     * @param {(edit: import('./dialogs.js').Edit) => Promise<void>} save  must resolve or throw
     * @param {Focusable | null} from
     */
    openEditor: (options, save, from) => withDialogs((d) => d.editor.open(options, save, from)),
    /**
     * Show a note in the "Your note" dialog.
     * @param {NoteView} note
     * @param {import('./dialogs.js').ViewHandlers} handlers
     * @param {Focusable | null} from
     */
    openNote: (note, handlers, from) => withDialogs((d) => d.view.open(note, handlers, from)),
    closeNote: () => dialogs?.view.close(),
    /**
     * Open "Share notes" for `notes`, with "My shares".
     * @param {Parameters<Dialogs['share']['open']>[0]} notes
     * @param {import('./dialogs.js').ShareDialogActions} shareActions
     * @param {Focusable | null} from
     */
    openShare: (notes, shareActions, from) => withDialogs((d) => d.share.open(notes, shareActions, from)),
    announce,
    showError,
    hideToast,
    /** Take the interface out of the page. */
    destroy: () => host.remove(),
    openPanel,
    closePanel,
    panelOpen: () => panel.open,
    modalOpen: () => Boolean(openModal()),
    adderShown: () => !adder.hidden,

    /** List notes in page order; unanchored and unreadable ones at the end. */
    renderNotes(/** @type {NoteView[]} */ notes, { canHighlight = true } = {}) {
      const placed = notes.filter((n) => n.anchored);
      const lost = notes.filter((n) => !n.anchored);
      list.replaceChildren(...placed.map(noteItem));
      orphans.replaceChildren(...lost.map(noteItem));
      orphanTitle.hidden = orphans.hidden = !lost.length;
      count.textContent = String(notes.length);
      help.textContent = !notes.length
        ? 'No notes yet. Select text in the trial, then choose “Add note” (or press Alt+N).'
        : canHighlight
          ? ''
          : 'This browser cannot draw highlights; your notes are listed here.';
      if (keyBox.hidden === false) toggleKey(true);
    },

    /** Show "Add note" by `rect` (viewport coordinates), or as a bottom bar. */
    showAdder(/** @type {DOMRect | undefined} */ rect, /** @type {boolean} */ asBar) {
      adder.hidden = false;
      adder.classList.toggle('bar', asBar);
      launcher.classList.toggle('raised', asBar);
      if (asBar || !rect) return;
      const width = adder.offsetWidth;
      const height = adder.offsetHeight;
      let top = rect.bottom + 8;
      if (top + height > view.innerHeight - 8) top = rect.top - height - 8;
      const left = Math.min(Math.max(8, rect.right - width / 2), view.innerWidth - width - 8);
      adder.style.top = `${Math.max(8, top)}px`;
      adder.style.left = `${left}px`;
    },

    hideAdder() {
      adder.hidden = true;
      launcher.classList.remove('raised');
    },


    /** Mark the list item of the note "Go to highlight" went to (null: none). */
    markCurrent(/** @type {string | null} */ id) {
      for (const b of list.querySelectorAll('button[aria-current]')) b.removeAttribute('aria-current');
      list.querySelector(`button[data-id="go-${CSS_escape(id)}"]`)?.setAttribute('aria-current', 'true');
    },
  };
}

// CSS.escape is missing from some test DOMs; ids are UUIDs, so a strict filter is enough.
const CSS_escape = (/** @type {unknown} */ s) => String(s).replace(/[^\w-]/g, '');
