import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';

import { buildWidget } from '../build.mjs';
import { direction, language, number, t, useLanguage, withWords } from '../src/i18n.js';
import { LANGUAGES, chooseLanguage } from '../src/language.js';

// Every word the widget shows comes from the catalogs: catalogs/<code>.first.json (the words the
// first draw needs) and catalogs/<code>.json (the rest), checked here as one. A key missing from a
// catalog, a placeholder a translation drops or invents, a plural category a language lacks, an
// English sentence left in the source, or a first-load module's word outside the first part fails here.
const SRC = new URL('../src/', import.meta.url);
const read = (name) => readFileSync(new URL(name, SRC), 'utf8');
const part = (name) => JSON.parse(read(`catalogs/${name}.json`));
const FIRST = Object.fromEntries(LANGUAGES.map((code) => [code, part(`${code}.first`)]));
const REST = Object.fromEntries(LANGUAGES.map((code) => [code, part(code)]));
const CATALOGS = Object.fromEntries(LANGUAGES.map((code) => [code, { ...FIRST[code], ...REST[code] }]));
const SOURCES = readdirSync(SRC).filter((f) => f.endsWith('.js'));
// "{name}", or "{name:countKey}": name's count in the words of the count message countKey.
const PLACEHOLDER = /\{(\w+)(?::([\w.]+))?\}/g;
const placeholders = (text) => new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]));
const counted = (text) => [...text.matchAll(PLACEHOLDER)].filter((m) => m[2]).map((m) => ({ name: m[1], key: m[2] }));
const variants = (message) => (typeof message === 'string' ? [message] : Object.values(message));
const named = (message) => new Set(variants(message).flatMap((v) => [...placeholders(v)]));

// Source text without comments, so that a sentence in a comment is not taken for a visible one.
const code = (file) => read(file).replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

/** The keys a source file asks for: `asked` by name, `prefixes` of keys built from a value. */
function keysOf(files) {
  const asked = new Set();
  const prefixes = new Set();
  for (const file of files) {
    const text = code(file);
    for (const m of text.matchAll(/\bt\(\s*'([\w.]+)'/g)) asked.add(m[1]);
    for (const m of text.matchAll(/\bt\(\s*`([\w.]*)\$\{/g)) prefixes.add(m[1]);
    // Keys kept in tables (the palette, share states) are named as 'area.word' literals.
    for (const m of text.matchAll(/'((?:color|state)\.\w+)'/g)) asked.add(m[1]);
  }
  return { asked, prefixes };
}

describe('catalogs', () => {
  test('two parts per language, together with the keys of the English catalog, no key in both', () => {
    const files = LANGUAGES.flatMap((c) => [`${c}.first.json`, `${c}.json`]).sort();
    assert.deepEqual(readdirSync(new URL('catalogs/', SRC)).sort(), files);
    const keys = Object.keys(CATALOGS.en).sort();
    assert.ok(keys.length > 200, `${keys.length} keys`);
    for (const code of LANGUAGES) {
      assert.deepEqual(Object.keys(CATALOGS[code]).sort(), keys, code);
      assert.deepEqual(Object.keys(FIRST[code]).sort(), Object.keys(FIRST.en).sort(), `${code}: the first part's keys`);
      for (const key of Object.keys(FIRST[code])) assert.ok(!(key in REST[code]), `${code} ${key}: in one part only`);
    }
  });

  test("every word a first-load module asks for is in the first part: the first draw waits for no more", async () => {
    const { firstLoadSources } = await buildWidget({ write: false });
    const files = firstLoadSources.filter((p) => !p.includes('node_modules') && /(^|\/)src\/[\w-]+\.js$/.test(p)).map((p) => p.replace(/^.*src\//, ''));
    assert.ok(files.includes('app.js') && files.includes('ui.js'), files.join(' '));
    const { asked, prefixes } = keysOf(files);
    for (const key of asked) assert.ok(key in FIRST.en, `t('${key}') is in the first load, not in the first-draw part`);
    for (const prefix of prefixes) {
      const all = Object.keys(CATALOGS.en).filter((k) => k.startsWith(prefix));
      for (const key of all) assert.ok(key in FIRST.en, `t(\`${prefix}…\`) is in the first load, ${key} is not in the first-draw part`);
    }
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

  test('a second count in a sentence takes its words from a count message in reach', () => {
    const found = [];
    for (const code of LANGUAGES) {
      for (const [key, message] of Object.entries(CATALOGS[code])) {
        for (const { name, key: countKey } of variants(message).flatMap(counted)) {
          found.push(`${code} ${key} ${name}:${countKey}`);
          const words = CATALOGS[code][countKey];
          assert.equal(typeof words, 'object', `${code} ${key}: {${name}:${countKey}} names a count message`);
          // Its own count is its only value (nor does it count another: no sentence inside a sentence's word).
          for (const text of variants(words)) assert.deepEqual([...placeholders(text)].filter((p) => p !== 'n'), [], `${code} ${countKey}`);
          assert.deepEqual(variants(words).flatMap(counted), [], `${code} ${countKey}`);
          // Loaded when the sentence is: in the first part, or in the same part as the sentence.
          assert.ok(countKey in FIRST[code] || !(key in FIRST[code]), `${code} ${key}: ${countKey} is not in the first part`);
        }
      }
    }
    assert.ok(found.some((f) => f.startsWith('ar repliesLabelNew fresh:')), found.join(' '));
    // A count English gives its own words keeps them in every form of every language (a bare
    // "{fresh}" would drop the agreement silently).
    for (const [key, english] of Object.entries(CATALOGS.en)) {
      const wanted = new Set(variants(english).flatMap(counted).map((c) => `{${c.name}:${c.key}}`));
      for (const code of LANGUAGES) {
        for (const text of variants(CATALOGS[code][key])) for (const ref of wanted) assert.ok(text.includes(ref), `${code} ${key}: ${ref}`);
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
    const { asked, prefixes } = keysOf(SOURCES);
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

describe('loading the words', () => {
  test('useLanguage brings the first-draw words; withWords brings the rest before its module', async () => {
    await useLanguage('es');
    assert.equal(t('myNotes'), 'Mis notas');
    assert.equal(t('revoke'), 'revoke', 'the rest is not fetched with the first draw');
    const order = [];
    const module = withWords(Promise.resolve('dialogs').then((m) => (order.push('module'), m)));
    assert.equal(t('revoke'), 'revoke', 'not before it arrives');
    assert.equal(await module, 'dialogs');
    assert.equal(t('revoke'), REST.es.revoke);
    assert.equal(t('myNotes'), 'Mis notas', 'the first part stays');
    assert.deepEqual(order, ['module']);
  });

  test('another language starts again from its first part', async () => {
    await useLanguage('es');
    await withWords(Promise.resolve());
    await useLanguage('ar');
    assert.equal(t('myNotes'), FIRST.ar.myNotes);
    assert.equal(t('revoke'), 'revoke', "Spanish words don't stay");
    await withWords(Promise.resolve());
    assert.equal(t('revoke'), REST.ar.revoke);
  });

  test("a module that fails to load fails withWords' promise; the words still come", async () => {
    await useLanguage('en');
    await assert.rejects(withWords(Promise.reject(new Error('offline'))), /offline/);
    await withWords(Promise.resolve());
    assert.equal(t('revoke'), REST.en.revoke);
  });
});

/** Speak `code` with its whole catalog, as an on-demand module does. */
async function speak(code) {
  await useLanguage(code);
  await withWords(Promise.resolve());
}

describe('words', () => {
  test('counts by CLDR plural rules: English, Spanish, Arabic', async () => {
    await speak('en');
    assert.deepEqual([0, 1, 2, 1204].map((n) => t('notes', { n })), ['0 notes', '1 note', '2 notes', '1,204 notes']);
    await speak('es');
    assert.deepEqual([0, 1, 2, 1204, 1000000].map((n) => t('notes', { n })), ['0 notas', '1 nota', '2 notas', '1204 notas', '1.000.000 de notas']);
    assert.equal(t('tryAgainIn', { n: 1 }), 'Inténtalo de nuevo en 1 segundo.');
    await speak('ar');
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
    await speak('en');
    assert.equal(direction(), 'ltr');
  });

  test('two counts in one sentence: each picks its own words', async () => {
    const label = (n, fresh) => t('repliesLabelNew', { n, fresh });
    await speak('en');
    assert.equal(label(2, 1), 'Replies: 2 replies, 1 new');
    assert.equal(label(1, 1), 'Replies: 1 reply, 1 new');
    await speak('es');
    assert.equal(label(5, 1), 'Respuestas: 5 respuestas, 1 nueva'); // "nueva" agrees with 1, not 5
    assert.equal(label(1, 1), 'Respuestas: 1 respuesta, 1 nueva');
    assert.equal(label(12, 3), 'Respuestas: 12 respuestas, 3 nuevas');
    await speak('ar');
    // Replies by the count of replies, "new" by the count of new ones: one, two, few, many, other.
    assert.equal(label(5, 1), `الردود: ${number(5)} ردود، واحد جديد`);
    assert.equal(label(5, 2), `الردود: ${number(5)} ردود، اثنان جديدان`);
    assert.equal(label(2, 2), 'الردود: ردّان، اثنان جديدان');
    assert.equal(label(40, 3), `الردود: ${number(40)} ردًا، ${number(3)} جديدة`);
    assert.equal(label(200, 11), `الردود: ${number(200)} ردّ، ${number(11)} جديدًا`);
    assert.equal(label(1, 1), 'الردود: ردّ واحد، واحد جديد');
    assert.equal(label(300, 100), `الردود: ${number(300)} ردّ، ${number(100)} جديد`);
    // The other sentences with two numbers: the noun goes with the count beside it, the other
    // number stands alone ("{views} of {n} views"), so one count choosing the form is right.
    assert.equal(t('viewsOf', { views: 3, n: 2 }), `${number(3)} من مشاهدتين`);
    assert.equal(t('viewsOf', { views: 1, n: 11 }), `${number(1)} من ${number(11)} مشاهدة`);
    assert.equal(t('notesMatch', { n: 2, total: 40 }), `تطابق بحثك ملاحظتان من أصل ${number(40)}.`);
  });

  test('placeholders are filled by name; numbers are written the language’s way', async () => {
    await speak('es');
    assert.equal(t('viewsOf', { views: 1204, n: 5000 }), '1204 de 5000 visitas');
    assert.equal(t('removeNamed', { name: 'Firefox en Linux' }), 'Quitar Firefox en Linux');
    await speak('en');
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
