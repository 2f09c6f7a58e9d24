import assert from 'node:assert/strict';
import { test } from 'node:test';

import { anchorSelectors, describeQuote, loadApprox } from '../src/anchoring.js';

// The approximate matcher is fetched on demand (anchoring.js): until it is here, a passage only it
// can place is "ask again" (undefined), never orphaned or placed elsewhere; everything found at its
// position or by exact search is found as before.
const text = 'Inclusion: adults aged 18 to 75 with type 2 diabetes. Exclusion: pregnancy or breastfeeding.';
const [quote, position] = describeQuote(text, text.indexOf('adults'), text.indexOf(' with'));
const edited = text.replace('18 to 75', '18 to 80');
const moved = `Updated record. ${text}`;

test('before the matcher is fetched: exact passages are found, an edited one waits for it', async () => {
  const slice = (t, found) => t.slice(found.start, found.end);
  assert.equal(slice(text, anchorSelectors(text, [quote, position])), 'adults aged 18 to 75');
  assert.equal(slice(moved, anchorSelectors(moved, [quote, position])), 'adults aged 18 to 75');
  assert.equal(anchorSelectors(edited, [quote, position]), undefined);
  assert.equal(anchorSelectors('Nothing alike at all here.', [{ type: 'TextQuoteSelector', exact: 'xyz' }]), null);

  await loadApprox();
  assert.equal(slice(edited, anchorSelectors(edited, [quote, position])), 'adults aged 18 to 80');
});
