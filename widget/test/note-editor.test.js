// The note editor on jsdom after a save refused with a 401 (this browser's access to its notebook
// removed): the typed text stays, the ways back are offered, and "Save in a new notebook" only
// for a new note (an edited note has no new notebook to go to).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ApiError } from '../src/api.js';
import { noteEditor } from '../src/dialogs.js';
import { useDocument } from '../src/dom.js';
import { dialogWindow } from '../test-support/fakes.js';
import { t, useLanguage, withWords } from '../src/i18n.js';

await useLanguage('en').then(() => withWords(Promise.resolve())); // dialogs.js is on demand: the whole catalog

const window = dialogWindow();
const { document } = window;
useDocument(document);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function refusedSave(options) {
  const editor = noteEditor({ explain: (err) => err.message, fallback: () => null, more: () => {} });
  document.body.replaceChildren(editor.el);
  editor.open(options, async () => {
    throw new ApiError(401, '', 'access removed');
  }, null);
  editor.el.querySelector('textarea').value = 'Ask Dr. Lee about this';
  editor.el.querySelector('form').requestSubmit();
  await tick();
  const shown = (name) =>
    [...editor.el.querySelectorAll('button')].some((b) => b.textContent === name && !b.closest('[hidden]'));
  return { editor, shown };
}

test('a new note refused with a 401 offers the ways back and a new notebook, the text kept', async () => {
  const { editor, shown } = await refusedSave({ title: t('newNote'), quote: 'cirrhosis' });
  assert.ok(shown(t('useLinkCode')) && shown(t('useAnotherKey')) && shown(t('saveNewNotebook')));
  assert.equal(editor.el.querySelector('textarea').value, 'Ask Dr. Lee about this');
  assert.ok(editor.el.hasAttribute('open'));
});

test('an edited note refused with a 401 offers the ways back, not a new notebook', async () => {
  const { editor, shown } = await refusedSave({ title: t('editNote'), quote: 'cirrhosis', text: 'old', existing: true });
  assert.ok(shown(t('useLinkCode')) && shown(t('useAnotherKey')));
  assert.ok(!shown(t('saveNewNotebook')));
  assert.ok(!editor.el.textContent.includes(t('noteKept')) && editor.el.textContent.includes(t('noteKeptEdit')));
});

test("an account's note refused with a 401 says to sign in again: no link code, key or new notebook", async () => {
  // They would put another notebook's token where the account's is kept (accounts.js).
  for (const existing of [false, true]) {
    const { editor, shown } = await refusedSave({ title: t('newNote'), quote: 'cirrhosis', existing, account: true });
    assert.ok(!shown(t('useLinkCode')) && !shown(t('useAnotherKey')) && !shown(t('saveNewNotebook')));
    assert.ok(editor.el.textContent.includes(t('noteKeptAccount')));
    assert.equal(editor.el.querySelector('textarea').value, 'Ask Dr. Lee about this');
  }
});

