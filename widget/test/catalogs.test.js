import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';

import { direction, language, number, t, useLanguage } from '../src/i18n.js';
import { LANGUAGES, chooseLanguage } from '../src/language.js';

// Every word the widget shows comes from catalogs/<code>.json: a key missing from a catalog, a
// placeholder a translation drops or invents, a plural category a language lacks, or an English
// sentence left in the source fails here.
const SRC = new URL('../src/', import.meta.url);
const read = (name) => readFileSync(new URL(name, SRC), 'utf8');
const catalog = (code) => JSON.parse(read(`catalogs/${code}.json`));
const CATALOGS = Object.fromEntries(LANGUAGES.map((code) => [code, catalog(code)]));
const SOURCES = readdirSync(SRC).filter((f) => f.endsWith('.js'));
const placeholders = (text) => new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
const variants = (message) => (typeof message === 'string' ? [message] : Object.values(message));
const named = (message) => new Set(variants(message).flatMap((v) => [...placeholders(v)]));

// Source text without comments, so that a sentence in a comment is not taken for a visible one.
const code = (file) => read(file).replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

describe('catalogs', () => {
  test('one catalog per language, each with the keys of the English one', () => {
    assert.deepEqual(readdirSync(new URL('catalogs/', SRC)).sort(), LANGUAGES.map((c) => `${c}.json`).sort());
    const keys = Object.keys(CATALOGS.en).sort();
    assert.ok(keys.length > 200, `${keys.length} keys`);
    for (const code of LANGUAGES) assert.deepEqual(Object.keys(CATALOGS[code]).sort(), keys, code);
  });

  test('a translation keeps the placeholders of the English message, and invents none', () => {
    for (const [key, english] of Object.entries(CATALOGS.en)) {
      const wanted = named(english);
      for (const code of LANGUAGES) {
        const message = CATALOGS[code][key];
        assert.equal(typeof message, typeof english, `${code} ${key}: plural or not, as in English`);
        for (const text of variants(message)) {
          assert.ok(text.trim(), `${code} ${key}: not empty`);
          const has = placeholders(text);
          for (const name of has) assert.ok(wanted.has(name), `${code} ${key}: {${name}} is not English's`);
          // A plural form may spell its count out ("ملاحظتان", two notes); every other value stays.
          for (const name of wanted) if (name !== 'n') assert.ok(has.has(name), `${code} ${key}: {${name}} is missing`);
        }
        if (typeof english !== 'string') assert.ok(named(message).has('n') || code === 'ar', `${code} ${key}: {n}`);
      }
    }
  });

  test("a count's message has exactly the language's CLDR plural categories", () => {
    for (const code of LANGUAGES) {
      const categories = new Intl.PluralRules(code).resolvedOptions().pluralCategories.sort();
      for (const [key, message] of Object.entries(CATALOGS[code])) {
        if (typeof message !== 'string') assert.deepEqual(Object.keys(message).sort(), categories, `${code} ${key}`);
      }
    }
    assert.deepEqual(new Intl.PluralRules('ar').resolvedOptions().pluralCategories.sort(), ['few', 'many', 'one', 'other', 'two', 'zero']);
  });

  test('every key the source asks for is in the catalogs', () => {
    const asked = new Set();
    const prefixes = new Set();
    for (const file of SOURCES) {
      const text = code(file);
      for (const m of text.matchAll(/\bt\(\s*'([\w.]+)'/g)) asked.add(m[1]);
      for (const m of text.matchAll(/\bt\(\s*`([\w.]*)\$\{/g)) prefixes.add(m[1]);
      // Keys kept in tables (the palette, share states) are named as 'area.word' literals.
      for (const m of text.matchAll(/'((?:color|state)\.\w+)'/g)) asked.add(m[1]);
    }
    assert.ok(asked.size > 200, `${asked.size} keys asked for`);
    for (const key of asked) assert.ok(key in CATALOGS.en, `t('${key}') is not in the catalogs`);
    for (const prefix of prefixes) {
      assert.ok(Object.keys(CATALOGS.en).some((k) => k.startsWith(prefix) && k !== prefix), `no key starts with ${prefix}`);
    }
  });

  test('no English sentence or label is left in the source', () => {
    // Literals the reader never sees: developer console messages, CSS, HTTP, product names, key names.
    const NOT_SHOWN = /^(Trial Notes:|Bearer |Content-Type|Accept|Escape|Enter|Tab|KeyN|Alt\+N|N Alt\+N|TextQuoteSelector|TextPositionSelector|ApiError|POST|GET|PATCH|DELETE|Chromium|Chrome|Edge|Opera|Samsung Internet|Firefox|Safari|Android|iOS|iPadOS|ChromeOS|Windows|macOS|Linux|Segoe UI|Google |Microsoft )/;
    const found = [];
    for (const file of SOURCES) {
      const text = code(file).replace(/console\.\w+\(([^()]|\([^()]*\))*\)/g, ''); // developer messages stay English
      for (const m of text.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
        const literal = (m[1] ?? m[2] ?? m[3]).replace(/\$\{[^}]*\}/g, '#');
        // A capitalised phrase ("Add note", "Saved: …") or a capitalised word ("Save") is for a reader.
        const phrase = /^[A-Z][a-z’']+[ ,:][^{};]*[a-z]/.test(literal) || /^[A-Z][a-z]+$/.test(literal);
        if (phrase && !NOT_SHOWN.test(literal)) found.push(`${file}: ${literal}`);
      }
    }
    assert.deepEqual(found, []);
  });
});

describe('words', () => {
  test('counts by CLDR plural rules: English, Spanish, Arabic', async () => {
    await useLanguage('en');
    assert.deepEqual([0, 1, 2, 1204].map((n) => t('notes', { n })), ['0 notes', '1 note', '2 notes', '1,204 notes']);
    await useLanguage('es');
    assert.deepEqual([0, 1, 2, 1204, 1000000].map((n) => t('notes', { n })), ['0 notas', '1 nota', '2 notas', '1204 notas', '1.000.000 de notas']);
    assert.equal(t('tryAgainIn', { n: 1 }), 'Inténtalo de nuevo en 1 segundo.');
    await useLanguage('ar');
    assert.equal(language(), 'ar');
    assert.equal(direction(), 'rtl');
    const ar = (n) => t('notes', { n });
    assert.equal(ar(0), 'لا ملاحظات'); // zero
    assert.equal(ar(1), 'ملاحظة واحدة'); // one
    assert.equal(ar(2), 'ملاحظتان'); // two
    assert.equal(ar(3), `${number(3)} ملاحظات`); // few: 3-10
    assert.equal(ar(11), `${number(11)} ملاحظة`); // many: 11-99
    assert.equal(ar(100), `${number(100)} ملاحظة`); // other
    assert.equal(t('days', { n: 7 }), `${number(7)} أيام`);
    assert.equal(t('days', { n: 30 }), `${number(30)} يومًا`);
    await useLanguage('en');
    assert.equal(direction(), 'ltr');
  });

  test('placeholders are filled by name; numbers are written the language’s way', async () => {
    await useLanguage('es');
    assert.equal(t('viewsOf', { views: 1204, n: 5000 }), '1204 de 5000 visitas');
    assert.equal(t('removeNamed', { name: 'Firefox en Linux' }), 'Quitar Firefox en Linux');
    await useLanguage('en');
    assert.equal(t('viewsOf', { views: 1204, n: 5000 }), '1,204 of 5,000 views');
    assert.equal(t('goToNamed', { words: '{n} stays as typed' }), 'Go to highlight: {n} stays as typed');
  });

  test('an unknown language gets English', async () => {
    await useLanguage('fr');
    assert.equal(language(), 'en');
    assert.equal(t('myNotes'), 'My notes');
  });
});

describe('choosing the language', () => {
  test('data-lang first, then the page’s lang, then the browser’s languages; else English', () => {
    assert.equal(chooseLanguage('es', 'ar', ['en']), 'es');
    assert.equal(chooseLanguage(undefined, 'ar-EG', ['es']), 'ar');
    assert.equal(chooseLanguage('', 'es_MX', []), 'es');
    assert.equal(chooseLanguage(null, '', ['fr-FR', 'es-419', 'ar']), 'es');
    assert.equal(chooseLanguage(undefined, undefined, ['de']), 'en');
    // A page that says it is in French gets English, not the browser's Spanish.
    assert.equal(chooseLanguage(undefined, 'fr', ['es']), 'en');
    assert.equal(chooseLanguage(' AR ', 'en', []), 'ar');
  });
});
