// @ts-check
// A device's name as the "Devices" list shows it ("Chrome on Android"): from the browser's
// client hints where it has them, else a plain reading of its user-agent string. Only the browser
// and the system, never a version or a model: the name helps the reader tell devices apart and
// tells the service nothing it needs.

/**
 * @typedef {{brands?: Array<{brand: string}>, platform?: string}} UAData  navigator.userAgentData
 */

const BRANDS = /** @type {Array<[RegExp, string]>} */ ([
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
]);
const SYSTEMS = /** @type {Array<[RegExp, string]>} */ ([
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
]);

const first = (/** @type {Array<[RegExp, string]>} */ table, /** @type {string} */ text) =>
  table.find(([re]) => re.test(text))?.[1];

/**
 * "Chrome on Android", "Firefox on Windows", or "Browser" when nothing is known.
 * @param {{userAgent?: string, userAgentData?: UAData}} nav
 * @param {typeof import('./i18n.js').t} t  the widget's words (handed over: this module adds no chunk to the first load)
 */
export function deviceName(nav, t) {
  const ua = nav.userAgent ?? '';
  const hints = nav.userAgentData;
  // Client hints list the engine and a GREASE brand ("Not_A Brand") beside the browser's own.
  const brand = hints?.brands
    ?.map((b) => b.brand)
    .filter((b) => !/Not.A.Brand|^Chromium$/i.test(b))
    .map((b) => b.replace(/^Google |^Microsoft /, ''))[0];
  const browser = brand ?? first(BRANDS, ua) ?? (hints?.brands?.length ? 'Chromium' : undefined);
  const system = hints?.platform || first(SYSTEMS, ua);
  const name = system ? t('deviceOn', { browser: browser ?? t('browser'), system }) : (browser ?? t('browser'));
  return name.slice(0, 60);
}
