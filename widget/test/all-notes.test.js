import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { fold, groupByTrial, matches } from '../src/all-notes.js';
import { MAX_PAGES, NOTE_FRAGMENT, noteAddress, readPages, rememberPage } from '../src/layout.js';

const trial = (id, n) => ({ id, title: `Title ${id}`, note_count: n, last_edited: '2026-12-01T00:00:00Z' });
const note = (id, trialId) => ({ id, trial_id: trialId, color: 'yellow', body: '', created_at: '2026-12-01T00:00:00Z' });

describe('groupByTrial', () => {
  test('notes go under their trial, in the trials order (the last edited first)', () => {
    const groups = groupByTrial([trial('NCT2', 1), trial('NCT1', 2)], [note('a', 'NCT1'), note('b', 'NCT1'), note('c', 'NCT2')]);
    assert.deepEqual(
      groups.map((g) => [g.trial.id, g.notes.map((n) => n.id)]),
      [['NCT2', ['c']], ['NCT1', ['a', 'b']]],
    );
  });

  test('a trial listed twice (its newest note deleted during the walk) is one group, counted as last listed', () => {
    const groups = groupByTrial([trial('NCT1', 3), trial('NCT2', 1), trial('NCT1', 2)], [note('a', 'NCT1'), note('b', 'NCT2')]);
    assert.deepEqual(groups.map((g) => [g.trial.id, g.trial.note_count]), [['NCT1', 2], ['NCT2', 1]]);
  });

  test('a note of a trial the list does not hold gets its own group; a trial without notes none', () => {
    const groups = groupByTrial([trial('NCT1', 1), trial('NCT9', 1)], [note('a', 'NCT1'), note('z', 'NCT3')]);
    assert.deepEqual(groups.map((g) => g.trial.id), ['NCT1', 'NCT3']);
    assert.equal(groups[1].trial.title, 'NCT3');
  });
});

describe('searching my notes', () => {
  test('case, accents and white space do not matter', () => {
    assert.equal(fold('  Ça  VA\nbien '), 'ca va bien');
    assert.equal(matches(fold('Ask the liver doctor'), 'LÏVER'), true);
  });

  test('every word of the query must occur; an empty query matches all', () => {
    const text = fold('Child-Pugh Class B cirrhosis: ask the doctor');
    assert.equal(matches(text, 'doctor cirrhosis'), true);
    assert.equal(matches(text, 'doctor nurse'), false);
    assert.equal(matches(text, '   '), true);
  });
});

/** A Storage held in a Map. */
const memoryStorage = () => {
  const map = new Map();
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
};

describe('note links', () => {
  const api = 'https://notes.example';

  test("a trial read on this site links back to that page; else the service's trial page", () => {
    const storage = memoryStorage();
    rememberPage(storage, api, 'NCT1', '/study?id=NCT1');
    const pages = readPages(storage, api);
    assert.equal(noteAddress('NCT1', 'abc', pages, 'https://host.example', api), 'https://host.example/study?id=NCT1#trial-note=abc');
    assert.equal(noteAddress('NCT2', 'def', pages, 'https://host.example', api), `${api}/trials/NCT2#trial-note=def`);
    assert.equal(NOTE_FRAGMENT.exec('#trial-note=abc')?.[1], 'abc');
    assert.equal(NOTE_FRAGMENT.exec('#trial-note=a"b'), null);
  });

  test('the pages remembered are bounded, the latest kept', () => {
    const storage = memoryStorage();
    for (let i = 0; i < MAX_PAGES + 5; i += 1) rememberPage(storage, api, `NCT${i}`, `/t/${i}`);
    const pages = readPages(storage, api);
    assert.equal(Object.keys(pages).length, MAX_PAGES);
    assert.equal(pages.NCT0, undefined);
    assert.equal(pages[`NCT${MAX_PAGES + 4}`], `/t/${MAX_PAGES + 4}`);
  });

  test('a stored value that is not ours reads as none; blocked storage is no error', () => {
    const storage = memoryStorage();
    storage.setItem(`trial-notes:pages:${api}`, '[1,2]');
    assert.deepEqual(readPages(storage, api), {});
    storage.setItem(`trial-notes:pages:${api}`, '{nope');
    assert.deepEqual(readPages(storage, api), {});
    assert.deepEqual(readPages(null, api), {});
    const blocked = { getItem: () => null, setItem: () => { throw new Error('quota'); } };
    rememberPage(blocked, api, 'NCT1', '/x');
  });

  test('a page path that is not a path (an absolute URL someone stored) is not linked to', () => {
    assert.equal(noteAddress('NCT1', 'a', { NCT1: 'https://evil.example/' }, 'https://host.example', api), `${api}/trials/NCT1#trial-note=a`);
  });
});
