import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { GAP, MAX_DOCK, MIN_DOCK, intersects, launcherCorner, panelPlace, scrollAboveSheet, sheetHeight } from '../src/placement.js';

const box = (left, top, right, bottom) => ({ left, top, right, bottom });

describe('panelPlace', () => {
  test('a wide screen docks the panel in the free space right of the column, never over it', () => {
    const column = box(280, 0, 985, 4000);
    const place = panelPlace(column, { width: 1265, height: 800 });
    assert.equal(place.mode, 'dock');
    assert.ok(place.left >= column.right + GAP, `left ${place.left}`);
    assert.equal(place.left + place.width, 1265 - GAP);
    assert.ok(place.width >= MIN_DOCK);
  });

  test('the panel is never wider than MAX_DOCK, and takes the wider side', () => {
    const right = panelPlace(box(100, 0, 700, 900), { width: 1920, height: 1000 });
    assert.deepEqual(right, { mode: 'dock', left: 1920 - GAP - MAX_DOCK, width: MAX_DOCK });
    const left = panelPlace(box(900, 0, 1500, 900), { width: 1600, height: 1000 });
    assert.deepEqual(left, { mode: 'dock', left: GAP, width: MAX_DOCK });
  });

  test('in a right-to-left language the panel docks at the left, the end of the line, mirrored', () => {
    const column = box(280, 0, 985, 4000);
    assert.deepEqual(panelPlace(column, { width: 1265, height: 800 }, true), { mode: 'dock', left: GAP, width: 264 });
    assert.equal(panelPlace(box(280.4, 0, 984.6, 4000), { width: 1265, height: 800 }, true).left, GAP);
    // Only a wider panel on the other side takes it there; and right to left, a phone gets a sheet too.
    const right = panelPlace(box(100, 0, 700, 900), { width: 1920, height: 1000 }, true);
    assert.deepEqual(right, { mode: 'dock', left: 1920 - GAP - MAX_DOCK, width: MAX_DOCK });
    assert.deepEqual(panelPlace(box(16, 0, 374, 3000), { width: 390, height: 844 }, true), { mode: 'sheet' });
  });

  test('the end of the line when both sides hold a whole panel, not the wider side', () => {
    const rightOfCentre = box(900, 0, 1500, 900); // 884 px free at the left, 684 at the right
    assert.equal(panelPlace(rightOfCentre, { width: 2200, height: 1000 }).left, 2200 - GAP - MAX_DOCK);
    const leftOfCentre = box(700, 0, 1300, 900);
    assert.equal(panelPlace(leftOfCentre, { width: 2200, height: 1000 }, true).left, GAP);
  });

  test('a phone, or a wide screen whose text fills it, gets a bottom sheet', () => {
    assert.deepEqual(panelPlace(box(16, 0, 374, 3000), { width: 390, height: 844 }), { mode: 'sheet' });
    assert.deepEqual(panelPlace(box(128, 0, 896, 3000), { width: 1024, height: 768 }), { mode: 'sheet' });
  });
});

describe('launcherCorner', () => {
  const size = { width: 130, height: 42 };
  const viewport = { width: 390, height: 844 };

  test('nothing selected under it: the launcher stays in its usual corner', () => {
    const { corner, moved } = launcherCorner(size, viewport, [box(16, 100, 300, 120)]);
    assert.deepEqual(corner, { bottom: 16, right: 16 });
    assert.equal(moved, false);
  });

  test('a selection under it: the first corner clear of every rect', () => {
    const underRight = [box(250, 790, 370, 810)];
    assert.deepEqual(launcherCorner(size, viewport, underRight), { corner: { bottom: 16, left: 16 }, moved: true });
    const wholeLine = [box(16, 790, 374, 810)];
    assert.deepEqual(launcherCorner(size, viewport, wholeLine), { corner: { top: 16, right: 16 }, moved: true });
    const corner = launcherCorner(size, viewport, wholeLine, 84).corner;
    assert.deepEqual(corner, { bottom: 84, right: 16 }, 'raised over a bottom bar, its own corner is clear');
  });

  test('right to left: its usual corner is bottom left, and it moves to the bottom right', () => {
    assert.deepEqual(launcherCorner(size, viewport, [box(250, 790, 370, 810)], 16, 16, true), {
      corner: { bottom: 16, left: 16 },
      moved: false,
    });
    const underLeft = [box(20, 790, 140, 810)];
    assert.deepEqual(launcherCorner(size, viewport, underLeft, 16, 16, true), { corner: { bottom: 16, right: 16 }, moved: true });
    const wholeLine = [box(16, 790, 374, 810)];
    assert.deepEqual(launcherCorner(size, viewport, wholeLine, 16, 16, true), { corner: { top: 16, left: 16 }, moved: true });
  });

  test('covered everywhere: the usual corner rather than a jump', () => {
    const everywhere = [box(0, 0, 390, 844)];
    assert.deepEqual(launcherCorner(size, viewport, everywhere), { corner: { bottom: 16, right: 16 }, moved: false });
  });
});

describe('intersects', () => {
  test('touching edges do not intersect; any overlap does', () => {
    assert.equal(intersects(box(0, 0, 10, 10), box(10, 0, 20, 10)), false);
    assert.equal(intersects(box(0, 0, 10, 10), box(9, 9, 20, 20)), true);
  });
});

describe('the bottom sheet', () => {
  test('a passage under the sheet scrolls above it; one clear of it does not move', () => {
    assert.equal(scrollAboveSheet(box(16, 100, 200, 120), 422), 0);
    const by = scrollAboveSheet(box(16, 700, 200, 720), 422);
    const top = 700 - by;
    assert.ok(top >= GAP && top + 20 <= 422 - GAP, `lands at ${top}`);
  });

  test('dragging resizes within bounds; far enough down closes', () => {
    assert.equal(sheetHeight(200, 844), 644);
    assert.equal(sheetHeight(10, 844), Math.round(844 * 0.9));
    assert.equal(sheetHeight(700, 844), 160);
    assert.equal(sheetHeight(800, 844), null);
  });
});
