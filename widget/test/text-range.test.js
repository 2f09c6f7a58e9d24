import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { JSDOM } from 'jsdom';

import { anchorSelectors, describeQuote, loadApprox } from '../src/anchoring.js';
import { paragraphOf } from '../src/note-actions.js';
import { textIndex } from '../src/text-range.js';

await loadApprox();

function load(name) {
  const html = readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
  const { document } = new JSDOM(html).window;
  return { document, root: document.querySelector('[data-notes-root]') };
}

/** A DOM Range over the first occurrence of `text` inside one text node of `scope`. */
function rangeOver(document, scope, text) {
  const walker = document.createTreeWalker(scope, 4);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at === -1) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + text.length);
    return range;
  }
  throw new Error(`${text} not found`);
}

/** DOM Range -> selectors -> DOM Range, as saving then reloading a note does. */
function roundTrip(root, range) {
  const index = textIndex(root);
  const offsets = index.fromRange(range);
  const selectors = describeQuote(index.text, offsets.start, offsets.end);
  const found = anchorSelectors(textIndex(root).text, selectors);
  return { selectors, range: index.toRange(found.start, found.end) };
}

describe('seed trial page', () => {
  const { document, root } = load('seed-page.html');
  const quote = 'Child-Pugh Class B or C cirrhosis';

  test('the index text is the root textContent, only the root', () => {
    const index = textIndex(root);
    assert.equal(index.text, root.textContent);
    assert.ok(!index.text.includes('Find a trial'), 'the nav is outside');
    assert.ok(!index.text.includes('Send a message'), 'the contact form is outside');
    assert.ok(index.text.includes(quote));
  });

  test('"Child-Pugh Class B or C cirrhosis" round-trips', () => {
    const item = [...document.querySelectorAll('li')].find((li) => li.textContent.includes(quote));
    const { selectors, range } = roundTrip(root, rangeOver(document, item, quote));
    const [textQuote, position] = selectors;
    assert.equal(textQuote.exact, quote);
    assert.match(textQuote.suffix, /^\.\s+Symptomatic airway/);
    assert.match(textQuote.prefix, /requiring medical intervention\.\s+$/);
    // Positions are code points of the root's text (no astral characters here).
    assert.equal([...root.textContent].slice(position.start, position.end).join(''), quote);
    assert.equal(range.toString(), quote);
    assert.equal(range.startContainer.parentElement, item);
  });

  test('a selection starting outside the root is clipped to it', () => {
    const range = document.createRange();
    range.setStart(document.querySelector('nav a'), 0);
    const h1 = root.querySelector('h1');
    range.setEnd(h1.firstChild, 'A Study'.length);
    const offsets = textIndex(root).fromRange(range);
    const text = textIndex(root).text.slice(offsets.start, offsets.end);
    assert.equal(text.trim(), 'A Study');
  });

  test('a selection wholly outside the root gives nothing', () => {
    const range = rangeOver(document, document.querySelector('footer'), 'Source');
    assert.equal(textIndex(root).fromRange(range), null);
  });

  test('a whole list item selected by element boundaries round-trips', () => {
    const items = root.querySelectorAll('#eligibility ol')[1].children;
    const range = document.createRange();
    range.selectNodeContents(items[6]);
    const { selectors, range: back } = roundTrip(root, range);
    assert.ok(selectors[0].exact.startsWith('Symptomatic airway disease'));
    assert.equal(back.toString(), items[6].textContent);
  });

  test('re-anchors after the page changes around the passage', () => {
    const { document: doc2, root: root2 } = load('seed-page.html');
    const item = [...doc2.querySelectorAll('li')].find((li) => li.textContent.includes(quote));
    const index = textIndex(root2);
    const offsets = index.fromRange(rangeOver(doc2, item, quote));
    const selectors = describeQuote(index.text, offsets.start, offsets.end);
    // A client-rendered page adds a notice above and re-renders the item.
    root2.insertAdjacentHTML('afterbegin', '<p class="notice">Updated: eligibility was revised.</p>');
    item.innerHTML = 'Child-Pugh <em>Class B or C</em> cirrhosis.';
    const fresh = textIndex(root2);
    const found = anchorSelectors(fresh.text, selectors);
    assert.equal(fresh.toRange(found.start, found.end).toString(), quote);
  });

  test('the paragraph of a point is its list item', () => {
    const item = [...document.querySelectorAll('li')].find((li) => li.textContent.includes(quote));
    assert.equal(paragraphOf(root, item.firstChild), item);
    assert.equal(paragraphOf(root, document.querySelector('nav a').firstChild), null);
  });
});

describe('nested inline markup and emoji', () => {
  const { document, root } = load('nested-inline.html');

  test('a selection across strong/em/a and an emoji round-trips', () => {
    const strong = root.querySelector('strong');
    const link = root.querySelector('a');
    const range = document.createRange();
    range.setStart(strong.firstChild, 0); // "severe "
    range.setEnd(link.firstChild, 'Child-Pugh'.length);
    assert.equal(range.toString(), 'severe hepatic impairment 🧪 (Child-Pugh');
    const { selectors, range: back } = roundTrip(root, range);
    assert.equal(selectors[0].exact, 'severe hepatic impairment 🧪 (Child-Pugh');
    assert.equal(back.toString(), 'severe hepatic impairment 🧪 (Child-Pugh');
    assert.equal(back.startContainer, strong.firstChild);
    assert.equal(back.endContainer, link.firstChild);
  });

  test('positions count code points: the 🔑 before counts once', () => {
    const text = root.textContent;
    const range = rangeOver(document, root.querySelector('em'), 'hepatic');
    const index = textIndex(root);
    const offsets = index.fromRange(range);
    const [, position] = describeQuote(index.text, offsets.start, offsets.end);
    assert.equal(offsets.start, text.indexOf('hepatic'));
    assert.equal(position.start, offsets.start - 1);
    assert.equal([...text].slice(position.start, position.end).join(''), 'hepatic');
  });

  test('a passage after a ZWJ emoji sequence and a comment round-trips', () => {
    const range = document.createRange();
    const b = root.querySelector('b');
    range.setStart(b.previousSibling, 'Emoji '.length);
    range.setEnd(b.nextSibling.nextSibling, ' starts'.length);
    assert.equal(range.toString(), '👩‍⚕️ before treatment starts');
    const { range: back } = roundTrip(root, range);
    assert.equal(back.toString(), '👩‍⚕️ before treatment starts');
  });

  test('offsets at text-node seams resolve inside the right nodes', () => {
    const index = textIndex(root);
    const start = index.text.indexOf('severe');
    const end = index.text.indexOf(' impairment');
    const range = index.toRange(start, end);
    assert.equal(range.toString(), 'severe hepatic');
    // The end falls on the seam between "hepatic" and " impairment": it stays in <em>.
    assert.equal(range.endContainer.parentElement.tagName, 'EM');
    assert.equal(range.startContainer.parentElement.tagName, 'STRONG');
  });
});

describe('text nodes, empty ones among them', () => {
  test('a start goes to the node it begins, an end to the node it closes, past empty nodes', () => {
    const { document } = new JSDOM('<p data-notes-root></p>').window;
    const root = document.querySelector('[data-notes-root]');
    const [ab, empty, cd, last] = ['ab', '', 'cd', ''].map((s) => document.createTextNode(s));
    root.append(ab, empty, cd, last);
    const index = textIndex(root);
    const bounds = (start, end) => {
      const range = index.toRange(start, end);
      return [range.startContainer, range.startOffset, range.endContainer, range.endOffset];
    };
    assert.deepEqual(bounds(0, 2), [ab, 0, ab, 2]);
    assert.deepEqual(bounds(2, 4), [cd, 0, cd, 2]);
    assert.deepEqual(bounds(1, 3), [ab, 1, cd, 1]);
    // Past the text: the end of the last node.
    assert.deepEqual(bounds(4, 5), [last, 0, last, 0]);
  });
});
