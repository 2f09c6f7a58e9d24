// The controller: the notebook token, the notes and where they sit on the
// page, the selection, and the calls to the API. Drawing is highlights.js's,
// the interface ui.js's, the text matching anchoring.js's.
import { ApiError, createApi } from './api.js';
import { anchorSelectors, describeQuote, offsetConverter } from './anchoring.js';
import { colorLabel, createHighlighter } from './highlights.js';
import { bodyPreview, firstWords, htmlToText, textToHtml } from './note-body.js';
import { paragraphOf, textIndex } from './text-range.js';
import { createUI } from './ui.js';

export const ROOT_SELECTOR = '[data-notes-root]';

/** localStorage key of the notebook token for the service at `apiBase`. */
export const tokenKey = (apiBase) => `trial-notes:token:${apiBase}`;

const quoteOf = (note) => note.target?.selector?.find((s) => s.type === 'TextQuoteSelector')?.exact ?? '';
const readable = (note) => note.readable !== false && Boolean(note.target);
const editable = (el) => el?.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el?.tagName ?? '');
const sameRange = (a, b) =>
  a.compareBoundaryPoints(0, b) === 0 && a.compareBoundaryPoints(2, b) === 0; // START_TO_START, END_TO_END
const INTERACTIVE = 'a[href],button,input,select,textarea,summary,label,[contenteditable]';

/** Start the widget for `trial` against the service at `apiBase` (an origin). */
export function startWidget({ doc, trial, apiBase }) {
  const view = doc.defaultView;
  const key = tokenKey(apiBase);
  let memoryToken = null; // used only where the page may not keep localStorage
  let tokenRejected = false;

  function readToken() {
    try {
      return view.localStorage.getItem(key) ?? memoryToken;
    } catch {
      return memoryToken;
    }
  }

  function storeToken(token) {
    memoryToken = token;
    tokenRejected = false;
    try {
      view.localStorage.setItem(key, token);
    } catch {
      // Storage blocked: the token lives until the page closes; the panel shows it.
    }
  }

  const api = createApi(apiBase, readToken);
  const highlighter = createHighlighter(doc);
  let root = doc.querySelector(ROOT_SELECTOR);
  let index = null; // textIndex of the root, null when stale
  let records = []; // {note, range, start}: range null when not on the page
  let lastColor = 'yellow';
  let pending = null; // {start, end} the "Add note" control stands for
  let caret = null; // last selection focus point inside the root
  let insideId = null; // the highlighted note the caret is in, for announcements
  let jumpedTo = null; // the passage "Go to highlight" selected: no "Add note" for it
  let pointerDown = false;
  let settleTimer = 0;
  let reanchorTimer = 0;

  const ui = createUI(doc, {
    addFromSelection: () => addFromSelection(),
    addToParagraph,
    goTo,
    openNote,
    openShare,
    currentKey: readToken,
    useKey,
    explain,
  });

  /** The words for an error: the ApiError's (the problem's detail, fields, wait), or our own message. */
  function explain(err) {
    if (err instanceof ApiError && err.status === 401) {
      tokenRejected = true;
      return 'The recovery key saved in this browser no longer opens a notebook. Choose “Use another recovery key” in My notes, or save a note to start a new notebook.';
    }
    return err?.message || String(err);
  }

  const showError = (err) =>
    ui.showError(explain(err), { offerKey: err instanceof ApiError && err.status === 401 });

  const find = (id) => records.find((r) => r.note.id === id);

  const getIndex = () => {
    index ??= root ? textIndex(root) : null;
    return index;
  };

  function anchor(record) {
    const { note } = record;
    const idx = getIndex();
    // One code-point converter per text index, not one per note.
    const found =
      idx && readable(note)
        ? anchorSelectors(idx.text, note.target.selector ?? [], (idx.convert ??= offsetConverter(idx.text)))
        : null;
    record.range = found ? idx.toRange(found.start, found.end) : null;
    record.start = found ? found.start : Infinity;
  }

  const toView = ({ note, range }) => ({
    id: note.id,
    quote: quoteOf(note),
    color: note.color,
    body: note.body,
    readable: readable(note),
    anchored: Boolean(range),
  });

  /** Sort into page order, draw, list. */
  function redraw() {
    // Ties by creation time, compared as numbers (localeCompare is ICU collation, slow at 500 notes).
    const time = (r) => Date.parse(r.note.created_at) || 0;
    records.sort((a, b) => a.start - b.start || time(a) - time(b));
    highlighter.draw(records.filter((r) => r.range).map((r) => ({ id: r.note.id, color: r.note.color, range: r.range })));
    ui.renderNotes(records.map(toView), { canHighlight: highlighter.supported });
  }

  /**
   * Anchor every note again and draw; then tell the page (and benchmarks) with a
   * `trial-notes:anchored` event: {notes, anchored, ms since `since`}, `since`
   * being when the notes arrived, or the start of a re-anchoring.
   */
  function reanchorAll(since = view.performance.now()) {
    index = null;
    for (const record of records) anchor(record);
    redraw();
    const detail = {
      notes: records.length,
      anchored: records.filter((r) => r.range).length,
      ms: view.performance.now() - since,
    };
    doc.dispatchEvent(new view.CustomEvent('trial-notes:anchored', { detail }));
  }

  function setNotes(notes, since) {
    records = notes.map((note) => ({ note }));
    reanchorAll(since);
  }

  async function load() {
    if (!readToken()) return redraw();
    try {
      const { notes } = await api.listNotes(trial);
      setNotes(notes, view.performance.now());
    } catch (err) {
      showError(err);
    }
  }

  // ---- the notebook ----

  async function ensureNotebook() {
    if (readToken() && !tokenRejected) return false;
    const { token } = await api.createNotebook();
    storeToken(token);
    return true;
  }

  async function useKey(text) {
    const token = text.trim();
    if (!token) throw new Error('Paste a recovery key first.');
    let data;
    try {
      data = await api.listNotes(trial, token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        throw new Error("That recovery key didn't open a notebook. Check that you pasted all of it.");
      }
      throw err;
    }
    storeToken(token);
    setNotes(data.notes, view.performance.now());
    ui.hideToast();
    ui.announce(`Recovery key accepted. ${data.notes.length} ${data.notes.length === 1 ? 'note' : 'notes'} on this page.`);
  }

  // ---- adding, viewing, editing notes ----

  /** Open the editor for text[start, end) of the root. */
  function startNote(start, end, from) {
    const idx = getIndex();
    const selector = idx && describeQuote(idx.text, start, end);
    if (!selector) return;
    ui.hideAdder();
    const quote = selector[0].exact;
    ui.editor.open(
      { title: 'New note', quote, text: '', color: lastColor },
      async ({ text, color }) => {
        const created = await ensureNotebook();
        const note = await api.createNote(trial, { target: { selector }, body: textToHtml(text), color });
        lastColor = color;
        const record = { note };
        records.push(record);
        anchor(record);
        redraw();
        const sel = view.getSelection();
        if (sel?.rangeCount && root?.contains(sel.anchorNode)) sel.collapseToEnd();
        ui.announce(
          created
            ? 'Note saved. Your private notebook was made: its recovery key is in My notes.'
            : 'Note saved.',
        );
      },
      from,
    );
    ui.announce(`Adding a note to “${firstWords(quote)}”.`);
  }

  function selectionOffsets() {
    const sel = view.getSelection();
    if (!root || !sel?.rangeCount || sel.isCollapsed) return null;
    const idx = getIndex();
    const offsets = idx.fromRange(sel.getRangeAt(0));
    return offsets && describeQuote(idx.text, offsets.start, offsets.end) ? offsets : null;
  }

  /** Remember where the selection's moving end is, if it is in the root. */
  function trackCaret(sel) {
    const inRoot = Boolean(root && sel?.focusNode && root.contains(sel.focusNode));
    if (inRoot) caret = { node: sel.focusNode, offset: sel.focusOffset };
    return inRoot;
  }

  function addFromSelection() {
    trackCaret(view.getSelection());
    const offsets = selectionOffsets() ?? pending;
    if (offsets) return startNote(offsets.start, offsets.end, null);
    if (caret) return addToParagraph(null);
    // Nothing to note yet: the panel is where a keyboard user can go from here.
    if (!ui.panelOpen()) ui.openPanel();
    ui.showError('Select some text in the trial first (Ctrl+F can select words by keyboard), then press Alt+N.');
  }

  function addToParagraph(from) {
    trackCaret(view.getSelection());
    const paragraph = root && caret && paragraphOf(root, caret.node);
    if (!paragraph) {
      ui.showError(
        'Click in the trial text or select a word first (Ctrl+F can select words by keyboard), then choose “Add a note to this paragraph”.',
      );
      return;
    }
    const range = doc.createRange();
    range.selectNodeContents(paragraph);
    const offsets = getIndex().fromRange(range);
    if (offsets) startNote(offsets.start, offsets.end, from);
  }

  function openNote(id, from) {
    const record = find(id);
    if (!record) return;
    highlighter.focus(id);
    ui.view.open(
      toView(record),
      {
        onEdit: (returnTo) => editNote(record, returnTo),
        onDelete: async () => {
          await api.deleteNote(id);
          records = records.filter((r) => r !== record);
          redraw();
          ui.announce('Note deleted.');
        },
        onClose: () => highlighter.focus(null),
      },
      from,
    );
  }

  function editNote(record, returnTo) {
    ui.view.close();
    const { note } = record;
    ui.editor.open(
      { title: 'Edit note', quote: quoteOf(note), text: htmlToText(note.body, doc), color: note.color },
      async ({ text, color }) => {
        record.note = await api.updateNote(note.id, { body: textToHtml(text), color });
        lastColor = color;
        anchor(record);
        redraw();
        ui.announce('Note saved.');
      },
      returnTo,
    );
  }

  /**
   * Scroll to a note's passage, select it and mark it as the focused note.
   * Keyboard focus stays on the list; the caret announcement reads the note.
   * (A modal dialog here would hide the selection: the page behind is inert.)
   */
  function goTo(id, from) {
    const record = find(id);
    if (!record?.range) return openNote(id, from);
    // On a narrow screen the panel covers the page: get it out of the way.
    if (view.innerWidth < 720 && ui.panelOpen()) ui.closePanel();
    const rect = record.range.getBoundingClientRect();
    const smooth = !view.matchMedia('(prefers-reduced-motion: reduce)').matches;
    view.scrollBy({ top: rect.top - view.innerHeight / 3, behavior: smooth ? 'smooth' : 'auto' });
    const sel = view.getSelection();
    sel.removeAllRanges();
    sel.addRange(record.range.cloneRange());
    jumpedTo = record.range;
    highlighter.focus(id);
    ui.markCurrent(id);
  }

  // ---- sharing ----

  function openShare(from) {
    const notes = records
      .filter((r) => readable(r.note))
      .map((r) => ({ id: r.note.id, label: firstWords(quoteOf(r.note)) }));
    ui.share.open(notes, { create: createShare, revoke: revokeShare }, from);
    refreshShares();
  }

  async function refreshShares() {
    if (!readToken()) return ui.share.showShares([]);
    try {
      const { shares } = await api.listShares(trial);
      ui.share.showShares(shares.filter((s) => !s.trial_id || s.trial_id === trial));
    } catch (err) {
      ui.share.alert.textContent = explain(err);
    }
  }

  async function createShare(choice) {
    const share = await api.createShare({ trial_id: trial, ...choice });
    share.url = new URL(share.url, apiBase).href;
    refreshShares();
    ui.announce('Link created.');
    return share;
  }

  async function revokeShare(id) {
    await api.revokeShare(id);
    await refreshShares();
    ui.announce('Link revoked.');
  }

  // ---- the selection, the caret, the keyboard ----

  function announceCaret(ids) {
    const now = ids[0] ?? null;
    if (now === insideId) return;
    const before = insideId;
    insideId = now;
    const record = now && find(now);
    if (record) {
      const words = bodyPreview(record.note.body, doc) || 'no text';
      ui.announce(`Highlighted passage, ${colorLabel(record.note.color).toLowerCase()}, note: ${words}`);
    } else if (before) {
      ui.announce('End of highlighted passage');
    }
  }

  function adderRect(sel) {
    const range = sel.getRangeAt(0);
    const rects = range.getClientRects();
    // Put the control by the end the user moved: the focus end of the selection.
    const probe = doc.createRange();
    probe.setStart(sel.anchorNode, sel.anchorOffset);
    const backward = probe.comparePoint(sel.focusNode, sel.focusOffset) < 0;
    return (backward ? rects[0] : rects[rects.length - 1]) ?? range.getBoundingClientRect();
  }

  function checkSelection() {
    const sel = view.getSelection();
    const inRoot = trackCaret(sel);
    // Behind a modal dialog the page is inert and its selection hidden: say nothing.
    if (!ui.modalOpen()) announceCaret(inRoot ? highlighter.notesAt(sel.focusNode, sel.focusOffset) : []);
    const jumped = jumpedTo && sel.rangeCount && sameRange(sel.getRangeAt(0), jumpedTo);
    pending = ui.modalOpen() || jumped ? null : selectionOffsets();
    if (jumpedTo && !jumped) {
      jumpedTo = null;
      highlighter.focus(null);
      ui.markCurrent(null);
    }
    if (!pending) return ui.hideAdder();
    ui.showAdder(adderRect(sel), view.matchMedia('(pointer: coarse)').matches);
  }

  function settle(ms) {
    view.clearTimeout(settleTimer);
    settleTimer = view.setTimeout(checkSelection, ms);
  }

  const ours = (event) => event.composedPath().includes(ui.host);

  doc.addEventListener(
    'pointerdown',
    (event) => {
      if (ours(event)) return;
      pointerDown = true;
      ui.hideAdder();
    },
    true,
  );
  let pointerUpAt = 0;
  const pointerUp = (event) => {
    if (ours(event)) return;
    pointerDown = false;
    pointerUpAt = event.timeStamp;
    settle(10);
  };
  doc.addEventListener('pointerup', pointerUp, true);
  doc.addEventListener('pointercancel', pointerUp, true);
  // A selection being dragged is not settled; a keyboard or handle change is,
  // shortly. The selectionchange a click queues belongs to its pointerup.
  doc.addEventListener('selectionchange', (event) => {
    if (!pointerDown && event.timeStamp - pointerUpAt > 50) settle(100);
  });

  doc.addEventListener('click', (event) => {
    if (ours(event) || event.button !== 0 || event.defaultPrevented) return;
    if (!view.getSelection()?.isCollapsed) return; // the click ended a selection
    if (event.composedPath().some((n) => n.matches?.(INTERACTIVE))) return; // a link wins
    const id = highlighter.hitTest(event.clientX, event.clientY);
    if (id) openNote(id, null);
  });

  doc.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || ui.modalOpen()) return;
    if (event.key === 'Escape' && ui.adderShown()) return ui.hideAdder();
    if (editable(event.composedPath()[0])) return;
    // The code is the key's place (Alt+N types "˜" on a Mac); the key, its letter on other layouts.
    const altN = event.altKey && !event.shiftKey && (event.code === 'KeyN' || event.key.toLowerCase() === 'n');
    const n = !event.altKey && event.key.toLowerCase() === 'n' && ui.adderShown();
    if (!altN && !n) return;
    event.preventDefault();
    addFromSelection();
  });

  const reposition = () => {
    if (!ui.adderShown()) return;
    const sel = view.getSelection();
    if (sel?.rangeCount) ui.showAdder(adderRect(sel), view.matchMedia('(pointer: coarse)').matches);
  };
  view.addEventListener('scroll', reposition, { passive: true, capture: true });
  view.addEventListener('resize', reposition, { passive: true });

  // ---- pages that change after load ----

  const rootObserver = new view.MutationObserver(() => {
    index = null;
    view.clearTimeout(reanchorTimer);
    reanchorTimer = view.setTimeout(() => reanchorAll(), 200);
  });

  function attach(next) {
    root = next;
    rootObserver.disconnect();
    if (root) rootObserver.observe(root, { subtree: true, childList: true, characterData: true });
    reanchorAll();
  }

  // A client-rendered page may add or replace the root itself later. The
  // widget's own host is a sibling at the end of <body> whose contents live
  // in its shadow root, so nothing the widget does is seen here.
  new view.MutationObserver(() => {
    if (root?.isConnected) return;
    const next = doc.querySelector(ROOT_SELECTOR);
    if (next) attach(next);
  }).observe(doc.body, { childList: true, subtree: true });

  attach(root);
  load();
  return { ui, highlighter };
}
