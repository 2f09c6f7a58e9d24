// @ts-check
// Pure anchoring over a string: W3C text-quote/text-position selectors <-> offsets.
// No DOM here, so every rule is tested on plain strings (test/anchoring.test.js).
//
// Offsets inside the widget are UTF-16 code units (what JavaScript strings and
// DOM Ranges use); TextPositionSelector offsets on the wire are Unicode code
// points (the W3C model, and Python's len()), so the two are converted here.
//
// The approximate matcher (approx-string-match) is fetched on demand (loadApprox): most passages
// are found at their position or by exact search, and only a passage edited since it was
// highlighted, or a quote whose context changed, needs it. Until it is here such a note's
// anchoring answers undefined ("ask again with the matcher"), never a different answer.

// The reference client's weights: the quote matters most, its context next,
// the expected position only breaks ties.
const QUOTE_WEIGHT = 50;
const PREFIX_WEIGHT = 20;
const SUFFIX_WEIGHT = 20;
const POSITION_WEIGHT = 2;
const TOTAL_WEIGHT = QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT;

// Fuzzy search always returns *some* best candidate; below this combined
// score it is more likely a different passage than an edited one, so the note
// is orphaned rather than pinned to the wrong words.
export const SCORE_FLOOR = 0.75;

/** Context kept on each side of a quote: this many characters once white space is folded... */
export const CONTEXT_LENGTH = 32;
/** ...but never more than this many UTF-16 units (the server allows 64 code points). */
const CONTEXT_MAX = 64;

const PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** @type {typeof import('approx-string-match').default | null} the approximate matcher, once fetched */
let approxSearch = null;
/** @type {Promise<void> | null} */
let approxLoading = null;
/** Thrown inside a search that needs the approximate matcher before it is here. */
const NO_APPROX = Symbol('no approximate matcher');

/** Fetch the approximate matcher (once; a failed fetch is tried again next time). */
export function loadApprox() {
  return (approxLoading ??= import('approx-string-match').then(
    (m) => {
      approxSearch = m.default;
    },
    (err) => {
      approxLoading = null;
      throw err;
    },
  ));
}

/**
 * The W3C selectors the service stores; positions in code points.
 * @typedef {{type: 'TextQuoteSelector', exact: string, prefix?: string, suffix?: string}} QuoteSelector
 * @typedef {{type: 'TextPositionSelector', start: number, end: number}} PositionSelector
 * @typedef {QuoteSelector | PositionSelector} Selector
 * @typedef {{start: number, end: number}} Span  UTF-16 offsets, end exclusive
 * @typedef {{prefix?: string, suffix?: string, hint?: number}} Context  what a quote is expected next to
 * @typedef {{start: number, end: number, errors: number}} Candidate
 * @typedef {ReturnType<typeof offsetConverter>} OffsetConverter
 */

/** Convert between code-point and UTF-16 offsets of one text, in O(log n) per call. */
export function offsetConverter(/** @type {string} */ text) {
  // UTF-16 index of the first unit of every surrogate pair (astral character).
  /** @type {number[]} */
  const pairs = [];
  for (const m of text.matchAll(PAIR)) pairs.push(m.index);
  // Number of pairs p (in order) for which test(p, index) holds; test is monotonic.
  const count = (/** @type {(p: number, i: number) => boolean} */ test) => {
    let lo = 0;
    let hi = pairs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(pairs[mid], mid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    // Pair i sits at code point pairs[i] - i; each one before `cp` adds a unit.
    toUtf16: (/** @type {number} */ cp) => cp + count((p, i) => p - i < cp),
    // Each pair that ends at or before `u` counted two units for one code point.
    toCodePoint: (/** @type {number} */ u) => u - count((p) => p + 2 <= u),
  };
}

const isSpace = (/** @type {string} */ ch) => /\s/.test(ch);

// A list item's numbering ("10.", "b)", "iv.") or bullet, as trial text writes it at the start
// of a line: a selection dragged across items picks up the next item's number at its end,
// and one started at an item's start its own. Neither belongs to the passage.
const MARKER = String.raw`(?:(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]|[*\-\u2022+])`;
// From the selection's start: white space, then a number if a line starts there.
const LEAD = new RegExp(String.raw`\s*(?:(?<=(?:^|\n)[^\S\n]*)${MARKER}\s+)?`, 'iy');
// To its end: white space, the next item's number on a line of its own, white space.
const TRAIL = new RegExp(String.raw`\s*(?:\n\s*${MARKER})?\s*$`, 'i');

/**
 * The passage a selection of text[start, end) stands for: without white space at either end,
 * an item number it starts with (at a line's start) or a next item's number it ends with.
 * Null when nothing is left.
 * @param {string} text @param {number} start @param {number} end
 * @returns {{start: number, end: number} | null}
 */
export function trimPassage(text, start, end) {
  const upTo = text.slice(0, end);
  LEAD.lastIndex = start;
  start += LEAD.exec(upTo)?.[0].length ?? 0;
  end -= TRAIL.exec(upTo.slice(start))?.[0].length ?? 0;
  return start < end ? { start, end } : null;
}

/**
 * Selectors for text[start, end) (UTF-16 offsets), white space trimmed off
 * both ends; null when nothing but white space is selected.
 * @param {string} text
 * @param {number} start
 * @param {number} end
 * @returns {[QuoteSelector, PositionSelector] | null}
 */
export function describeQuote(text, start, end) {
  const trimmed = trimPassage(text, start, end);
  if (!trimmed) return null;
  ({ start, end } = trimmed);
  let prefixStart = start - contextLength(text, start, -1);
  if (/[\uDC00-\uDFFF]/.test(text[prefixStart] ?? '')) prefixStart++; // don't split an emoji
  let suffixEnd = end + contextLength(text, end, 1);
  if (/[\uD800-\uDBFF]/.test(text[suffixEnd - 1] ?? '')) suffixEnd--;
  const convert = offsetConverter(text);
  return [
    {
      type: 'TextQuoteSelector',
      exact: text.slice(start, end),
      prefix: text.slice(prefixStart, start),
      suffix: text.slice(end, suffixEnd),
    },
    { type: 'TextPositionSelector', start: convert.toCodePoint(start), end: convert.toCodePoint(end) },
  ];
}

// Units of context from `at` in direction `step`: CONTEXT_LENGTH characters
// with runs of white space counted once (host pages indent their markup, and
// indentation tells nothing about where a quote is), at most CONTEXT_MAX.
function contextLength(/** @type {string} */ text, /** @type {number} */ at, /** @type {1 | -1} */ step) {
  let units = 0;
  let chars = 0;
  let wasSpace = false;
  for (let i = step < 0 ? at - 1 : at; i >= 0 && i < text.length && units < CONTEXT_MAX; i += step) {
    const space = isSpace(text[i]);
    if (!(space && wasSpace)) chars++;
    if (chars > CONTEXT_LENGTH) break;
    wasSpace = space;
    units++;
  }
  return units;
}

/**
 * Where the selectors point in `text`: {start, end} in UTF-16 offsets, or
 * null when the passage can't be found (the note is then orphaned), or undefined
 * when only the approximate matcher can tell and it is not here yet (loadApprox).
 * @param {string} text
 * @param {Selector[]} selectors
 * @param {OffsetConverter} [convert]
 * @returns {Span | null | undefined}
 *
 * Order: the position hint if the text there is still the quote; then exact
 * occurrences of the quote ranked by context; then the same on white-space
 * folded text, where an approximate match is allowed if it scores above
 * SCORE_FLOOR. `convert` is offsetConverter(text), passed in to share it
 * between the notes of one text.
 */
export function anchorSelectors(text, selectors, convert = offsetConverter(text)) {
  const quote = selectors.find((s) => s.type === 'TextQuoteSelector');
  const position = selectors.find((s) => s.type === 'TextPositionSelector');
  /** @type {number | undefined} */
  let hint;
  if (position) {
    const start = convert.toUtf16(position.start);
    const end = convert.toUtf16(position.end);
    if (!quote?.exact) return end > start && end <= text.length ? { start, end } : null;
    if (text.slice(start, end) === quote.exact) return { start, end };
    hint = start;
  }
  if (!quote?.exact) return null;
  try {
    return matchQuote(text, quote.exact, { prefix: quote.prefix, suffix: quote.suffix, hint });
  } catch (err) {
    if (err === NO_APPROX) return undefined;
    throw err;
  }
}

/**
 * Best place for `quote` in `text` given its expected context
 * ({prefix, suffix, hint}); {start, end, score} in UTF-16 offsets, or null.
 * Where no exact match settles it, it needs the approximate matcher (loadApprox).
 * @param {string} text
 * @param {string} quote
 * @param {Context} [context]
 * @returns {(Span & {score: number}) | null}
 */
export function matchQuote(text, quote, context = {}) {
  if (!quote) return null;
  const exact = bestMatch(text, quote, context, 0);
  // An exact quote is accepted whatever its context, as the server does when
  // it re-anchors: the words the user highlighted are there.
  if (exact) return exact;

  // Pages built from the same record differ in white space (indentation,
  // line breaks between list items), so search again with runs folded.
  const folded = foldSpace(text);
  const foldedQuote = foldSpace(quote).text;
  /** @type {Context} */
  const foldedContext = {
    prefix: context.prefix && foldSpace(context.prefix).text,
    suffix: context.suffix && foldSpace(context.suffix).text,
    hint: context.hint === undefined ? undefined : foldedIndex(folded.map, context.hint),
  };
  const maxErrors = Math.min(256, Math.floor(foldedQuote.length / 4));
  const best = bestMatch(folded.text, foldedQuote, foldedContext, maxErrors);
  if (!best || (best.errors > 0 && best.score < SCORE_FLOOR)) return null;
  return {
    start: folded.map[best.start],
    end: folded.map[best.end - 1] + 1,
    score: best.score,
  };
}

/**
 * @param {string} text
 * @param {string} quote
 * @param {Context} context
 * @param {number} maxErrors
 */
function bestMatch(text, quote, context, maxErrors) {
  /** @type {(Candidate & {score: number}) | null} */
  let best = null;
  for (const candidate of search(text, quote, maxErrors)) {
    const score = scoreCandidate(text, quote, context, candidate);
    if (!best || score > best.score) best = { ...candidate, score };
  }
  return best;
}

/**
 * Exact occurrences if any, else approximate ones within maxErrors edits.
 * @param {string} text
 * @param {string} pattern
 * @param {number} maxErrors
 * @returns {Candidate[]}
 */
function search(text, pattern, maxErrors) {
  /** @type {Candidate[]} */
  const found = [];
  for (let i = text.indexOf(pattern); i !== -1; i = text.indexOf(pattern, i + 1)) {
    found.push({ start: i, end: i + pattern.length, errors: 0 });
  }
  if (found.length || maxErrors <= 0) return found;
  if (!approxSearch) throw NO_APPROX;
  return approxSearch(text, pattern, maxErrors);
}

/**
 * Combined score in [0, 1] of one candidate (the reference client's weighting).
 * @param {string} text
 * @param {string} quote
 * @param {Context} context
 * @param {Candidate} match
 */
function scoreCandidate(text, quote, { prefix, suffix, hint }, match) {
  const quoteScore = 1 - match.errors / quote.length;
  const prefixScore = prefix
    ? similarity(text.slice(Math.max(0, match.start - prefix.length), match.start), prefix)
    : 1;
  const suffixScore = suffix ? similarity(text.slice(match.end, match.end + suffix.length), suffix) : 1;
  const positionScore =
    typeof hint === 'number' ? 1 - Math.abs(match.start - hint) / Math.max(1, text.length) : 1;
  return (
    (QUOTE_WEIGHT * quoteScore +
      PREFIX_WEIGHT * prefixScore +
      SUFFIX_WEIGHT * suffixScore +
      POSITION_WEIGHT * positionScore) /
    TOTAL_WEIGHT
  );
}

/** How well `str` is found inside `window`: 1 - edits / length. */
function similarity(/** @type {string} */ window, /** @type {string} */ str) {
  if (!window) return 0;
  const matches = search(window, str, str.length);
  if (!matches.length) return 0;
  return 1 - Math.min(...matches.map((m) => m.errors)) / str.length;
}

/** Each run of white space becomes one space; map[i] is the raw index of folded char i. */
export function foldSpace(/** @type {string} */ text) {
  /** @type {number[]} */
  const map = [];
  let out = '';
  let inRun = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text[i]);
    if (space && inRun) continue;
    inRun = space;
    out += space ? ' ' : text[i];
    map.push(i);
  }
  return { text: out, map };
}

function foldedIndex(/** @type {number[]} */ map, /** @type {number} */ raw) {
  let lo = 0;
  let hi = map.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid] < raw) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
