// @ts-check
// Replies from the family (on demand, imported once the notes are drawn, so they never hold up
// the first draw): fetched for the trial, counted per note for "My notes" ("Replies", a count and
// a "new" marker), and shown in a "Replies" dialog: name, date and text, the text only (a reply
// is never markup here). Opening marks them seen; the patient can delete one (asked first).
import { canFocus, h, modalDialog } from './dom.js';
import { colorLabel } from './highlights.js';
import { htmlToText } from './note-body.js';
import { addSheet } from './sheets.js';
import { moment, number, t } from './i18n.js';

/**
 * @typedef {import('./api.js').Reply} Reply
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./dom.js').Focusable} Focusable
 * @typedef {{count: number, unread: number, label: string}} ReplySummary  what "My notes" shows
 * @typedef {ReturnType<typeof createReplies>} Replies
 * @typedef {object} RepliesDeps
 * @property {Api} api
 * @property {string} trial
 * @property {Document} doc
 * @property {ShadowRoot} shadow  the widget's
 * @property {(err: unknown) => string} explain
 * @property {() => void} changed  draw "My notes" again (counts, markers)
 * @property {(message: string) => void} showError  where the reader is looking
 */

// The service takes this many ids in one "seen" call (MAX_SEEN_IDS in shares/schemas.py).
const SEEN_BATCH = 50;

const CSS = `
.replies-list>li{padding:10px 0;border-bottom:1px solid #eaeef2}
.replies-list .who{margin:0;display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline}
.replies-list .who strong{overflow-wrap:anywhere}
.replies-list .text{margin:6px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.new{display:inline-block;border-radius:999px;background:#cf222e;color:#fff;font-size:.8em;font-weight:600;padding:0 8px;margin-inline-start:6px}
button.replies,.notes button.replies{display:inline-flex;align-items:center;gap:6px;width:auto;margin:6px;
padding:4px 12px;border:1px solid #8c959f;border-radius:8px;background:#fff;color:#1f2328;text-decoration:none;
font-size:.9em;min-height:44px}
@media (pointer:fine){button.replies,.notes button.replies{min-height:34px}}
button.replies .count{margin:0;background:#e8effd;color:#1d4ed8}
button.replies .new{margin:0}
`;

/**
 * The replies routes, over the API's `call` and `all` (kept here, not in the first load's api.js).
 * @param {Api} api
 */
export const repliesApi = (api) => {
  const enc = encodeURIComponent;
  return {
    /** @returns {Promise<Reply[]>} every page */
    list: (/** @type {string} */ trial) => api.all(`/api/v1/trials/${enc(trial)}/replies`, 'replies', 50),
    seen: (/** @type {string} */ trial, /** @type {string[]} */ ids) =>
      api.call('POST', `/api/v1/trials/${enc(trial)}/replies/seen`, { reply_ids: ids }),
    remove: (/** @type {string} */ id) => api.call('DELETE', `/api/v1/replies/${enc(id)}`),
  };
};

/**
 * The replies of `trial`'s notes.
 * @param {RepliesDeps} deps
 */
export function createReplies({ api, trial, doc, shadow, explain, changed, showError }) {
  const routes = repliesApi(api);
  /** @type {Map<string, Reply[]>} by note id, oldest first */
  let byNote = new Map();
  // After "My notes" is drawn again its buttons are new: focus goes back to the one for the same note.
  const fallback = (/** @type {Focusable | null} */ old) => {
    const id = /** @type {HTMLElement | null} */ (old)?.dataset?.id?.replace(/[^\w-]/g, '');
    return id ? ([...shadow.querySelectorAll(`button[data-id="${id}"]`)].find(canFocus) ?? null) : null;
  };
  const dialog = modalDialog(t('replies'), fallback);
  const quote = h('blockquote', { dir: 'auto' }); // the trial's words, whatever the widget's language
  const chip = h('p', { class: 'chip' });
  const list = h('ul', { class: 'replies-list' });
  dialog.el.append(quote, chip, list, h('div', { class: 'row' }, h('button', { onclick: () => dialog.close() }, t('close'))));
  shadow.append(dialog.el);
  addSheet(dialog.el, CSS);
  /** @type {string | null} */
  let shown = null; // the note whose replies the dialog shows

  /**
   * What "My notes" shows for a note: undefined when it has no replies.
   * @param {string} noteId
   * @returns {ReplySummary | undefined}
   */
  function summary(noteId) {
    const replies = byNote.get(noteId);
    if (!replies?.length) return undefined;
    const unread = replies.filter((r) => r.unread).length;
    return {
      count: replies.length,
      unread,
      label: unread ? t('repliesLabelNew', { n: replies.length, fresh: unread }) : t('repliesLabel', { n: replies.length }),
    };
  }

  /** Bring the note's "Replies" buttons still on screen (the note's dialog) up to date; then "My notes". */
  function sync(/** @type {string} */ noteId) {
    const now = summary(noteId);
    for (const b of shadow.querySelectorAll(`button[data-id="replies-${noteId.replace(/[^\w-]/g, '')}"]`)) {
      b.toggleAttribute('hidden', !now);
      if (!now) continue;
      b.setAttribute('aria-label', now.label);
      const shown = b.querySelector('.count');
      if (shown) shown.textContent = number(now.count);
      if (!now.unread) b.querySelector('.new')?.remove();
    }
    changed();
  }

  /**
   * Run `task` once at a time from `button`; a failure is said in the dialog.
   * @param {HTMLButtonElement} button
   * @param {() => Promise<void>} task
   */
  async function run(button, task) {
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

  /** One reply: who, when, whether it is new, its text; "Delete reply", asked first. */
  function item(/** @type {Reply} */ reply, /** @type {boolean} */ wasNew) {
    const who = reply.name?.trim() || t('someone');
    const remove = h('button', { 'aria-label': t('deleteReplyFrom', { who }) }, t('deleteReply'));
    const yes = h('button', { class: 'primary' }, t('yesDeleteReply'));
    const keep = h('button', null, t('keepReply'));
    const actions = h('div', { class: 'row' }, remove);
    const confirm = h(
      'div',
      { class: 'note-box', hidden: true },
      h('p', null, t('deleteReplyAsk')),
      h('div', { class: 'row' }, yes, keep),
    );
    const ask = (/** @type {boolean} */ show) => {
      confirm.hidden = !show;
      actions.hidden = show;
      (show ? keep : remove).focus();
    };
    remove.addEventListener('click', () => ask(true));
    keep.addEventListener('click', () => ask(false));
    yes.addEventListener('click', () =>
      run(yes, async () => {
        await routes.remove(reply.id);
        const left = (byNote.get(reply.note_id) ?? []).filter((r) => r.id !== reply.id);
        byNote.set(reply.note_id, left);
        li.remove();
        if (!left.length) list.append(h('li', { class: 'muted' }, t('noRepliesLeft')));
        dialog.heading.textContent = t('repliesHeading', { n: left.length });
        dialog.status.textContent = t('replyDeleted');
        dialog.heading.focus();
        sync(reply.note_id);
      }),
    );
    const li = h(
      'li',
      null,
      h(
        'p',
        { class: 'who' },
        h('strong', null, who),
        h('span', { class: 'muted' }, moment(reply.created_at)),
        wasNew ? h('span', { class: 'new' }, t('new')) : null,
      ),
      // The service sanitized it like a note body; here it is text only, never markup.
      h('p', { class: 'text' }, htmlToText(reply.body, doc)),
      actions,
      confirm,
    );
    return li;
  }

  /** Mark `replies` seen on the service, then here (the markers go once the service agrees). */
  async function markSeen(/** @type {Reply[]} */ replies) {
    const ids = replies.filter((r) => r.unread).map((r) => r.id);
    for (let at = 0; at < ids.length; at += SEEN_BATCH) await routes.seen(trial, ids.slice(at, at + SEEN_BATCH));
    for (const r of replies) r.unread = false;
    if (ids.length && replies[0]) sync(replies[0].note_id);
  }

  return {
    /** Fetch every reply of the trial's notes and draw the counts; a failure is said, the notes stay. */
    async load() {
      let replies;
      try {
        replies = await routes.list(trial);
      } catch (err) {
        showError(explain(err));
        return;
      }
      byNote = new Map();
      for (const r of replies) byNote.set(r.note_id, [...(byNote.get(r.note_id) ?? []), r]);
      for (const list_ of byNote.values()) list_.sort((a, b) => a.created_at.localeCompare(b.created_at));
      changed();
    },

    summary,

    /**
     * The note's "Replies" button for "My notes" (a count and a "new" marker); null without replies.
     * @param {string} noteId
     * @param {{quote: string, color: string}} note
     */
    button(noteId, note) {
      const now = summary(noteId);
      if (!now) return null;
      return h(
        'button',
        {
          class: 'replies',
          'data-id': `replies-${noteId}`,
          'aria-label': now.label,
          onclick: (e) => this.open(noteId, note, e.currentTarget),
        },
        t('replies'),
        h('span', { class: 'count' }, number(now.count)),
        now.unread ? h('span', { class: 'new' }, t('newCount', { n: now.unread })) : null,
      );
    },

    /**
     * Show a note's replies, and mark them seen.
     * @param {string} noteId
     * @param {{quote: string, color: string}} note
     * @param {Focusable | null} from
     */
    open(noteId, note, from) {
      const replies = byNote.get(noteId) ?? [];
      shown = noteId;
      quote.textContent = note.quote;
      chip.replaceChildren(h('span', { class: `sw c-${note.color}`, 'aria-hidden': 'true' }), colorLabel(note.color));
      list.replaceChildren(...replies.map((r) => item(r, r.unread)));
      if (!replies.length) list.append(h('li', { class: 'muted' }, t('noReplies')));
      dialog.heading.textContent = t('repliesHeading', { n: replies.length });
      dialog.open(from);
      dialog.heading.focus();
      markSeen(replies).catch((err) => {
        if (shown === noteId && dialog.el.open) dialog.alert.textContent = explain(err);
      });
    },

    /** Whether the replies dialog is open. */
    isOpen: () => dialog.el.open,
    close: () => dialog.close(),
  };
}
