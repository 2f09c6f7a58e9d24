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
  /** @type {typeof sorted} */
  let open = [];
  let next = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [from, to] = [bounds[i], bounds[i + 1]];
    while (next < sorted.length && sorted[next].start <= from) open.push(sorted[next++]);
    open = open.filter((p) => p.end > from);
    if (open.length < 2) continue;
    // Innermost first: the shortest passage; equal ones by page order.
    const inner = [...open].sort((a, b) => a.end - a.start - (b.end - b.start) || a.start - b.start);
    const ids = inner.map((p) => p.id);
    const last = found[found.length - 1];
    if (last && last.end === from && last.ids.join() === ids.join()) last.end = to;
    else found.push({ start: from, end: to, fill: inner[0].color, line: inner[1].color, ids });
  }
  return found;
}
