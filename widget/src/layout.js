// @ts-check
// Keeping the widget off the text being read, and finding notes again (a module of its own,
// imported after the first draw, so the first load carries none of it):
// - "My notes" docks in the free space beside the text column on wide screens (the page is not
//   reflowed), else it is a bottom sheet the reader can drag (pointer events) or close;
// - the launcher moves to another corner while it would cover the selected passage;
// - "This trial" / "All trials" in the panel (all-notes.js, imported when first chosen);
// - a note link from "All trials" (`#trial-note=<id>`) scrolls to its passage and flashes it;
// - a first-visit hint near the top of the trial text, dismissed for good;
// - the page a trial was read on is remembered, so "All trials" links back to it.
import { GAP, launcherCorner, panelPlace, scrollAboveSheet, sheetHeight } from './placement.js';
import { addSheet } from './sheets.js';

/** The fragment a note link carries: `#trial-note=<note id>` (an opaque id, never the note's words). */
export const NOTE_FRAGMENT = /^#trial-note=([\w-]{1,64})$/;

/** The pages trials were read on, per service, in this site's localStorage: at most this many. */
export const MAX_PAGES = 200;

const CSS = `
.panel.bottom-sheet{inset:auto 0 0 0;width:100%;height:50vh;max-height:90vh;border-width:1px 0 0;border-radius:12px 12px 0 0;padding-top:0;box-shadow:0 -4px 18px rgba(0,0,0,.2)}
.grip{display:none;width:100%;min-height:32px;border:0;background:none;touch-action:none;cursor:ns-resize;padding:8px 0}
.grip::before{content:"";display:block;margin:auto;width:48px;height:5px;border-radius:3px;background:#8c959f}
.grip:hover{background:none}
.bottom-sheet .grip{display:block}
.tabs{display:flex;gap:0;margin:12px 0 4px;border-bottom:1px solid #d0d7de}
.tabs button{border:0;border-bottom:3px solid transparent;border-radius:0;background:none;padding:6px 12px}
.tabs button[aria-pressed=true]{border-bottom-color:#1d4ed8;font-weight:600}
.panel.all>:not(.top,.alert,.tabs,.grip,.all-notes){display:none}
.panel:not(.all)>.all-notes{display:none}
.hint{position:absolute;z-index:2147482999;max-width:min(352px,calc(100vw - 16px));display:flex;flex-wrap:wrap;align-items:center;gap:4px 12px;background:#eef4ff;border:1px solid #1d4ed8;border-radius:8px;padding:6px 10px;box-shadow:0 2px 8px rgba(0,0,0,.15)}
.hint p{margin:0;flex:1 1 192px}
.hint .more{color:#57606a;font-size:.9em}
@media (max-width:600px){.hint .more{display:none}.hint{padding:2px 8px}}
`;

/**
 * @typedef {object} Deps
 * @property {Document} doc
 * @property {Window & typeof globalThis} view
 * @property {import('./listeners.js').Listeners} listeners
 * @property {ReturnType<typeof import('./ui.js').createUI>} ui
 * @property {() => Element | null} getRoot
 * @property {string} trial
 * @property {string} apiBase
 * @property {import('./api.js').Api} api
 * @property {import('./notes-store.js').NotesStore} notes  this page's notes and where they sit
 * @property {import('./highlights.js').Highlighter} highlighter
 * @property {(id: string, from: null) => void} goTo  scroll to a note's passage and select it
 * @property {() => import('./token-store.js').TokenStore} tokens  the notebook token in use
 * @property {(note: import('./api.js').Note) => string} quoteOf
 * @property {(note: import('./api.js').Note) => boolean} readable
 * @property {import('./all-notes.js').Words} words  the note helpers "All trials" uses
 */

/** The localStorage key of a per-service record (`what`: 'pages', 'hint'). */
const storeKey = (/** @type {string} */ what, /** @type {string} */ apiBase) => `trial-notes:${what}:${apiBase}`;

/**
 * The pages trials were read on (NCT number → path and query of this site), from `storage`.
 * @param {Storage | null} storage
 * @param {string} apiBase
 * @returns {Record<string, string>}
 */
export function readPages(storage, apiBase) {
  try {
    const pages = JSON.parse(storage?.getItem(storeKey('pages', apiBase)) ?? '{}');
    return pages && typeof pages === 'object' && !Array.isArray(pages) ? pages : {};
  } catch {
    return {};
  }
}

/**
 * Remember that `trial` is read at `path` (the latest last; at most MAX_PAGES kept).
 * @param {Storage | null} storage
 * @param {string} apiBase
 * @param {string} trial
 * @param {string} path  the page's path and query (never its fragment)
 */
export function rememberPage(storage, apiBase, trial, path) {
  const pages = readPages(storage, apiBase);
  delete pages[trial];
  pages[trial] = path;
  const kept = Object.entries(pages).slice(-MAX_PAGES);
  try {
    storage?.setItem(storeKey('pages', apiBase), JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // storage full or blocked: links go to the service's own trial page
  }
}

/**
 * The address of a note: the page its trial was read on in this site if known, else the
 * service's own trial page; the fragment names the note by id only.
 * @param {string} trial
 * @param {string} noteId
 * @param {Record<string, string>} pages
 * @param {string} origin  this site's origin
 * @param {string} apiBase
 */
export function noteAddress(trial, noteId, pages, origin, apiBase) {
  const known = pages[trial];
  const page = known && known.startsWith('/') ? origin + known : `${apiBase}/trials/${encodeURIComponent(trial)}`;
  return `${page}#trial-note=${encodeURIComponent(noteId)}`;
}

/**
 * Arrange the widget on the page (see the top of this file); everything it hangs on the page is
 * in `listeners`, so destroy() takes it away.
 * @param {Deps} deps
 */
export function arrange(deps) {
  const { doc, view, listeners, ui, getRoot, trial, apiBase } = deps;
  // The element builder and the words from the interface's context: importing dom.js or i18n.js
  // here would split the first load's chunk.
  const { h, t, day } = ui.context;
  // Arabic mirrors the widget (ui.js sets the host's dir): the panel docks at the left, the launcher sits bottom left.
  const rtl = ui.host.dir === 'rtl';
  const hasNotebook = () => Boolean(deps.tokens().read());
  const goTo = (/** @type {string} */ id) => deps.goTo(id, null);
  // The interface's own elements (ui.js), found in its shadow root.
  const shadow = /** @type {ShadowRoot} */ (ui.host.shadowRoot);
  const panel = /** @type {HTMLDialogElement} */ (shadow.querySelector('dialog.panel'));
  const launcher = /** @type {HTMLButtonElement} */ (shadow.querySelector('.launcher'));
  const adder = /** @type {HTMLElement} */ (shadow.querySelector('.adder'));
  addSheet(launcher, CSS);
  const storage = (() => {
    try {
      return view.localStorage;
    } catch {
      return null;
    }
  })();

  /** @type {HTMLElement | null} the first-visit hint, while it shows */
  let hint = null;

  if (trial && getRoot()) rememberPage(storage, apiBase, trial, view.location.pathname + view.location.search);

  // ---- "This trial" / "All trials" ----
  const allSection = h('section', { class: 'all-notes', 'aria-label': t('allTrials') });
  /** @type {ReturnType<typeof import('./all-notes.js').allNotes> | null} */
  let all = null;
  const show = (/** @type {boolean} */ everything) => {
    panel.classList.toggle('all', everything);
    thisTab.setAttribute('aria-pressed', String(!everything));
    allTab.setAttribute('aria-pressed', String(everything));
    if (!everything) return;
    // "All trials" is a module of its own, fetched the first time it is chosen.
    import('./all-notes.js').then(
      ({ allNotes }) => {
        all ??= allNotes({
          doc,
          h,
          t,
          day,
          words: deps.words,
          el: allSection,
          api: deps.api,
          trial,
          hasNotebook,
          address: (nct, id) => noteAddress(nct, id, readPages(storage, apiBase), view.location.origin, apiBase),
          goTo,
          quoteOf: deps.quoteOf,
          readable: deps.readable,
        });
        all.load();
      },
      () => ui.showError(t('unreachable')),
    );
  };
  const thisTab = h('button', { 'aria-pressed': 'true', onclick: () => show(false) }, t('thisTrial'));
  const allTab = h('button', { 'aria-pressed': 'false', onclick: () => show(true) }, t('allTrials'));
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('whichNotes') }, thisTab, allTab);
  panel.querySelector('.alert')?.after(tabs);
  panel.append(allSection);

  // ---- the panel: docked beside the text, or a bottom sheet ----
  const grip = h('button', { class: 'grip', 'aria-label': t('resizePanel') });
  panel.prepend(grip);
  const viewport = () => ({ width: doc.documentElement.clientWidth || view.innerWidth, height: view.innerHeight });
  // Viewport pixels as the widget's CSS pixels: a page that zooms its body (CSS zoom) zooms the
  // widget too, and a length written unconverted lands that much further (the panel off screen).
  const px = (/** @type {number} */ n) => `${n / (launcher.currentCSSZoom || 1)}px`;
  /** @type {number | null} the height the reader dragged the sheet to */
  let dragged = null;

  function placePanel() {
    const root = getRoot();
    const size = viewport();
    const place = panelPlace(root ? root.getBoundingClientRect() : noColumn(size), size, rtl);
    panel.classList.toggle('bottom-sheet', place.mode === 'sheet');
    placeLauncher();
    if (place.mode === 'dock') {
      panel.style.left = px(place.left);
      panel.style.width = px(place.width);
      panel.style.height = '';
      return;
    }
    panel.style.left = panel.style.width = '';
    panel.style.height = dragged ? px(Math.min(dragged, size.height * 0.9)) : '';
    // The passage the reader selected stays in sight above the sheet.
    const passage = selectedBox();
    if (passage) {
      const by = scrollAboveSheet(passage, size.height - panel.getBoundingClientRect().height);
      if (by) view.scrollBy({ top: by, behavior: 'auto' });
    }
  }

  // Dragging the grip resizes the sheet; far enough down closes it. A press without a drag
  // switches between half and most of the screen (the keyboard's way too).
  let start = /** @type {{y: number, moved: boolean} | null} */ (null);
  let dragEnded = false; // the click that follows a drag's pointerup is not a press
  grip.addEventListener('pointerdown', (event) => {
    start = { y: event.clientY, moved: false };
    dragEnded = false;
    grip.setPointerCapture(event.pointerId);
  });
  grip.addEventListener('pointermove', (event) => {
    if (!start) return;
    if (Math.abs(event.clientY - start.y) > 4) start.moved = true;
    if (!start.moved) return;
    const height = sheetHeight(event.clientY, view.innerHeight);
    panel.style.height = px(height ?? view.innerHeight - event.clientY);
  });
  const endDrag = (/** @type {PointerEvent} */ event) => {
    const moved = start?.moved;
    start = null;
    if (!moved) return;
    dragEnded = true;
    const height = sheetHeight(event.clientY, view.innerHeight);
    if (height === null) {
      dragged = null;
      panel.style.height = '';
      ui.closePanel();
    } else {
      dragged = height;
      panel.style.height = px(height);
    }
  };
  grip.addEventListener('pointerup', endDrag);
  grip.addEventListener('pointercancel', () => {
    start = null;
    placePanel();
  });
  grip.addEventListener('click', () => {
    if (dragEnded) {
      dragEnded = false;
      return;
    }
    const tall = panel.getBoundingClientRect().height > view.innerHeight * 0.6;
    dragged = Math.round(view.innerHeight * (tall ? 0.5 : 0.9));
    panel.style.height = px(dragged);
  });

  listeners.observe(panel, { attributes: true, attributeFilter: ['open'] }, () => {
    if (panel.open) placePanel();
  });
  if (panel.open) placePanel();

  // ---- the launcher: out of the way of the selected passage ----
  /** The selected passage's rects, when the selection is in the trial text. */
  function selectedRects() {
    const sel = view.getSelection();
    const root = getRoot();
    if (!sel?.rangeCount || sel.isCollapsed || !root || !root.contains(sel.anchorNode)) return [];
    return [...sel.getRangeAt(0).getClientRects()].filter((r) => r.width && r.height);
  }
  function selectedBox() {
    const rects = selectedRects();
    if (!rects.length) return null;
    return {
      left: Math.min(...rects.map((r) => r.left)),
      top: Math.min(...rects.map((r) => r.top)),
      right: Math.max(...rects.map((r) => r.right)),
      bottom: Math.max(...rects.map((r) => r.bottom)),
    };
  }
  function placeLauncher() {
    // Under an open bottom sheet the launcher stays in its usual corner, hidden by the sheet.
    const rects = panel.open && panel.classList.contains('bottom-sheet') ? [] : selectedRects();
    if (rects.length && hint) rects.push(hint.getBoundingClientRect());
    const raised = launcher.classList.contains('raised');
    const { corner, moved } = launcherCorner(
      launcher.getBoundingClientRect(),
      viewport(),
      adder.hidden ? rects : [...rects, adder.getBoundingClientRect()],
      raised ? 84 : 16,
      16,
      rtl,
    );
    for (const side of /** @type {const} */ (['top', 'bottom', 'left', 'right'])) {
      const value = corner[side];
      launcher.style[side] = moved && value !== undefined ? px(value) : moved ? 'auto' : '';
    }
  }
  const placeSoon = listeners.debounce(placeLauncher);
  listeners.on(doc, 'selectionchange', () => placeSoon(60));
  // Captured: a scroll inside a box of the page (the trial text scrolling in its own column)
  // does not bubble, and it moves the selected passage as much as the window's does.
  listeners.on(view, 'scroll', () => placeSoon(60), { passive: true, capture: true });
  listeners.on(doc, 'pointerup', () => placeSoon(30));
  const resized = listeners.debounce(() => {
    placeLauncher();
    if (panel.open) placePanel();
    placeHint();
  });
  listeners.on(view, 'resize', () => resized(100));

  // ---- the first-visit hint, near the top of the trial text ----
  const hintKey = storeKey('hint', apiBase);
  const dismissed = () => {
    try {
      return storage?.getItem(hintKey) === 'dismissed';
    } catch {
      return true; // storage blocked: better no hint than one that comes back every visit
    }
  };
  function dismissHint() {
    try {
      storage?.setItem(hintKey, 'dismissed');
    } catch {
      // blocked: it goes for this visit only
    }
    // "Got it" from the keyboard: the focus goes on to the launcher, not back to the page's top.
    const focused = Boolean(hint?.contains(shadow.activeElement));
    hint?.remove();
    hint = null;
    if (focused) launcher.focus();
  }
  function placeHint() {
    const root = getRoot();
    if (!hint || !root) return;
    const box = root.getBoundingClientRect();
    const size = viewport();
    const beside = panelPlace(box, size, rtl);
    hint.style.maxWidth = beside.mode === 'dock' ? px(Math.min(beside.width, 352)) : '';
    // Document coordinates whatever the hint's containing block is: place, measure, correct.
    hint.style.left = hint.style.top = '0px';
    const at = hint.getBoundingClientRect();
    const top = beside.mode === 'dock' ? box.top : Math.max(box.top - at.height - GAP, 0);
    // Above the text, at the start of its lines (the right edge in a right-to-left language).
    const start = rtl ? Math.min(box.right, size.width - GAP) - at.width : box.left;
    const left = beside.mode === 'dock' ? beside.left : Math.max(start, GAP);
    hint.style.left = px(left - at.left);
    hint.style.top = px(top - at.top);
  }
  if (trial && getRoot() && !dismissed()) {
    // A landmark of its own (complementary), so that no content sits outside landmarks.
    hint = h(
      'aside',
      { class: 'hint', 'aria-label': t('hintLabel') },
      h('p', null, t('hint'), ' ', h('span', { class: 'more' }, t('hintMore'))),
      h('button', { onclick: () => dismissHint() }, t('gotIt')),
    );
    launcher.before(hint);
    placeHint();
    listeners.onDestroy(() => hint?.remove());
    // The first note saved here (the launcher's count changes), or notes drawn before this module
    // came: the reader knows how. (The count is the language's digits: the store is asked, not it.)
    const knowsHow = () => {
      if (hint && hasNotebook() && deps.notes.ordered().length) dismissHint();
    };
    const counter = launcher.querySelector('.count');
    if (counter) listeners.observe(counter, { childList: true, characterData: true, subtree: true }, knowsHow);
    knowsHow();
  }

  // When the page reflows (a banner above the text goes, an image comes, a side column folds), the
  // hint, at document coordinates, must follow the text, and a docked panel must stay off it.
  const root = getRoot();
  listeners.resized(root ? [doc.documentElement, root] : [doc.documentElement], () => {
    placeHint();
    if (panel.open) placePanel();
  });

  // ---- arriving from a note link: scroll to its passage and flash it ----
  const wanted = NOTE_FRAGMENT.exec(view.location.hash)?.[1] ?? null;
  let arrived = !wanted;
  const flash = listeners.debounce(() => deps.highlighter.focus(null));
  function arrive() {
    if (arrived || !wanted || !deps.notes.find(wanted)?.range) return;
    arrived = true;
    goTo(wanted);
    flash(2400);
  }
  listeners.on(doc, 'trial-notes:anchored', (event) => {
    // A reader with notes knows how to add one.
    const drawn = /** @type {CustomEvent<{notes: number}>} */ (event).detail?.notes;
    if (hint && drawn && hasNotebook()) dismissHint();
    arrive();
    if (hint) placeHint();
  });
  arrive();

  return { placePanel, placeLauncher, dismissHint, hint: () => hint };
}

/** A column box for a page without a notes root (the /link page): the whole viewport. */
const noColumn = (/** @type {{width: number, height: number}} */ size) => ({
  left: 0,
  top: 0,
  right: size.width,
  bottom: size.height,
});

