import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { JSDOM } from 'jsdom';

import { MAX_BODY_CHARS, charCount } from '../src/dialogs.js';
import { bodyPreview, codePointLength, firstWords, htmlToText, textToHtml } from '../src/note-body.js';
import { renderBody } from '../src/note-render.js';
import { useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en');
await withWords(Promise.resolve()); // the counter's words come with the dialogs (the catalog's rest)

const { document } = new JSDOM('<!doctype html><body></body>').window;

function rendered(html) {
  const box = document.createElement('div');
  box.append(renderBody(html, document));
  return box;
}

describe('plain text to HTML', () => {
  test('escapes markup and makes paragraphs and line breaks', () => {
    assert.equal(
      textToHtml('Ask Dr <Lee> about "B & C"\nat the visit.\n\nAlso: liver tests'),
      '<p>Ask Dr &lt;Lee&gt; about "B &amp; C"<br>at the visit.</p><p>Also: liver tests</p>',
    );
  });

  test("quotes and apostrophes stay as typed: they don't eat into the service's limit", () => {
    const typed = `Dr Lee's "B or C" question, don't forget. `.repeat(200);
    assert.equal(textToHtml(typed), `<p>${typed.trim()}</p>`);
  });

  test('normalises CRLF, trims, treats blank lines with spaces as a break', () => {
    assert.equal(textToHtml('\r\n one\r\n \r\n two \n'), '<p>one</p><p>two</p>');
    assert.equal(textToHtml('   '), '');
  });

  test('round-trips through htmlToText', () => {
    const text = 'Line one\nline two\n\nSecond <para> & more';
    assert.equal(htmlToText(textToHtml(text), document), text);
  });
});

describe('rendering stored HTML', () => {
  test('keeps the allowed elements', () => {
    const box = rendered('<p>One <strong>two</strong> <em>three</em><br>four</p><ul><li>a</li></ul>');
    assert.equal(box.querySelectorAll('p, strong, em, br, ul, li').length, 6);
  });

  test('links get rel and target; unsafe schemes become text', () => {
    const box = rendered('<a href="https://example.org/x">ok</a> <a href="javascript:alert(1)">bad</a> <a href="mailto:a@b.c">m</a>');
    const links = box.querySelectorAll('a');
    assert.equal(links.length, 2);
    assert.equal(links[0].getAttribute('rel'), 'noopener noreferrer nofollow');
    assert.equal(links[0].getAttribute('target'), '_blank');
    assert.ok(box.textContent.includes('bad'));
  });

  test('anything else keeps its text only, and never its attributes', () => {
    const box = rendered(
      '<img src=x onerror="alert(1)"><div onclick="x()" style="color:red">text <span class="a">inside</span></div><script>alert(2)</script><style>p{}</style>',
    );
    assert.equal(box.querySelectorAll('*').length, 0);
    assert.equal(box.textContent, 'text inside');
  });

  test('attributes on allowed elements are dropped', () => {
    const box = rendered('<p class="x" onclick="y()" style="a:b">hi</p>');
    assert.equal(box.firstChild.attributes.length, 0);
  });
});

test('a body is parsed for its preview once: the same body again is not parsed again', () => {
  const view = document.defaultView;
  const Real = view.DOMParser;
  let parsed = 0;
  view.DOMParser = class extends Real {
    parseFromString(/** @type {string} */ html, /** @type {DOMParserSupportedType} */ type) {
      parsed += 1;
      return super.parseFromString(html, type);
    }
  };
  try {
    const body = '<p>Ask about the <strong>liver</strong> tests</p><ul><li>dose</li></ul>';
    assert.equal(bodyPreview(body, document), 'Ask about the liver tests - dose');
    assert.equal(bodyPreview(body, document), 'Ask about the liver tests - dose');
    assert.equal(parsed, 1);
    assert.equal(bodyPreview(body, document, 3), 'Ask about the…', 'another length is its own preview');
    assert.equal(parsed, 2);
    assert.equal(bodyPreview('<p>another note</p>', document), 'another note');
    assert.equal(parsed, 3);
  } finally {
    view.DOMParser = Real;
  }
});

test('firstWords cuts long text with an ellipsis', () => {
  assert.equal(firstWords('Child-Pugh Class B or C cirrhosis'), 'Child-Pugh Class B or C cirrhosis');
  assert.equal(firstWords('one two three four five six seven eight nine', 8), 'one two three four five six seven eight…');
});

describe('the character counter', () => {
  test('nothing below 80% of the limit, then "n / limit characters"', () => {
    assert.deepEqual(charCount('a'.repeat(7999)), { over: false, words: '' });
    assert.deepEqual(charCount('a'.repeat(8000)), { over: false, words: '8,000 / 10,000 characters' });
    assert.deepEqual(charCount('a'.repeat(9412)), { over: false, words: '9,412 / 10,000 characters' });
    assert.deepEqual(charCount('a'.repeat(10000)), { over: false, words: '10,000 / 10,000 characters' });
  });

  test('past the limit it says by how much', () => {
    assert.deepEqual(charCount('a'.repeat(10001)), { over: true, words: '10,001 / 10,000 characters, 1 too many' });
    assert.deepEqual(charCount('a'.repeat(17600)), { over: true, words: '17,600 / 10,000 characters, 7,600 too many' });
  });

  test('counts code points, as the service does, not UTF-16 units', () => {
    assert.equal(codePointLength('😀'), 1);
    assert.equal('😀'.length, 2);
    const text = 'a😀b👩‍⚕️c≥d';
    assert.equal(codePointLength(text), [...text].length);
    const emoji = '\u{1F600}'.repeat(8000); // 16,000 UTF-16 units
    assert.equal(charCount(emoji).words, '8,000 / 10,000 characters');
    assert.equal(charCount(emoji + 'x'.repeat(2001)).over, true);
    assert.equal(charCount('x', 10).words, '');
    assert.equal(charCount('é'.repeat(9), 10).words, '9 / 10 characters');
  });

  test("the limit is the service's own MAX_BODY_CHARS", () => {
    // Wherever the service keeps it among the notes modules, the value must be the widget's.
    const dir = new URL('../../notes_service/notes/', import.meta.url);
    const found = readdirSync(dir)
      .filter((name) => name.endsWith('.py'))
      .flatMap((name) => [...readFileSync(new URL(name, dir), 'utf8').matchAll(/^MAX_BODY_CHARS\s*(?::\s*int\s*)?=\s*([\d_]+)/gm)])
      .map((m) => Number(m[1].replaceAll('_', '')));
    assert.deepEqual(found, [MAX_BODY_CHARS]);
  });
});
