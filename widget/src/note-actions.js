// @ts-check
// The note actions: add (on the selection, or to the caret's paragraph), open, edit, delete,
// accept a changed passage, share, and opening the notebook of a pasted recovery key. None is
// needed to draw the notes: app.js fetches this module, with the rest of the words, the first time
// the reader asks for one. The first load's helpers come in `deps` (importing them here would
// split the first load's chunk); the note bodies' helpers are on demand too (note-body.js).
import { firstWords, htmlToText, textToHtml } from './note-body.js';

/**
 * @typedef {import('./notes-store.js').NoteRecord} NoteRecord
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {import('./ui.js').NoteView} NoteView
 * @typedef {ReturnType<typeof noteActions>} NoteActions
 */

/**
 * @typedef {object} Deps
 * @property {Document} doc
 * @property {Window & typeof globalThis} view
 * @property {string} trial
 * @property {string} apiBase
 * @property {import('./api.js').Api} api
 * @property {typeof import('./api.js').ApiError} ApiError
 * @property {import('./notes-store.js').NotesStore} notes
 * @property {typeof import('./notes-store.js').quoteOf} quoteOf
 * @property {typeof import('./notes-store.js').readable} readable
 * @property {import('./ui.js').UI} ui
 * @property {import('./highlights.js').Highlighter} highlighter
 * @property {typeof import('./anchoring.js').describeQuote} describeQuote
 * @property {typeof import('./i18n.js').t} t
 * @property {() => Element | null} getRoot
 * @property {() => import('./token-store.js').TokenStore} tokens  the notebook token in use
 * @property {() => Promise<void>} signedIn  settles once a vouching host's sign-in chose the notebook
 * @property {() => import('./selection.js').SelectionWatch | null} selection
 * @property {() => string} unavailable  why notes can't be added on this page ('' when they can)
 * @property {() => {notes: number, anchored: number}} redraw
 * @property {(record: NoteRecord) => NoteView} toView
 * @property {(list: import('./api.js').Note[]) => void} setNotes
 * @property {() => void} offerKey  offer to save the recovery key (after the notebook's first note)
 */

const INLINE = /^(inline|contents|ruby)/;

/**
 * The paragraph (nearest block-level element inside the root) holding a DOM
 * point, for "Add a note to this paragraph"; null when the point is outside.
 */
export function paragraphOf(/** @type {Element} */ root, /** @type {Node | null} */ node) {
  if (!node || !root.contains(node)) return null;
  const view = /** @type {Window} */ (root.ownerDocument.defaultView); // a page's document has one
  let el = node.nodeType === 1 ? /** @type {Element} */ (node) : node.parentElement; // 1: ELEMENT_NODE
  while (el && el !== root) {
    if (!INLINE.test(view.getComputedStyle(el).display)) return el;
    el = el.parentElement;
  }
  return root;
}

/**
 * The routes that change notes, over the API's `call` (kept here, not in the first load's api.js,
 * which only lists them).
 * @param {import('./api.js').Api} api
 */
export const noteRoutes = (api) => {
  const enc = encodeURIComponent;
  return {
    /** @returns {Promise<{token: string}>} a new notebook's token (sent without the one in use) */
    createNotebook: () => api.call('POST', '/api/v1/notebooks', {}, null),
    /** @returns {Promise<import('./api.js').Note>} */
    createNote: (/** @type {string} */ trial, /** @type {import('./api.js').NewNote} */ note) =>
      api.call('POST', `/api/v1/trials/${enc(trial)}/notes`, note),
    /** @returns {Promise<import('./api.js').Note>} */
    updateNote: (/** @type {string} */ id, /** @type {{body?: string, color?: string, anchor?: 'accept'}} */ changes) =>
      api.call('PATCH', `/api/v1/notes/${enc(id)}`, changes),
    /** @returns {Promise<null>} */
    deleteNote: (/** @type {string} */ id) => api.call('DELETE', `/api/v1/notes/${enc(id)}`),
  };
};

/** A new note's id: 32 lowercase hex digits, random (as the service's own, a UUID4's hex). */
export const noteId = (/** @type {Window} */ view) =>
  Array.from(view.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The actions over one widget's notes. */
export function noteActions(/** @type {Deps} */ deps) {
  const { doc, view, trial, api, ApiError, notes, quoteOf, readable, ui, highlighter, t } = deps;
  const routes = noteRoutes(api);
  let lastColor = 'yellow';

  // ---- the notebook ----

  /**
   * Make a notebook unless there is a usable token; true when one was made. A token the service
   * refused (this device removed, or its token revoked, from another device) is replaced only when
   * the reader chose "Save in a new notebook" (`fresh`): else the note would go to a notebook they
   * do not know of, apart from their other notes. They can open theirs again first (link code,
   * recovery key): the editor keeps what they typed meanwhile.
   */
  async function ensureNotebook(fresh = false) {
    await deps.signedIn(); // a note saved while a host's sign-in is under way goes to the account's notebook
    const tokens = deps.tokens();
    if (tokens.usable()) return false;
    if (tokens.kind === 'account') {
      // Never a notebook made in the account's place (it would be kept as the account's). A refused
      // token: the call asks the host for its grant again (accounts.js `renewing`). None (this
      // browser was removed from the account here): the host's grant adds it again on the next visit.
      if (tokens.read()) return false;
      throw new ApiError(401, '', t('accountAccessRemoved'));
    }
    if (tokens.read() && !fresh) throw new ApiError(401, '', t('accessRemoved'));
    const { token } = await routes.createNotebook();
    deps.tokens().store(token);
    return true;
  }

  async function useKey(/** @type {string} */ text) {
    const token = text.replace(/\s+/g, ''); // the printed sheet groups it in fours
    if (!token) throw new Error(t('pasteKeyFirst'));
    // Not in an account's place: it would be taken for the account's notebook on the next visit.
    if (deps.tokens().kind === 'account') throw new Error(t('accountAccessRemoved'));
    let data;
    try {
      data = await api.listNotes(trial, token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        throw new Error(t('keyDidNotOpen'));
      }
      throw err;
    }
    deps.tokens().store(token);
    deps.setNotes(data.notes);
    ui.hideToast();
    ui.announce(t('keyAccepted', { n: data.notes.length }));
  }

  // ---- adding, viewing, editing notes ----

  /** Open the editor for text[start, end) of the root. */
  function startNote(/** @type {number} */ start, /** @type {number} */ end, /** @type {Focusable | null} */ from) {
    const unavailable = deps.unavailable();
    if (unavailable) return ui.showError(unavailable);
    const idx = notes.index();
    const selector = idx && deps.describeQuote(idx.text, start, end);
    if (!selector) return;
    ui.hideAdder();
    const quote = selector[0].exact;
    // The note's id, chosen here once for every Save of this editor: a Save again after a lost answer
    // sends it again, and the service answers the note that save stored (as stored) instead of making
    // a second. Only that note: another on the same words (from another device) is never taken.
    let id = noteId(view);
    let unsure = false; // a save's answer was lost: the service may hold the note already
    const opened = ui.openEditor(
      { title: t('newNote'), quote, text: '', color: lastColor, account: deps.tokens().kind === 'account' },
      async ({ text, color, fresh }) => {
        const created = await ensureNotebook(fresh);
        // A new notebook holds no note of this editor's: a lost save may have stored one with its
        // id in the notebook left behind, so the id that notebook knows would be refused (404).
        if (created && fresh) [id, unsure] = [noteId(view), false];
        const body = textToHtml(text);
        let note;
        try {
          note = await routes.createNote(trial, { idempotency_key: id, target: { selector }, body, color });
        } catch (err) {
          if (err instanceof ApiError && err.status === 0) unsure = true;
          throw err;
        }
        // The note stored by the lost save, with the words of then: today's replace them.
        if (unsure && (note.body !== body || note.color !== color)) note = await routes.updateNote(note.id, { body, color });
        lastColor = color;
        notes.add(note);
        deps.redraw();
        const sel = view.getSelection();
        const root = deps.getRoot();
        if (sel?.rangeCount && sel.anchorNode && root?.contains(sel.anchorNode)) sel.collapseToEnd();
        ui.announce(created ? t('savedFirst') : t('saved'));
        if (created) deps.offerKey();
      },
      from,
    );
    opened.then((open) => open && ui.announce(t('adding', { words: firstWords(quote) })));
  }

  function addFromSelection() {
    const selection = deps.selection();
    const offsets = selection?.offsets();
    if (offsets) return startNote(offsets.start, offsets.end, null);
    if (selection?.caret()) return addToParagraph(null);
    // Nothing to note yet: the panel is where a keyboard user can go from here.
    const say = () => ui.showError(t('selectFirst'));
    if (ui.panelOpen()) say();
    else ui.openPanel().then(say);
  }

  function addToParagraph(/** @type {Focusable | null} */ from) {
    const caret = deps.selection()?.caret();
    const root = deps.getRoot();
    const paragraph = root && caret && paragraphOf(root, caret.node);
    const idx = notes.index();
    if (!paragraph || !idx) {
      ui.showError(t('clickFirst'));
      return;
    }
    const range = doc.createRange();
    range.selectNodeContents(paragraph);
    const offsets = idx.fromRange(range);
    if (offsets) startNote(offsets.start, offsets.end, from);
  }

  function openNote(/** @type {string} */ id, /** @type {Focusable | null} */ from) {
    const record = notes.find(id);
    if (!record) return;
    highlighter.focus(id);
    ui.openNote(
      deps.toView(record),
      {
        onEdit: (returnTo) => editNote(record, returnTo),
        onDelete: async () => {
          await routes.deleteNote(id);
          notes.remove(record);
          deps.redraw();
          ui.announce(t('deleted'));
        },
        onAccept: async () => {
          notes.update(record, await routes.updateNote(id, { anchor: 'accept' }));
          deps.redraw();
          ui.announce(t('accepted'));
        },
        onClose: () => highlighter.focus(null),
      },
      from,
    );
  }

  /** A click on highlighted text: its note, or where passages overlap, the reader's choice of them. */
  function openNotes(/** @type {string[]} */ ids) {
    const views = ids.flatMap((id) => {
      const record = notes.find(id);
      return record ? [deps.toView(record)] : [];
    });
    if (views.length > 1) ui.chooseNote(views, (id, from) => openNote(id, from));
    else if (views[0]) openNote(views[0].id, null);
  }

  function editNote(/** @type {NoteRecord} */ record, /** @type {Focusable | null} */ returnTo) {
    ui.closeNote();
    const { note } = record;
    ui.openEditor(
      {
        title: t('editNote'),
        quote: quoteOf(note),
        text: htmlToText(note.body, doc),
        color: note.color,
        existing: true,
        account: deps.tokens().kind === 'account',
      },
      async ({ text, color }) => {
        notes.update(record, await routes.updateNote(note.id, { body: textToHtml(text), color }));
        lastColor = color;
        deps.redraw();
        ui.announce(t('saved'));
      },
      returnTo,
    );
  }

  // ---- sharing ----

  function openShare(/** @type {Focusable | null} */ from) {
    const choices = notes
      .ordered()
      .filter((r) => readable(r.note))
      .map(({ note }) => {
        const quote = quoteOf(note);
        return { id: note.id, label: firstWords(quote), quote, text: htmlToText(note.body, doc) };
      });
    // The routes on links are the share dialog's own (shares-panel.js, on demand).
    const hasNotebook = () => Boolean(deps.tokens().read());
    ui.openShare(choices, { api, trial, apiBase: deps.apiBase, hasNotebook, announce: ui.announce }, from);
  }

  /**
   * Scroll to a note's passage, select it and mark it as the focused note; a note not placed on
   * the page is opened instead. Keyboard focus stays on the list; the caret announcement reads
   * the note. (A modal dialog here would hide the selection: the page behind is inert.)
   */
  function goTo(/** @type {string} */ id, /** @type {Focusable | null} */ from) {
    const range = notes.find(id)?.range;
    if (!range) return openNote(id, from);
    // On a narrow screen the panel covers the page: get it out of the way.
    if (view.innerWidth < 720 && ui.panelOpen()) ui.closePanel();
    const rect = range.getBoundingClientRect();
    const smooth = !view.matchMedia('(prefers-reduced-motion: reduce)').matches;
    view.scrollBy({ top: rect.top - view.innerHeight / 3, behavior: smooth ? 'smooth' : 'auto' });
    const sel = view.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range.cloneRange());
    deps.selection()?.jumpedTo(range);
    highlighter.focus(id);
    ui.markCurrent(id);
  }

  return { useKey, addFromSelection, addToParagraph, openNote, openNotes, openShare, goTo };
}
