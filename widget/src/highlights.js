// Drawing and hit-testing highlights with the CSS Custom Highlight API: the
// host page's DOM is never touched. A handful of Highlight objects (one per
// palette colour, one for the focused note) keeps painting cheap even with
// thousands of notes, unlike one Highlight or one <mark> per note.

/** The palette: [name, label]. A colour is always shown with its label. */
export const PALETTE = [
  ['yellow', 'Yellow'],
  ['green', 'Green'],
  ['blue', 'Blue'],
  ['pink', 'Pink'],
  ['purple', 'Purple'],
];

/** Paint of each colour, chosen light enough for dark text to stay readable. */
export const PAINT = {
  yellow: '#ffeb80',
  green: '#b8f0b0',
  blue: '#bcdcff',
  pink: '#ffc6dd',
  purple: '#dccbff',
};

export const colorLabel = (name) => (PALETTE.find(([n]) => n === name) ?? PALETTE[0])[1];

const PREFIX = 'trial-notes-';

// ::highlight() rules only paint when they are in the tree that holds the
// ranges, i.e. the host document; an adopted sheet adds them without a node.
function hostCss() {
  const rules = PALETTE.map(
    ([name]) => `::highlight(${PREFIX}${name}){background-color:${PAINT[name]};color:#111}`,
  );
  rules.push(
    `::highlight(${PREFIX}focused){text-decoration:underline 3px #1d4ed8;text-underline-offset:3px}`,
    `@media (forced-colors:active){${PALETTE.map(([n]) => `::highlight(${PREFIX}${n})`).join()}{background-color:Mark;color:MarkText}}`,
  );
  return rules.join('\n');
}

/** Set up the highlights in `doc`; `supported` is false where the API is missing. */
export function createHighlighter(doc) {
  const view = doc.defaultView;
  const registry = view.CSS?.highlights;
  const supported = Boolean(registry && view.Highlight);
  const byColor = new Map();
  let focused = null;
  let entries = []; // {id, color, range}

  if (supported) {
    for (const [name] of PALETTE) {
      byColor.set(name, new view.Highlight());
      registry.set(PREFIX + name, byColor.get(name));
    }
    focused = new view.Highlight();
    focused.priority = 1;
    registry.set(`${PREFIX}focused`, focused);
    const sheet = new view.CSSStyleSheet();
    sheet.replaceSync(hostCss());
    // Append: the page's own adopted sheets stay (older engines freeze the array).
    if (Object.isFrozen(doc.adoptedStyleSheets)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
    else doc.adoptedStyleSheets.push(sheet);
  }

  const inRects = (range, x, y) =>
    [...range.getClientRects()].some((r) => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom);

  const containsPoint = (range, node, offset) => {
    try {
      return range.isPointInRange(node, offset);
    } catch {
      return false;
    }
  };

  // The caret position under a point, with either engine's API.
  function caretAt(x, y) {
    const pos = doc.caretPositionFromPoint?.(x, y);
    if (pos) return [pos.offsetNode, pos.offset];
    const range = doc.caretRangeFromPoint?.(x, y);
    return range ? [range.startContainer, range.startOffset] : null;
  }

  return {
    supported,

    /** Replace everything drawn with `list` of {id, color, range}. */
    draw(list) {
      entries = list;
      if (!supported) return;
      for (const highlight of byColor.values()) highlight.clear();
      for (const entry of list) (byColor.get(entry.color) ?? byColor.get('yellow')).add(entry.range);
    },

    /** Mark one note's passage as the focused one (null: none). */
    focus(id) {
      if (!supported) return;
      focused.clear();
      const entry = entries.find((e) => e.id === id);
      if (entry) focused.add(entry.range);
    },

    /** Id of the note drawn under viewport point (x, y), innermost first; null if none. */
    hitTest(x, y) {
      // Chrome 140+ answers {highlight, ranges} (older drafts: the Highlight).
      const hits = (registry?.highlightsFromPoint?.(x, y) ?? []).map((hit) => hit.highlight ?? hit);
      let candidates = entries.filter((e) => hits.some((h) => h.has(e.range)));
      if (!candidates.length) {
        // No API, or no answer: Chromium 156 finds nothing under a touch
        // emulated with a device scale factor, where the caret APIs still work.
        const caret = caretAt(x, y);
        candidates = caret ? entries.filter((e) => containsPoint(e.range, ...caret)) : [];
      }
      // A caret snaps to the nearest text, so confirm the point is on the passage.
      const under = candidates.filter((e) => inRects(e.range, x, y));
      under.sort((a, b) => a.range.toString().length - b.range.toString().length);
      return under[0]?.id ?? null;
    },

    /** Ids of notes whose passage holds the DOM point, innermost first. */
    notesAt(node, offset) {
      return entries
        .filter((e) => containsPoint(e.range, node, offset))
        .sort((a, b) => a.range.toString().length - b.range.toString().length)
        .map((e) => e.id);
    },
  };
}
