import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PAINT, PALETTE } from '../src/highlights.js';
import { INK, overlapsOf } from '../src/overlaps.js';
import { useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // the whole English catalog, as this on-demand module gets it

const span = (id, color, start, end) => ({ id, color, start, end });

describe('overlapsOf', () => {
  test('passages that do not meet have no overlap', () => {
    assert.deepEqual(overlapsOf([span('a', 'blue', 0, 5), span('b', 'purple', 5, 9)]), []);
  });

  test('two crossing passages: the crossing, painted as the shorter, underlined as the other', () => {
    const found = overlapsOf([span('a', 'blue', 0, 20), span('b', 'purple', 10, 14)]);
    assert.deepEqual(found, [{ start: 10, end: 14, fill: 'purple', line: 'blue', ids: ['b', 'a'] }]);
  });

  test('a third passage splits the overlaps where the set of passages changes', () => {
    const found = overlapsOf([span('a', 'yellow', 0, 30), span('b', 'green', 5, 15), span('c', 'pink', 10, 12)]);
    assert.deepEqual(
      found.map((o) => [o.start, o.end, o.fill, o.line, o.ids.join('')]),
      [
        [5, 10, 'green', 'yellow', 'ba'],
        [10, 12, 'pink', 'green', 'cba'],
        [12, 15, 'green', 'yellow', 'ba'],
      ],
    );
  });

  test('the same passage noted twice is one overlap, in page order for equal lengths', () => {
    const found = overlapsOf([span('b', 'blue', 3, 8), span('a', 'blue', 3, 8)]);
    assert.deepEqual(found, [{ start: 3, end: 8, fill: 'blue', line: 'blue', ids: ['b', 'a'] }]);
  });

  test('innermost first: the shortest, then equal lengths in page order, however they came', () => {
    const list = [span('a', 'yellow', 0, 10), span('c', 'pink', 4, 10), span('b', 'green', 2, 8)];
    const found = overlapsOf(list).map((o) => [o.start, o.end, o.ids.join('')]);
    assert.deepEqual(found, [
      [2, 4, 'ba'],
      [4, 8, 'bca'],
      [8, 10, 'ca'],
    ]);
  });

  test('input order does not matter', () => {
    const list = [span('a', 'blue', 0, 20), span('b', 'purple', 10, 14), span('c', 'green', 12, 40)];
    assert.deepEqual(overlapsOf([...list].reverse()), overlapsOf(list));
  });

  test('every colour has a paint and an ink', () => {
    for (const [name] of PALETTE) {
      assert.match(PAINT[name], /^#[0-9a-f]{6}$/);
      assert.match(INK[name], /^#[0-9a-f]{6}$/);
    }
  });
});
