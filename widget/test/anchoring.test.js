import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  SCORE_FLOOR,
  anchorSelectors,
  describeQuote,
  loadApprox,
  matchQuote,
  offsetConverter,
  trimPassage,
} from '../src/anchoring.js';

await loadApprox(); // as the widget does before anchoring again (anchoring-approx.test.js: without it)

const EXCLUSIONS = [
  '5. Symptomatic cardiac or vascular disease requiring medical intervention within 6 months prior to screening.',
  '6. Child-Pugh Class B or C cirrhosis.',
  '7. Symptomatic airway disease requiring medical intervention, pleural effusion ≥ Grade 2, or history of pulmonary embolism requiring anticoagulant therapy within 6 months of enrollment.',
  '8. Participants known to be refractory to platelet or red blood cell transfusions.',
].join('\n');

/** Selectors for the n-th occurrence of `quote` in `text`. */
function selectorsFor(text, quote, occurrence = 0) {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = text.indexOf(quote, at + 1);
  assert.ok(at >= 0, `${quote} is in the text`);
  return describeQuote(text, at, at + quote.length);
}

const slice = (text, found) => text.slice(found.start, found.end);

describe('trimPassage', () => {
  const passage = (text, from, to) => {
    const found = trimPassage(text, text.indexOf(from), text.indexOf(to) + to.length);
    return found && text.slice(found.start, found.end);
  };

  test('a selection dragged into the next item leaves its number out', () => {
    assert.equal(passage(EXCLUSIONS, '6. Child', 'cirrhosis.\n7.'), 'Child-Pugh Class B or C cirrhosis.');
    // Its number and the space after it, as a drag to the next item's first word may end.
    assert.equal(passage(EXCLUSIONS, 'Child', 'cirrhosis.\n7. '), 'Child-Pugh Class B or C cirrhosis.');
  });

  test('an item selected from its start leaves its own number out', () => {
    assert.equal(passage(EXCLUSIONS, '8. Participants', 'transfusions.'), 'Participants known to be refractory to platelet or red blood cell transfusions.');
    assert.equal(passage('Criteria:\n  b) Adults 18 or older\n', 'b)', 'older\n'), 'Adults 18 or older');
    assert.equal(passage('\u2022 Pregnant or nursing', '\u2022', 'nursing'), 'Pregnant or nursing');
  });

  test('numbers inside a passage and inside a line stay', () => {
    assert.equal(passage(EXCLUSIONS, 'Child', 'embolism'), EXCLUSIONS.slice(EXCLUSIONS.indexOf('Child'), EXCLUSIONS.indexOf('embolism') + 8));
    const inline = 'groups a) adults and b) children';
    assert.equal(passage(inline, 'a) adults', 'children'), 'a) adults and b) children');
    assert.equal(passage('stage 6.\nNext', 'stage', '6.'), 'stage 6.');
  });

  test('trimming twice changes nothing; white space or a number alone is no passage', () => {
    const text = '1. a) Adults\n2. b) Children';
    const once = trimPassage(text, 0, text.length);
    assert.deepEqual(trimPassage(text, once.start, once.end), once);
    assert.equal(text.slice(once.start, once.end), 'a) Adults\n2. b) Children');
    // A number alone is no passage: it is not the trial's words.
    assert.equal(trimPassage(EXCLUSIONS, EXCLUSIONS.indexOf('\n7.'), EXCLUSIONS.indexOf('\n7.') + 4), null);
    assert.equal(trimPassage('  \n ', 0, 4), null);
  });

  test('describeQuote saves the trimmed passage', () => {
    const at = EXCLUSIONS.indexOf('Child');
    const [quote] = describeQuote(EXCLUSIONS, at, EXCLUSIONS.indexOf('\n7.') + 4);
    assert.equal(quote.exact, 'Child-Pugh Class B or C cirrhosis.');
  });
});

describe('describeQuote', () => {
  test('records the quote, 32 units of context and code-point positions', () => {
    const [quote, position] = selectorsFor(EXCLUSIONS, 'Child-Pugh Class B or C cirrhosis');
    assert.equal(quote.type, 'TextQuoteSelector');
    assert.equal(quote.exact, 'Child-Pugh Class B or C cirrhosis');
    assert.ok(quote.prefix.endsWith('screening.\n6. '));
    assert.equal(quote.prefix.length, 32);
    assert.ok(quote.suffix.startsWith('.\n7. Symptomatic airway'));
    assert.equal(position.type, 'TextPositionSelector');
    assert.equal(position.end - position.start, 'Child-Pugh Class B or C cirrhosis'.length);
  });

  test('counts a run of indentation once in the context, up to 64 units', () => {
    const indent = `\n${' '.repeat(20)}`;
    const text = `Earlier item text here.${indent}QUOTE${indent}Later item text follows here and on.`;
    const at = text.indexOf('QUOTE');
    const [quote] = describeQuote(text, at, at + 5);
    assert.equal(quote.prefix, `Earlier item text here.${indent}`.slice(-(32 + 20)));
    assert.ok(quote.suffix.startsWith(`${indent}Later item`));
    assert.equal(quote.suffix.replace(/\s+/g, ' ').length, 32);
    const spaces = ' '.repeat(200);
    assert.equal(describeQuote(`a${spaces}QUOTE${spaces}b`, 201, 206)[0].prefix, ' '.repeat(64));
  });

  test('trims white space off a selection and refuses a blank one', () => {
    const text = 'alpha   beta\n\n  gamma';
    const [quote] = describeQuote(text, 5, 22);
    assert.equal(quote.exact, 'beta\n\n  gamma');
    assert.equal(describeQuote(text, 5, 8), null);
  });

  test('never splits an emoji at the edge of the context', () => {
    const text = `xxx😀${'y'.repeat(31)}QUOTE😀zz`;
    const at = text.indexOf('QUOTE');
    // 32 units back from the quote is the second half of the first emoji,
    // 32 units on from its end the first half of... nothing: the suffix is short.
    const [quote] = describeQuote(text, at, at + 5);
    assert.equal(quote.prefix, 'y'.repeat(31));
    assert.equal(quote.suffix, '😀zz');
    const long = `QUOTE${'z'.repeat(31)}😀`;
    assert.equal(describeQuote(long, 0, 5)[0].suffix, 'z'.repeat(31));
  });
});

describe('exact anchoring', () => {
  test('finds the quote from its selectors', () => {
    const selectors = selectorsFor(EXCLUSIONS, 'pleural effusion ≥ Grade 2');
    const found = anchorSelectors(EXCLUSIONS, selectors);
    assert.equal(slice(EXCLUSIONS, found), 'pleural effusion ≥ Grade 2');
  });

  test('uses the position hint when the text there is still the quote', () => {
    const text = 'aaa needle bbb needle ccc';
    const selectors = [
      { type: 'TextQuoteSelector', exact: 'needle' },
      { type: 'TextPositionSelector', start: 15, end: 21 },
    ];
    assert.deepEqual(anchorSelectors(text, selectors), { start: 15, end: 21 });
  });

  test('falls back to search when the position is stale', () => {
    const text = 'inserted text. aaa needle bbb';
    const selectors = [
      { type: 'TextQuoteSelector', exact: 'needle', prefix: 'aaa ', suffix: ' bbb' },
      { type: 'TextPositionSelector', start: 4, end: 10 },
    ];
    assert.equal(slice(text, anchorSelectors(text, selectors)), 'needle');
    assert.equal(anchorSelectors(text, selectors).start, text.indexOf('needle'));
  });
});

describe('choosing among repeats', () => {
  const text =
    'Treatment A: requiring medical intervention within 6 months. ' +
    'Treatment B: requiring medical intervention within 12 months. ' +
    'Treatment C: requiring medical intervention within 6 months.';
  const quote = 'requiring medical intervention';

  test('the prefix picks the occurrence', () => {
    const found = matchQuote(text, quote, { prefix: 'Treatment C: ' });
    assert.equal(found.start, text.lastIndexOf(quote));
  });

  test('the suffix picks the occurrence', () => {
    const found = matchQuote(text, quote, { suffix: ' within 12 months' });
    assert.equal(found.start, text.indexOf('B: ') + 3);
  });

  test('context outweighs the position hint', () => {
    const hint = text.indexOf(quote); // near A
    const found = matchQuote(text, quote, { prefix: 'Treatment C: ', hint });
    assert.equal(found.start, text.lastIndexOf(quote));
  });

  test('the position breaks a tie', () => {
    const plain = 'x needle x needle x needle x';
    const third = plain.lastIndexOf('needle');
    assert.equal(matchQuote(plain, 'needle', { hint: third - 1 }).start, third);
    assert.equal(matchQuote(plain, 'needle', { hint: 0 }).start, plain.indexOf('needle'));
  });

  test('stored selectors find the second of two identical items', () => {
    const list = 'Lupus Nephritis\nSystemic Sclerosis\nLupus Nephritis\nOther';
    const selectors = selectorsFor(list, 'Lupus Nephritis', 1);
    // Drop the position so only the context decides.
    const found = anchorSelectors(list, selectors.slice(0, 1));
    assert.equal(found.start, list.lastIndexOf('Lupus Nephritis'));
  });
});

describe('code points and UTF-16', () => {
  const text = 'a😀b👩‍⚕️c≥d';

  test('round-trips every boundary', () => {
    const convert = offsetConverter(text);
    const points = [...text];
    let units = 0;
    for (let cp = 0; cp <= points.length; cp++) {
      assert.equal(convert.toUtf16(cp), units, `code point ${cp}`);
      assert.equal(convert.toCodePoint(units), cp, `unit ${units}`);
      units += points[cp]?.length ?? 0;
    }
  });

  test('positions after an emoji are code points on the wire', () => {
    const at = text.indexOf('c');
    const [, position] = describeQuote(text, at, at + 1);
    assert.equal(position.start, [...text.slice(0, at)].length);
    assert.equal(position.start, at - 2); // 😀 and 👩 are astral (two units each); ZWJ, ⚕ and VS16 are not
    const found = anchorSelectors(text, [
      { type: 'TextQuoteSelector', exact: 'c' },
      { type: 'TextPositionSelector', start: position.start, end: position.end },
    ]);
    assert.deepEqual(found, { start: at, end: at + 1 });
  });

  test('a selector made by a code-point counter (Python) anchors', () => {
    const page = 'Intro 🔬 text. The Child-Pugh Class B or C cirrhosis rule.';
    const py = [...page];
    const start = py.indexOf('C', py.indexOf('T', 10) + 1); // "Child" in code points
    const exact = 'Child-Pugh Class B or C cirrhosis';
    assert.equal(py.slice(start, start + exact.length).join(''), exact);
    const found = anchorSelectors(page, [
      { type: 'TextQuoteSelector', exact },
      { type: 'TextPositionSelector', start, end: start + exact.length },
    ]);
    assert.equal(slice(page, found), exact);
    assert.equal(found.start, start + 1); // one emoji before it: one extra unit
  });
});

describe('approximate anchoring', () => {
  test('survives a light edit of the quoted text', () => {
    const selectors = selectorsFor(EXCLUSIONS, 'Child-Pugh Class B or C cirrhosis');
    const edited = EXCLUSIONS.replace('Child-Pugh Class B or C cirrhosis', 'Child-Pugh class B or C liver cirrhosis');
    const found = anchorSelectors(edited, selectors);
    assert.ok(found, 'anchored');
    assert.match(slice(edited, found), /Child-Pugh class B or C (liver )?cirrhosis/);
    assert.ok(found.score >= SCORE_FLOOR);
  });

  test('survives text inserted before the passage (stale position)', () => {
    const selectors = selectorsFor(EXCLUSIONS, 'pulmonary embolism requiring anticoagulant therapy');
    const edited = `Updated 2025: see below.\n${EXCLUSIONS.replace('anticoagulant', 'anti-coagulant')}`;
    const found = anchorSelectors(edited, selectors);
    assert.equal(slice(edited, found), 'pulmonary embolism requiring anti-coagulant therapy');
  });

  test('ignores differences in white space (indentation, line breaks)', () => {
    const canonical = 'Exclusion Criteria:\n6. Child-Pugh Class B or C cirrhosis.\n7. Symptomatic airway disease';
    const selectors = selectorsFor(canonical, 'Child-Pugh Class B or C cirrhosis.\n7. Symptomatic');
    const html = 'Exclusion Criteria:\n        <li>6. Child-Pugh   Class B or C cirrhosis.</li>\n        <li>7. Symptomatic airway disease'
      .replace(/<\/?li>/g, '');
    const found = anchorSelectors(html, selectors);
    assert.ok(found);
    assert.equal(slice(html, found).replace(/\s+/g, ' '), 'Child-Pugh Class B or C cirrhosis. 7. Symptomatic');
  });
});

describe('orphans', () => {
  test('a note whose text was removed is not placed', () => {
    const selectors = selectorsFor(EXCLUSIONS, 'Child-Pugh Class B or C cirrhosis');
    const removed = EXCLUSIONS.replace('6. Child-Pugh Class B or C cirrhosis.\n', '');
    assert.equal(anchorSelectors(removed, selectors), null);
  });

  test('an empty quote or empty text anchors nowhere', () => {
    assert.equal(matchQuote('some text', ''), null);
    assert.equal(matchQuote('', 'quote'), null);
  });

  test('a fuzzy match below the score floor is orphaned', () => {
    // Within the quote's error budget (a quarter of its length) but with
    // neither the prefix nor the suffix around it: a different passage.
    const quote = 'requires dialysis within twelve months';
    const context = { prefix: 'For those with lupus nephritis, ', suffix: ' or expected need for renal' };
    const elsewhere = 'Totally unrelated words here: requires dialysis within two months. Nothing else matches at all.';
    assert.equal(matchQuote(elsewhere, quote, context), null);
    // It is the floor that refused it: without context to contradict it, it is taken.
    assert.ok(matchQuote(elsewhere, quote));
    // The same fuzzy quote in its own context is accepted.
    const home = `For those with lupus nephritis, requires dialysis within two months or expected need for renal care.`;
    const found = matchQuote(home, quote, context);
    assert.ok(found && found.score >= SCORE_FLOOR);
    assert.equal(slice(home, found), 'requires dialysis within two months');
  });

  test('too many edits are not matched at all', () => {
    assert.equal(matchQuote('The cat sat on the mat.', 'A dog lay under a rug'), null);
  });
});
