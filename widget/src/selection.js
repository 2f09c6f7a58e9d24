// @ts-check
// The selection observer: where the reader's selection and caret are in the
// notes root, when a selection has settled ("Add note" then shows by it),
// which highlighted passage the caret is in (said aloud), and clicks on a
// highlight (its note opens).
// It imports nothing of the first load's: what it needs of it comes in `deps` (`words`), so that
// fetching it beside the notes adds no chunk to the first load.

const INTERACTIVE = 'a[href],button,input,select,textarea,summary,label,[contenteditable]';

/** @param {Range} a @param {Range} b */
const sameRange = (a, b) =>
  a.compareBoundaryPoints(0, b) === 0 && a.compareBoundaryPoints(2, b) === 0; // START_TO_START, END_TO_END

/**
 * @typedef {{start: number, end: number}} Offsets  UTF-16 offsets into the root's text
 * @typedef {{node: Node, offset: number}} Point
 * @typedef {{trimPassage: typeof import('./anchoring.js').trimPassage, colorLabel: typeof import('./highlights.js').colorLabel,
 *   bodyPreview: typeof import('./note-body.js').bodyPreview, t: typeof import('./i18n.js').t}} Words
 * @typedef {object} SelectionWatch
 * @property {() => Offsets | null} offsets
 *   The selection's offsets if it can be noted, else those "Add note" stood for.
 * @property {() => Point | null} caret  The last selection focus point inside the root.
 * @property {(range: Range) => void} jumpedTo
 *   "Go to highlight" selected `range`: no "Add note" for it, and the focus mark goes when it changes.
 */

/**
 * Watch the page's selection and pointer through `listeners`.
 * @param {object} deps
 * @param {Document} deps.doc
 * @param {Window & typeof globalThis} deps.view
 * @param {import('./listeners.js').Listeners} deps.listeners
 * @param {() => Element | null} deps.getRoot
 * @param {import('./notes-store.js').NotesStore} deps.notes
 * @param {import('./ui.js').UI} deps.ui
 * @param {import('./highlights.js').Highlighter} deps.highlighter
 * @param {(ids: string[]) => void} deps.openNotes  the notes under a click, innermost first
 * @param {Words} deps.words  the first load's functions it uses
 * @returns {SelectionWatch}
 */
export function watchSelection({ doc, view, listeners, getRoot, notes, ui, highlighter, openNotes, words: w }) {
  /** @type {Offsets | null} */
  let pending = null; // what the "Add note" control stands for
  /** @type {Point | null} */
  let caret = null;
  /** @type {string | null} */
  let insideId = null; // the highlighted note the caret is in, for announcements
  /** @type {Range | null} */
  let jumpedTo = null;
  let pointerDown = false;
  let pointerUpAt = 0;

  /** Remember where the selection's moving end is, if it is in the root. */
  function trackCaret(/** @type {Selection | null} */ sel) {
    const root = getRoot();
    const inRoot = Boolean(root && sel?.focusNode && root.contains(sel.focusNode));
    if (inRoot && sel?.focusNode) caret = { node: sel.focusNode, offset: sel.focusOffset };
    return inRoot;
  }

  /** @returns {Offsets | null} */
  function selectionOffsets() {
    const sel = view.getSelection();
    const idx = notes.index();
    if (!idx || !sel?.rangeCount || sel.isCollapsed) return null;
    const offsets = idx.fromRange(sel.getRangeAt(0));
    // What "Add note" saves: the passage without edge white space or item numbers.
    return offsets && w.trimPassage(idx.text, offsets.start, offsets.end);
  }

  function announceCaret(/** @type {string[]} */ ids) {
    const now = ids[0] ?? null;
    if (now === insideId) return;
    const before = insideId;
    insideId = now;
    const record = now && notes.find(now);
    if (record) {
      const words = w.bodyPreview(record.note.body, doc);
      const color = w.colorLabel(record.note.color);
      ui.announce(words ? w.t('caretIn', { color, words }) : w.t('caretInEmpty', { color }));
    } else if (before) {
      ui.announce(w.t('caretOut'));
    }
  }

  /** Show "Add note" by the end of the selection the user moved (a bottom bar on touch screens). */
  function showAdder(/** @type {Selection} */ sel) {
    const range = sel.getRangeAt(0);
    const rects = range.getClientRects();
    // A selection with a range has both ends.
    const probe = doc.createRange();
    probe.setStart(/** @type {Node} */ (sel.anchorNode), sel.anchorOffset);
    const backward = probe.comparePoint(/** @type {Node} */ (sel.focusNode), sel.focusOffset) < 0;
    const rect = (backward ? rects[0] : rects[rects.length - 1]) ?? range.getBoundingClientRect();
    ui.showAdder(rect, view.matchMedia('(pointer: coarse)').matches);
  }

  function checkSelection() {
    const sel = view.getSelection();
    const inRoot = trackCaret(sel);
    // Behind a modal dialog the page is inert and its selection hidden: say nothing.
    if (!ui.modalOpen()) announceCaret(inRoot && sel?.focusNode ? highlighter.notesAt(sel.focusNode, sel.focusOffset) : []);
    const jumped = Boolean(jumpedTo && sel?.rangeCount && sameRange(sel.getRangeAt(0), jumpedTo));
    pending = ui.modalOpen() || jumped ? null : selectionOffsets();
    if (jumpedTo && !jumped) {
      jumpedTo = null;
      highlighter.focus(null);
      ui.markCurrent(null);
    }
    if (!pending || !sel) return ui.hideAdder();
    showAdder(sel);
  }

  const settle = listeners.debounce(checkSelection);
  const ours = (/** @type {Event} */ event) => event.composedPath().includes(ui.host);

  listeners.on(
    doc,
    'pointerdown',
    (event) => {
      if (ours(event)) return;
      pointerDown = true;
      ui.hideAdder();
    },
    true,
  );
  /** @param {PointerEvent} event */
  const pointerUp = (event) => {
    if (ours(event)) return;
    pointerDown = false;
    pointerUpAt = event.timeStamp;
    settle(10);
  };
  listeners.on(doc, 'pointerup', pointerUp, true);
  listeners.on(doc, 'pointercancel', pointerUp, true);
  // A selection being dragged is not settled; a keyboard or handle change is,
  // shortly. The selectionchange a click queues belongs to its pointerup.
  listeners.on(doc, 'selectionchange', (event) => {
    if (!pointerDown && event.timeStamp - pointerUpAt > 50) settle(100);
  });

  listeners.on(doc, 'click', (event) => {
    if (ours(event) || event.button !== 0 || event.defaultPrevented) return;
    if (!view.getSelection()?.isCollapsed) return; // the click ended a selection
    // A link wins.
    // (The path also holds the document and the window, which have no matches().)
    if (event.composedPath().some((n) => /** @type {Partial<Element>} */ (n).matches?.(INTERACTIVE))) return;
    const ids = highlighter.hitTest(event.clientX, event.clientY);
    if (ids.length) openNotes(ids);
  });

  const reposition = () => {
    if (!ui.adderShown()) return;
    const sel = view.getSelection();
    if (sel?.rangeCount) showAdder(sel);
  };
  listeners.on(view, 'scroll', reposition, { passive: true, capture: true });
  listeners.on(view, 'resize', reposition, { passive: true });
  // The widget's modules arrive after the page has loaded: a selection made before counts too.
  settle(0);

  return {
    offsets() {
      trackCaret(view.getSelection());
      return selectionOffsets() ?? pending;
    },
    caret() {
      trackCaret(view.getSelection());
      return caret;
    },
    jumpedTo(range) {
      jumpedTo = range;
    },
  };
}
