// @ts-check
// Words for counts and dates, shared by the on-demand modules (dialogs, "My shares", replies):
// English grammar for one and many comes from Intl.PluralRules, not "note(s)".

const plural = new Intl.PluralRules('en');

/**
 * "1 note", "2 notes", "1,204 notes".
 * @param {number} n
 * @param {string} one
 * @param {string} other
 */
export const count = (n, one, other) => `${n.toLocaleString('en')} ${plural.select(n) === 'one' ? one : other}`;

/** "2 Dec 2026" in the reader's locale; '' for none. */
export const day = (/** @type {string | null | undefined} */ iso) =>
  iso ? new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' }) : '';

/** "2 Dec 2026, 14:05" in the reader's locale; '' for none. */
export const moment = (/** @type {string | null | undefined} */ iso) =>
  iso
    ? new Date(iso).toLocaleString(undefined, {
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
      })
    : '';
