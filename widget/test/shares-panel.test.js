// "My shares" drawn in a DOM (jsdom): words for one and many, the notes' text, paging,
// Revoke and Delete asked first, Unlock, and the replies toggle put back when the service refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { JSDOM } from 'jsdom';

import { useDocument } from '../src/dom.js';
import { sharesPanel } from '../src/shares-panel.js';
import { t, useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // the whole English catalog, as this on-demand module gets it

const { document } = new JSDOM('<!doctype html><body></body>').window;
useDocument(document);

const share = (over = {}) => ({
  id: 's1',
  url: '',
  state: 'active',
  note_ids: ['n1'],
  note_count: 1,
  views: 1,
  max_views: null,
  created_at: '2026-12-01T10:00:00Z',
  expires_at: '2026-12-08T10:00:00Z',
  replies_allowed: true,
  ...over,
});
const NOTES = new Map([
  ['n1', { quote: 'Child-Pugh Class B or C cirrhosis', text: 'Ask Dr. Lee' }],
  ['n2', { quote: 'Systemic Sclerosis', text: '' }],
]);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function panel(pages, overrides = {}) {
  const said = [];
  const calls = [];
  const errors = [];
  const p = sharesPanel({
    run: async (_control, task) => {
      try {
        await task();
      } catch (err) {
        errors.push(err.message);
      }
    },
    say: (words) => said.push(words),
  });
  document.body.replaceChildren(p.el);
  const actions = {
    page: async (cursor) => {
      calls.push(['page', cursor]);
      return pages[cursor ?? ''];
    },
    revoke: async (id) => {
      calls.push(['revoke', id]);
    },
    remove: async (id) => {
      calls.push(['remove', id]);
    },
    unlock: async (id) => {
      calls.push(['unlock', id]);
      return share({ id });
    },
    update: async (id, changes) => {
      calls.push(['update', id, changes]);
      return share({ id, ...changes });
    },
    ...overrides,
  };
  return { p, said, calls, errors, load: () => p.load(actions, NOTES) };
}

const button = (root, name) => [...root.querySelectorAll('button')].find((b) => b.textContent === name && !b.closest('[hidden]'));

describe('words', () => {
  test('one and many, with thousands separated', () => {
    assert.equal(t('notes', { n: 1 }), '1 note');
    assert.equal(t('notes', { n: 0 }), '0 notes');
    assert.equal(t('views', { n: 1204 }), '1,204 views');
  });
});

describe('My shares', () => {
  test('a link shows its label, state in words, counts and the text of its notes', async () => {
    const { p, load } = panel({ '': { shares: [share({ label: 'For Mom', note_ids: ['n1', 'n2', 'gone'], note_count: 3, views: 2, max_views: 5 })], next: null } });
    await load();
    const item = p.el.querySelector('.shares > li');
    assert.equal(item.querySelector('h4').textContent, 'For Mom');
    const text = item.textContent;
    assert.match(text, /Open: they can read it with the passcode/);
    assert.match(text, /3 notes · Made .* · Expires .* · 2 of 5 views/);
    assert.match(text, /Child-Pugh Class B or C cirrhosis Ask Dr\. Lee/);
    assert.match(text, /Systemic Sclerosis/);
    assert.match(text, /1 note not shown on this page/);
    assert.doesNotMatch(text, /\(s\)/);
  });

  test('one note and one view are singular', async () => {
    const { p, load } = panel({ '': { shares: [share({ reply_count: 1 })], next: null } });
    await load();
    assert.match(p.el.textContent, /1 note · Expires .* · 1 view · 1 reply(?!s)/);
  });

  test('replies are counted, the unread ones too', async () => {
    const { p, load } = panel({ '': { shares: [share({ reply_count: 3, unread_replies: 2 })], next: null } });
    await load();
    assert.match(p.el.textContent, /· 3 replies · 2 unread/);
  });

  test('the next page is added after the first; the button goes on the last', async () => {
    const { p, calls, load } = panel({
      '': { shares: [share({ id: 'a' })], next: 'c+1' },
      'c+1': { shares: [share({ id: 'b' })], next: null },
    });
    await load();
    const more = button(p.el, 'Show more links');
    assert.ok(more);
    more.click();
    await tick();
    assert.equal(p.el.querySelectorAll('.shares > li').length, 2);
    assert.deepEqual(calls, [['page', null], ['page', 'c+1']]);
    assert.equal(button(p.el, 'Show more links'), undefined);
  });

  test('Revoke asks first; "Keep link" does nothing; "Yes, revoke" revokes', async () => {
    const { p, calls, said, load } = panel({ '': { shares: [share()], next: null } });
    await load();
    button(p.el, 'Revoke').click();
    assert.deepEqual(calls, [['page', null]]);
    button(p.el, 'Keep link').click();
    button(p.el, 'Revoke').click();
    button(p.el, 'Yes, revoke').click();
    await tick();
    assert.deepEqual(calls.at(-1), ['revoke', 's1']);
    assert.match(p.el.textContent, /Revoked: the link no longer opens/);
    assert.equal(button(p.el, 'Revoke'), undefined);
    assert.deepEqual(said, ['Link revoked.']);
  });

  test('Delete asks first; "Yes, delete" takes the link out, focus on the next; a revoked link has it too', async () => {
    const { p, calls, said, load } = panel({
      '': { shares: [share({ id: 'a', label: 'First' }), share({ id: 'b', label: 'Second', state: 'revoked' })], next: null },
    });
    await load();
    const second = p.el.querySelectorAll('.shares > li')[1];
    assert.equal(button(second, 'Revoke'), undefined);
    assert.ok(button(second, 'Delete'), 'a revoked link can still be deleted for good');
    button(p.el, 'Delete').click();
    assert.match(p.el.textContent, /Delete this link for good\? .*replies sent through it are deleted too/);
    assert.deepEqual(calls, [['page', null]]);
    button(p.el, 'Keep link').click();
    assert.equal(p.el.querySelectorAll('.shares > li').length, 2);
    button(p.el, 'Delete').click();
    button(p.el, 'Yes, delete').click();
    await tick();
    assert.deepEqual(calls.at(-1), ['remove', 'a']);
    assert.deepEqual([...p.el.querySelectorAll('.shares h4')].map((h4) => h4.textContent), ['Second']);
    assert.equal(document.activeElement?.textContent, 'Second');
    button(p.el, 'Delete').click();
    button(p.el, 'Yes, delete').click();
    await tick();
    assert.deepEqual(calls.at(-1), ['remove', 'b']);
    assert.equal(p.el.querySelector('.shares').textContent, t('noLinks'));
    assert.equal(document.activeElement, p.el.querySelector('.shares > li'));
    assert.deepEqual(said, ['Link deleted.', 'Link deleted.']);
  });

  test('the last link on screen deleted while more follow: "Show more links", no "No links yet"', async () => {
    const { p, load } = panel({
      '': { shares: [share({ id: 'a', label: 'First' })], next: 'c+1' },
      'c+1': { shares: [share({ id: 'b', label: 'Second' })], next: null },
    });
    await load();
    button(p.el, 'Delete').click();
    button(p.el, 'Yes, delete').click();
    await tick();
    assert.equal(p.el.querySelector('.shares').textContent, '');
    assert.equal(document.activeElement, button(p.el, 'Show more links'));
    button(p.el, 'Show more links').click();
    await tick();
    assert.deepEqual([...p.el.querySelectorAll('.shares > li')].map((li) => li.querySelector('h4')?.textContent), ['Second']);
  });

  test('a link the service refuses to delete stays', async () => {
    const { p, errors, load } = panel(
      { '': { shares: [share()], next: null } },
      { remove: async () => { throw new Error('Not now.'); } },
    );
    await load();
    button(p.el, 'Delete').click();
    button(p.el, 'Yes, delete').click();
    await tick();
    assert.equal(p.el.querySelectorAll('.shares h4').length, 1);
    assert.deepEqual(errors, ['Not now.']);
  });

  test('a locked link has Unlock, and is open after it', async () => {
    const { p, calls, load } = panel({ '': { shares: [share({ state: 'locked' })], next: null } });
    await load();
    assert.match(p.el.textContent, /Locked after too many wrong passcodes/);
    button(p.el, 'Unlock').click();
    await tick();
    assert.deepEqual(calls.at(-1), ['unlock', 's1']);
    assert.match(p.el.textContent, /Open: they can read it/);
    assert.equal(button(p.el, 'Unlock'), undefined);
  });

  test('the replies toggle asks the service, and goes back when it refuses', async () => {
    const { p, calls, errors, load } = panel(
      { '': { shares: [share()], next: null } },
      {
        update: async (id, changes) => {
          calls.push(['update', id, changes]);
          throw new Error('Not now.');
        },
      },
    );
    await load();
    const toggle = p.el.querySelector('input[type=checkbox]');
    assert.equal(toggle.checked, true);
    toggle.checked = false;
    toggle.dispatchEvent(new document.defaultView.Event('change'));
    await tick();
    assert.deepEqual(calls.at(-1), ['update', 's1', { replies_allowed: false }]);
    assert.equal(toggle.checked, true);
    assert.deepEqual(errors, ['Not now.']);
  });

  test('an item shows text only: a hostile label is not markup', async () => {
    const { p, load } = panel({ '': { shares: [share({ label: '<img src=x onerror=alert(1)>' })], next: null } });
    await load();
    assert.equal(p.el.querySelector('img'), null);
    assert.equal(p.el.querySelector('h4').textContent, '<img src=x onerror=alert(1)>');
  });
});
