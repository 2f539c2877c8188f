import type { Highlight } from '@simorgh/contracts';

/** Longest excerpt of a message, in UTF-16 code units, before the ellipses. */
export const SNIPPET_MAX = 180;
/** How much text an excerpt keeps before its first match. */
const LEAD = 50;
const ELLIPSIS = '…';

export type Word = { text: string; start: number; end: number };

/**
 * Words as the reader sees them: letters, marks and digits (ZWNJ and tatweel inside a word, a
 * decimal point between digits). Offsets are UTF-16 code units, as JavaScript indexes strings.
 */
const WORD = /[\p{L}\p{M}\p{N}\u200c\u0640]+(?:[.\u066b]\p{N}+)*/gu;

export function wordsOf(text: string): Word[] {
  return [...text.matchAll(WORD)].map((match) => ({ text: match[0], start: match.index, end: match.index + match[0].length }));
}

/**
 * Whether a word (normalized by search_normalize) is one the query asked for: equal to a term,
 * or starting with the last one (the prefix still being typed).
 */
export function matchesTerms(normalized: string, terms: string[]): boolean {
  const last = terms.length - 1;
  return terms.some((term, index) => normalized === term || (index === last && normalized.startsWith(term)));
}

const isLowSurrogate = (text: string, index: number) => {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff;
};

/**
 * An excerpt of `text` around its first match, cut at spaces (never inside a surrogate pair),
 * line breaks shown as spaces, with the matches' offsets moved into it. A short text is whole.
 */
export function excerpt(text: string, matches: Highlight[]): { snippet: string; highlights: Highlight[] } {
  const flat = text.replace(/\s/g, ' ');
  if (text.length <= SNIPPET_MAX) return { snippet: flat, highlights: matches };
  const first = matches[0]?.[0] ?? 0;
  let start = Math.max(0, first - LEAD);
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    start = space !== -1 && space < first ? space + 1 : start;
    if (isLowSurrogate(flat, start)) start -= 1;
  }
  let end = Math.min(flat.length, start + SNIPPET_MAX);
  if (end < flat.length) {
    const space = flat.lastIndexOf(' ', end);
    if (space > (matches[0]?.[1] ?? start)) end = space;
    if (isLowSurrogate(flat, end)) end -= 1;
  }
  const prefix = start > 0 ? ELLIPSIS : '';
  const snippet = prefix + flat.slice(start, end).trimEnd() + (end < flat.length ? ELLIPSIS : '');
  const shift = prefix.length - start;
  const highlights = matches
    .filter(([from, to]) => from >= start && to <= end)
    .map(([from, to]): Highlight => [from + shift, to + shift]);
  return { snippet, highlights };
}
