// @ts-check
// The loader, the one script a page's tag loads:
//   <script src="https://notes.example/widget.js" data-trial="NCT07085104" defer></script>
// document.currentScript is only set while this file first runs, so the tag
// is read here, synchronously, before anything waits. The widget itself is
// ES modules under the service's /static/widget/ (content-hashed names; the
// build writes the entry's name in place of WIDGET_APP), imported from here.

const tag = document.currentScript ?? document.querySelector('script[data-trial][src]');
const script = tag instanceof HTMLScriptElement ? tag : null;
// The service's /link page has no trial: the widget there only redeems the link code in its URL.
const trial = script?.dataset.trial ?? (script?.dataset.linkPage === undefined ? undefined : '');
// The API lives where the script came from, whatever page embeds it.
const apiBase = script?.src ? new URL(script.src, location.href).origin : null;

if (trial === undefined || !apiBase) {
  console.warn('Trial Notes: the widget script needs a src and a data-trial attribute.');
} else {
  /** @type {Promise<typeof import('./app.js')>} the built app.js */
  const app = import(`${apiBase}/static/widget/${WIDGET_APP}`);
  const ready = new Promise((resolve) => {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', resolve, { once: true });
    else resolve(null);
  });
  Promise.all([app, ready]).then(
    // data-grant-url: the host site vouches for its signed-in readers (widget/src/accounts.js).
    ([widget]) => widget.boot({ doc: document, trial, apiBase, grantUrl: script?.dataset.grantUrl }),
    (err) => console.warn(`Trial Notes: the widget could not be loaded from ${apiBase}: ${err}`),
  );
}
