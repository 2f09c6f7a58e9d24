// The family's replies in the widget, on jsdom: counts in words, the "new" marker until they are
// seen, delete asked first, and a reply's text shown as text, never markup.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { useDocument } from '../src/dom.js';
import { dialogWindow } from '../test-support/fakes.js';
import { createReplies } from '../src/replies.js';
import { useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // the whole English catalog, as this on-demand module gets it

const window = dialogWindow();
const { document } = window;
useDocument(document);

const reply = (id, over = {}) => ({
  id,
  note_id: 'n1',
  share_id: 's1',
  name: 'Mom',
  body: '<p>Ask about the liver tests</p>',
  created_at: `2026-12-02T10:0${id.length}:00Z`,
  unread: true,
  ...over,
});
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setUp(replies) {
  const host = document.createElement('div');
  document.body.replaceChildren(host);
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.adoptedStyleSheets = []; // jsdom leaves it undefined
  const calls = [];
  let changes = 0;
  const errors = [];
  // The API's two generic calls, answering the replies routes as the service does.
  const api = {
    all: async (path) => {
      calls.push(['list', decodeURIComponent(path.split('/')[4])]);
      return replies;
    },
    call: async (method, path, body) => {
      if (method === 'POST') calls.push(['seen', decodeURIComponent(path.split('/')[4]), body.reply_ids]);
      else calls.push(['delete', decodeURIComponent(path.split('/')[4])]);
      return null;
    },
  };
  const r = createReplies({
    api: /** @type {any} */ (api),
    trial: 'NCT1',
    doc: document,
    shadow,
    explain: (err) => err.message,
    changed: () => changes++,
    showError: (m) => errors.push(m),
  });
  return { r, shadow, calls, errors, changes: () => changes };
}

const NOTE = { quote: 'Child-Pugh Class B or C cirrhosis', color: 'green' };
const buttonNamed = (root, name) => [...root.querySelectorAll('button')].find((b) => b.textContent === name && !b.closest('[hidden]'));

describe('replies', () => {
  test('counted per note in words, with the unread ones marked', async () => {
    const { r, changes } = setUp([reply('a'), reply('bb', { unread: false }), reply('c', { note_id: 'n2' })]);
    await r.load();
    assert.equal(changes(), 1);
    assert.deepEqual(r.summary('n1'), { count: 2, unread: 1, label: 'Replies: 2 replies, 1 new' });
    assert.equal(r.summary('n2').label, 'Replies: 1 reply, 1 new');
    assert.equal(r.summary('n3'), undefined);
    assert.equal(r.button('n3', NOTE), null);
    const button = r.button('n1', NOTE);
    assert.equal(button.getAttribute('aria-label'), 'Replies: 2 replies, 1 new');
    assert.equal(button.querySelector('.new').textContent, '1 new');
  });

  test('opening shows name, date and text, then marks them seen and the marker goes', async () => {
    const { r, shadow, calls } = setUp([reply('a', { name: null }), reply('bb')]);
    await r.load();
    r.button('n1', NOTE).click();
    await tick();
    const dialog = shadow.querySelector('dialog');
    assert.ok(dialog.open);
    assert.equal(dialog.querySelector('h2').textContent, 'Replies (2)');
    assert.match(dialog.textContent, /Someone with the link.*New.*Ask about the liver tests/);
    assert.match(dialog.textContent, /Mom/);
    assert.match(dialog.textContent, /Green/);
    assert.deepEqual(calls.at(-1), ['seen', 'NCT1', ['a', 'bb']]);
    assert.equal(r.summary('n1').unread, 0);
    assert.equal(r.button('n1', NOTE).querySelector('.new'), null);
  });

  test('nothing is marked when none is unread', async () => {
    const { r, calls } = setUp([reply('a', { unread: false })]);
    await r.load();
    r.open('n1', NOTE, null);
    await tick();
    assert.deepEqual(calls, [['list', 'NCT1']]);
  });

  test('delete asks first, then deletes that reply only', async () => {
    const { r, shadow, calls } = setUp([reply('a'), reply('bb')]);
    await r.load();
    r.open('n1', NOTE, null);
    const dialog = shadow.querySelector('dialog');
    dialog.querySelector('button[aria-label="Delete reply from Mom"]').click();
    assert.ok(!calls.some((c) => c[0] === 'delete'));
    buttonNamed(dialog, 'Keep reply').click();
    assert.ok(!calls.some((c) => c[0] === 'delete'));
    dialog.querySelector('button[aria-label="Delete reply from Mom"]').click();
    buttonNamed(dialog, 'Yes, delete reply').click();
    await tick();
    assert.deepEqual(calls.at(-1), ['delete', 'a']);
    assert.equal(r.summary('n1').count, 1);
    assert.equal(dialog.querySelectorAll('.replies-list > li').length, 1);
    assert.equal(dialog.querySelector('h2').textContent, 'Replies (1)');
  });

  test('hostile markup in a name or a reply is text: no element is made', async () => {
    const evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
    const { r, shadow } = setUp([reply('a', { name: evil, body: `<p>${evil.replace(/</g, '&lt;')}</p>` })]);
    await r.load();
    r.open('n1', NOTE, null);
    const dialog = shadow.querySelector('dialog');
    assert.equal(dialog.querySelector('img, script'), null);
    assert.equal(dialog.querySelector('.who strong').textContent, evil);
    assert.equal(dialog.querySelector('.text').textContent, evil);
  });

  test('a failed list is said, and the notes are left alone', async () => {
    const { errors, changes } = setUp([]);
    const broken = createReplies({
      api: /** @type {any} */ ({ all: async () => { throw new Error('Try again later.'); } }),
      trial: 'NCT1',
      doc: document,
      shadow: document.querySelector('div').shadowRoot,
      explain: (err) => err.message,
      changed: () => assert.fail('nothing to draw'),
      showError: (m) => errors.push(m),
    });
    await broken.load();
    assert.deepEqual(errors, ['Try again later.']);
    assert.equal(changes(), 0);
    assert.equal(broken.summary('n1'), undefined);
  });
});
