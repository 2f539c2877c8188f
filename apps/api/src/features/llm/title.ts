import { PLACEHOLDER_TITLE } from '@simorgh/contracts';

export const TITLE_MAX_CHARS = 60;
const FALLBACK_WORDS = 6;
/** What a chat is called when even its first message yields no usable words. */
export const UNTITLED = 'Untitled conversation';

/**
 * The title request's system prompt. The phrase "conversation title" is also how the local
 * test server tells title requests from chat requests.
 */
export const TITLE_SYSTEM_PROMPT = [
  'You write a short conversation title for a chat that starts with the message below.',
  'Reply with the title only: 2 to 6 words, in the same language as the message.',
  'No quotes, no emoji, no trailing punctuation, no explanation.',
].join(' ');

/** The most of the first message a title request carries; the opening says what it is about. */
export const TITLE_INPUT_MAX_CHARS = 2000;

const THINK_BLOCK = /<think(?:ing)?>[\s\S]*?<\/think(?:ing)?>/gi;
// A reasoning model cut off mid-thought leaves an unclosed tag: nothing after it is a title.
const UNCLOSED_THINK = /<think(?:ing)?>[\s\S]*$/i;
const TITLE_LABEL = /^(?:title|conversation title|chat title|عنوان)\s*[:：-]\s*/i;
const QUOTES = /["'`“”‘’«»„‚‹›「」『』]/g;
// Alternation, not a character class: joiners and variation selectors combine with neighbours.
const EMOJI = /\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}]|\u{FE0F}|\u{200D}|\u{20E3}/gu;
// Emphasis and heading marks; underscores stay because identifiers like flow_rate use them.
const MARKDOWN = /\*+|~~|^#+\s*|^>\s*/g;
const TRAILING_PUNCTUATION = /[\s.,;:!?؟،؛…。！？、·\-–—]+$/u;
const LEADING_PUNCTUATION = /^[\s.,;:!?؟،؛…。！？、·\-–—]+/u;

/** Cuts at a word boundary when one is reasonably close to the limit. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return space >= max / 2 ? cut.slice(0, space) : cut;
}

function tidy(text: string): string {
  return text
    .replace(EMOJI, '')
    .replace(QUOTES, '')
    .replace(MARKDOWN, '')
    .replace(/\s+/g, ' ')
    .replace(LEADING_PUNCTUATION, '')
    .replace(TRAILING_PUNCTUATION, '')
    .trim();
}

/**
 * Turns what a model answered into a title, or null when nothing usable is left.
 * Models wrap titles in quotes, prefix "Title:", add a full stop or emoji, think aloud in
 * <think> blocks, or explain themselves on the next lines: keep only the first real line.
 */
export function cleanTitle(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const withoutThinking = raw.replace(THINK_BLOCK, '\n').replace(UNCLOSED_THINK, '');
  const firstLine = withoutThinking
    .split(/\r?\n/)
    .map((line) => tidy(line.replace(/^\s*[*_#>\s]*/, '').replace(TITLE_LABEL, '')))
    .find((line) => line.length > 0);
  if (!firstLine) return null;
  const title = tidy(truncate(firstLine.replace(TITLE_LABEL, ''), TITLE_MAX_CHARS));
  if (!/[\p{L}\p{N}]/u.test(title)) return null;
  // A model echoing the placeholder has not given a title.
  if (title.toLowerCase() === PLACEHOLDER_TITLE.toLowerCase()) return null;
  return title;
}

/**
 * A title from the first words of the message, for when no model is configured or its answer
 * is unusable. Code blocks and links are skipped when there are other words to use.
 */
export function fallbackTitle(message: string): string {
  const prose = message
    .replace(/```[\s\S]*?(```|$)/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/`/g, ' ');
  for (const source of [prose, message]) {
    const words = tidy(source)
      .split(' ')
      .map((word) => word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
      .filter((word) => /[\p{L}\p{N}]/u.test(word))
      .slice(0, FALLBACK_WORDS);
    if (words.length === 0) continue;
    const [first = '', ...rest] = words;
    const title = tidy(truncate([first.charAt(0).toUpperCase() + first.slice(1), ...rest].join(' '), TITLE_MAX_CHARS));
    if (title && title.toLowerCase() !== PLACEHOLDER_TITLE.toLowerCase()) return title;
  }
  return UNTITLED;
}
