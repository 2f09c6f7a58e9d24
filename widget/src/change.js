// @ts-check
// "The trial's text changed here": a note whose passage is not the text it was highlighted on
// (anchor "changed") shows the words before and after, and "Keep on the new text". Part of the
// note dialog, so loaded with the dialogs, on demand.
import { h } from './dom.js';
import { language, t } from './i18n.js';

/** "2026-11-30" as "30 November 2026" (the date as written, whatever the reader's time zone). */
export const changeDate = (/** @type {string | null} */ since) =>
  since && /^\d{4}-\d{2}(-\d{2})?$/.test(since)
    ? new Date(since.length === 7 ? `${since}-01` : since).toLocaleDateString(language(), {
        timeZone: 'UTC',
        ...(since.length === 7 ? {} : { day: 'numeric' }),
        month: 'long',
        year: 'numeric',
      })
    : since;

/**
 * The change's box: the date, the words highlighted, the words now (or that they are gone),
 * and a "Keep on the new text" button that calls `accept(button)`.
 * @param {import('./api.js').Change} change
 * @param {(button: HTMLButtonElement) => void} accept
 */
export function changeBox(change, accept) {
  const date = changeDate(change.since);
  const keep = h('button', { class: 'primary' }, t(change.after === null ? 'keepWithout' : 'keepOnNew'));
  keep.addEventListener('click', () => accept(keep));
  return h(
    'div',
    { class: 'note-box' },
    h('p', null, h('strong', null, date ? t('changedOn', { date }) : t('changedHere'))),
    h('p', { class: 'muted' }, t('asHighlighted')),
    h('blockquote', { dir: 'auto' }, change.before),
    change.after === null
      ? h('p', null, t('passageGone'))
      : [h('p', { class: 'muted' }, t('asNow')), h('blockquote', { dir: 'auto' }, change.after)],
    h(
      'p',
      { class: 'muted' },
      change.after === null
        ? t('keepWithoutHint')
        : t('keepOnNewHint'),
    ),
    h('div', { class: 'row' }, keep),
  );
}
