import { createHash } from 'node:crypto';
import type { ChatType, MessageRole } from '@simorgh/contracts';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { prepared } from '../../postgres.js';
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

export type PageQuery = {
  /** The query as typed: its words are found by the statement (search_terms()). */
  q: string;
  /** The chats the user may open. */
  visible: ChatsUserMayOpen;
  chatType?: ChatType;
  projectNumber?: string;
  after: SearchPosition | null;
  limit: number;
};

/** One page of hits plus one, and the query's words as the indexes hold them (what highlights compare with). */
export type SearchPage = { terms: string[]; hits: SearchHit[] };

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

/**
 * The tag search_owner_month_words() (migration 0013) puts before each word of an owner's
 * messages, ahead of the month: the first 8 hex digits of md5(owner), the same in SQL and here.
 * Fixed in length, so it needs no separator; two owners may share one (the owner column is still
 * compared), never a word.
 */
export function ownerTag(owner: string): string {
  return createHash('md5').update(owner, 'utf8').digest('hex').slice(0, 8);
}

/** A word as a tsquery operand: quoted, so it is never parsed again. */
const operand = (word: RawBuilder<unknown>) => sql`'''' || replace(replace(${word}, '\', '\\'), '''', '''''') || ''''`;

/**
 * The query's words (search_terms(): normalized and split exactly as the indexed text is), as
 * `terms`, and two tsqueries of them. `typed`: every term required, the last also as a prefix;
 * what results are ranked by. `matching`: the same texts, with the last term replaced by the words
 * of the history it completes to (search_completions(), when at most COMPLETIONS_MAX): exact words
 * take part in the GIN index's intersection, where a prefix merges the posting lists of every word
 * with that beginning first. `in_titles`: whether a title may match (search_in_titles(): each term
 * but the last a word of some chat's title, the last the beginning of one); when not, titles are
 * not read. No row when nothing can match: no word in the query (only punctuation or symbols), or
 * no word of the history begins with the last one.
 */
const queryWords = (q: string) => sql`
  SELECT w.terms, search_in_titles(w.terms) AS in_titles,
         (SELECT string_agg(${operand(sql`t`)} || CASE WHEN i = cardinality(w.terms) THEN ':*' ELSE '' END, ' & ' ORDER BY i)
          FROM unnest(w.terms) WITH ORDINALITY AS u(t, i))::tsquery AS typed,
         (SELECT string_agg(part, ' & ' ORDER BY i) FROM (
            SELECT ${operand(sql`t`)} || CASE WHEN w.completions IS NULL AND i = cardinality(w.terms) THEN ':*' ELSE '' END AS part, i
            FROM unnest(w.terms) WITH ORDINALITY AS u(t, i)
            WHERE w.completions IS NULL OR i < cardinality(w.terms)
            UNION ALL
            SELECT '(' || string_agg(${operand(sql`c`)}, ' | ' ORDER BY j) || ')', cardinality(w.terms)
            FROM unnest(w.completions) WITH ORDINALITY AS v(c, j)
            HAVING count(*) > 0) AS parts)::tsquery AS matching
  FROM (
    SELECT terms, CASE WHEN cardinality(completions) > ${COMPLETIONS_MAX} THEN NULL ELSE completions END AS completions
    FROM search_terms(${q}) AS terms, COALESCE(search_completions(terms[cardinality(terms)], ${COMPLETIONS_MAX + 1}), '{}') AS completions
  ) AS w
  WHERE cardinality(w.terms) > 0 AND cardinality(w.completions) IS DISTINCT FROM 0`;

/** The SQL of search, over the `chats` and `messages` tables the history mirror keeps. */
export function createSearchStore(db: Kysely<unknown>) {
  return {
    /** Each word as search_normalize() writes it: what highlights compare with the terms. */
    async normalizeWords(words: string[]): Promise<Map<string, string>> {
      if (words.length === 0) return new Map();
      const { rows } = await prepared(sql<{ word: string; normalized: string }>`
        SELECT word, search_normalize(word) AS normalized FROM unnest(${words}::text[]) AS word`).execute(db);
      return new Map(rows.map((row) => [row.word, row.normalized]));
    },

    /**
     * One page of hits plus one, in result order (title first, rank, newest, ID; all descending),
     * and the query's words. Titles rank before every message: the query's words and the titles
     * are one statement, the messages another, run only when the titles after the cursor do not
     * fill the page, with the tsqueries the first made. Each is planned for what it reads alone
     * (docs/decisions/search.md).
     */
    async page(query: PageQuery): Promise<SearchPage> {
      const { rows } = await wordsAndTitles(query).execute(db);
      const words = rows[0];
      // No row: nothing can match (see queryWords).
      if (!words) return { terms: [], hits: [] };
      const titles = rows.filter((row): row is WordsAndTitle & SearchHit => row.id !== null);
      if (titles.length > query.limit) return { terms: words.terms, hits: titles };
      const tsqueries = { tsq: sql`${words.matching}::tsquery`, typed: sql`${words.typed}::tsquery` };
      const messages = await messageHits(query, tsqueries, query.limit + 1 - titles.length).execute(db);
      return { terms: words.terms, hits: [...titles, ...messages.rows] };
    },
  };
}

/** A row of wordsAndTitles(): the query's words and tsqueries, and a title hit (NULLs when there is none). */
type WordsAndTitle = { terms: string[]; matching: string; typed: string } & (SearchHit | { [K in keyof SearchHit]: null });

/** The query's words and the titles that match, after the cursor: one row per title, or one of NULLs. */
function wordsAndTitles(query: PageQuery): RawBuilder<WordsAndTitle> {
  return prepared(sql<WordsAndTitle>`
    WITH words AS MATERIALIZED (
      ${queryWords(query.q)}
    )
    SELECT words.terms, words.matching::text AS matching, words.typed::text AS typed, hit.*
    FROM words LEFT JOIN (
      SELECT true AS is_title, hit.*, NULL::text AS message_id, NULL::text AS role, hit.chat_name AS text FROM (${titleHits(query)}) AS hit
    ) AS hit ON true
    ORDER BY hit.rank DESC, hit.created_at DESC, hit.id DESC`);
}

/** The query's two tsqueries (see queryWords): what the indexes are asked for, what results are ranked by. */
type Tsqueries = { tsq: RawBuilder<unknown>; typed: RawBuilder<unknown> };

/** What the titles and the messages are read by: the query's tsqueries and the chat filters. */
function statementParts(query: PageQuery, { tsq, typed }: Tsqueries) {
  // The index scans of the user's own messages and titles ask for the words the last term
  // completes to (`tsq`); results are ranked by the query as typed (`typed`, the prefix), so
  // ranks do not depend on the completions. The shared chats' messages are asked for the prefix:
  // with the exact words the planner underestimates matches and checks every message of every
  // shared chat.
  const filters: RawBuilder<unknown>[] = [];
  if (query.chatType) filters.push(sql`c.chat_type = ${query.chatType}`);
  if (query.projectNumber) filters.push(sql`c.project_number = ${query.projectNumber}`);
  return {
    tsq,
    // The tag of the user's own words (search_owner_month_words(), migration 0013).
    tag: ownerTag(query.visible.userId),
    typed,
    filters,
    onChat: (visible: RawBuilder<boolean>) => sql.join([visible, ...filters], sql` AND `),
  };
}

/** Rows strictly after a position of their own kind (title or message), in result order. */
const afterPosition = (after: SearchPosition) =>
  sql`WHERE (hit.rank, hit.created_at, hit.id) < (${after.rank}::real, ${new Date(after.createdMs)}::timestamptz, ${after.id})`;

/**
 * The chats whose title matches, after the cursor (none after a message position), when a title
 * may match: the user's own by the words of their own titles (chats_owner_title_words, migration
 * 0018; the owner compared outside the index's scan, as for messages), the shared ones through
 * the sharing indexes.
 */
function titleHits(query: PageQuery): RawBuilder<unknown> {
  const { tsq, tag, typed, onChat } = statementParts(query, { tsq: sql`(SELECT matching FROM words)`, typed: sql`(SELECT typed FROM words)` });
  const titlesOf = (chats: RawBuilder<unknown>, visible: RawBuilder<boolean>) => sql`
    SELECT c.chat_id AS id, ts_rank(c.title_search, ${typed}) AS rank, c.created_at, c.chat_id, c.chat_name, c.chat_type,
           c.project_number, c.project_name, c.page_name
    FROM ${chats}
    WHERE (SELECT in_titles FROM words) AND ${onChat(visible)}`;
  const matching = sql`(SELECT * FROM chats c WHERE c.title_search @@ ${tsq}) AS c`;
  if (query.after !== null && !query.after.title) return titlesOf(matching, sql`false`);
  const ownMatching = sql`(
      SELECT * FROM chats c
      WHERE search_owner_title_words(c.user_id, c.title_search) @@ search_owner_window_query(${tsq}, ARRAY[${tag}]::text[])
      OFFSET 0) AS c`;
  return sql`
    SELECT * FROM (
      ${titlesOf(ownMatching, query.visible.owned('c', 'chats'))}
      UNION ALL
      ${titlesOf(matching, query.visible.sharedWith('c'))}
    ) AS hit
    ${query.after ? afterPosition(query.after) : sql``}
    ORDER BY hit.rank DESC, hit.created_at DESC, hit.id DESC
    LIMIT ${query.limit + 1}`;
}

/**
 * The `count` first matching messages after the cursor (every message is after a title
 * position). The user's own newest matches come one of two ways, whichever reads fewer rows
 * (search_walks_newest(): the planner's estimate of the user's matches, asked once per
 * statement): a common word walks the user's messages newest first (messages_owner_created)
 * until it has the candidates; a rarer one (or a prefix) takes the user's matches from the
 * posting lists of the user's own words by month (messages_owner_month_words, migration 0013),
 * in windows of 1, 2, 4, 8, 16… months newest first, until a window ends with the candidates: each
 * window's matches are ordered by time and the windows come in order, so the first
 * SEARCH_CANDIDATES rows are the newest. The other branch is cut by a one-time filter. With a
 * project filter, the user's chats on that project are read instead, chat by chat. The chats
 * shared with the user are a branch of their own.
 */
function messageHits(query: PageQuery, tsqueries: Tsqueries, count: number): RawBuilder<SearchHit> {
  const { tsq, tag, typed, filters, onChat } = statementParts(query, tsqueries);
  const newest = sql`ORDER BY m.created_at DESC, m.message_id DESC LIMIT ${SEARCH_CANDIDATES}`;
  // Every branch's candidates carry their rank, not their text's tsvector: computed once each, on
  // the rows the branch keeps (after its LIMIT).
  const ranked = (rows: RawBuilder<unknown>) => sql`
      SELECT r.message_id, r.created_at, r.chat_id, ts_rank(r.content_search, ${typed}) AS rank FROM (${rows}) AS r`;
  // The user's own messages by their owner column (compared even on the owner's words: two
  // owners may share a tag). A chat filter is checked on each match after its words, by the
  // chat's key (a subquery per row, which the planner cannot turn into a scan of `chats`: joined,
  // a kept plan read all of `chats` by project for every window). The walk reads the messages
  // newest first and compares the words on each (fenced: a plan kept for every user and word
  // cannot know that this user has many messages, and would AND the words' index into them).
  const ofChat = (alias: string) =>
    filters.length > 0 ? sql`AND (SELECT true FROM chats c WHERE c.chat_id = ${sql.ref(`${alias}.chat_id`)} AND ${sql.join(filters, sql` AND `)})` : sql``;
  const ownWalk = ranked(sql`
      SELECT w.message_id, w.created_at, w.chat_id, w.content_search
      FROM (
        SELECT m.message_id, m.created_at, m.chat_id, m.content_search
        FROM messages m
        WHERE (SELECT newest FROM walk) AND ${query.visible.owned('m', 'messages')}
        ORDER BY m.created_at DESC, m.message_id DESC
        OFFSET 0) AS w
      WHERE w.content_search @@ ${tsq} ${ofChat('w')}
      LIMIT ${SEARCH_CANDIDATES}`);
  // The user's matches month by month (search_owner_month_words(), migration 0013), newest window
  // first, each window's in time order. The owner is compared outside a window's scan (OFFSET 0
  // keeps it there, and the scan sorts the few matches of a shared tag too): a window's tsquery is
  // known only as it runs, and with the owner beside it the planner AND-ed the owner's whole
  // range of messages_owner_created into the words' few matches.
  const ownByMonths = ranked(sql`
      SELECT hit.message_id, hit.created_at, hit.chat_id, hit.content_search
      FROM search_owner_windows(${query.visible.userId}, ${tag}) AS months
      CROSS JOIN LATERAL (
        SELECT m.message_id, m.created_at, m.chat_id, m.content_search, m.owner_id
        FROM messages m
        WHERE search_owner_month_words(m.owner_id, m.created_at, m.content_search) @@ search_owner_window_query(${tsq}, months.tags)
        ORDER BY m.created_at DESC, m.message_id DESC
        OFFSET 0) AS hit
      WHERE NOT (SELECT newest FROM walk) AND ${query.visible.owned('hit', 'messages')} ${ofChat('hit')}
      LIMIT ${SEARCH_CANDIDATES}`);
  // With a project, the user's chats on it, each one's messages (by the chat's index, the words
  // compared on each row): at most the messages of those chats, where the walk or the windows
  // would read the user's messages or matches on every project until they had the candidates.
  const ownInProject = ranked(sql`
      SELECT m.message_id, m.created_at, m.chat_id, m.content_search
      FROM chats c CROSS JOIN LATERAL (
        SELECT m.message_id, m.created_at, m.chat_id, m.content_search FROM messages m WHERE m.chat_id = c.chat_id OFFSET 0) AS m
      WHERE ${query.visible.owned('c', 'chats')} AND ${sql.join(filters, sql` AND `)} AND m.content_search @@ ${tsq}
      ${newest}`);
  const own = query.projectNumber ? ownInProject : sql`(${ownWalk}) UNION ALL (${ownByMonths})`;
  // The newest matches in the chats shared with the user. When the user has the candidates of
  // their own, those older than the oldest of them cannot be among the newest: with a common
  // word that leaves the last days of the shared chats to read (messages_chat_created), and a
  // chat whose newest message is older (chats.newest_message_at, migration 0017) is not read. When
  // the user has fewer, every match in the shared chats counts, read one of two ways, chosen as
  // the statement runs (the planner's estimate of the shared chats is often a third of the
  // truth, and its choice flipped with the statistics): by the word, its matches over every user
  // from the text's index, when the planner expects fewer of them than the shared chats hold
  // messages (search_matches_estimate(), migration 0016; chats.message_count); else by the
  // chats, each one's messages. Each way is fenced (OFFSET 0) so the planner cannot turn it into
  // the other. Only the branch whose condition holds runs. The shared chats are found once, in
  // a CTE: planning the sharing conditions over `chats` inside each branch's join took most of
  // the statement's planning.
  const fewOwn = sql`(SELECT count(*) FROM own) < ${SEARCH_CANDIDATES}`;
  // A shared chat's messages, fenced (OFFSET 0) so its scan reads the chat's index alone: the
  // word is compared on its rows, never AND-ed in from the text's index.
  const sharedChatMessages = (since: RawBuilder<unknown>) => sql`
      SELECT m.message_id, m.created_at, m.chat_id, m.content_search FROM messages m
      WHERE m.chat_id = shared.chat_id AND ${since} OFFSET 0`;
  const sharedSinceOwn = sql`
    (${ranked(sql`SELECT m.* FROM shared CROSS JOIN LATERAL (${sharedChatMessages(sql`m.created_at >= (SELECT min(created_at) FROM own)`)}) AS m
     WHERE (SELECT count(*) FROM own) = ${SEARCH_CANDIDATES} AND shared.newest_message_at >= (SELECT min(created_at) FROM own)
       AND m.content_search @@ ${typed}
     ${newest}`)})`;
  const sharedByWord = sql`
    (${ranked(sql`SELECT m.* FROM (
       SELECT m.message_id, m.created_at, m.chat_id, m.content_search FROM messages m WHERE m.content_search @@ ${typed} OFFSET 0) AS m
     WHERE ${fewOwn} AND (SELECT by_word FROM shared_way) AND m.chat_id IN (SELECT chat_id FROM shared)
     ${newest}`)})`;
  const sharedByChat = sql`
    (${ranked(sql`SELECT m.* FROM shared CROSS JOIN LATERAL (${sharedChatMessages(sql`true`)}) AS m
     WHERE ${fewOwn} AND NOT (SELECT by_word FROM shared_way) AND m.content_search @@ ${typed}
     ${newest}`)})`;
  return prepared(sql<SearchHit>`
    WITH shared AS MATERIALIZED (
      SELECT c.chat_id, c.message_count, c.newest_message_at FROM chats c WHERE ${onChat(query.visible.sharedWith('c'))}
    ), shared_way AS MATERIALIZED (
      SELECT (SELECT COALESCE(sum(message_count), 0) FROM shared) > search_matches_estimate(${typed}) AS by_word
    ), walk AS MATERIALIZED (
      SELECT search_walks_newest(${query.visible.userId}, ${tsq}, ${SEARCH_CANDIDATES}) AS newest
    ), own AS MATERIALIZED (
      ${own}
    )
    SELECT false AS is_title, hit.id, hit.rank, hit.created_at,
           c.chat_id, c.chat_name, c.chat_type, c.project_number, c.project_name, c.page_name,
           hit.id AS message_id, m.role, m.content AS text
    FROM (
      SELECT * FROM (
        SELECT candidate.message_id AS id, candidate.rank, candidate.created_at, candidate.chat_id
        FROM (
          SELECT * FROM own
          UNION ALL
          ${sharedSinceOwn}
          UNION ALL
          ${sharedByWord}
          UNION ALL
          ${sharedByChat}
          ORDER BY created_at DESC, message_id DESC
          LIMIT ${SEARCH_CANDIDATES}
        ) AS candidate
      ) AS hit
      ${query.after && !query.after.title ? afterPosition(query.after) : sql``}
      ORDER BY hit.rank DESC, hit.created_at DESC, hit.id DESC
      LIMIT ${count}
    ) AS hit
    JOIN chats c ON c.chat_id = hit.chat_id
    JOIN messages m ON m.message_id = hit.id
    ORDER BY hit.rank DESC, hit.created_at DESC, hit.id DESC`);
}

export type SearchStore = ReturnType<typeof createSearchStore>;
