// @ts-check
// The modal dialogs: the note editor, the note view, the share dialog, and the choice of
// note where highlighted passages overlap.
// Each takes callbacks that talk to the API and throw on failure; the error
// is shown in the dialog's own alert line in plain words.
import { changeBox } from './change.js';
import { h, modalDialog, uid } from './dom.js';
import { PALETTE, colorLabel } from './highlights.js';
import { bodyPreview, codePointLength } from './note-body.js';
import { renderBody } from './note-render.js';
import { day, language, t } from './i18n.js';
import { LANGUAGES } from './language.js';
import { shareActions, sharesPanel } from './shares-panel.js';

export { DIALOG_CSS } from './dialog-styles.js';

/**
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {ReturnType<typeof modalDialog>} Dialog
 * @typedef {object} DialogDeps
 * @property {(err: unknown) => string} explain  the words for an error
 * @property {(old: Focusable | null) => Focusable | null} fallback  where focus goes when its element is gone
 */

const chip = (/** @type {string} */ color) =>
  h('p', { class: 'chip' }, h('span', { class: `sw c-${color}`, 'aria-hidden': 'true' }), colorLabel(color));

/**
 * Run `task` once at a time from `button`, showing failures in `dialog.alert`.
 * @param {HTMLElement} button
 * @param {Dialog} dialog
 * @param {(err: unknown) => string} explain
 * @param {() => Promise<void>} task
 */
async function busy(button, dialog, explain, task) {
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  dialog.alert.textContent = '';
  try {
    await task();
  } catch (err) {
    dialog.alert.textContent = explain(err);
  } finally {
    button.removeAttribute('aria-busy');
  }
}

// The service's limit on a note body: MAX_BODY_CHARS in notes_service/notes/schemas.py
// (test/note-body.test.js fails when the two differ).
export const MAX_BODY_CHARS = 10000;

/**
 * The editor's counter for typed `text`: words '' below 80% of `limit`, else
 * "9,412 / 10,000 characters" (", 7,600 too many" past it, with over = true).
 * Code points, as the service counts (an emoji is one, not two UTF-16 units).
 */
export function charCount(/** @type {string} */ text, limit = MAX_BODY_CHARS) {
  const n = codePointLength(text); // no array per keystroke: 0.2 µs, not 1.5 ms, for 17,600 characters
  const over = n > limit;
  const words = over ? t('charsOver', { count: n, limit, over: n - limit }) : t('chars', { count: n, limit });
  return { over, words: n < limit * 0.8 ? '' : words };
}

/**
 * @typedef {{text: string, color: string, fresh?: boolean}} Edit  what the reader typed and chose
 *   (`fresh`: "Save in a new notebook", after this browser's notebook refused it)
 * @typedef {{title: string, quote: string, text?: string, color?: string, existing?: boolean, account?: boolean}} EditorOptions
 *   (`existing`: a note the service holds, edited: it has no new notebook to go to; `account`: the
 *   notebook is a vouching host's account's, whose way back is signing in there again)
 */

/**
 * "New note"/"Edit note": the quote, a "Note" textarea, a colour radio group, "Save", "Cancel".
 * A save refused with a 401 (this browser's access to its notebook was removed) keeps the editor
 * open with what was typed, and offers the ways back, "Use a link code" and "Use another recovery
 * key" (`more`), or "Save in a new notebook", which only the reader's click chooses.
 * @param {DialogDeps & {more: (what: 'redeem' | 'restore', from: Focusable | null) => void}} deps
 */
export function noteEditor({ explain, fallback, more }) {
  const dialog = modalDialog(t('newNote'), fallback);
  const quote = h('blockquote', { dir: 'auto' }); // the trial's words, whatever the widget's language
  const textId = uid('note');
  const text = h('textarea', { id: textId, rows: '6', dir: 'auto', 'aria-describedby': `${textId}-count ${textId}-hint` });
  const count = h('p', { id: `${textId}-count`, class: 'cnt muted' });
  let sayCount = 0;
  // Shown from 80% of the service's limit; screen readers hear it once typing pauses, not per key.
  const recount = (say = false) => {
    const { words, over } = charCount(text.value);
    count.textContent = words;
    text.setAttribute('aria-invalid', String(over)); // also colours the counter (styles.js)
    clearTimeout(sayCount);
    if (say && words) sayCount = setTimeout(() => (dialog.status.textContent = words), 1000);
  };
  text.addEventListener('input', () => recount(true));
  const group = uid('color');
  const radios = PALETTE.map(([value]) =>
    h(
      'label',
      { class: 'opt' },
      h('input', { type: 'radio', name: group, value }),
      h('span', { class: `sw c-${value}`, 'aria-hidden': 'true' }),
      colorLabel(value),
    ),
  );
  const save = h('button', { type: 'submit', class: 'primary' }, t('save'));
  /** @type {(edit: Edit) => Promise<void>} */
  let onSave = async () => {};
  const submit = (fresh = false) => {
    const color = form.querySelector('input:checked')?.getAttribute('value') ?? 'yellow';
    busy(save, dialog, explain, async () => {
      try {
        await onSave({ text: text.value, color, ...(fresh && { fresh }) });
      } catch (err) {
        away.hidden = !(err && typeof err === 'object' && 'status' in err && err.status === 401);
        throw err;
      }
      away.hidden = true;
      dialog.close();
    });
  };
  const kept = h('p', null, t('noteKept'));
  const newBook = h('button', { type: 'button', onclick: () => submit(true) }, t('saveNewNotebook'));
  const ways = h(
    'div',
    { class: 'row' },
    h('button', { type: 'button', onclick: (/** @type {Event} */ e) => more('redeem', /** @type {Focusable} */ (e.currentTarget)) }, t('useLinkCode')),
    h('button', { type: 'button', onclick: (/** @type {Event} */ e) => more('restore', /** @type {Focusable} */ (e.currentTarget)) }, t('useAnotherKey')),
    newBook,
  );
  const away = h('div', { hidden: true }, kept, ways);
  const form = h(
    'form',
    {
      onsubmit(event) {
        event.preventDefault();
        submit();
      },
    },
    quote,
    h('label', { for: textId }, t('note')),
    text,
    count,
    h('p', { id: `${textId}-hint`, class: 'muted' }, t('noteHint')),
    h('fieldset', { class: 'colors' }, h('legend', null, t('colour')), radios),
    away,
    h(
      'div',
      { class: 'row' },
      save,
      h('button', { onclick: () => dialog.close() }, t('cancel')),
    ),
  );
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  dialog.el.append(form);

  return {
    el: dialog.el,
    alert: dialog.alert,
    status: dialog.status,
    /**
     * Open for {title, quote, text, color}; `save({text, color})` must resolve or throw.
     * @param {EditorOptions} options
     * @param {(edit: Edit) => Promise<void>} save_
     * @param {Focusable | null} from
     */
    open(options, save_, from) {
      dialog.heading.textContent = options.title;
      quote.textContent = options.quote;
      text.value = options.text ?? '';
      away.hidden = true;
      newBook.hidden = Boolean(options.existing);
      // An account's notebook is opened again by signing in on the host (its grant), never by a
      // link code, a recovery key or a new notebook, which would go where the account's token is kept.
      ways.hidden = Boolean(options.account);
      kept.textContent = t(options.account ? 'noteKeptAccount' : options.existing ? 'noteKeptEdit' : 'noteKept');
      recount();
      for (const r of form.querySelectorAll('input')) r.checked = r.value === (options.color ?? 'yellow');
      onSave = save_;
      dialog.open(from);
      text.focus();
    },
    close: () => dialog.close(),
  };
}

/**
 * @typedef {object} ViewHandlers
 * @property {(returnTo: Focusable | null) => void} onEdit
 * @property {() => Promise<void>} onDelete  must resolve or throw
 * @property {() => Promise<void>} [onAccept]  "Keep on the new text" (a changed passage); must resolve or throw
 * @property {() => void} [onClose]
 */

/**
 * A note: its quote, colour, body, and "Edit", "Delete" (with a confirm step), "Close".
 * @param {DialogDeps & {doc: Document}} deps
 */
export function noteView({ explain, fallback, doc }) {
  const dialog = modalDialog(t('yourNote'), fallback);
  const quote = h('blockquote', { dir: 'auto' }); // the trial's words, whatever the widget's language
  const color = h('div');
  const body = h('div', { class: 'body', dir: 'auto' });
  const change = h('div', { class: 'body' });
  const status = h('p', { class: 'muted' });
  const replies = h('div'); // the family's replies: replies.js's button, once they are loaded
  const edit = h('button', null, t('edit'));
  const remove = h('button', null, t('delete'));
  const actions = h('div', { class: 'row' }, edit, remove, h('button', { onclick: () => dialog.close() }, t('close')));
  const yes = h('button', { class: 'primary' }, t('yesDelete'));
  const keep = h('button', null, t('keepNote'));
  const confirm = h(
    'div',
    { class: 'note-box', hidden: true },
    h('p', null, t('deleteAsk')),
    h('div', { class: 'row' }, yes, keep),
  );
  dialog.el.append(quote, change, color, body, status, replies, actions, confirm);
  /** @type {ViewHandlers} */
  let handlers = { onEdit: () => {}, onDelete: async () => {} };

  const askConfirm = (/** @type {boolean} */ show) => {
    confirm.hidden = !show;
    actions.hidden = show;
    (show ? keep : remove).focus();
  };
  edit.addEventListener('click', () => handlers.onEdit(dialog.returnTo));
  remove.addEventListener('click', () => askConfirm(true));
  keep.addEventListener('click', () => askConfirm(false));
  yes.addEventListener('click', () =>
    busy(yes, dialog, explain, async () => {
      await handlers.onDelete();
      dialog.close();
    }),
  );
  dialog.el.addEventListener('close', () => handlers.onClose?.());

  return {
    el: dialog.el,
    alert: dialog.alert,
    status: dialog.status,
    /**
     * Show a note {quote, color, body, readable, anchored}.
     * @param {import('./ui.js').NoteView} note
     * @param {ViewHandlers} handlers_
     * @param {Focusable | null} from
     */
    open(note, handlers_, from) {
      handlers = handlers_;
      confirm.hidden = true;
      actions.hidden = false;
      quote.hidden = !note.readable || Boolean(note.change); // the change shows the words before and after
      quote.textContent = note.quote ?? '';
      change.replaceChildren(
        note.change && note.readable
          ? changeBox(note.change, (button) =>
              busy(button, dialog, explain, async () => {
                await handlers.onAccept?.();
                dialog.close();
              }),
            )
          : '',
      );
      color.replaceChildren(note.readable ? chip(note.color) : '');
      body.replaceChildren(note.readable ? renderBody(note.body, doc) : '');
      status.textContent = !note.readable
        ? t('unreadableLong')
        : note.anchored || note.change
          ? ''
          : t('notFoundLong');
      edit.hidden = !note.readable;
      replies.replaceChildren(note.replies ?? '');
      dialog.open(from);
      (note.readable ? edit : remove).focus();
    },
    close: () => dialog.close(),
  };
}

/**
 * @typedef {object} ShareActions
 * @property {(choice: import('./api.js').NewShare) => Promise<import('./api.js').Share>} create
 * @typedef {ShareActions & import('./shares-panel.js').SharesActions} ShareDialogActions
 */

/**
 * "Share notes": choose notes, passcode, expiry; "Create link"; the result; "My shares".
 * @param {DialogDeps & {copy: (input: HTMLInputElement, done: string) => void}} deps
 */
export function shareDialog({ explain, fallback, copy }) {
  const dialog = modalDialog(t('shareNotes'), fallback);
  const noteList = h('ul');
  const generate = h('input', { type: 'checkbox', checked: true });
  const passId = uid('pass');
  const passcode = h('input', {
    id: passId,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': `${passId}-hint`,
  });
  const expiryId = uid('exp');
  const expiry = h(
    'select',
    { id: expiryId },
    [1, 7, 30, 90].map((d) => h('option', { value: String(d), selected: d === 7 }, t('days', { n: d }))),
  );
  // Who and for whom (issue 16): the name the family sees before the passcode, the patient's own label.
  const senderId = uid('from');
  const sender = h('input', { id: senderId, maxlength: '60', autocomplete: 'given-name', 'aria-describedby': `${senderId}-hint` });
  const labelId = uid('label');
  const label = h('input', { id: labelId, maxlength: '80', autocomplete: 'off', 'aria-describedby': `${labelId}-hint` });
  const replies = h('input', { type: 'checkbox', checked: true });
  // The language the family reads the share in (its page, its passcode page): the widget's by default.
  // Each named in its own language, as a reader looks for their own.
  const langId = uid('lang');
  const readIn = h(
    'select',
    { id: langId },
    LANGUAGES.map((code) => h('option', { value: code, lang: code }, new Intl.DisplayNames([code], { type: 'language' }).of(code) ?? code)),
  );
  const create = h('button', { type: 'submit', class: 'primary' }, t('createLink'));
  const form = h(
    'form',
    null,
    h('fieldset', null, h('legend', null, t('notesToShare')), noteList),
    h('label', { for: passId }, t('passcode')),
    passcode,
    h('label', { class: 'opt' }, generate, t('generate')),
    h('p', { id: `${passId}-hint`, class: 'muted' }, t('passcodeHint')),
    h('label', { for: expiryId }, t('expiresAfter')),
    expiry,
    h('label', { for: langId }, t('readIn')),
    readIn,
    h('label', { for: senderId }, t('senderName')),
    sender,
    h('p', { id: `${senderId}-hint`, class: 'muted' }, t('senderHint')),
    h('label', { for: labelId }, t('labelForYou')),
    label,
    h('p', { id: `${labelId}-hint`, class: 'muted' }, t('labelHint')),
    h('label', { class: 'opt' }, replies, t('letReply')),
    h('div', { class: 'row' }, create),
  );
  passcode.addEventListener('input', () => {
    generate.checked = !passcode.value;
  });
  generate.addEventListener('change', () => {
    if (generate.checked) passcode.value = '';
    else passcode.focus();
  });

  const link = h('input', { id: uid('link'), readonly: true });
  const code = h('input', { id: uid('code'), readonly: true });
  const until = h('p');
  const result = h(
    'div',
    { hidden: true },
    until,
    h('label', { for: link.id }, t('link')),
    h('div', { class: 'field' }, link, h('button', { onclick: () => copy(link, t('linkCopied')) }, t('copyLink'))),
    h('label', { for: code.id }, t('passcode')),
    h('div', { class: 'field' }, code, h('button', { onclick: () => copy(code, t('passcodeCopied')) }, t('copyPasscode'))),
    h('p', { class: 'note-box' }, t('tellSeparately')),
    h('div', { class: 'row' }, h('button', { onclick: () => showForm() }, t('newLink'))),
  );
  const shares = sharesPanel({
    run: (control, task) => busy(control, dialog, explain, task),
    say: (words) => (dialog.status.textContent = words),
  });
  dialog.el.append(
    form,
    result,
    h('h3', null, t('myShares')),
    shares.el,
    h('div', { class: 'row' }, h('button', { onclick: () => dialog.close() }, t('close'))),
  );
  /** @type {ShareDialogActions | null} */
  let actions = null;

  function showForm() {
    result.hidden = true;
    form.hidden = false;
    passcode.value = '';
    generate.checked = true;
    label.value = '';
    readIn.value = language();
    replies.checked = true;
    noteList.querySelector('input')?.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(create, dialog, explain, async () => {
      const noteIds = [...noteList.querySelectorAll('input')].filter((i) => i.checked).map((i) => i.value);
      const chosen = passcode.value.trim();
      if (!noteIds.length) throw new Error(t('chooseOne'));
      if (chosen && [...chosen].length < 6) throw new Error(t('passcodeShort'));
      if (!actions) return;
      const share = await actions.create({
        note_ids: noteIds,
        expires_in_days: Number(expiry.value),
        ...(chosen ? { passcode: chosen } : {}),
        ...(sender.value.trim() ? { sender_name: sender.value.trim() } : {}),
        ...(label.value.trim() ? { label: label.value.trim() } : {}),
        ...(replies.checked ? {} : { replies_allowed: false }), // the service's default is on
        language: readIn.value,
      });
      shares.reload();
      link.value = share.url;
      code.value = share.passcode ?? chosen;
      until.textContent = t('readableUntil', { date: day(share.expires_at) });
      form.hidden = true;
      result.hidden = false;
      link.focus();
      link.select();
    });
  });

  return {
    el: dialog.el,
    alert: dialog.alert,
    status: dialog.status,
    /**
     * Open with notes [{id, label, quote, text}] and the actions on links.
     * @param {Array<{id: string, label: string} & import('./shares-panel.js').SharedNote>} notes
     * @param {import('./shares-panel.js').ShareDeps} deps  what the actions on links are made of
     * @param {Focusable | null} from
     */
    open(notes, deps, from) {
      const actions_ = (actions = shareActions(deps));
      noteList.replaceChildren(
        ...notes.map((n) =>
          h('li', null, h('label', { class: 'opt' }, h('input', { type: 'checkbox', value: n.id, checked: true }), n.label)),
        ),
      );
      if (!notes.length) noteList.append(h('li', { class: 'muted' }, t('nothingToShare')));
      dialog.open(from);
      shares.load(actions_, new Map(notes.map((n) => [n.id, n])));
      showForm();
      if (!notes.length) passcode.focus();
    },
  };
}

/**
 * "Which note?": where passages overlap, one button per note (its colour, its words).
 * @param {DialogDeps & {doc: Document}} deps
 */
export function noteChooser({ fallback, doc }) {
  const dialog = modalDialog(t('whichTitle'), fallback);
  const intro = h('p', {}, t('whichAsk'));
  const list = h('ul', { class: 'choices' });
  const cancel = h('button', { type: 'button' }, t('cancel'));
  cancel.addEventListener('click', () => dialog.close());
  dialog.el.append(intro, list, h('div', { class: 'row' }, cancel));
  /** @type {(id: string, from: Focusable | null) => void} */
  let pick = () => {};

  return {
    el: dialog.el,
    alert: dialog.alert,
    status: dialog.status,
    /**
     * @param {import('./ui.js').NoteView[]} choices
     * @param {(id: string, from: Focusable | null) => void} pick_
     */
    open(choices, pick_) {
      pick = pick_;
      dialog.open(null);
      const from = dialog.returnTo; // where the reader was: the note opened goes back there
      list.replaceChildren(
        ...choices.map((note) => {
          const words = (note.readable && bodyPreview(note.body, doc)) || t('noText');
          const choose = h(
            'button',
            { type: 'button', class: 'choice' },
            h('span', { class: `sw c-${note.color}`, 'aria-hidden': 'true' }),
            h('span', {}, t('choice', { color: colorLabel(note.color), quote: note.quote, words })),
          );
          choose.addEventListener('click', () => {
            dialog.close();
            pick(note.id, from);
          });
          return h('li', {}, choose);
        }),
      );
      /** @type {HTMLElement | null} */ (list.querySelector('button'))?.focus();
    },
  };
}
