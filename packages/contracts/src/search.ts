import { z } from 'zod';
import { ChatTypeSchema } from './chats.js';
import { MessageRoleSchema } from './messages.js';
import { ProjectNumberSchema } from './projects.js';

export const SEARCH_QUERY_MAX = 200;
export const SEARCH_LIMIT_DEFAULT = 20;
export const SEARCH_LIMIT_MAX = 50;

/**
 * GET /api/search: every word of `q` must appear (any order), the last one also as a prefix;
 * case, accents, Arabic/Persian letter forms, ZWNJ, tatweel and digit scripts do not matter.
 */
export const SearchQuerySchema = z.object({
  q: z
    .string()
    .trim()
    .min(1, 'q must not be empty')
    .max(SEARCH_QUERY_MAX, `q must be at most ${SEARCH_QUERY_MAX} characters`),
  limit: z.coerce.number().int().min(1).max(SEARCH_LIMIT_MAX).default(SEARCH_LIMIT_DEFAULT),
  cursor: z.string().max(500).optional(),
  chat_type: ChatTypeSchema.optional(),
  project_number: ProjectNumberSchema.optional(),
});
export type SearchQuery = z.input<typeof SearchQuerySchema>;

/** [start, end) in UTF-16 code units of `snippet`, the unit of JavaScript string indexes. */
export const HighlightSchema = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);
export type Highlight = z.infer<typeof HighlightSchema>;

/**
 * One matching message (`message_id` set, `snippet` an excerpt around the match) or one chat
 * whose title matches (`message_id` null, `snippet` the title). No HTML: the client marks
 * `highlights` itself.
 */
export const SearchResultSchema = z.object({
  chat_id: z.string(),
  chat_name: z.string(),
  chat_type: ChatTypeSchema,
  project_number: z.string().nullable(),
  project_name: z.string().nullable(),
  page_name: z.string().nullable(),
  message_id: z.string().nullable(),
  role: MessageRoleSchema.nullable(),
  snippet: z.string(),
  highlights: z.array(HighlightSchema),
  created_at: z.string(),
});
export type SearchResult = z.infer<typeof SearchResultSchema>;

/** Title matches first, then relevance, then the newest; `next_cursor` null on the last page. */
export const SearchResponseSchema = z.object({
  results: z.array(SearchResultSchema),
  next_cursor: z.string().nullable(),
});
export type SearchResponse = z.infer<typeof SearchResponseSchema>;
