// @ts-check
// Drawing highlights with the CSS Custom Highlight API (hit-testing them is selection.js's): the
// host page's DOM is never touched. A handful of Highlight objects (one per
// palette colour, one for the focused note) keeps painting cheap even with
// thousands of notes, unlike one Highlight or one <mark> per note.
import { t } from './i18n.js';

/**
 * The palette: [name, catalog key of its label]. A colour is always shown with its label.
 * @type {ReadonlyArray<readonly [string, string]>}
 */
export const PALETTE = [
  ['yellow', 'color.yellow'],
  ['green', 'color.green'],
  ['blue', 'color.blue'],
  ['pink', 'color.pink'],
  ['purple', 'color.purple'],
];

/**
 * Paint of each colour, chosen light enough for dark text to stay readable.
 * @type {Readonly<Record<string, string>>}
 */
export const PAINT = {
  yellow: '#ffeb80',
  green: '#b8f0b0',
  blue: '#bcdcff',
  pink: '#ffc6dd',
  purple: '#dccbff',
};

/** The label of colour `name` (the first colour's for an unknown name). */
export const colorLabel = (/** @type {string} */ name) => t((PALETTE.find(([n]) => n === name) ?? PALETTE[0])[1]);

const PREFIX = 'trial-notes-';

// ::highlight() rules only paint when they are in the tree that holds the
// ranges, i.e. the host document; an adopted sheet adds them without a node.
function hostCss() {
  const rules = PALETTE.map(
    ([name]) => `::highlight(${PREFIX}${name}){background-color:${PAINT[name]};color:#111}`,
  );
  rules.push(
    `::highlight(${PREFIX}focused){text-decoration:underline 3px solid #111;text-underline-offset:3px}`,
    `::highlight(${PREFIX}changed){text-decoration:underline dashed 2px #9a3412;text-underline-offset:3px}`,
    `@media (forced-colors:active){${PALETTE.map(([n]) => `::highlight(${PREFIX}${n})`).join()}{background-color:Mark;color:MarkText}}`,
  );
  return rules.join('\n');
}

/**
 * @typedef {{id: string, color: string, range: Range, changed?: boolean}} Drawn  a note's passage as drawn;
 *   `changed`: the trial's text of it changed since it was highlighted (dashed underline)
 * @typedef {{fill: string, ink: string, range: Range}} Overlay
 *   a stretch where passages overlap (overlaps.js): painted in colour `fill`, underlined in `ink`
 * @typedef {ReturnType<typeof createHighlighter>} Highlighter
 */

/** Set up the highlights in `doc`; `supported` is false where the API is missing. */
export function createHighlighter(/** @type {Document} */ doc) {
  const view = /** @type {Window & typeof globalThis} */ (doc.defaultView);
  // Missing in older engines, whatever the DOM types say.
  /** @type {HighlightRegistry | undefined} */
  const registry = view.CSS?.highlights;
  /** @type {Map<string, Highlight>} */
  const byColor = new Map();
  /** @type {Map<string, Highlight>} the overlaps' paints (one per colour pair), made when first needed */
  const mixes = new Map();
  const focused = registry && view.Highlight ? new view.Highlight() : null;
  const supported = Boolean(focused);
  /** @type {CSSStyleSheet | null} */
  let sheet = null;
  /** @type {Drawn[]} */
  let entries = [];

  if (registry && focused) {
    for (const [name] of PALETTE) {
      const highlight = new view.Highlight();
      byColor.set(name, highlight);
      registry.set(PREFIX + name, highlight);
    }
    byColor.set('changed', new view.Highlight()); // drawn over a colour: not a colour of its own
    registry.set(`${PREFIX}changed`, /** @type {Highlight} */ (byColor.get('changed')));
    focused.priority = 2; // over the overlaps (1), which are over the colours (0)
    registry.set(`${PREFIX}focused`, focused);
    sheet = new view.CSSStyleSheet();
    sheet.replaceSync(hostCss());
    // Append: the page's own adopted sheets stay (older engines freeze the array).
    if (Object.isFrozen(doc.adoptedStyleSheets)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    else doc.adoptedStyleSheets.push(sheet);
  }

  /** The highlight painting `fill` underlined dotted in `ink`, registered with its rule the first time. */
  function mixOf(/** @type {string} */ fill, /** @type {string} */ ink) {
    const name = `${PREFIX}mix-${fill}-${ink.replace(/\W/g, '')}`;
    let highlight = mixes.get(name);
    if (!highlight && registry && sheet) {
      highlight = new view.Highlight();
      highlight.priority = 1;
      registry.set(name, highlight);
      const rule = `::highlight(${name}){background-color:${PAINT[fill] ?? PAINT.yellow};color:#111;text-decoration:underline 3px dotted ${ink};text-underline-offset:3px}`;
      sheet.insertRule(rule, sheet.cssRules.length);
      mixes.set(name, highlight);
    }
    return highlight;
  }

  return {
    supported,

    /** The passages drawn, for hit-testing (selection.js). */
    drawn: () => entries,

    /** Replace everything drawn with `list` (its overlaps' paint goes too). */
    draw(/** @type {Drawn[]} */ list) {
      entries = list;
      for (const highlight of [...byColor.values(), ...mixes.values()]) highlight.clear();
      for (const entry of list) {
        (byColor.get(entry.color) ?? byColor.get('yellow'))?.add(entry.range);
        if (entry.changed) byColor.get('changed')?.add(entry.range);
      }
    },

    /** Paint where the passages drawn overlap, so that each stays visible. */
    overlay(/** @type {Overlay[]} */ overlays) {
      for (const { fill, ink, range } of overlays) mixOf(fill, ink)?.add(range);
    },

    /** Mark one note's passage as the focused one (null: none). */
    focus(/** @type {string | null} */ id) {
      if (!focused) return;
      focused.clear();
      const entry = entries.find((e) => e.id === id);
      if (entry) focused.add(entry.range);
    },

    /** Take the highlights and their sheet out of the page. */
    destroy() {
      entries = [];
      for (const name of [...byColor.keys(), 'focused']) registry?.delete(PREFIX + name);
      for (const name of mixes.keys()) registry?.delete(name);
      mixes.clear();
      if (sheet) doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    },
  };
}
