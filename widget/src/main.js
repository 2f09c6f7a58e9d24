// @ts-check
// The loader, the one script a page's tag loads:
//   <script src="https://notes.example/widget.js" data-trial="NCT07085104" defer></script>
// document.currentScript is only set while this file first runs, so the tag
// is read here, synchronously, before anything waits. The widget itself is
// ES modules under the service's /static/widget/ (content-hashed names; the
// build writes the entry's name in place of WIDGET_APP), imported from here, beside the
// first-draw words of the language the widget speaks (WIDGET_CATALOGS: each language's built
// catalogs/<code>.first.json; the rest comes with the first on-demand module, i18n.js).
import { chooseLanguage } from './language.js';

const tag = document.currentScript ?? document.querySelector('script[data-trial][src]');
const script = tag instanceof HTMLScriptElement ? tag : null;
// The service's /link page has no trial: the widget there only redeems the link code in its URL.
const trial = script?.dataset.trial ?? (script?.dataset.linkPage === undefined ? undefined : '');
// The API lives where the script came from, whatever page embeds it.
const apiBase = script?.src ? new URL(script.src, location.href).origin : null;

if (trial === undefined || !apiBase) {
  console.warn('Trial Notes: the widget script needs a src and a data-trial attribute.');
} else {
  const lang = chooseLanguage(script?.dataset.lang, document.documentElement.lang, navigator.languages ?? []);
  /** @type {Promise<typeof import('./app.js')>} the built app.js */
  const app = import(`${apiBase}/static/widget/${WIDGET_APP}`);
  // Fetched now rather than once the app asks for it (the same URL: one module, one request).
  import(`${apiBase}/static/widget/${WIDGET_CATALOGS[lang]}`).catch(() => {});
  const ready = new Promise((resolve) => {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', resolve, { once: true });
    else resolve(null);
  });
  Promise.all([app, ready]).then(
    // data-grant-url: the host site vouches for its signed-in readers (widget/src/accounts.js).
    ([widget]) => widget.boot({ doc: document, trial, apiBase, grantUrl: script?.dataset.grantUrl, lang }),
    (err) => console.warn(`Trial Notes: the widget could not be loaded from ${apiBase}: ${err}`),
  );
}
