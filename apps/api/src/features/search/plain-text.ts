/**
 * A message's text as a reader sees it once its markdown is rendered, for search snippets:
 * markup (headings, quote and list markers, emphasis, strikethrough, code spans and fences,
 * rules, table separator rows, link and image syntax, backslash escapes) is dropped, the text
 * itself kept, and whitespace runs (line breaks included) become one space. Highlights are
 * computed on the result, so their offsets are offsets into what the snippet shows.
 *
 * Not a markdown parser: a linear pass of a few regexps, good enough for a one-line excerpt and
 * cheap on a long reply. Ambiguous characters are kept where they read as text: `2*3`,
 * `a * b` and `snake_case` stay as written.
 */

/** Lines that are only markup: code fences (their content stays), thematic breaks, setext underlines, table separator rows. */
const MARKUP_LINE = /^[ \t]*(?:(?:`{3,}|~{3,})[^\n]*|(?:[-*_][ \t]*){3,}|=+[ \t]*|\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*)$/gm;

/** Markers at the start of a line, nested ones too: heading, block quote, bullet (with a task box), ordered item. */
const LINE_START = /^[ \t]*(?:(?:#{1,6}|>|[-*+](?:[ \t]+\[[ xX]\])?|\d{1,9}[.)])(?:[ \t]+|$))+/gm;

/**
 * Inline markup, in one pass so that an escaped character is never read as markup: a backslash
 * escape, an image or link (its text kept), a code span (its content kept), a run of emphasis
 * or strikethrough characters.
 */
const INLINE = /\\([!-/:-@[-`{-~])|!?\[([^\]\n]*)\]\([^)\s]*(?:[ \t]+"[^"\n]*")?\)|(`+)(.+?)\3|\*+|_+|~~+/g;

const WORD_CHARACTER = /[\p{L}\p{M}\p{N}]/u;
const SPACE = /\s/;

/**
 * Whether a run of `*`, `_` or `~` at `start`..`end` is emphasis markup: not between two word
 * characters (`snake_case`, `2*3`) and not between two spaces (`a * b`).
 */
function isEmphasis(text: string, start: number, end: number): boolean {
  const before = text[start - 1] ?? ' ';
  const after = text[end] ?? ' ';
  if (WORD_CHARACTER.test(before) && WORD_CHARACTER.test(after)) return false;
  return !(SPACE.test(before) && SPACE.test(after));
}

export function plainText(markdown: string): string {
  const lines = markdown.replace(MARKUP_LINE, '').replace(LINE_START, '');
  const inline = lines.replace(INLINE, (match: string, escaped?: string, linkText?: string, _ticks?: string, code?: string, offset = 0) => {
    if (escaped !== undefined) return escaped;
    if (linkText !== undefined) return linkText;
    if (code !== undefined) return code.trim() === '' ? code : code.replace(/^ (.*) $/s, '$1');
    return isEmphasis(lines, offset, offset + match.length) ? '' : match;
  });
  return inline.replace(/\s+/g, ' ').trim();
}
