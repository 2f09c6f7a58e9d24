import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { JSDOM } from 'jsdom';

import { ApiError } from '../src/api.js';
import { t, useLanguage, withWords } from '../src/i18n.js';
import { noteActions } from '../src/note-actions.js';
import { createTokenStore } from '../src/token-store.js';
import { storageWindow } from '../test-support/fakes.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // note-actions.js is on demand: the whole catalog

const TEXT = 'Adults with cirrhosis of the liver may join.';


/**
 * The note actions over fakes: `answer(method, path, body, token)` is the service; the editor's
 * Save is `widget.save(edit)` (what dialogs.js calls), a note on the words [start, end) of TEXT.
 */
function widget(answer, { token = 'OLD-TOKEN', start = 12, end = 21, kind = 'token' } = {}) {
  const { window } = new JSDOM(`<p data-notes-root>${TEXT}</p>`);
  const tokens = createTokenStore(/** @type {any} */ (storageWindow()), 'https://notes.test', kind);
  if (token) tokens.store(token);
  const calls = [];
  const held = []; // the notes this page shows
  const call = async (method, path, body, bearer = tokens.read()) => {
    calls.push({ method, path, body, bearer });
    return answer(method, path, body, bearer);
  };
  const api = {
    call,
    listNotes: async (trial, bearer) => ({ notes: await call('GET', `/api/v1/trials/${trial}/notes`, undefined, bearer ?? tokens.read()) }),
    all: async () => [],
  };
  const editor = { save: null, options: null };
  const ui = {
    openEditor: async (options, save) => ((editor.save = save), (editor.options = options), true),
    hideAdder() {},
    announce() {},
    showError() {},
  };
  const selector = [{ type: 'TextQuoteSelector', exact: TEXT.slice(start, end), prefix: '', suffix: '' }];
  const actions = noteActions(/** @type {any} */ ({
    doc: window.document,
    view: window,
    trial: 'NCT00000001',
    apiBase: 'https://notes.test',
    api,
    ApiError,
    notes: { index: () => ({ text: TEXT }), add: (n) => held.push(n), find: (id) => held.find((n) => n.id === id) },
    quoteOf: () => '',
    readable: () => true,
    ui,
    highlighter: {},
    describeQuote: () => selector,
    t,
    getRoot: () => window.document.querySelector('p'),
    tokens: () => tokens,
    signedIn: () => Promise.resolve(),
    selection: () => ({ offsets: () => ({ start, end }) }),
    unavailable: () => '',
    redraw() {},
    toView: (r) => r,
    setNotes() {},
    offerKey() {},
  }));
  actions.addFromSelection();
  return { actions, tokens, calls, held, editor, save: (edit) => editor.save(edit), ready: () => new Promise((r) => setTimeout(r)) };
}

const gone = () => {
  throw new ApiError(401, 'Unauthorized', 'Unknown token.');
};

describe('a save refused with a 401 (this device was removed, or its token revoked)', () => {
  test("an account's notebook is never replaced by a new one: the save goes with the account's token", async () => {
    // The call asks the host for its grant again (accounts.js `renewing`, not in this fake api); a
    // new notebook would be kept where the account's token is, as if it were the account's.
    const w = widget((method, path) => (path === '/api/v1/notebooks' ? { token: 'NEW-TOKEN' } : gone()), { kind: 'account' });
    await w.ready();
    assert.equal(w.editor.options.account, true);
    w.tokens.reject();
    for (const fresh of [false, true]) {
      await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow', fresh }), (err) => err.status === 401);
    }
    assert.deepEqual(w.calls.filter((c) => c.path === '/api/v1/notebooks'), []);
    assert.deepEqual(w.calls.map((c) => c.bearer), ['OLD-TOKEN', 'OLD-TOKEN']);
    assert.equal(w.tokens.read(), 'OLD-TOKEN');
    // This browser removed from the account here (its token forgotten): still no notebook of its own
    // making; signing in again (the next visit's grant) brings the account's back.
    const removed = widget(() => ({ token: 'NEW-TOKEN' }), { kind: 'account', token: null });
    await removed.ready();
    await assert.rejects(removed.save({ text: 'Ask Dr. Lee', color: 'yellow', fresh: true }), (err) =>
      err.status === 401 && err.message === t('accountAccessRemoved'));
    assert.deepEqual(removed.calls, []);
    assert.equal(removed.tokens.read(), null);
    // Nor another notebook's recovery key, pasted where the account's token is kept.
    await assert.rejects(w.actions.useKey('ANOTHER-NOTEBOOKS-KEY'), (err) => err.message === t('accountAccessRemoved'));
    assert.equal(w.tokens.read(), 'OLD-TOKEN');
    assert.ok(!w.calls.some((c) => c.bearer === 'ANOTHER-NOTEBOOKS-KEY'));
  });

  test('Save again makes no new notebook: the note waits for the reader to open theirs again', async () => {
    const w = widget((method, path) => (path === '/api/v1/notebooks' ? { token: 'NEW-TOKEN' } : gone()));
    await w.ready();
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }), (err) => err.status === 401);
    w.tokens.reject(); // as app.js's explain() does with every 401
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }), (err) => err.status === 401);
    assert.deepEqual(w.calls.filter((c) => c.path === '/api/v1/notebooks'), []);
    assert.equal(w.tokens.read(), 'OLD-TOKEN');
    assert.deepEqual(w.held, []);
  });

  test('"Save in a new notebook" is the reader\'s choice, and then the note is saved there', async () => {
    const w = widget((method, path, body, bearer) => {
      if (path === '/api/v1/notebooks') return { token: 'NEW-TOKEN' };
      if (bearer !== 'NEW-TOKEN') gone();
      return { id: 'n1', color: body.color, body: body.body, created_at: '2026-01-01T00:00:00Z', target: body.target };
    });
    await w.ready();
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }));
    w.tokens.reject();
    await w.save({ text: 'Ask Dr. Lee', color: 'yellow', fresh: true });
    assert.equal(w.tokens.read(), 'NEW-TOKEN');
    assert.equal(w.held.length, 1);
  });
});

/**
 * The service's notes on the trial, as the widget's calls see them: POST stores a note (with the
 * id the widget chose, if it sent one; a second POST of a held id answers the note as stored),
 * GET lists them, PATCH changes one. `lose(n)`: the answer of the n-th POST is lost after it was stored.
 */
function service(stored, lose = (/** @type {number} */ n) => n === 1) {
  let posts = 0;
  let made = 0;
  return (method, path, body) => {
    if (method === 'GET') return stored.map((n) => ({ ...n }));
    if (method === 'PATCH') {
      const note = stored.find((n) => path.endsWith(`/${n.id}`));
      Object.assign(note, body);
      return { ...note };
    }
    posts += 1;
    const held = body.idempotency_key && stored.find((n) => n.key === body.idempotency_key);
    if (held) return { ...held };
    const note = { id: `made${++made}`, key: body.idempotency_key, body: body.body, color: body.color, target: body.target, created_at: '2026-01-02T00:00:00Z' };
    stored.push(note);
    if (lose(posts)) throw new ApiError(0, '', t('unreachable'));
    return { ...note };
  };
}

describe('"Save in a new notebook" after a lost answer, then a 401', () => {
  test('sends a new id: the one of the lost save may be held by the notebook left behind', async () => {
    let posts = 0;
    const w = widget((method, path, body, bearer) => {
      if (path === '/api/v1/notebooks') return { token: 'NEW-TOKEN' };
      if (bearer !== 'NEW-TOKEN') {
        posts += 1;
        if (posts === 1) throw new ApiError(0, '', t('unreachable')); // stored, its answer lost
        gone(); // then this device's access was removed
      }
      return { id: body.idempotency_key, color: body.color, body: body.body, created_at: '2026-01-01T00:00:00Z', target: body.target };
    });
    await w.ready();
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }), (err) => err.status === 0);
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }), (err) => err.status === 401);
    w.tokens.reject();
    await w.save({ text: 'Ask Dr. Lee', color: 'yellow', fresh: true });
    const sent = w.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/notes')).map((c) => c.body.idempotency_key);
    assert.equal(sent.length, 3);
    assert.equal(sent[0], sent[1]); // the retry in the old notebook: the same note
    assert.notEqual(sent[2], sent[0]); // in the new notebook: a note of its own
    assert.equal(w.held.length, 1);
  });
});

describe('Save again after a lost answer', () => {
  test("takes only the note this save stored, never another note on the same passage", async () => {
    // Written on the phone on the same words after this page loaded: the retry must leave it alone.
    const phone = {
      id: 'phone1', body: '<p>From the phone</p>', color: 'green', created_at: '2026-01-01T00:00:00Z',
      target: { selector: [{ type: 'TextQuoteSelector', exact: TEXT.slice(12, 21), prefix: '', suffix: '' }] },
    };
    const stored = [structuredClone(phone)];
    const w = widget(service(stored));
    await w.ready();
    await assert.rejects(w.save({ text: 'Ask Dr. Lee', color: 'yellow' }), (err) => err.status === 0);
    await w.save({ text: 'Ask Dr. Lee at the visit', color: 'yellow' });
    assert.deepEqual(stored.find((n) => n.id === 'phone1'), phone);
    assert.equal(stored.length, 2); // the phone's and this one: not stored twice
    const mine = stored.find((n) => n.id !== 'phone1');
    assert.equal(mine.body, '<p>Ask Dr. Lee at the visit</p>');
    assert.deepEqual(w.held.map((n) => n.id), [mine.id]);
    assert.ok(!w.calls.some((c) => c.method === 'PATCH' && c.path.endsWith('/phone1')));
  });
});
