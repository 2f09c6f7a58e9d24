// @ts-check
// Where highlighted passages overlap. Each colour is one highlight, so the colour painted
// last would hide the other (purple over blue showed purple only): an overlap is painted in
// the innermost passage's colour and underlined, dotted, in the next one's darker ink.
// Loaded only when passages do overlap; pure (highlights.js paints what it finds).

/**
 * @typedef {{start: number, end: number, fill: string, line: string, ids: string[]}} Overlap
 *   text[start, end) lies in two or more passages (`ids`, innermost first): painted in the
 *   innermost one's colour (`fill`) and underlined in the next one's ink (`line`)
 */

/**
 * A darker ink of each colour: where passages overlap, the one painted over is underlined in it.
 * @type {Readonly<Record<string, string>>}
 */
export const INK = {
  yellow: '#8a6100',
  green: '#1f7a1f',
  blue: '#1d5fc4',
  pink: '#b0306a',
  purple: '#6d3fc0',
};

/**
 * The stretches of text where passages overlap, in text order. Without them the colour
 * painted last hides the other (purple over blue shows purple only).
 * @param {ReadonlyArray<{id: string, color: string, start: number, end: number}>} passages
 * @returns {Overlap[]}
 */
export function overlapsOf(passages) {
  const sorted = [...passages].sort((a, b) => a.start - b.start);
  const bounds = [...new Set(sorted.flatMap((p) => [p.start, p.end]))].sort((a, b) => a - b);
  /** @type {Overlap[]} */
  const found = [];
  // The passages open at a bound, kept innermost first as they come (each one placed by binary
  // search, after its equals: page order), not sorted afresh at every bound: 500 passages have
  // up to 1,000 bounds, and the overlay is painted before the frame that shows the highlights.
  /** @type {typeof sorted} */
  let open = [];
  let next = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [from, to] = [bounds[i], bounds[i + 1]];
    while (next < sorted.length && sorted[next].start <= from) insertInner(open, sorted[next++]);
    open = open.filter((p) => p.end > from);
    if (open.length < 2) continue;
    const last = found[found.length - 1];
    if (last && last.end === from && sameIds(last.ids, open)) last.end = to;
    else found.push({ start: from, end: to, fill: open[0].color, line: open[1].color, ids: open.map((p) => p.id) });
  }
  return found;
}

/**
 * Put `passage` into `open` (innermost first: the shortest, equal ones in page order) after its equals.
 * @template {{start: number, end: number}} P
 * @param {P[]} open @param {P} passage
 */
function insertInner(open, passage) {
  const length = passage.end - passage.start;
  let lo = 0;
  let hi = open.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const other = open[mid];
    const before = other.end - other.start - length || other.start - passage.start;
    if (before <= 0) lo = mid + 1;
    else hi = mid;
  }
  open.splice(lo, 0, passage);
}

const sameIds = (/** @type {string[]} */ ids, /** @type {ReadonlyArray<{id: string}>} */ open) =>
  ids.length === open.length && open.every((p, i) => p.id === ids[i]);
