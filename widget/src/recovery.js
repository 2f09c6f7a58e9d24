// @ts-check
// The recovery key, for people who must actually keep it: the notice after the first note (the
// notes live in this browser only), and the "Your recovery key" dialog: copy, download as a small
// text file, print a recovery sheet (the key as text and as a QR code, what it is, how to use it).
// Loaded on demand (the first note, or "Recovery key" in My notes); the element builder comes
// with the interface's context, so dom.js stays in the first load's chunk. What was done with the key is
// remembered in localStorage by the token store, so "My notes" can say whether it was saved.
import { qrSvg } from './qr.js';

/**
 * @typedef {import('./ui.js').Context} Context
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {typeof import('./i18n.js').t} Words
 * @typedef {object} Keeper
 * @property {() => import('./token-store.js').TokenStore} tokens  the notebook token in use: its key
 * @property {string} apiBase  the service, named on the sheet
 * @property {(fn: () => void) => void} onDestroy  run `fn` when the widget is destroyed
 * @property {(text: string) => Promise<void>} useKey  open the notebook of a pasted key, or throw
 */

// Screen: the sheet is never shown. Print, while the dialog is open: only the sheet.
const CSS = `
.sheet{display:none}
.notice{position:fixed;inset-inline-end:16px;bottom:76px;z-index:2147483001;width:min(384px,calc(100vw - 32px));background:#fff;border:1px solid #d4a72c;border-inline-start-width:6px;border-radius:8px;padding:12px 14px;box-shadow:0 4px 16px rgba(0,0,0,.2)}
.notice h3{margin:0 0 4px}
.notice .row{margin-top:10px}
.key-text{font:600 1.05em/1.6 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-spacing:.25em;overflow-wrap:anywhere}
@media print{
:host{all:initial}
.launcher,.adder,.toast,.notice,dialog{display:none!important}
.sheet{display:block;color:#000;font:12pt/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:17cm;margin:0 auto}
.sheet h1{font-size:20pt;margin:0 0 8pt}
.sheet h2{font-size:13pt;margin:14pt 0 4pt}
.sheet .key-text{display:block;font-size:15pt;border:1.5pt solid #000;border-radius:6pt;padding:8pt 10pt;margin:8pt 0}
.sheet .qr{display:block;width:5cm;height:5cm;margin:6pt 0}
.sheet ol{list-style:decimal;padding-inline-start:1.4em}
}
`;
// On the host page, while the dialog is open: printing shows the widget's sheet and nothing else.
const PAGE_PRINT = '@media print{body>:not(trial-notes-widget){display:none!important}body{margin:0!important}}';

/** The key in groups of four, easier to copy by hand; spaces are ignored when it is pasted back. */
export const groupKey = (/** @type {string} */ key) => key.replace(/(.{4})(?=.)/g, '$1 ');

/** The steps, in the widget's words (`t`: i18n.js's, handed over by the interface). */
const howTo = (/** @type {Words} */ t) => [t('howTo.1'), t('howTo.2'), t('howTo.3')];

/** The text file "Download" saves. */
export function keyFile(/** @type {string} */ key, /** @type {string} */ apiBase, /** @type {Words} */ t, now = new Date()) {
  return [
    t('file.title'),
    '',
    key,
    '',
    t('keyOpens', { service: apiBase }),
    t('file.private'),
    '',
    t('file.howTo'),
    ...howTo(t).map((step, i) => t('file.step', { i: i + 1, step })),
    '',
    t('file.saved', { date: now.toISOString().slice(0, 10) }),
    '',
  ].join('\n');
}

/** @type {WeakMap<ShadowRoot, ReturnType<typeof build>>} */
const built = new WeakMap();

/**
 * The recovery notice and dialog for the interface in `ctx` (built once per widget).
 * @param {Context} ctx
 * @param {Keeper} keeper
 */
export function recovery(ctx, keeper) {
  let parts = built.get(ctx.shadow);
  if (!parts) built.set(ctx.shadow, (parts = build(ctx, keeper)));
  return parts;
}

/**
 * @param {Context} ctx
 * @param {Keeper} keeper
 */
function build(ctx, keeper) {
  const { doc, view, shadow, h, modalDialog, t, day } = ctx;
  const sheet = new view.CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
  const pagePrint = new view.CSSStyleSheet();
  pagePrint.replaceSync(PAGE_PRINT);

  const dialog = modalDialog(t('yourKey'), ctx.fallback);
  ctx.register(dialog);
  const field = h('input', { id: `${dialog.heading.id}-key`, readonly: true, spellcheck: 'false' });
  const saved = h('p', { class: 'muted' });
  const copyButton = h('button', { class: 'primary' }, t('copy'));
  const download = h('button', null, t('download'));
  const print = h('button', null, t('printSheet'));
  dialog.el.append(
    h(
      'p',
      null,
      t('keyIntro'),
    ),
    h('label', { for: field.id }, t('recoveryKey')),
    field,
    h('div', { class: 'row' }, copyButton, download, print),
    h('p', { class: 'note-box' }, t('keyWarning')),
    saved,
    h(
      'div',
      { class: 'row' },
      h('button', { onclick: () => (unprint(), dialog.close()) }, t('close')),
    ),
  );

  const sheetKey = h('span', { class: 'key-text' });
  const sheetQr = h('div');
  const sheetDate = h('p');
  const printed = h(
    'div',
    { class: 'sheet' },
    h('h1', null, t('sheet.title')),
    h('p', null, t('keyOpens', { service: keeper.apiBase })),
    sheetKey,
    sheetQr,
    h('h2', null, t('sheet.howTo')),
    h('ol', null, howTo(t).map((step) => h('li', null, step))),
    h('p', null, t('sheet.scan')),
    h('h2', null, t('sheet.safe')),
    h(
      'p',
      null,
      t('sheet.warning'),
    ),
    sheetDate,
  );

  const notice = h(
    'div',
    { class: 'notice', role: 'region', 'aria-labelledby': `${dialog.heading.id}-notice`, hidden: true },
    h('h3', { id: `${dialog.heading.id}-notice` }, t('browserOnly')),
    h(
      'p',
      null,
      t('browserOnlyHint'),
    ),
    h(
      'div',
      { class: 'row' },
      h('button', { class: 'primary', onclick: (e) => open(e.currentTarget) }, t('showKey')),
      // The focus goes on to the launcher, not into a hidden button or back to the page's top.
      h('button', { onclick: () => ((notice.hidden = true), /** @type {HTMLElement | null} */ (ctx.shadow.querySelector('.launcher'))?.focus()) }, t('notNow')),
    ),
  );
  // "Use another recovery key": restoring, as before.
  const restoring = modalDialog(t('useAnotherKey'), ctx.fallback);
  ctx.register(restoring);
  const paste = h('input', { id: `${restoring.heading.id}-in`, autocomplete: 'off', spellcheck: 'false' });
  const use = h('button', { type: 'submit', class: 'primary' }, t('useThisKey'));
  const form = h(
    'form',
    null,
    h('label', { for: paste.id }, t('pasteKey')),
    paste,
    h(
      'p',
      { class: 'muted' },
      t('replaceWarning'),
    ),
    h('div', { class: 'row' }, use, h('button', { onclick: () => restoring.close() }, t('cancel'))),
  );
  restoring.el.append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (use.getAttribute('aria-busy') === 'true') return;
    use.setAttribute('aria-busy', 'true');
    restoring.alert.textContent = '';
    try {
      await keeper.useKey(paste.value);
      restoring.close();
      ctx.refresh();
    } catch (err) {
      restoring.alert.textContent = ctx.explain(err);
    } finally {
      use.removeAttribute('aria-busy');
    }
  });

  shadow.append(dialog.el, restoring.el, notice);

  const key = () => keeper.tokens().read() ?? '';

  function showSaved() {
    const mark = keeper.tokens().keySaved();
    saved.textContent = mark
      ? t(`savedHow.${mark.how}`, { date: day(mark.at) })
      : t('notSavedYet');
    if (mark) notice.hidden = true;
    ctx.refresh();
  }

  function keep(/** @type {string} */ how) {
    keeper.tokens().markKeySaved(how);
    showSaved();
  }

  copyButton.addEventListener('click', async () => {
    if (await ctx.copy(field, t('keyCopied'))) keep('copied');
  });
  download.addEventListener('click', () => {
    const url = view.URL.createObjectURL(new view.Blob([keyFile(key(), keeper.apiBase, t)], { type: 'text/plain' }));
    const a = h('a', { href: url, download: 'trial-notes-recovery-key.txt' });
    a.click();
    view.setTimeout(() => view.URL.revokeObjectURL(url), 1000);
    ctx.announce(t('keyDownloaded'));
    keep('downloaded');
  });
  print.addEventListener('click', () => {
    keep('printed');
    view.print();
  });

  // The sheet and the page's print rule exist only while the dialog is open.
  // (At once on "Close"; Escape closes the dialog natively, and its "close" event comes a task later.)
  function unprint() {
    printed.remove();
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== pagePrint);
  }
  dialog.el.addEventListener('close', unprint);
  // A widget destroyed with the dialog open gets no "close" event: the page's print rule goes then too.
  keeper.onDestroy(unprint);

  /** Open "Your recovery key" for the token in use. */
  function open(/** @type {Focusable | null} */ from) {
    const value = key();
    if (!value) return;
    field.value = value;
    sheetKey.textContent = groupKey(value);
    sheetQr.replaceChildren(qrSvg(doc, value, t('keyQr')));
    sheetDate.textContent = t('printedOn', { date: day(Date.now()) });
    shadow.append(printed);
    if (!doc.adoptedStyleSheets.includes(pagePrint)) doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, pagePrint];
    showSaved();
    dialog.open(from);
    field.focus();
    field.select();
  }

  return {
    /** Open "Your recovery key". */
    recovery: open,
    /** Open "Use another recovery key". */
    restore(/** @type {Focusable | null} */ from) {
      paste.value = '';
      restoring.open(from);
      paste.focus();
    },
    /** After the first note: say, visibly, where the notes live, unless the key was saved already. */
    offer() {
      if (keeper.tokens().keySaved() || !key()) return;
      notice.hidden = false;
    },
  };
}
