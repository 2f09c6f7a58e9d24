// The widget's interface, all inside one open shadow root on one host element
// appended to <body>: the "My notes" button and panel, the "Add note" control,
// the dialogs, the live region and the error line. No other host DOM changes.
import { canFocus, h, uid, useDocument } from './dom.js';
import { noteEditor, noteView, shareDialog } from './dialogs.js';
import { colorLabel } from './highlights.js';
import { bodyPreview, firstWords } from './note-body.js';
import { CSS } from './styles.js';

export const HOST_TAG = 'trial-notes-widget';

/**
 * Build the UI. `actions` are the controller's: addFromSelection(),
 * addToParagraph(from), goTo(id, from), openNote(id, from), openShare(from),
 * currentKey(), useKey(text).
 */
export function createUI(doc, actions) {
  useDocument(doc);
  const view = doc.defaultView;
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
  const fallback = (old) => {
    const id = old?.dataset?.id;
    const same = id && shadow.querySelector(`button[data-id="${CSS_escape(id)}"]`);
    if (canFocus(same)) return same;
    return panel.open ? panelTitle : null;
  };
  const explain = (err) => actions.explain(err);
  const editor = noteEditor({ explain, fallback });
  const noteViewer = noteView({ explain, fallback, doc });
  const share = shareDialog({ explain, fallback, copy });
  const modals = [editor, noteViewer, share];
  const openModal = () => modals.find((m) => m.el.open);

  shadow.append(live, adder, launcher, toast, panel, editor.el, noteViewer.el, share.el);
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

  function toggleKey(show = keyBox.hidden && noKey.hidden) {
    const key = actions.currentKey();
    keyField.value = key ?? '';
    keyBox.hidden = !show || !key;
    noKey.hidden = !show || Boolean(key);
    showKey.textContent = show ? 'Hide recovery key' : 'Show recovery key';
    showKey.setAttribute('aria-expanded', String(show));
    if (show) toggleKeyForm(false);
  }

  function toggleKeyForm(show = useForm.hidden) {
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
  function announce(message) {
    const region = openModal()?.el.querySelector('.sr') ?? live;
    region.textContent = '';
    // A fresh text node after a pause makes screen readers repeat an identical message.
    view.setTimeout(() => {
      region.textContent = message;
    }, 60);
  }

  /** Show an error (or instruction) where the user is looking, as role="alert". */
  function showError(message, { offerKey = false } = {}) {
    const modal = openModal();
    if (modal) {
      modal.el.querySelector('.alert').textContent = message;
    } else if (panel.open) {
      panelAlert.textContent = message;
    } else {
      toastText.textContent = message;
      toastKey.hidden = !offerKey;
      toast.hidden = false;
    }
  }

  async function copy(input, done) {
    try {
      await view.navigator.clipboard.writeText(input.value);
      announce(done);
    } catch {
      input.focus();
      input.select();
      announce('Copying was blocked: the text is selected, press Control+C to copy it.');
    }
  }

  function noteItem(note) {
    const label = note.readable ? firstWords(note.quote) : "This note can't be read";
    const open = h(
      'button',
      { 'data-id': note.id, onclick: (e) => actions.openNote(note.id, e.currentTarget) },
      `Open note: ${label}`,
    );
    if (!note.readable) return h('li', null, open);
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
    );
  }

  return {
    host,
    editor,
    view: noteViewer,
    share,
    announce,
    showError,
    hideToast,
    openPanel,
    closePanel,
    panelOpen: () => panel.open,
    modalOpen: () => Boolean(openModal()),
    adderShown: () => !adder.hidden,

    /** List notes in page order; unanchored and unreadable ones at the end. */
    renderNotes(notes, { canHighlight = true } = {}) {
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
    showAdder(rect, asBar) {
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

    openKeyForm,

    /** Mark the list item of the note "Go to highlight" went to (null: none). */
    markCurrent(id) {
      for (const b of list.querySelectorAll('button[aria-current]')) b.removeAttribute('aria-current');
      list.querySelector(`button[data-id="go-${CSS_escape(id)}"]`)?.setAttribute('aria-current', 'true');
    },
  };
}

// CSS.escape is missing from some test DOMs; ids are UUIDs, so a strict filter is enough.
const CSS_escape = (s) => String(s).replace(/[^\w-]/g, '');
