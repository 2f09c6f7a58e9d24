// @ts-check
// "My shares" in the share dialog (on demand, with the dialogs): one page of the trial's
// links at a time, each with its label, the text of its notes, its dates, views and state
// in words; "Unlock" on a locked link, "Revoke" (asked first), "Let them reply", and
// "Delete" on every link (asked first): the link and its replies go for good, freeing its place.
import { h } from './dom.js';
import { addSheet } from './sheets.js';
import { day, t } from './i18n.js';

/**
 * @typedef {import('./api.js').Share} Share
 * @typedef {{quote: string, text: string}} SharedNote  a note of this page, as text
 * @typedef {object} SharesActions  each resolves or throws
 * @property {(cursor: string | null) => Promise<{shares: Share[], next: string | null}>} page
 * @property {(id: string) => Promise<void>} revoke
 * @property {(id: string) => Promise<void>} remove  delete for good, with its replies
 * @property {(id: string) => Promise<Share>} unlock
 * @property {(id: string, changes: {replies_allowed: boolean}) => Promise<Share>} update
 * @typedef {object} PanelDeps
 * @property {(control: HTMLElement, task: () => Promise<void>) => Promise<void>} run
 *   runs `task` once at a time from `control`, showing a failure in the dialog's alert line
 * @property {(message: string) => void} say  for screen readers (the dialog's status region)
 */

// How many of a share's notes are written out; the rest are counted.
const SHOWN_NOTES = 5;
const SNIPPET = 140;

const STATES = /** @type {Record<string, string>} */ ({
  active: 'state.active',
  expired: 'state.expired',
  revoked: 'state.revoked',
  used_up: 'state.used_up',
  locked: 'state.locked',
});

const CSS = `
.shares>li{padding:12px 0;border-bottom:1px solid #eaeef2}
.shares h4{font-size:1em;margin:0 0 4px;overflow-wrap:anywhere}
.shares h4:focus{outline:none}
.shares .state{margin:2px 0;font-weight:600}
.shares .s-locked{color:#82071e}
.shares .s-active{color:#116329}
.shares .row{margin-top:8px}
.shared-notes{margin:6px 0;padding-inline-start:12px;border-inline-start:3px solid #d0d7de}
.shared-notes li{margin:4px 0;overflow-wrap:anywhere}
.shared-notes q{font-weight:600}
`;

const cut = (/** @type {string} */ text) => (text.length > SNIPPET ? `${text.slice(0, SNIPPET - 1).trimEnd()}…` : text);

/**
 * @typedef {{api: import('./api.js').Api, trial: string, apiBase: string, hasNotebook: () => boolean,
 *   announce: (message: string) => void}} ShareDeps  what the share dialog's actions are made of
 */

/**
 * The share dialog's actions on links, over the API's `call` (kept here, not in the first load).
 * @param {ShareDeps} deps
 * @returns {import('./dialogs.js').ShareDialogActions}
 */
export function shareActions({ api, trial, apiBase, hasNotebook, announce }) {
  const enc = encodeURIComponent;
  return {
    async create(choice) {
      /** @type {import('./api.js').Share & {url: string}} */
      const share = await api.call('POST', '/api/v1/shares', { trial_id: trial, ...choice });
      share.url = new URL(share.url, apiBase).href;
      announce(t('linkCreated'));
      return share;
    },
    // Before the first save there is no notebook, so no links.
    page: async (cursor) =>
      hasNotebook()
        ? api.call('GET', `/api/v1/shares?trial_id=${enc(trial)}&limit=20${cursor ? `&cursor=${enc(cursor)}` : ''}`)
        : { shares: [], next: null },
    revoke: async (id) => {
      await api.call('DELETE', `/api/v1/shares/${enc(id)}`);
    },
    remove: async (id) => {
      await api.call('DELETE', `/api/v1/shares/${enc(id)}/record`);
    },
    unlock: (id) => api.call('POST', `/api/v1/shares/${enc(id)}/unlock`),
    update: (id, changes) => api.call('PATCH', `/api/v1/shares/${enc(id)}`, changes),
  };
}

/**
 * The list of links, drawn into `el`; `load()` shows the first page again.
 * @param {PanelDeps} deps
 */
export function sharesPanel({ run, say }) {
  const list = h('ul', { class: 'shares' });
  const more = h('button', { hidden: true }, t('moreLinks'));
  const el = h('div', null, list, h('div', { class: 'row' }, more));
  /** @type {SharesActions | null} */
  let actions = null;
  /** @type {Map<string, SharedNote>} */
  let notes = new Map();
  /** @type {string | null} */
  let next = null;
  let drawn = 0; // each load draws afresh: an answer for an older load is dropped

  /** The notes of a share as text: the quote and the start of the body, the rest counted. */
  function noteTexts(/** @type {Share} */ share) {
    const ids = share.note_ids ?? [];
    const here = ids.map((id) => notes.get(id)).filter((n) => n !== undefined);
    const items = here.slice(0, SHOWN_NOTES).map((n) =>
      h('li', null, h('q', { dir: 'auto' }, cut(n.quote)), n.text ? h('span', { dir: 'auto' }, ` ${cut(n.text)}`) : null),
    );
    const rest = ids.length - items.length;
    if (rest > 0) {
      const words = here.length > items.length
        ? t('andMoreNotes', { n: rest })
        : t('notesNotShown', { n: rest });
      items.push(h('li', { class: 'muted' }, words));
    }
    return h('ul', { class: 'shared-notes' }, items);
  }

  /** One link's item; redrawn in place after Unlock, Revoke or a reply toggle, taken out after Delete. */
  function item(/** @type {Share} */ share) {
    const li = h('li');
    const draw = (/** @type {Share} */ s) => li.replaceChildren(...parts(s, li, draw).filter((n) => n !== null));
    draw(share);
    return li;
  }

  /**
   * @param {Share} s
   * @param {HTMLLIElement} li
   * @param {(s: Share) => void} redraw
   */
  function parts(s, li, redraw) {
    const title = h('h4', { tabindex: '-1' }, s.label || t('linkMade', { date: day(s.created_at) }));
    const live = s.state === 'active' || s.state === 'locked';
    const views = s.max_views
      ? t('viewsOf', { views: s.views, n: s.max_views })
      : t('views', { n: s.views });
    const facts = [
      t('notes', { n: s.note_count }),
      s.label ? t('made', { date: day(s.created_at) }) : '', // without a label the heading says it already
      s.state === 'revoked' ? '' : t(s.state === 'expired' ? 'expiredOn' : 'expiresOn', { date: day(s.expires_at) }),
      views,
      s.reply_count ? t('replyCount', { n: s.reply_count }) : '',
      s.reply_count && s.unread_replies ? t('unread', { n: s.unread_replies }) : '',
    ];
    const factLine = h('p', { class: 'muted' }, facts.filter(Boolean).join(' · '));
    const state = h('p', { class: `state s-${s.state}` }, STATES[s.state] ? t(STATES[s.state]) : s.state);
    const from = s.sender_name ? h('p', { class: 'muted' }, t('shownAsFrom', { name: s.sender_name })) : null;

    const done = (/** @type {Share} */ changed, /** @type {string} */ words) => {
      redraw(changed);
      /** @type {HTMLElement | null} */ (li.querySelector('h4'))?.focus();
      say(words);
    };
    const unlock = h('button', { class: 'primary' }, t('unlock'));
    unlock.addEventListener('click', () =>
      run(unlock, async () => {
        if (actions) done(await actions.unlock(s.id), t('unlocked'));
      }),
    );
    const revoke = h('button', null, t('revoke'));
    const remove = h('button', null, t('deleteLink'));
    const buttons = h('div', { class: 'row' }, live && s.state === 'locked' ? unlock : null, live ? revoke : null, remove);
    /** A question in place of the buttons: `yes` does it, "Keep link" puts the buttons back. */
    const asking = (/** @type {HTMLElement} */ opener, /** @type {string} */ question, /** @type {string} */ yesWords,
      /** @type {() => Promise<void>} */ task) => {
      const yes = h('button', { class: 'primary' }, yesWords);
      const keep = h('button', null, t('keepLink'));
      const box = h('div', { class: 'note-box', hidden: true }, h('p', null, question), h('div', { class: 'row' }, yes, keep));
      const ask = (/** @type {boolean} */ show) => {
        box.hidden = !show;
        buttons.hidden = show;
        (show ? keep : opener).focus();
      };
      opener.addEventListener('click', () => ask(true));
      keep.addEventListener('click', () => ask(false));
      yes.addEventListener('click', () => run(yes, async () => {
        if (actions) await task();
      }));
      return box;
    };
    const revokeBox = live
      ? asking(revoke, t('revokeAsk'), t('yesRevoke'), async () => {
        await actions?.revoke(s.id);
        done({ ...s, state: 'revoked' }, t('revoked'));
      })
      : null;
    const removeBox = asking(remove, t('deleteLinkAsk'), t('yesDeleteLink'), async () => {
      await actions?.remove(s.id);
      // Focus goes to the link after it, else the one before, else "Show more links" or "No links yet".
      const near = li.nextElementSibling ?? li.previousElementSibling;
      li.remove();
      /** @type {HTMLElement | null} */
      let focus = near?.querySelector('h4') ?? (more.hidden ? null : more);
      // "No links yet" only when none follow either: else "Show more links" brings them.
      if (!list.children.length && more.hidden) list.append(h('li', { class: 'muted', tabindex: '-1' }, t('noLinks')));
      focus ??= /** @type {HTMLElement} */ (list.firstElementChild);
      focus.focus();
      say(t('linkDeleted'));
    });

    const toggle = h('input', { type: 'checkbox', checked: s.replies_allowed !== false });
    toggle.addEventListener('change', () => {
      const wanted = toggle.checked;
      toggle.disabled = true;
      run(toggle, async () => {
        try {
          if (actions) Object.assign(s, await actions.update(s.id, { replies_allowed: wanted }));
          say(wanted ? t('repliesOn') : t('repliesOff'));
        } catch (err) {
          toggle.checked = !wanted; // as it still is on the service
          throw err;
        } finally {
          toggle.disabled = false;
        }
      });
    });
    const replyControl = live ? h('label', { class: 'opt' }, toggle, t('letReply')) : null;
    return [title, state, from, factLine, noteTexts(s), replyControl, buttons, revokeBox, removeBox];
  }

  /** Draw one page after the others (or alone, after `load`). */
  async function fetchPage(/** @type {string | null} */ cursor, /** @type {number} */ draw) {
    if (!actions) return;
    const page = await actions.page(cursor);
    if (draw !== drawn) return;
    if (!cursor) list.replaceChildren();
    list.querySelector(':scope > li.muted')?.remove(); // "No links yet", while more followed
    list.append(...page.shares.map(item));
    if (!list.children.length) list.append(h('li', { class: 'muted' }, t('noLinks')));
    next = page.next;
    more.hidden = !next;
    addSheet(el, CSS);
  }

  more.addEventListener('click', () => {
    const first = list.children.length;
    run(more, async () => {
      await fetchPage(next, drawn);
      /** @type {HTMLElement | null} */ (list.children[first]?.querySelector('h4') ?? null)?.focus();
    });
  });

  return {
    el,
    /**
     * Show the first page of links for `actions_`, the page's notes by id for their text.
     * @param {SharesActions} actions_
     * @param {Map<string, SharedNote>} notes_
     */
    load(actions_, notes_) {
      actions = actions_;
      notes = notes_;
      more.hidden = true;
      list.replaceChildren(h('li', { class: 'muted' }, t('loading')));
      addSheet(el, CSS);
      const draw = ++drawn;
      return run(more, () => fetchPage(null, draw));
    },
    /** Show the first page again (after a new link). */
    reload() {
      return actions ? this.load(actions, notes) : Promise.resolve();
    },
  };
}
