// @ts-check
// The widget's words: each language's catalog in two parts. catalogs/<code>.first.json holds the
// words the first load's modules use (the launcher, the panel, highlights' colours, notices at load):
// it is fetched before anything is drawn (the loader starts that fetch beside the app's, main.js).
// catalogs/<code>.json holds the rest: fetched once, with the first on-demand module that has words
// (`withWords`), so the first draw waits for no sentence it doesn't show, and no sentence is in the
// first load's script (test/size.test.js). A message names its placeholders ("{name}"); a count's
// message maps CLDR plural categories (Intl.PluralRules: Arabic has zero, one, two, few, many and
// other) to sentences, and is chosen by its `n`. A second count in the same sentence takes its own
// words from a count message of the catalog, "{fresh:newCount}": `newCount` chosen by and filled with
// `fresh` (in "Replies: 5 replies, 1 new" Arabic's "new" agrees with 1, not with 5), the sentence
// around it still the translator's. Numbers and dates are Intl's, in the language.
// No sentence is ever built from pieces: word order differs between languages.
import { LANGUAGES, RTL } from './language.js';

/**
 * @typedef {import('./language.js').Language} Language
 * @typedef {string | Readonly<Record<string, string>>} Message  a plural message: category -> text
 * @typedef {Readonly<Record<string, Message>>} Catalog
 * @typedef {Readonly<Record<string, string | number>>} Vars  numbers are formatted for the language
 */

/** @typedef {() => Promise<{default: Catalog}>} Part */
/** @type {Record<Language, [first: Part, rest: Part]>} */
const CATALOGS = {
  en: [() => import('./catalogs/en.first.json', { with: { type: 'json' } }), () => import('./catalogs/en.json', { with: { type: 'json' } })],
  es: [() => import('./catalogs/es.first.json', { with: { type: 'json' } }), () => import('./catalogs/es.json', { with: { type: 'json' } })],
  ar: [() => import('./catalogs/ar.first.json', { with: { type: 'json' } }), () => import('./catalogs/ar.json', { with: { type: 'json' } })],
};

/** @type {Language} */
let lang = 'en';
/** @type {Catalog} */
let catalog = {};
let plurals = new Intl.PluralRules(lang);
let numbers = new Intl.NumberFormat(lang);
/** @type {Promise<void> | null} the rest of the catalog, once asked for */
let rest = null;

/**
 * Fetch the first-draw part of `code`'s catalog and speak it from now on (an unknown code: English).
 * @param {string} code
 */
export async function useLanguage(code) {
  const chosen = LANGUAGES.find((l) => l === code) ?? 'en';
  catalog = (await CATALOGS[chosen][0]()).default;
  rest = null;
  lang = chosen;
  plurals = new Intl.PluralRules(lang);
  numbers = new Intl.NumberFormat(lang);
}

/**
 * `module` once the rest of the catalog is here too: an on-demand module draws only with its words.
 * The rest is fetched once; a failed fetch fails `module`'s promise, and the next call tries again.
 * @template T
 * @param {Promise<T>} module
 * @returns {Promise<T>}
 */
export function withWords(module) {
  const speaking = lang;
  rest ??= CATALOGS[lang][1]().then(
    (part) => {
      if (lang === speaking) catalog = { ...catalog, ...part.default };
    },
    (err) => {
      rest = null;
      throw err;
    },
  );
  return Promise.all([module, rest]).then(([m]) => m);
}

/** The language the widget speaks. */
export const language = () => lang;

/** "rtl" for a language written right to left, else "ltr". */
export const direction = () => (RTL.has(lang) ? 'rtl' : 'ltr');

/**
 * The catalog's sentence for `key`, its placeholders filled from `vars` (a plural message by `n`,
 * "{name:countKey}" by `name`'s own count message).
 * @param {string} key
 * @param {Vars} [vars]
 * @returns {string}
 */
export function t(key, vars = {}) {
  const message = catalog[key] ?? key; // never reached in a build: test/catalogs.test.js
  const text = typeof message === 'string' ? message : (message[plurals.select(Number(vars.n))] ?? message.other);
  return text.replace(/\{(\w+):?([\w.]*)\}/g, (_, name, counted) => {
    const value = vars[name];
    if (counted) return t(counted, { n: value });
    if (typeof value === 'number') return numbers.format(value);
    // In a right-to-left sentence a value in another script (a quote from the English trial text, a
    // name) is isolated (FSI … PDI), so its punctuation stays with it instead of jumping sides.
    return RTL.has(lang) && value ? `\u2068${value}\u2069` : (value ?? '');
  });
}

/** A number as the language writes it ("1,204", "1.204", "١٬٢٠٤"). */
export const number = (/** @type {number} */ n) => numbers.format(n);

/** "2 Dec 2026" in the widget's language; '' for none. */
export const day = (/** @type {string | number | null | undefined} */ when) =>
  when ? new Date(when).toLocaleDateString(lang, { day: 'numeric', month: 'short', year: 'numeric' }) : '';

/** "2 Dec 2026, 14:05" in the widget's language; '' for none. */
export const moment = (/** @type {string | null | undefined} */ iso) =>
  iso
    ? new Date(iso).toLocaleString(lang, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' })
    : '';
