// @ts-check
// The notes of this trial and where each one sits in the notes root's text:
// one record per note with its DOM Range (null when the passage is not on
// the page), kept in page order. No drawing and no interface here.
import { anchorSelectors, offsetConverter } from './anchoring.js';
import { textIndex } from './text-range.js';

/**
 * @typedef {import('./api.js').Note} Note
 * @typedef {{note: Note, range: Range | null, start: number, end: number}} NoteRecord
 *   `start` and `end` are the passage's text offsets, Infinity when it is not on the page.
 * @typedef {ReturnType<typeof textIndex>} TextIndex
 * @typedef {ReturnType<typeof createNotesStore>} NotesStore
 */

/** The highlighted words of a note ('' when it has none or can't be read). */
export const quoteOf = (/** @type {Note} */ note) =>
  note.target?.selector?.find((s) => s.type === 'TextQuoteSelector')?.exact ?? '';

/**
 * Whether the service could open the note (its target and body are there).
 * @param {Note} note
 * @returns {note is Note & {target: import('./api.js').Target}}
 */
export const readable = (note) => note.readable !== false && Boolean(note.target);

/** The store for the notes root `getRoot()` (a page may add or replace it after load). */
export function createNotesStore(/** @type {() => Element | null} */ getRoot) {
  /** @type {NoteRecord[]} */
  let records = [];
  /** @type {TextIndex | null} */
  let index = null; // of the root, null when stale
  /** @type {ReturnType<typeof offsetConverter> | null} */
  let convert = null; // one code-point converter per text index, not one per note

  /** The root's text index, built again after the root changed. */
  function getIndex() {
    const root = getRoot();
    if (!index && root) {
      index = textIndex(root);
      convert = null;
    }
    return index;
  }

  /**
   * Find a record's passage in the root's text now; false when that needs the approximate matcher,
   * not fetched yet (anchoring.js's loadApprox): the record is left unplaced until it is here.
   */
  function anchor(/** @type {NoteRecord} */ record) {
    const { note } = record;
    const idx = getIndex();
    const found =
      idx && readable(note)
        ? anchorSelectors(idx.text, note.target.selector ?? [], (convert ??= offsetConverter(idx.text)))
        : null;
    record.range = found && idx ? idx.toRange(found.start, found.end) : null;
    record.start = found ? found.start : Infinity;
    record.end = found ? found.end : Infinity;
    return found !== undefined;
  }

  return {
    index: getIndex,

    /** The root's text changed: the next index is built afresh. */
    stale() {
      index = null;
    },

    find: (/** @type {string} */ id) => records.find((r) => r.note.id === id),

    /** Every record, in page order (ties by creation time); unplaced ones last. */
    ordered() {
      // Creation times compared as numbers (localeCompare is ICU collation, slow at 500 notes).
      const time = (/** @type {NoteRecord} */ r) => Date.parse(r.note.created_at) || 0;
      return records.sort((a, b) => a.start - b.start || time(a) - time(b));
    },

    /** Replace every note (a fresh load or another notebook); anchor them with anchorAll(). */
    set(/** @type {Note[]} */ notes) {
      records = notes.map((note) => ({ note, range: null, start: Infinity, end: Infinity }));
    },

    /**
     * Anchor every note again on a fresh index of the root; false when a note needs the approximate
     * matcher first (loadApprox, then anchor again).
     */
    anchorAll() {
      index = null;
      let settled = true;
      for (const record of records) settled = anchor(record) && settled;
      return settled;
    },

    /** Keep a note the service just made, anchored (the note actions fetch the approximate matcher first). */
    add(/** @type {Note} */ note) {
      /** @type {NoteRecord} */
      const record = { note, range: null, start: Infinity, end: Infinity };
      records.push(record);
      anchor(record);
    },

    /** A record's note as the service now has it, anchored again (as add()). */
    update(/** @type {NoteRecord} */ record, /** @type {Note} */ note) {
      record.note = note;
      anchor(record);
    },

    remove(/** @type {NoteRecord} */ record) {
      records = records.filter((r) => r !== record);
    },
  };
}
