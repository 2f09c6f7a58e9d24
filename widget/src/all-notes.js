// @ts-check
// "All trials" in "My notes" (imported when first chosen): every note of the notebook grouped by
// trial (title, note count, last edited), each linking to its trial's page at the passage, and a
// search over the notes fetched. The search runs here only: the service never indexes what notes say.
// It imports nothing of the first load's: the element builder and the words come from the
// interface's context, the note helpers in `words` (layout.js hands them over), so that fetching it
// adds no chunk to the first load.
import { addSheet } from './sheets.js';

const CSS = `
.all-notes .trial{margin:16px 0 0}
.all-notes h3{margin:0 0 2px;font-size:1em}
.all-notes a{display:block;color:#1d4ed8;padding:4px 6px;min-height:34px;text-underline-offset:2px}
.all-notes .notes li{display:block}
.all-notes input[type=search]{margin:0 0 8px}
`;

/**
 * @typedef {import('./api.js').Note} Note
 * @typedef {{colorLabel: typeof import('./highlights.js').colorLabel,
 *   bodyPreview: typeof import('./note-body.js').bodyPreview, firstWords: typeof import('./note-body.js').firstWords,
 *   htmlToText: typeof import('./note-body.js').htmlToText}} Words
 * @typedef {{id: string, title: string, note_count: number, last_edited: string}} TrialNotes
 * @typedef {{trial: TrialNotes, notes: Note[]}} Group
 */

/** Text folded for searching: lower case, no accents, white space as single spaces. */
export const fold = (/** @type {string} */ text) =>
  text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();

/** Whether every word of `query` occurs in `folded` (text already folded); an empty query matches all. */
export const matches = (/** @type {string} */ folded, /** @type {string} */ query) =>
  fold(query)
    .split(' ')
    .every((word) => folded.includes(word));

/**
 * The notes grouped by trial, in the trials' order (the last edited first); a note whose trial
 * the list does not hold (it came between the two requests) gets a group of its own at the end.
 * @param {TrialNotes[]} trials
 * @param {Note[]} notes
 * @returns {Group[]}
 */
export function groupByTrial(trials, notes) {
  /** @type {Map<string, Group>} */
  const groups = new Map(trials.map((trial) => [trial.id, { trial, notes: [] }]));
  for (const note of notes) {
    const id = note.trial_id ?? '';
    let group = groups.get(id);
    if (!group) {
      group = { trial: { id, title: id, note_count: 0, last_edited: note.updated_at ?? note.created_at }, notes: [] };
      groups.set(id, group);
    }
    group.notes.push(note);
  }
  return [...groups.values()].filter((g) => g.notes.length);
}

/**
 * @typedef {object} Deps
 * @property {Document} doc
 * @property {typeof import('./dom.js').h} h  the interface's element builder
 * @property {typeof import('./i18n.js').t} t  the interface's words
 * @property {typeof import('./i18n.js').day} day  a date in the widget's language
 * @property {Words} words
 * @property {HTMLElement} el  the panel's section to fill
 * @property {import('./api.js').Api} api
 * @property {string} trial  this page's trial
 * @property {() => boolean} hasNotebook
 * @property {(trial: string, id: string) => string} address  a note's link
 * @property {(id: string) => void} goTo  a note of this page: scroll to it here
 * @property {(note: Note) => string} quoteOf
 * @property {(note: Note) => boolean} readable
 */

/**
 * The "All trials" view in `el`.
 * @param {Deps} deps
 */
export function allNotes({ doc, h, t, day, words: w, el, api, trial, hasNotebook, address, goTo, quoteOf, readable }) {
  addSheet(el, CSS);
  const searchId = `tn-search-${Math.random().toString(36).slice(2)}`;
  const input = h('input', { id: searchId, type: 'search', autocomplete: 'off' });
  const status = h('p', { class: 'muted', role: 'status' });
  const alert = h('div', { class: 'alert', role: 'alert' });
  const list = h('div');
  el.replaceChildren(h('label', { for: searchId }, t('searchMyNotes')), input, status, alert, list);
  /** @type {Array<{li: HTMLElement, text: string, group: HTMLElement}>} */
  let items = [];
  let loading = false;

  function filter() {
    const query = input.value;
    let shown = 0;
    const groupsShown = new Set();
    for (const item of items) {
      const hit = matches(item.text, query);
      item.li.hidden = !hit;
      if (hit) {
        shown += 1;
        groupsShown.add(item.group);
      }
    }
    for (const group of list.children) /** @type {HTMLElement} */ (group).hidden = !groupsShown.has(group);
    status.textContent = !items.length
      ? t('noNotesAnywhere')
      : !fold(query)
        ? ''
        : shown
          ? t('notesMatch', { n: shown, total: items.length })
          : t('noNoteMatches');
  }
  input.addEventListener('input', filter);

  /** @param {Group} group */
  function drawGroup({ trial: info, notes }) {
    const here = info.id === trial;
    const ul = h('ul', { class: 'notes' });
    const section = h(
      'section',
      { class: 'trial', 'data-trial': info.id },
      h('h3', { lang: 'en', dir: 'auto' }, info.title),
      h(
        'p',
        { class: 'muted' },
        [t('notes', { n: notes.length }), t('lastEdited', { date: day(info.last_edited) }), here ? t('trialHere') : '']
          .filter(Boolean)
          .join(' · '),
      ),
      ul,
    );
    for (const note of notes) {
      const ok = readable(note);
      const quote = ok ? quoteOf(note) : '';
      const body = ok ? w.htmlToText(note.body, doc) : '';
      const words = ok ? w.firstWords(quote) : t('unreadable');
      const link = h('a', { href: address(info.id, note.id), 'data-id': note.id }, t('goToNote', { words }));
      // A note of this page: go to it here, without loading the page again.
      if (here) {
        link.addEventListener('click', (event) => {
          event.preventDefault();
          goTo(note.id);
        });
      }
      const preview = ok ? w.bodyPreview(note.body, doc) : '';
      const li = h(
        'li',
        null,
        link,
        ok
          ? h(
              'p',
              { class: 'chip' },
              h('span', { class: `sw c-${note.color}`, 'aria-hidden': 'true' }),
              w.colorLabel(note.color),
            )
          : null,
        preview ? h('p', { dir: 'auto' }, preview) : null,
      );
      ul.append(li);
      items.push({ li, text: fold(`${quote} ${body}`), group: section });
    }
    return section;
  }

  return {
    /** Fetch every page of the trials and the notes, then draw them (again). */
    async load() {
      if (loading) return;
      alert.textContent = '';
      if (!hasNotebook()) {
        items = [];
        list.replaceChildren();
        filter();
        return;
      }
      loading = true;
      status.textContent = t('loadingNotes');
      try {
        const [trials, notes] = await Promise.all([
          api.all('/api/v1/notebooks/me/trials', 'trials', 100),
          api.all('/api/v1/notebooks/me/notes', 'notes', 100),
        ]);
        items = [];
        list.replaceChildren(
          ...groupByTrial(/** @type {TrialNotes[]} */ (trials), /** @type {Note[]} */ (notes)).map(drawGroup),
        );
        filter();
      } catch (err) {
        status.textContent = '';
        alert.textContent = (err instanceof Error && err.message) || String(err);
      } finally {
        loading = false;
      }
    },
  };
}
