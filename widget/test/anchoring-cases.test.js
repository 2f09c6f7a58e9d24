// The shared anchoring table (tests/fixtures/anchoring_cases.json), run against the widget.
// The server runs the same table (tests/notes/anchoring/test_cases.py): if the engines
// drift apart, one of the two suites fails.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { anchorSelectors, loadApprox, offsetConverter } from '../src/anchoring.js';

await loadApprox();

const TABLE = new URL('../../tests/fixtures/anchoring_cases.json', import.meta.url);
const { cases } = JSON.parse(readFileSync(TABLE, 'utf8'));

describe('shared anchoring cases', () => {
  test('the table is there and not empty', () => {
    assert.ok(cases.length >= 10);
  });

  for (const c of cases) {
    test(c.name, () => {
      const convert = offsetConverter(c.text);
      const found = anchorSelectors(c.text, c.selectors, convert);
      if (c.expected === null) {
        assert.equal(found, null);
        return;
      }
      assert.ok(found, 'the passage is found');
      // The table counts code points, as the wire format does; the widget works in UTF-16.
      assert.deepEqual(
        { start: convert.toCodePoint(found.start), end: convert.toCodePoint(found.end) },
        { start: c.expected.start, end: c.expected.end },
      );
      assert.equal(c.text.slice(found.start, found.end), c.expected.text);
    });
  }
});
