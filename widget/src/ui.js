// @ts-check
// The widget's interface, all inside one open shadow root on one host element
// appended to <body>: the "My notes" button and panel, the "Add note" control,
// the dialogs, the live region and the error line. No other host DOM changes.
import { canFocus, h, modalDialog, uid, useDocument } from './dom.js';
import { PAINT } from './highlights.js';
import { day, direction, language, number, t, withWords } from './i18n.js';
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
 * @property {() => import('./token-store.js').TokenStore} tokens  the notebook token in use (its key is the recovery key)
 * @property {(what: More, from: Focusable | null) => void} more
 *   open an on-demand dialog: the recovery key, using another one, a link code, using one, the devices
 * @property {(err: unknown) => string} explain  the words for an error
 * @typedef {'recovery' | 'restore' | 'link' | 'redeem' | 'devices'} More
 * @typedef {{id: string, quote: string, color: string, body: string, readable: boolean, anchored: boolean,
 *   change: import('./api.js').Change | null, replies?: Node | null}} NoteView
 *   a note as the interface shows it (`replies`: replies.js's "Replies" button)
 * @typedef {ReturnType<typeof createUI>} UI
 * @typedef {import('./dialogs.js')} DialogsModule
 * @typedef {{editor: ReturnType<DialogsModule['noteEditor']>, view: ReturnType<DialogsModule['noteView']>,
 *   share: ReturnType<DialogsModule['shareDialog']>, chooser: ReturnType<DialogsModule['noteChooser']>}} Dialogs
 * @typedef {object} Context  what an on-demand module needs of the interface
 * @property {ShadowRoot} shadow
 * @property {Document} doc
 * @property {Window & typeof globalThis} view
 * @property {(err: unknown) => string} explain
 * @property {(old: Focusable | null) => Focusable | null} fallback
 * @property {(input: HTMLInputElement, done: string) => Promise<boolean>} copy
 * @property {(message: string) => void} announce
 * @property {typeof h} h  the element builder (dom.js), handed over so that an on-demand module adds no chunk
 * @property {typeof modalDialog} modalDialog
 * @property {typeof t} t  the widget's words (i18n.js), handed over like `h`
 * @property {typeof day} day  a date in the widget's language
 * @property {() => void} refresh  show the panel's recovery key and devices state again
 * @property {(dialog: {el: HTMLDialogElement, alert: HTMLElement, status: HTMLElement}) => void} register
 *   a modal dialog of the module's: errors and announcements go into it while it is open
 */

/**
 * A loader that imports once; a failed import is tried again next time.
 * @template T
 * @param {() => Promise<T>} load
 */
export const once = (load) => {
  /** @type {Promise<T> | null} */
  let loading = null;
  return () =>
    (loading ??= load().catch((err) => {
      loading = null;
      throw err;
    }));
};

// Said when the dialogs' module can't be fetched (offline, or the service is down).
const UNREACHABLE = 'unreachable';

/**
 * Build the UI, appended to `doc`'s body.
 * @param {Document} doc
 * @param {Actions} actions
 */
export function createUI(doc, actions) {
  useDocument(doc);
  const view = /** @type {Window & typeof globalThis} */ (doc.defaultView); // the page's window
  const host = doc.createElement(HOST_TAG);
  // Screen readers pronounce the widget in its own language; Arabic reads (and lays out) right to left.
  host.lang = language();
  host.dir = direction();
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [sheet];

  const live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite' });

  // Errors when no dialog or panel is open.
  const toastText = h('div', { class: 'alert', role: 'alert' });
  const toastKey = h('button', { hidden: true, onclick: () => actions.more('restore', null) }, t('useAnotherKey'));
  const toastLink = h('button', { hidden: true, onclick: () => actions.more('redeem', null) }, t('useLinkCode'));
  const toast = h(
    'div',
    { class: 'toast', hidden: true },
    toastText,
    toastKey,
    toastLink,
    // The focus goes on to the launcher, not back to the top of the page.
    h('button', { onclick: () => (hideToast(), launcher.focus()) }, t('dismiss')),
  );

  // "Add note": floats by the selection, or a bottom bar on touch screens.
  const addButton = h(
    'button',
    { class: 'primary', 'aria-keyshortcuts': 'N Alt+N', onclick: () => actions.addFromSelection() },
    t('addNote'),
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
      onclick: () => (panel?.el.open ? closePanel() : openPanel()),
    },
    t('myNotes'),
    count,
  );

  // After a list is re-drawn, its old buttons are gone: find the new one for the same note.
  const fallback = (/** @type {Focusable | null} */ old) => {
    const id = old?.dataset?.id;
    const same = id ? shadow.querySelector(`button[data-id="${id.replace(/[^\w-]/g, '')}"]`) : null;
    if (canFocus(same)) return same;
    return panel?.el.open ? panel.title : null;
  };
  const explain = (/** @type {unknown} */ err) => actions.explain(err);

  // The panel's and the dialogs' shared rules, fetched the first time either opens (most
  // visits only read). A failed import is tried again next time.
  const loadRules = once(() =>
    import('./panel-styles.js').then(({ panelCss }) => {
      const sheet = new view.CSSStyleSheet();
      sheet.replaceSync(panelCss(PAINT));
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    }),
  );

  // The dialogs are a module of their own, imported the first time one opens: most visits
  // only read, and the first load stays small. A failed import is tried again next time.
  /** @type {Dialogs | null} */
  let dialogs = null;
  const loadDialogs = once(() =>
    withWords(import('./dialogs.js')).then(
      ({ noteEditor, noteView, shareDialog, noteChooser, DIALOG_CSS }) => {
        const rules = new view.CSSStyleSheet();
        rules.replaceSync(DIALOG_CSS);
        shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, rules];
        const built = {
          editor: noteEditor({ explain, fallback, more: actions.more }),
          view: noteView({ explain, fallback, doc }),
          share: shareDialog({ explain, fallback, copy }),
          chooser: noteChooser({ explain, fallback, doc }),
        };
        shadow.append(built.editor.el, built.view.el, built.share.el, built.chooser.el);
        return (dialogs = built);
      },
    ),
  );
  /** @type {Array<{el: HTMLDialogElement, alert: HTMLElement, status: HTMLElement}>} the on-demand modules' dialogs */
  const more = [];
  const openModal = () =>
    [...more, ...(dialogs ? [dialogs.editor, dialogs.view, dialogs.share, dialogs.chooser] : [])].find((m) => m.el.open) ?? null;
  /** @type {Context} */
  const context = {
    shadow,
    doc,
    view,
    explain,
    fallback,
    copy,
    announce: (message) => announce(message),
    h,
    modalDialog,
    t,
    day,
    refresh: () => panel?.showKeyState(),
    register: (d) => more.push(d),
  };
  /**
   * Import an on-demand module (`load`, cached by the caller) and run `use` with it and the
   * interface's context; false (and the reader told) when it can't be fetched.
   * @template M
   * @param {() => Promise<M>} load
   * @param {(module: M, ctx: typeof context) => void} use
   */
  const withModule = (load, use) =>
    Promise.all([load(), loadRules()]).then(
      ([m]) => {
        use(m, context);
        return true;
      },
      () => {
        showError(t(UNREACHABLE));
        return false;
      },
    );
  /**
   * Run `use` once the dialogs are there; false (and the reader told) when they can't be loaded.
   * @param {(d: Dialogs) => void} use
   */
  const withDialogs = (use) => withModule(loadDialogs, use);
  let unavailable = ''; // why notes can't work on this page, when the setup check found out

  shadow.append(live, adder, launcher, toast);

  // "My notes" is a module of its own (panel.js): built after the first draw, or when first opened.
  /** @type {import('./panel.js').Panel | null} */
  let panel = null;
  /** @type {{notes: NoteView[], canHighlight: boolean}} what the list shows, kept until the panel is built */
  let listed = { notes: [], canHighlight: true };
  const loadPanel = once(() =>
    withWords(import('./panel.js')).then(({ createPanel }) => {
      panel = createPanel({ doc, id: panelId, actions, close: () => closePanel() });
      panel.render(listed.notes, listed.canHighlight);
      toast.after(panel.el); // where it always was: after the toast, before the dialogs
      return panel;
    }),
  );
  doc.body.append(host);

  /** Open the panel once its rules are there; false (and the reader told) when they can't be fetched. */
  function openPanel() {
    return Promise.all([loadPanel(), loadRules()]).then(
      ([p]) => {
        hideToast();
        p.alert.textContent = unavailable;
        p.showKeyState();
        p.show();
        launcher.setAttribute('aria-expanded', 'true');
        p.title.focus();
        return true;
      },
      () => {
        showError(t(UNREACHABLE));
        return false;
      },
    );
  }

  function closePanel(refocus = true) {
    if (!panel?.el.open) return;
    panel.el.close();
    launcher.setAttribute('aria-expanded', 'false');
    if (refocus) launcher.focus();
  }

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
    } else if (panel?.el.open) {
      panel.alert.textContent = message;
    } else {
      toastText.textContent = message;
      toastKey.hidden = toastLink.hidden = !offerKey;
      toast.hidden = false;
    }
  }

  /** Copy `input`'s value, and say `done`; true when the clipboard took it. */
  async function copy(/** @type {HTMLInputElement} */ input, /** @type {string} */ done) {
    try {
      await view.navigator.clipboard.writeText(input.value);
      announce(done);
      return true;
    } catch {
      input.focus();
      input.select();
      announce(t('copyBlocked'));
      return false;
    }
  }

  return {
    host,
    /** The interface's context (the element builder, the words): layout.js takes it from here, adding no chunk. */
    context,
    withModule,
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
     * Ask which of the notes whose passages overlap under a click to open.
     * @param {NoteView[]} choices  innermost passage first
     * @param {(id: string, from: Focusable | null) => void} pick
     */
    chooseNote: (choices, pick) => withDialogs((d) => d.chooser.open(choices, pick)),
    /**
     * Open "Share notes" for `notes`, with "My shares".
     * @param {Parameters<Dialogs['share']['open']>[0]} notes
     * @param {import('./shares-panel.js').ShareDeps} shareActions  what its actions on links are made of
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
    panelOpen: () => Boolean(panel?.el.open),
    /** Build the panel (after the first draw: layout.js docks it); it resolves to the panel's parts. */
    loadPanel,
    modalOpen: () => Boolean(openModal()),
    adderShown: () => !adder.hidden,

    /** List notes in page order; unanchored and unreadable ones at the end. */
    renderNotes(/** @type {NoteView[]} */ notes, { canHighlight = true } = {}) {
      listed = { notes, canHighlight };
      count.textContent = number(notes.length);
      panel?.render(notes, canHighlight);
    },

    /** Say why notes can't work here ('' when they can): "My notes" opens on it. */
    setUnavailable(/** @type {string} */ sentence) {
      unavailable = sentence;
      if (panel?.el.open) panel.alert.textContent = sentence;
    },

    /** Show "Add note" by `rect` (viewport coordinates), or as a bottom bar. */
    showAdder(/** @type {DOMRect | undefined} */ rect, /** @type {boolean} */ asBar) {
      adder.hidden = false;
      adder.classList.toggle('bar', asBar);
      launcher.classList.toggle('raised', asBar);
      if (asBar || !rect) return;
      // A page that zooms its body (CSS zoom) zooms the widget too: `rect` is in the viewport's
      // pixels, the control's top and left in its own.
      const zoom = adder.currentCSSZoom || 1;
      const { width, height } = adder.getBoundingClientRect();
      let top = rect.bottom + 8;
      if (top + height > view.innerHeight - 8) top = rect.top - height - 8;
      const left = Math.min(Math.max(8, rect.right - width / 2), view.innerWidth - width - 8);
      adder.style.top = `${Math.max(8, top) / zoom}px`;
      adder.style.left = `${left / zoom}px`;
    },

    hideAdder() {
      adder.hidden = true;
      launcher.classList.remove('raised');
    },


    /** Mark the list item of the note "Go to highlight" went to (null: none). */
    markCurrent(/** @type {string | null} */ id) {
      panel?.markCurrent(id);
    },
  };
}
