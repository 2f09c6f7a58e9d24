// @ts-check
// Which language the widget speaks, chosen once by the loader (main.js) before anything is drawn.
// Pure and tiny: the loader carries it, so the catalog can be fetched beside the app.

/** The languages the widget has a catalog for (catalogs/<code>.json); English is the fallback. */
export const LANGUAGES = /** @type {const} */ (['en', 'es', 'ar']);
/** @typedef {typeof LANGUAGES[number]} Language */

/** Languages written right to left: the widget's host gets dir="rtl". */
export const RTL = new Set(['ar']);

/**
 * The widget's language: the script tag's `data-lang`, else the host page's `<html lang>`, else
 * the first of the browser's languages the widget has. A page that says which language it is in
 * decides (an unknown one gives English rather than a language the page does not use); only the
 * browser's list is searched.
 * @param {string | null | undefined} dataLang
 * @param {string | null | undefined} pageLang
 * @param {readonly string[]} browser  navigator.languages
 * @returns {Language}
 */
export function chooseLanguage(dataLang, pageLang, browser) {
  const known = (/** @type {string} */ tag) =>
    LANGUAGES.find((code) => code === tag.trim().toLowerCase().split(/[-_]/)[0]) ?? null;
  const declared = dataLang?.trim() || pageLang?.trim();
  if (declared) return known(declared) ?? 'en';
  for (const tag of browser) {
    const code = known(tag);
    if (code) return code;
  }
  return 'en';
}
