import type { ChatType, MessageRole } from '@simorgh/contracts';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ChatsUserMayOpen } from './chats-user-may-open.js';
import type { SearchPosition } from './search-cursor.js';

/** One matching message or chat title, before its snippet is cut. */
export type SearchHit = {
  is_title: boolean;
  id: string;
  rank: number;
  created_at: Date;
  chat_id: string;
  chat_name: string;
  chat_type: ChatType;
  project_number: string | null;
  project_name: string | null;
  page_name: string | null;
  message_id: string | null;
  role: MessageRole | null;
  text: string;
};

/** The query's words as the indexes hold them, and what the last one may be the beginning of. */
export type QueryWords = {
  /** search_terms(): every one required, the last one also as a prefix. */
  terms: string[];
  /**
   * The words in the history that begin with the last term (search_words), or null when there
   * are more than COMPLETIONS_MAX: the indexes are then asked for the prefix itself.
   */
  completions: string[] | null;
};

export type HitQuery = {
  words: QueryWords;
  /** The chats the user may open. */
  visible: ChatsUserMayOpen;
  chatType?: ChatType;
  projectNumber?: string;
  after: SearchPosition | null;
  limit: number;
};

/**
 * How many of the newest matching messages are ranked: a word in a third of a user's 200 000
 * messages would otherwise rank ~67 000 rows for every page. Titles are all ranked (a user has
 * a bounded number of chats).
 */
export const SEARCH_CANDIDATES = 500;

/**
 * How many words a prefix is completed into at most; a shorter prefix (`c`, `co`) is asked of
 * the indexes as a prefix.
 */
export const COMPLETIONS_MAX = 32;

/** A word as a tsquery operand: quoted, so it is never parsed again. */
const operand = (word: string) => `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/** A tsquery literal: every term required, the last also as a prefix. What results are ranked by. */
export function tsqueryOf(terms: string[]): string {
  return terms.map((term, index) => `${operand(term)}${index === terms.length - 1 ? ':*' : ''}`).join(' & ');
}

/**
 * The tsquery that finds the same texts as tsqueryOf(terms), with the last term replaced by the
 * words it completes to (when known): exact words take part in the GIN index's intersection, a
 * prefix merges the posting lists of every word with that beginning first.
 */
export function matchingTsquery({ terms, completions }: QueryWords): string {
  if (completions === null || completions.length === 0) return tsqueryOf(terms);
  return [...terms.slice(0, -1).map(operand), `(${completions.map(operand).join(' | ')})`].join(' & ');
}

/** The SQL of search, over the `chats` and `messages` tables the history mirror keeps. */
export function createSearchStore(db: Kysely<unknown>) {
  return {
    /** The query's words normalized and split exactly as the indexed text is, and the last one's completions. */
    async words(q: string): Promise<QueryWords> {
      const { rows } = await sql<QueryWords>`
        SELECT terms, COALESCE(search_completions(terms[cardinality(terms)], ${COMPLETIONS_MAX + 1}), '{}') AS completions
        FROM search_terms(${q}) AS terms`.execute(db);
      const words = rows[0] ?? { terms: [], completions: [] };
      return { terms: words.terms, completions: (words.completions?.length ?? 0) > COMPLETIONS_MAX ? null : words.completions };
    },

    /** Each word as search_normalize() writes it: what highlights compare with the terms. */
    async normalizeWords(words: string[]): Promise<Map<string, string>> {
      if (words.length === 0) return new Map();
      const { rows } = await sql<{ word: string; normalized: string }>`
        SELECT word, search_normalize(word) AS normalized FROM unnest(${words}::text[]) AS word`.execute(db);
      return new Map(rows.map((row) => [row.word, row.normalized]));
    },

    /** One page of hits plus one, in result order (title first, rank, newest, ID; all descending). */
    async hits(query: HitQuery): Promise<SearchHit[]> {
      // The tsquery is a bound value, not a CTE, so the planner sees it and estimates how many
      // messages match: a common word walks the user's messages newest first (messages_owner_created)
      // until it has the candidates; a rarer one takes the user's matches from the GIN index on
      // (owner_id, content_search). The chats shared with the user are a branch of their own
      // (docs/decisions/search.md).
      // The index scans of the user's own messages and titles ask for the words the last term
      // completes to; results are ranked by the query as typed (the prefix), so ranks do not
      // depend on the completions. The shared chats' branches keep the prefix: with the exact
      // words the planner underestimates matches and checks every message of every shared chat.
      const tsq = sql`${matchingTsquery(query.words)}::tsquery`;
      const typed = sql`${tsqueryOf(query.words.terms)}::tsquery`;
      const filters: RawBuilder<unknown>[] = [];
      if (query.chatType) filters.push(sql`c.chat_type = ${query.chatType}`);
      if (query.projectNumber) filters.push(sql`c.project_number = ${query.projectNumber}`);
      const onChat = (visible: RawBuilder<boolean>) => sql.join([visible, ...filters], sql` AND `);
      const after = query.after
        ? sql`WHERE (hit.is_title, hit.rank, hit.created_at, hit.id) < (${query.after.title}, ${query.after.rank}::real, ${new Date(query.after.createdMs)}::timestamptz, ${query.after.id})`
        : sql``;
      const newest = sql`ORDER BY m.created_at DESC, m.message_id DESC LIMIT ${SEARCH_CANDIDATES}`;
      // The user's own messages by their owner column alone; their chat is read only to filter by it.
      const ownChat = filters.length > 0 ? sql`JOIN chats c ON c.chat_id = m.chat_id AND ${sql.join(filters, sql` AND `)}` : sql``;
      // The newest matches in the chats shared with the user. Those older than the user's own
      // newest candidates cannot be among the newest: with a common word that leaves the last days
      // of the shared chats to read (messages_chat_created). The two branches are planned apart
      // and only the one whose condition holds runs, so a rare word still takes its few matches
      // from the GIN index.
      const sharedNewest = (when: RawBuilder<unknown>) => sql`
        (SELECT m.message_id, m.created_at, m.chat_id, m.content_search
         FROM chats c JOIN messages m ON m.chat_id = c.chat_id
         WHERE ${onChat(query.visible.sharedWith('c'))} AND m.content_search @@ ${typed} AND ${when}
         ${newest})`;
      // Titles rank before every message: when the titles after the cursor fill the page, the
      // messages are never read (the candidates' branch is cut by a one-time filter, and `own`,
      // a CTE, runs only when read).
      // The user's own titles by their owner (chats_owner_title_search), the shared ones through the sharing indexes.
      const titlesOf = (visible: RawBuilder<boolean>) => sql`
          SELECT true AS is_title, c.chat_id AS id, ts_rank(c.title_search, ${typed}) AS rank, c.created_at, c.chat_id, NULL::text AS message_id
          FROM chats c
          WHERE c.title_search @@ ${tsq} AND ${onChat(visible)}`;
      const titlesAfter = sql`(SELECT count(*) FROM titles AS hit ${after})`;
      const statement = sql<SearchHit>`
        WITH titles AS MATERIALIZED (
          ${titlesOf(query.visible.owned('c', 'chats'))}
          UNION ALL
          ${titlesOf(query.visible.sharedWith('c'))}
        ), own AS MATERIALIZED (
          SELECT m.message_id, m.created_at, m.chat_id, m.content_search
          FROM messages m ${ownChat}
          WHERE ${query.visible.owned('m', 'messages')} AND m.content_search @@ ${tsq}
          ${newest}
        )
        SELECT hit.is_title, hit.id, hit.rank, hit.created_at,
               c.chat_id, c.chat_name, c.chat_type, c.project_number, c.project_name, c.page_name,
               hit.message_id, m.role, COALESCE(m.content, c.chat_name) AS text
        FROM (
          SELECT * FROM (
            SELECT * FROM titles
            UNION ALL
            SELECT false, candidate.message_id, ts_rank(candidate.content_search, ${typed}), candidate.created_at, candidate.chat_id, candidate.message_id
            FROM (
              SELECT * FROM own
              UNION ALL
              ${sharedNewest(sql`(SELECT count(*) FROM own) = ${SEARCH_CANDIDATES} AND m.created_at >= (SELECT min(created_at) FROM own)`)}
              UNION ALL
              ${sharedNewest(sql`(SELECT count(*) FROM own) < ${SEARCH_CANDIDATES}`)}
              ORDER BY created_at DESC, message_id DESC
              LIMIT ${SEARCH_CANDIDATES}
            ) AS candidate
            WHERE ${titlesAfter} <= ${query.limit}
          ) AS hit
          ${after}
          ORDER BY hit.is_title DESC, hit.rank DESC, hit.created_at DESC, hit.id DESC
          LIMIT ${query.limit + 1}
        ) AS hit
        JOIN chats c ON c.chat_id = hit.chat_id
        LEFT JOIN messages m ON m.message_id = hit.message_id
        ORDER BY hit.is_title DESC, hit.rank DESC, hit.created_at DESC, hit.id DESC`;
      // No parallel plan (the pool's sessions have none, postgres.ts): its branches that never run
      // would still start their workers.
      return (await statement.execute(db)).rows;
    },
  };
}

export type SearchStore = ReturnType<typeof createSearchStore>;
