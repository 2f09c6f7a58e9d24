// @ts-check
// Where the widget's own boxes go so that they never cover the text being read: pure geometry
// over plain boxes (viewport coordinates), used by layout.js and tested in test/placement.test.js.

/**
 * @typedef {{left: number, top: number, right: number, bottom: number}} Box
 * @typedef {{width: number, height: number}} Size
 * @typedef {{mode: 'dock', left: number, width: number} | {mode: 'sheet'}} PanelPlace
 *   docked beside the text column (left edge and width in px), or a bottom sheet
 * @typedef {{top?: number, bottom?: number, left?: number, right?: number}} Corner
 *   offsets from the viewport's edges, as CSS `top`/`bottom`/`left`/`right` of a fixed box
 */

/** Gap kept between the text column and a docked panel, and from the viewport's edges. */
export const GAP = 8;
/** A docked panel is never narrower than this (else it is a bottom sheet) nor wider than MAX_DOCK. */
export const MIN_DOCK = 240;
export const MAX_DOCK = 400;

/** Whether two boxes overlap (touching edges do not). */
export const intersects = (/** @type {Box} */ a, /** @type {Box} */ b) =>
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * Dock the panel in the free space beside the text column when that space holds a usable panel;
 * else a bottom sheet. The side is the end of the line (the right; the left in a right-to-left
 * language, where the panel is mirrored) unless the other side holds a wider panel. The host page
 * is never reflowed.
 * @param {Box} column  the notes root's box
 * @param {Size} viewport  the viewport without its scroll bar
 * @param {boolean} [rtl]  the widget speaks a right-to-left language
 * @returns {PanelPlace}
 */
export function panelPlace(column, viewport, rtl = false) {
  const right = viewport.width - Math.max(column.right, 0) - 2 * GAP;
  const left = Math.min(column.left, viewport.width) - 2 * GAP;
  const [end, other] = rtl ? [left, right] : [right, left];
  // Whole pixels: a column centred to half a pixel leaves the panel at the end of the line.
  const holds = (/** @type {number} */ room) => Math.floor(Math.min(MAX_DOCK, room));
  const atEnd = holds(end) >= holds(other);
  const room = atEnd ? end : other;
  if (room < MIN_DOCK) return { mode: 'sheet' };
  const width = Math.min(MAX_DOCK, room);
  // Against the viewport's edge, so the gap to the column is at least GAP.
  return { mode: 'dock', left: atEnd !== rtl ? viewport.width - GAP - width : GAP, width };
}

/**
 * The launcher's corner: its usual one (bottom, at the end of the line: the right, the left in a
 * right-to-left language; `bottom` px up) unless it would cover one of `avoid` (the selected
 * passage's rects, the "Add note" control); then the first corner that covers none of them, else
 * the usual one.
 * @param {Size} launcher
 * @param {Size} viewport
 * @param {Box[]} avoid
 * @param {number} [bottom]  the usual offset from the bottom (raised over a bottom bar)
 * @param {number} [margin]
 * @param {boolean} [rtl]
 * @returns {{corner: Corner, moved: boolean}}
 */
export function launcherCorner(launcher, viewport, avoid, bottom = 16, margin = 16, rtl = false) {
  const { width, height } = launcher;
  const top = margin;
  const side = (/** @type {boolean} */ atEnd) => (atEnd !== rtl ? { right: margin } : { left: margin });
  /** @type {Corner[]} */
  const corners = [
    { bottom, ...side(true) },
    { bottom, ...side(false) },
    { top, ...side(true) },
    { top, ...side(false) },
  ];
  const boxOf = (/** @type {Corner} */ c) => {
    const left = c.left ?? viewport.width - (c.right ?? 0) - width;
    const y = c.top ?? viewport.height - (c.bottom ?? 0) - height;
    return { left, top: y, right: left + width, bottom: y + height };
  };
  const index = corners.findIndex((c) => !avoid.some((box) => intersects(boxOf(c), box)));
  return index <= 0 ? { corner: corners[0], moved: false } : { corner: corners[index], moved: true };
}

/**
 * How far to scroll (px, positive: down) so that `passage` sits above a bottom sheet whose top is
 * at `sheetTop`, a third of the way down the space left; 0 when it is already clear of it.
 * @param {Box} passage
 * @param {number} sheetTop
 */
export function scrollAboveSheet(passage, sheetTop) {
  if (passage.bottom <= sheetTop - GAP && passage.top >= 0) return 0;
  return Math.round(passage.top - Math.max(GAP, (sheetTop - (passage.bottom - passage.top)) / 3));
}

/**
 * The bottom sheet's height for a drag to `y` (the pointer's viewport y): null when dragged
 * below `closeBelow` px of height (the reader closes it), else clamped to [min, 90% of the viewport].
 * @param {number} y
 * @param {number} viewportHeight
 */
export function sheetHeight(y, viewportHeight, min = 160, closeBelow = 96) {
  const height = viewportHeight - y;
  if (height < closeBelow) return null;
  return Math.round(Math.min(Math.max(height, min), viewportHeight * 0.9));
}
