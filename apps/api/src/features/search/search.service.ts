/**
 * Full-text search over the PostgreSQL history (docs/decisions/search.md): the chats and
 * messages the user may open, by the words of their titles and contents.
 */
import type { SearchResponse, SearchResult } from '@simorgh/contracts';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { AppError } from '../../http/app-error.js';
import { chatsUserMayOpen, type SharedProjectsOf } from './chats-user-may-open.js';
import { decodeSearchCursor, encodeSearchCursor } from './search-cursor.js';
import { createSearchStore } from './search.store.js';
import { plainText } from './plain-text.js';
import { excerpt, matchesTerms, wordsOf, type Word } from './snippets.js';

export type SearchInput = {
  q: string;
  limit: number;
  cursor?: string | undefined;
  chat_type?: 'general' | 'project' | undefined;
  project_number?: string | undefined;
};

/** A word search_normalize() only lowercases. */
const ASCII_WORD = /^[A-Za-z0-9]+$/;

/** Words normalized by PostgreSQL, kept: the same words come back in result after result. */
const NORMALIZED_WORDS_MAX = 50_000;

/**
 * Messages as read (markdown to text, its words), kept by their markdown: a pure function of it,
 * and the same messages come back page after page as the user types. Bounded by their size in
 * UTF-16 units (a word's offsets counted as WORD_UNITS): ~16 MB.
 */
const READABLE_UNITS_MAX = 4_000_000;
const WORD_UNITS = 40;

/** A text as the reader sees it and its words, what snippets and highlights are cut from. */
type Readable = { text: string; words: Word[] };

/** Errors that mean PostgreSQL cannot be reached or is going away, not a fault in a query. */
function unreachable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (/^(08|57P)/.test(code) || /^E[A-Z]+$/.test(code))) return true;
  return /timeout|terminated|connect/i.test(error.message);
}

/** `sharedProjectsOf`: the chats service's, so search shows shared chats under current TPMS permission. */
export function createSearchService(db: Kysely<unknown>, sharedProjectsOf: SharedProjectsOf) {
  const store = createSearchStore(db);
  const normalizedWords = new LRUCache<string, string>({ max: NORMALIZED_WORDS_MAX });
  const readableMessages = new LRUCache<string, Readable>({
    maxSize: READABLE_UNITS_MAX,
    sizeCalculation: (value, markdown) => markdown.length + value.text.length + value.words.length * WORD_UNITS + 1,
  });

  /** A message's text once its markdown is rendered, and its words (a title is text as it is). */
  function readable(text: string, isTitle: boolean): Readable {
    if (isTitle) return { text, words: wordsOf(text) };
    let found = readableMessages.get(text);
    if (!found) {
      const plain = plainText(text);
      found = { text: plain, words: wordsOf(plain) };
      readableMessages.set(text, found);
    }
    return found;
  }

  /**
   * The highlights in each text, normalizing the words not seen before in one query. A word of
   * ASCII letters and digits is its own normalization once lowercased (search_normalize() changes
   * only other characters, and case), so only the others are looked up.
   */
  async function highlightsOf(words: Word[][], terms: string[]): Promise<Array<Array<[number, number]>>> {
    const unknown = new Set<string>();
    for (const list of words) for (const word of list) if (!ASCII_WORD.test(word.text) && !normalizedWords.has(word.text)) unknown.add(word.text);
    for (const [word, normalized] of await store.normalizeWords([...unknown])) normalizedWords.set(word, normalized);
    const normalizedOf = (word: string) => (ASCII_WORD.test(word) ? word.toLowerCase() : (normalizedWords.get(word) ?? word.toLowerCase()));
    return words.map((list) => list.filter((word) => matchesTerms(normalizedOf(word.text), terms)).map((word): [number, number] => [word.start, word.end]));
  }

  async function run(userId: string, input: SearchInput): Promise<SearchResponse> {
    const after = input.cursor === undefined ? null : decodeSearchCursor(input.cursor);
    const visible = await chatsUserMayOpen(userId, sharedProjectsOf);
    // The query's words and the page, in one statement; no rows when nothing can match.
    const { terms, hits } = await store.page({
      q: input.q,
      visible,
      ...(input.chat_type ? { chatType: input.chat_type } : {}),
      ...(input.project_number ? { projectNumber: input.project_number } : {}),
      after,
      limit: input.limit,
    });
    const page = hits.slice(0, input.limit);
    // A message is shown as its markdown reads once rendered; highlights are offsets into that text.
    const texts = page.map((hit) => readable(hit.text, hit.is_title));
    const highlights = await highlightsOf(texts.map((entry) => entry.words), terms);
    const results = page.map((hit, index): SearchResult => {
      const matched = highlights[index] ?? [];
      const text = texts[index]?.text ?? '';
      const { snippet, highlights: marks } = hit.is_title ? { snippet: text, highlights: matched } : excerpt(text, matched);
      return {
        chat_id: hit.chat_id,
        chat_name: hit.chat_name,
        chat_type: hit.chat_type,
        project_number: hit.project_number,
        project_name: hit.project_name,
        page_name: hit.page_name,
        message_id: hit.message_id,
        role: hit.role,
        snippet,
        highlights: marks,
        created_at: hit.created_at.toISOString(),
      };
    });
    const last = page.at(-1);
    const next_cursor =
      hits.length > input.limit && last ? encodeSearchCursor({ title: last.is_title, rank: last.rank, createdMs: last.created_at.getTime(), id: last.id }) : null;
    return { results, next_cursor };
  }

  return {
    /** One page of results; PostgreSQL unreachable → 503 (chatting itself never waits for it). */
    async search(userId: string, input: SearchInput): Promise<SearchResponse> {
      try {
        return await run(userId, input);
      } catch (error) {
        if (error instanceof AppError || !unreachable(error)) throw error;
        throw new AppError('upstream_unavailable', 'Search is unavailable for the moment (the history database does not answer); try again shortly.');
      }
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
