import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { buildWidget } from '../build.mjs';

// The same build as `npm run build`, kept in memory so the test needs no
// earlier build step and leaves the served files alone.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const built = await buildWidget({ write: false });
const contents = (path) => built.files.find((f) => f.path === path).contents;
const gzipped = (paths) => paths.reduce((sum, path) => sum + gzipSync(contents(path)).length, 0);

test('npm run build is this build', () => {
  assert.equal(pkg.scripts.build, 'node build.mjs');
});

// The first draw waits for the loader, the modules it imports and the language's first-draw words:
// all of them count, with the largest language's part (Arabic). Issue 18's budget is 12 KB: 12,288 B.
// Measured 12,245 B (11,513 of code, 732 of Arabic words; 16,660 B before the panel, the note
// actions and their routes, "Go to highlight", the note-body helpers, the approximate matcher,
// hit-testing and the "Add note" rules became on-demand modules and their sentences moved to the
// catalogs' rest parts). `make bench` reports the same figure against the same budget (`widget_gzip_bytes`,
// bench/run.py).
const BUDGET = 12288;
const firstLoadSize = () => {
  const parts = Object.values(built.catalogParts);
  assert.equal(parts.length, 3, 'a first-draw part per language');
  const words = Math.max(...parts.map((p) => gzipped([p.first])));
  return { size: gzipped(built.firstLoad) + words, words };
};

test(`the first load (loader, modules, the largest first-draw catalog) is at most ${BUDGET} B gzipped`, () => {
  const { size, words } = firstLoadSize();
  assert.ok(size <= BUDGET, `the first load is ${size} bytes gzipped (${words} of them words)`);
});


test("the words are not in the first load: each language's catalog is a module of its own", () => {
  const firstLoad = built.firstLoad.map((p) => Buffer.from(contents(p)).toString('utf8')).join('\n');
  for (const code of ['en', 'es', 'ar']) {
    assert.ok(built.onDemand.some((p) => basename(p).startsWith(`${code}-`)), `a ${code} catalog is built`);
  }
  for (const words of ['My notes', 'Mis notas', 'ملاحظاتي', 'Add a note to this paragraph']) {
    assert.ok(!firstLoad.includes(words), `"${words}" is not in the first load`);
  }
  // The loader names each first-draw part's hashed file, to fetch the chosen one beside the app; the
  // rest is i18n.js's to fetch (withWords).
  const loader = Buffer.from(contents(built.firstLoad[0])).toString('utf8');
  for (const { first, rest } of Object.values(built.catalogParts)) {
    assert.ok(built.onDemand.includes(first) && built.onDemand.includes(rest), 'both parts load on demand');
    assert.ok(loader.includes(basename(first)), `the loader fetches ${basename(first)}`);
    assert.ok(!loader.includes(basename(rest)), `the loader leaves ${basename(rest)}`);
  }
});

test('the dialogs are not in the first load: they are imported when one first opens', () => {
  const firstLoad = built.firstLoad.map((p) => Buffer.from(contents(p)).toString('utf8')).join('\n');
  assert.ok(built.onDemand.some((p) => basename(p).startsWith('dialogs-')), 'a dialogs module is built');
  assert.ok(!firstLoad.includes('Link expires after'), 'the share dialog is not in the first load');
  assert.ok(!firstLoad.includes('Yes, delete'), 'the note dialog is not in the first load');
});

test('the recovery key, devices and QR codes are not in the first load: they are imported on demand', () => {
  const firstLoad = built.firstLoad.map((p) => Buffer.from(contents(p)).toString('utf8')).join('\n');
  for (const stem of ['recovery-', 'devices-']) {
    assert.ok(built.onDemand.some((p) => basename(p).startsWith(stem)), `a ${stem} module is built`);
  }
  assert.ok(!firstLoad.includes('Print recovery sheet'), 'the recovery dialog is not in the first load');
  assert.ok(!firstLoad.includes('Link this browser'), 'the device dialogs are not in the first load');
  assert.ok(!firstLoad.includes('getModuleCount'), 'the QR encoder is not in the first load');
});

test('no part uses eval, new Function or innerHTML', () => {
  for (const file of built.files) {
    const text = Buffer.from(file.contents).toString('utf8');
    // Strict host CSPs forbid these; the widget never needs them.
    assert.ok(!/\beval\(|new Function\(/.test(text), `no eval in ${basename(file.path)}`);
    assert.ok(!/\.innerHTML\s*=/.test(text), `no innerHTML assignment in ${basename(file.path)}`);
  }
});
