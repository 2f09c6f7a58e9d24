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

// 15,288 B before the catalogs (issue 19) and the selection observer moved out, 14,753 B once the
// dialogs' body rendering did (note-render.js); issue 18 asks for 12 KB.
test('the first load (the loader and the modules it imports) is at most 14,760 B gzipped', () => {
  const size = gzipped(built.firstLoad);
  assert.ok(size <= 14760, `the first load is ${size} bytes gzipped`);
});

test("the words are not in the first load: each language's catalog is a module of its own", () => {
  const firstLoad = built.firstLoad.map((p) => Buffer.from(contents(p)).toString('utf8')).join('\n');
  for (const code of ['en', 'es', 'ar']) {
    assert.ok(built.onDemand.some((p) => basename(p).startsWith(`${code}-`)), `a ${code} catalog is built`);
  }
  for (const words of ['My notes', 'Mis notas', 'ملاحظاتي', 'Add a note to this paragraph']) {
    assert.ok(!firstLoad.includes(words), `"${words}" is not in the first load`);
  }
  // The loader names each catalog's hashed file, to fetch the chosen one beside the app.
  const loader = Buffer.from(contents(built.firstLoad[0])).toString('utf8');
  for (const p of built.onDemand.filter((p) => /\/(en|es|ar)-\w+\.js$/.test(p))) assert.ok(loader.includes(basename(p)));
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
