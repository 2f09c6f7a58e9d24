// @ts-check
// The text of the notes root (its textContent, as the server counts it) and
// the mapping between offsets in that text and DOM Ranges.

const SHOW_TEXT = 4; // NodeFilter.SHOW_TEXT, spelled out so this runs under jsdom too

/**
 * Snapshot of the root's text nodes: `text` is root.textContent; offsets are
 * UTF-16 units into it. Rebuild it after the root changes.
 */
export function textIndex(/** @type {Element} */ root) {
  const doc = root.ownerDocument;
  /** @type {Text[]} */
  const nodes = [];
  /** @type {number[]} */
  const starts = [];
  let text = '';
  const walker = doc.createTreeWalker(root, SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const textNode = /** @type {Text} */ (node); // SHOW_TEXT walks text nodes only
    nodes.push(textNode);
    starts.push(text.length);
    text += textNode.data;
  }

  /**
   * Text node and offset for a text offset; `atEnd` prefers the end of the previous node.
   * @param {number} offset
   * @param {boolean} atEnd
   * @returns {[Node, number]}
   */
  function locate(offset, atEnd) {
    // Text nodes are contiguous in `text`: the one holding the offset is the last one starting
    // before it (at or before it for a start), found by binary search: 500 notes ask twice each,
    // and a scan from the first node cost about 2 ms of a 500-note first draw.
    let lo = 0;
    let hi = nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (atEnd ? starts[mid] < offset : starts[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) {
      const local = offset - starts[lo - 1];
      const length = nodes[lo - 1].data.length;
      if (atEnd ? local <= length : local < length) return [nodes[lo - 1], local];
    }
    const last = nodes[nodes.length - 1];
    return last ? [last, last.data.length] : [root, root.childNodes.length];
  }

  return {
    root,
    text,

    /** A live Range over text[start, end). */
    toRange(/** @type {number} */ start, /** @type {number} */ end) {
      const range = doc.createRange();
      const [startNode, startOffset] = locate(start, false);
      range.setStart(startNode, startOffset);
      if (end > start) {
        const [endNode, endOffset] = locate(end, true);
        range.setEnd(endNode, endOffset);
      }
      return range;
    },

    /** Text offset of a DOM boundary point, clamped to the root; null if unrelated. */
    offsetOf(/** @type {Node} */ container, /** @type {number} */ offset) {
      const range = doc.createRange();
      range.selectNodeContents(root);
      let where;
      try {
        where = range.comparePoint(container, offset);
      } catch {
        return null; // another document or shadow tree
      }
      if (where < 0) return 0;
      if (where > 0) return text.length;
      // The text between the root's start and the point is exactly the
      // text-node data the Range contains, which is how textContent counts.
      range.setEnd(container, offset);
      return range.toString().length;
    },

    /** {start, end} of a DOM Range clipped to the root, or null if outside it. */
    /** @returns {{start: number, end: number} | null} */
    fromRange(/** @type {AbstractRange} */ range) {
      const start = this.offsetOf(range.startContainer, range.startOffset);
      const end = this.offsetOf(range.endContainer, range.endOffset);
      if (start === null || end === null || end <= start) return null;
      return { start, end };
    },
  };
}
