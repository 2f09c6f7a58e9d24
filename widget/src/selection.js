// @ts-check
// The selection observer: where the reader's selection and caret are in the
// notes root, when a selection has settled ("Add note" then shows by it),
// which highlighted passage the caret is in (said aloud), and clicks on a
// highlight (its note opens: hit-testing the passages highlights.js drew is done here).
// It imports nothing of the first load's: what it needs of it comes in `deps` (`words`), so that
// fetching it beside the notes adds no chunk to the first load.
import { addSheet } from './sheets.js';

// The "Add note" control's rules (ui.js builds it, hidden; only this module shows it): by the
// selection, or a bottom bar on touch screens that raises the launcher.
const ADDER_CSS = `
.launcher.raised{bottom:84px}
.adder{position:fixed;z-index:2147483001;display:flex;align-items:center;gap:8px}
.adder button{box-shadow:0 2px 10px rgba(0,0,0,.3)}
.adder kbd{font:inherit;font-size:.8em;border:1px solid;border-radius:4px;padding:0 5px;margin-inline-start:8px}
.adder.bar{left:0!important;right:0;bottom:0;top:auto!important;justify-content:center;padding:12px 16px calc(12px + env(safe-area-inset-bottom));background:#fff;border-top:1px solid #d0d7de;box-shadow:0 -2px 10px rgba(0,0,0,.15)}
.adder.bar button{flex:1;max-width:480px;min-height:48px;box-shadow:none}
.adder.bar kbd{display:none}
`;

const INTERACTIVE = 'a[href],button,input,select,textarea,summary,label,[contenteditable]';

/**
 * @typedef {import('./highlights.js').Drawn} Drawn
 * @typedef {HighlightRegistry & {highlightsFromPoint?: (x: number, y: number) => Array<{highlight: Highlight} | Highlight>}} Registry
 *   highlightsFromPoint() is newer than the registry (not in TypeScript's DOM types yet)
 */

/** Shortest passage first: the innermost of nested highlights. */
const byLength = (/** @type {Drawn} */ a, /** @type {Drawn} */ b) =>
  a.range.toString().length - b.range.toString().length;

/** @param {Range} range @param {number} x @param {number} y */
const inRects = (range, x, y) =>
  [...range.getClientRects()].some((r) => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom);

/** @param {Range} range @param {Node} node @param {number} offset */
const containsPoint = (range, node, offset) => {
  try {
    return range.isPointInRange(node, offset);
  } catch {
    return false;
  }
};

/**
 * The caret position under a point, with either engine's API.
 * @param {Document} doc @param {number} x @param {number} y
 * @returns {[Node, number] | null}
 */
function caretAt(doc, x, y) {
  const pos = doc.caretPositionFromPoint?.(x, y);
  if (pos) return [pos.offsetNode, pos.offset];
  const range = doc.caretRangeFromPoint?.(x, y);
  return range ? [range.startContainer, range.startOffset] : null;
}

/**
 * Ids of the notes drawn under viewport point (x, y), innermost first; empty if none.
 * @param {Document} doc @param {Drawn[]} entries @param {number} x @param {number} y
 * @returns {string[]}
 */
function hitTest(doc, entries, x, y) {
  /** @type {Registry | undefined} */
  const registry = doc.defaultView?.CSS?.highlights;
  // Chrome 140+ answers {highlight, ranges} (older drafts: the Highlight).
  const hits = (registry?.highlightsFromPoint?.(x, y) ?? []).map((hit) => ('highlight' in hit ? hit.highlight : hit));
  let candidates = entries.filter((e) => hits.some((h) => h.has(e.range)));
  if (!candidates.length) {
    // No API, or no answer: Chromium 156 finds nothing under a touch
    // emulated with a device scale factor, where the caret APIs still work.
    const caret = caretAt(doc, x, y);
    candidates = caret ? entries.filter((e) => containsPoint(e.range, ...caret)) : [];
  }
  // A caret snaps to the nearest text, so confirm the point is on the passage.
  const under = candidates.filter((e) => inRects(e.range, x, y));
  return under.sort(byLength).map((e) => e.id);
}

/** Ids of notes whose passage holds the DOM point, innermost first. */
const notesAt = (/** @type {Drawn[]} */ entries, /** @type {Node} */ node, /** @type {number} */ offset) =>
  entries
    .filter((e) => containsPoint(e.range, node, offset))
    .sort(byLength)
    .map((e) => e.id);

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
 * @param {Words} deps.words  the helpers it uses (of the first load, and note-body.js's)
 * @returns {SelectionWatch}
 */
export function watchSelection({ doc, view, listeners, getRoot, notes, ui, highlighter, openNotes, words: w }) {
  const adder = ui.host.shadowRoot?.querySelector('.adder');
  if (adder) addSheet(adder, ADDER_CSS);
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
    if (!ui.modalOpen()) announceCaret(inRoot && sel?.focusNode ? notesAt(highlighter.drawn(), sel.focusNode, sel.focusOffset) : []);
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
    const ids = hitTest(doc, highlighter.drawn(), event.clientX, event.clientY);
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
