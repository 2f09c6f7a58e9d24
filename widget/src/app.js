// @ts-check
// The controller: it wires the jobs together, loads and draws the notes, and goes to one. Each job
// is its own module: the token (token-store.js), the notes and where they sit (notes-store.js), the
// selection (selection.js), the keyboard (shortcuts.js), everything hung on the page
// (listeners.js); drawing is highlights.js's, the interface ui.js's (the panel panel.js's), the
// text matching anchoring.js's, and the note actions (add, open, edit, delete, share) note-actions.js's,
// fetched when the reader first asks for one.
import { ApiError, createApi } from './api.js';
import { describeQuote, loadApprox, trimPassage } from './anchoring.js';
import { t, useLanguage, withWords } from './i18n.js';
import { colorLabel, createHighlighter } from './highlights.js';
import { createListeners } from './listeners.js';
import { createNotesStore, quoteOf, readable } from './notes-store.js';
import { bindShortcuts } from './shortcuts.js';
import { createTokenStore } from './token-store.js';
import { HOST_TAG, createUI, once } from './ui.js';

export const ROOT_SELECTOR = '[data-notes-root]';

/** The event a page dispatches on its document to take the widget away (destroy()). */
export const DESTROY_EVENT = 'trial-notes:destroy';

/**
 * @typedef {import('./notes-store.js').NoteRecord} NoteRecord
 * @typedef {import('./dom.js').Focusable} Focusable
 */

/**
 * @typedef {{doc: Document, trial: string, apiBase: string, grantUrl?: string}} Options
 *   `grantUrl`: the host site's grant URL, for readers it vouches for (accounts.js)
 */

/**
 * Start the widget in `lang` (language.js chose it) once its words are here, unless the page has it
 * already (its tag was included twice).
 * @param {Options & {lang: string}} options
 */
export function boot(options) {
  return useLanguage(options.lang).then(
    () => {
      if (!options.doc.querySelector(HOST_TAG)) startWidget(options);
    },
    (err) => console.warn(`Trial Notes: the widget's words could not be loaded: ${err}`),
  );
}

/**
 * Start the widget for `trial` against the service at `apiBase` (an origin).
 * `destroy()` removes everything it added to the page: its host element,
 * highlights and sheet, and every listener, observer and timer.
 * @param {Options} options
 * @returns {{destroy: () => void}}
 */
export function startWidget({ doc, trial, apiBase, grantUrl }) {
  const view = /** @type {Window & typeof globalThis} */ (doc.defaultView); // a page's document has one
  const listeners = createListeners(view);
  // This browser's own notebook; a host site's account notebook replaces it while signed in (accounts.js).
  const own = createTokenStore(view, apiBase);
  let tokens = own;
  /** Settles once a vouching host's sign-in has chosen the notebook (at once on other pages). */
  let signedIn = Promise.resolve();
  const api = createApi(apiBase, () => tokens.read());
  const highlighter = createHighlighter(doc);
  listeners.onDestroy(highlighter.destroy);
  /** @type {Element | null} */
  let root = doc.querySelector(ROOT_SELECTOR);
  const notes = createNotesStore(() => root);

  const ui = createUI(doc, {
    addFromSelection,
    addToParagraph: (from) => act((a) => a.addToParagraph(from)),
    goTo,
    openNote: (id, from) => act((a) => a.openNote(id, from)),
    openShare: (from) => act((a) => a.openShare(from)),
    tokens: () => tokens,
    more,
    explain,
  });
  listeners.onDestroy(ui.destroy);

  /** @type {import('./setup-check.js').SetupProblem | null} what is wrong with the page's setup, if anything */
  let setupProblem = null;
  let unavailable = ''; // the sentence the reader is told about it

  /** The words for an error: the ApiError's (the problem's detail, fields, wait), or our own message. */
  function explain(/** @type {unknown} */ err) {
    // "Can't reach the service" is misleading when the page's setup is what stops the request.
    if (setupProblem && err instanceof ApiError && err.status === 0) return unavailable;
    if (err instanceof ApiError && err.status === 401) {
      tokens.reject();
      // An account's way back is signing in on the host (its words came with accounts.js).
      return t(tokens.kind === 'account' ? 'accountAccessRemoved' : 'accessRemoved');
    }
    return (err instanceof Error && err.message) || String(err);
  }

  const showError = (/** @type {unknown} */ err) =>
    ui.showError(explain(err), { offerKey: err instanceof ApiError && err.status === 401 && tokens.kind !== 'account' });

  /** @type {import('./selection.js').SelectionWatch | null} the selection observer, once its module is here */
  let selection = null;
  // It is not needed to draw the notes: its module is fetched beside them, and picks up a selection
  // made before it came. (If it can't be fetched, notes still show and open from "My notes".)
  // A note asked for before it came (Alt+N as the page loads) waits for it: until then the
  // widget cannot see the reader's selection, and would say there is none.
  const selectionCame = Promise.all([withWords(import('./selection.js')), import('./note-body.js')]).then(
    ([{ watchSelection }, { bodyPreview }]) => {
      if (destroyed) return;
      const words = { trimPassage, colorLabel, bodyPreview, t };
      const openNotes = (/** @type {string[]} */ ids) => act((a) => a.openNotes(ids));
      selection = watchSelection({ doc, view, listeners, getRoot: () => root, notes, ui, highlighter, openNotes, words });
    },
    () => {},
  );
  bindShortcuts({ doc, listeners, ui, addNote: addFromSelection });

  /** @type {import('./replies.js').Replies | null} the family's replies, once their module is here */
  let replies = null;

  /** @param {NoteRecord} record */
  const toView = ({ note, range }) => ({
    id: note.id,
    quote: quoteOf(note),
    color: note.color,
    body: note.body,
    readable: readable(note),
    anchored: Boolean(range),
    change: note.change ?? null,
    replies: replies?.button(note.id, { quote: quoteOf(note), color: note.color }),
  });

  /** Sort into page order, draw, list; the counts of notes and of those drawn. */
  function redraw() {
    const records = notes.ordered();
    /** @type {import('./highlights.js').Drawn[]} */
    const drawn = [];
    const spans = [];
    for (const r of records) {
      if (!r.range) continue;
      drawn.push({ id: r.note.id, color: r.note.color, range: r.range, changed: Boolean(r.note.change) });
      spans.push({ id: r.note.id, color: r.note.color, start: r.start, end: r.end });
    }
    highlighter.draw(drawn);
    paintOverlaps(spans);
    ui.renderNotes(records.map(toView), { canHighlight: highlighter.supported });
    return { notes: records.length, anchored: drawn.length };
  }

  let drawing = 0; // which redraw an overlay belongs to: an older one's is dropped
  /**
   * Paint where passages overlap, with a module loaded only when two or more are drawn.
   * @param {Array<{id: string, color: string, start: number, end: number}>} spans
   */
  function paintOverlaps(spans) {
    const current = ++drawing;
    if (spans.length < 2) return;
    import('./overlaps.js').then(
      ({ overlapsOf, INK }) => {
        const idx = notes.index();
        if (current !== drawing || !idx) return;
        const paint = overlapsOf(spans).map(({ start, end, fill, line }) => ({
          fill,
          ink: INK[line] ?? INK.yellow,
          range: idx.toRange(start, end),
        }));
        if (paint.length) highlighter.overlay(paint);
      },
      () => {}, // without it each passage is still drawn, the last colour on top
    );
  }

  /**
   * Anchor every note again and draw; then tell the page (and benchmarks) with a
   * `trial-notes:anchored` event: {notes, anchored, ms since `since`}, `since`
   * being when the notes arrived, or the start of a re-anchoring.
   */
  function reanchorAll(since = view.performance.now()) {
    if (notes.anchorAll()) return drawAnchored(since);
    // A passage only the approximate matcher can place (edited since it was highlighted): the
    // others are drawn at once, the matcher fetched, then all anchored again (and the event sent).
    // If it can't be fetched, the reader is told.
    redraw();
    loadApprox().then(
      () => {
        if (!destroyed) reanchorAll(since);
      },
      () => {
        if (destroyed) return;
        drawAnchored(since);
        ui.showError(t('unreachable'));
      },
    );
  }

  function drawAnchored(/** @type {number} */ since) {
    const detail = { ...redraw(), ms: view.performance.now() - since };
    doc.dispatchEvent(new view.CustomEvent('trial-notes:anchored', { detail }));
  }

  /** @param {import('./api.js').Note[]} list */
  function setNotes(list) {
    const since = view.performance.now();
    notes.set(list);
    reanchorAll(since);
    loadReplies();
  }

  // The replies come after the notes are drawn, from a module of their own: never in the way of
  // the first draw. A module that can't be fetched (offline) leaves the notes as they are.
  function loadReplies() {
    // No trial (the service's /link page): no replies to ask for.
    if (!trial || !tokens.read()) return;
    withWords(import('./replies.js')).then(
      ({ createReplies }) => {
        const shadow = /** @type {ShadowRoot} */ (ui.host.shadowRoot); // ui.js attaches an open one
        replies ??= createReplies({ api, trial, doc, shadow, explain, changed: redraw, showError: ui.showError });
        return replies.load();
      },
      () => {},
    );
  }

  /** Load this page's notes (none without a token); their count. */
  async function load() {
    if (!tokens.read() || !trial) {
      setNotes([]);
      return 0;
    }
    try {
      const { notes: list } = await api.listNotes(trial);
      setNotes(list);
      return list.length;
    } catch (err) {
      showError(err);
      return 0;
    }
  }

  // ---- the recovery key and devices (on-demand modules) ----

  const recoveryModule = once(() => withWords(import('./recovery.js')));
  const devicesModule = once(() => withWords(import('./devices.js')));
  const linker = { api, tokens: () => tokens, apiBase, reload: load, onTrialPage: Boolean(trial) };
  const keeper = { tokens: () => tokens, apiBase, onDestroy: listeners.onDestroy, useKey: (/** @type {string} */ text) => actions().then((a) => a.useKey(text)) };

  /**
   * Open "Your recovery key", "Use another recovery key", "Link another device", "Use a link code"
   * (with `code`: filled in, linked only on the reader's click) or "Your devices".
   * @param {import('./ui.js').More} what
   * @param {Focusable | null} from
   */
  function more(what, from, code = '') {
    if (what === 'recovery' || what === 'restore') {
      ui.withModule(recoveryModule, (m, ctx) => m.recovery(ctx, keeper)[what](from));
    } else {
      ui.withModule(devicesModule, (m, ctx) => m.devices(ctx, linker).open(what, from, code));
    }
  }

  // ---- adding, viewing, editing notes (note-actions.js, on demand) ----

  /** Add a note on the reader's selection (note-actions.js), once the selection is watched. */
  function addFromSelection() {
    selectionCame.then(() => act((a) => a.addFromSelection()));
  }

  const actions = once(() =>
    // The approximate matcher too: a note saved or edited is anchored at once (notes-store.js).
    Promise.all([withWords(import('./note-actions.js')), loadApprox()]).then(([{ noteActions }]) =>
      noteActions({
        doc, view, trial, apiBase, api, ApiError, notes, quoteOf, readable, ui, highlighter, describeQuote, t,
        getRoot: () => root,
        tokens: () => tokens,
        signedIn: () => signedIn,
        selection: () => selection,
        unavailable: () => unavailable,
        redraw,
        toView,
        setNotes,
        offerKey: () => ui.withModule(recoveryModule, (m, ctx) => m.recovery(ctx, keeper).offer()),
      }),
    ),
  );
  /**
   * Run a note action once its module is here (the reader is told when it can't be fetched); a
   * widget destroyed meanwhile does nothing more.
   * @param {(a: import('./note-actions.js').NoteActions) => void} use
   */
  function act(use) {
    ui.withModule(actions, (a) => {
      if (!destroyed) use(a);
    });
  }

  /** Scroll to a note's passage and select it (note-actions.js), else open the note. */
  function goTo(/** @type {string} */ id, /** @type {Focusable | null} */ from) {
    act((a) => a.goTo(id, from));
  }

  // ---- pages that change after load ----

  const reanchorSoon = listeners.debounce(() => reanchorAll());
  /** @type {MutationObserver | null} */
  let rootObserver = null;

  function attach(/** @type {Element | null} */ next) {
    root = next;
    if (root && setupProblem?.kind === 'root') setProblem(null);
    rootObserver?.disconnect();
    if (root) {
      rootObserver = listeners.observe(root, { subtree: true, childList: true, characterData: true }, () => {
        notes.stale();
        reanchorSoon(200);
      });
    }
    reanchorAll();
  }

  // A client-rendered page may add or replace the root itself later. The
  // widget's own host is a sibling at the end of <body> whose contents live
  // in its shadow root, so nothing the widget does is seen here.
  listeners.observe(doc.body, { childList: true, subtree: true }, () => {
    if (root?.isConnected) return;
    const next = doc.querySelector(ROOT_SELECTOR);
    if (next) attach(next);
  });

  let destroyed = false;
  const destroy = () => {
    destroyed = true;
    listeners.destroy();
  };
  listeners.on(doc, DESTROY_EVENT, destroy);

  function setProblem(/** @type {import('./setup-check.js').SetupProblem | null} */ problem, sentence = '') {
    setupProblem = problem;
    unavailable = problem ? sentence : '';
    ui.setUnavailable(unavailable);
  }

  attach(root);
  // A host that vouches for its readers: their account's notebook first (accounts.js, on demand).
  if (grantUrl) {
    const account = createTokenStore(view, apiBase, 'account');
    // Settled as soon as the notebook is chosen, not when the notes are loaded too.
    /** @type {() => void} */
    let chosen = () => {};
    signedIn = new Promise((resolve) => (chosen = resolve));
    const use = (/** @type {typeof own} */ t) => {
      tokens = t;
      chosen();
    };
    withWords(import('./accounts.js'))
      .then((m) => m.signIn({ view, api, apiBase, grantUrl, own, account, t }, { ui, use, load, showError }))
      .catch(showError)
      .finally(chosen);
  } else load();
  // The service's /link page carries a link code in its fragment (never sent to a server): it fills
  // "Use a link code", then goes from the address. Linking waits for the reader's click (a link
  // someone else sent must not move this browser's notes into their notebook).
  const linked =
    view.location.origin === apiBase &&
    view.location.pathname === '/link' &&
    /^#code=([\w-]+)$/.exec(view.location.hash);
  if (linked) {
    view.history.replaceState(null, '', view.location.pathname + view.location.search);
    more('redeem', null, linked[1]);
  }
  // After the first draw: the panel docked off the text, the launcher out of the selection's way,
  // "All trials", note links and the first-visit hint (layout.js; without it the widget works as before).
  // (A widget destroyed before a module arrives takes nothing more: its listeners are gone already.)
  // Modules that can't be fetched (offline) are asked for again when the browser is back online.
  let arranged = false;
  const arrange = () =>
    Promise.all([withWords(import('./layout.js')), import('./note-body.js'), ui.loadPanel()]).then(
      ([m, { bodyPreview, firstWords, htmlToText }]) => {
        if (destroyed || arranged) return;
        arranged = true;
        m.arrange({ doc, view, listeners, ui, trial, apiBase, api, notes, highlighter, goTo, quoteOf, readable,
          getRoot: () => root, tokens: () => tokens, words: { colorLabel, bodyPreview, firstWords, htmlToText } });
      },
      () => {},
    );
  arrange();
  listeners.on(view, 'online', () => {
    if (!arranged) arrange();
  });
  // After the first draw, once: a mistake in the embedding explains itself. (If the check
  // can't be loaded, the widget works as it would without it.) The /link page has no trial.
  if (trial) withWords(import('./setup-check.js')).then(
    (m) => {
      if (!destroyed) m.checkSetup({ doc, view, trial, apiBase, getRoot: () => root, canHighlight: highlighter.supported, t }, setProblem);
    },
    () => {},
  );
  return { destroy };
}
