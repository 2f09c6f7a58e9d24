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
