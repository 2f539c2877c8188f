/**
 * The PostgreSQL schema of the history, as Kysely migrations kept in code (they ship inside the
 * compiled API, no migration folder to copy). Kysely's Migrator runs them in one transaction
 * under a PostgreSQL advisory lock, so API replicas starting at once apply each one once.
 * Never edit a migration that has shipped: add the next one.
 */
import { Migrator, sql, type Kysely, type Migration, type RawBuilder } from 'kysely';

const cp = (...codes: number[]) => String.fromCodePoint(...codes);
const range = (first: number, last: number) => cp(...Array.from({ length: last - first + 1 }, (_, i) => first + i));

/**
 * translate() pairs for search: Arabic forms to Persian (ي→ی, ك→ک, ى→ی), Persian and
 * Arabic-Indic digits to ASCII, the Arabic decimal and thousands separators to '.' and ','; then
 * deleted (no counterpart): ZWNJ, ZWJ, tatweel, Arabic diacritics (harakat, superscript alef),
 * bidi marks, BOM and variation selectors.
 */
const SEARCH_LETTER_MAP: [string, string] = [
  cp(0x64a, 0x643, 0x649) + range(0x660, 0x669) + range(0x6f0, 0x6f9) + cp(0x66b, 0x66c) +
    cp(0x200c, 0x200d, 0x640) + range(0x64b, 0x65f) + cp(0x670, 0x200e, 0x200f) + range(0x202a, 0x202e) + range(0x2066, 0x2069) + cp(0xfeff, 0xfe0f),
  cp(0x6cc, 0x6a9, 0x6cc) + '0123456789' + '0123456789' + '.,',
];
/**
 * Punctuation, spaces and symbols outside ASCII become spaces, so words split the same way
 * whatever the database's locale (in the C locale the text parser takes every non-ASCII
 * character for a letter: "سلام،" would be one word).
 */
const SEARCH_SEPARATORS = String.raw`[\u00a0\u00a1\u00a7\u00ab\u00b6\u00b7\u00bb\u00bf\u00d7\u00f7\u060c\u061b\u061f\u066a\u066d\u06d4\u2000-\u200b\u2010-\u2027\u2028-\u2029\u202f-\u205f\u2190-\u2bff\u3000-\u3003\ufe10-\ufe19\ufe30-\ufe4f\uff01-\uff0f\U0001f000-\U0001faff]+`;

const migrations: Record<string, Migration> = {
  '0001_history': {
    async up(db) {
      // `mirror_version`: the outbox entry ID (ms * 1e10 + seq) that last wrote the row; an older
      // entry replayed or applied late never overwrites a newer one.
      await sql`
        CREATE TABLE chats (
          chat_id text PRIMARY KEY,
          user_id text NOT NULL,
          chat_type text NOT NULL,
          project_number text,
          project_name text,
          page_name text,
          chat_name text NOT NULL,
          status text NOT NULL,
          pinned boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          message_count integer NOT NULL DEFAULT 0,
          last_activity_at timestamptz NOT NULL,
          archived_from_redis boolean NOT NULL DEFAULT false,
          visibility text NOT NULL DEFAULT 'private',
          metadata jsonb NOT NULL,
          mirror_version numeric(30, 0) NOT NULL
        )`.execute(db);
      // A user's list: pinned first, newest first (the order of GET /api/chats).
      await sql`CREATE INDEX chats_user_list ON chats (user_id, pinned DESC, created_at DESC, chat_id DESC)`.execute(db);
      // The archive job: chats idle longest first.
      await sql`CREATE INDEX chats_last_activity ON chats (last_activity_at)`.execute(db);
      await sql`
        CREATE TABLE messages (
          message_id text PRIMARY KEY,
          chat_id text NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
          seq integer NOT NULL,
          role text NOT NULL,
          content text NOT NULL,
          status text NOT NULL,
          model text,
          error text,
          created_at timestamptz NOT NULL,
          mirror_version numeric(30, 0) NOT NULL
        )`.execute(db);
      await sql`CREATE INDEX messages_chat_seq ON messages (chat_id, seq)`.execute(db);
      // A deleted chat stays deleted: an entry about it replayed later must not bring it back.
      await sql`
        CREATE TABLE deleted_chats (
          chat_id text PRIMARY KEY,
          mirror_version numeric(30, 0) NOT NULL,
          deleted_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
    },
    async down(db) {
      await sql`DROP TABLE deleted_chats, messages, chats`.execute(db);
    },
  },
  '0003_search': {
    // Full-text search (docs/decisions/search.md): ONE normalization, search_normalize(), used
    // for the indexed columns, the query's words (search_terms) and the words highlighted.
    async up(db) {
      await sql`CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public`.execute(db);
      const [from, to] = SEARCH_LETTER_MAP;
      // SQL-standard bodies are bound when created (no search_path surprises in generated columns).
      await sql`
        CREATE FUNCTION search_normalize(input text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN lower(public.unaccent('public.unaccent'::regdictionary,
                       regexp_replace(translate(input, ${sql.lit(from)}, ${sql.lit(to)}), ${sql.lit(SEARCH_SEPARATORS)}, ' ', 'g'))
                     COLLATE "und-x-icu")`.execute(db);
      // The query's words as the index holds them, in order; compound tokens (relief-valve, URLs)
      // are left out because their parts are indexed too, so a half-typed compound still matches.
      await sql`
        CREATE FUNCTION search_terms(input text) RETURNS text[]
        LANGUAGE sql STABLE STRICT PARALLEL SAFE
        RETURN ARRAY(
          SELECT lexeme
          FROM ts_debug('simple'::regconfig, search_normalize(input)) WITH ORDINALITY AS token(alias, description, token, dictionaries, dictionary, lexemes, n),
               unnest(token.lexemes) AS lexeme
          WHERE token.alias NOT IN ('asciihword', 'hword', 'numhword', 'url')
          ORDER BY token.n)`.execute(db);
      await sql`ALTER TABLE chats ADD COLUMN title_search tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_normalize(chat_name))) STORED`.execute(db);
      await sql`ALTER TABLE messages ADD COLUMN content_search tsvector
        GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_normalize(content))) STORED`.execute(db);
      await sql`CREATE INDEX chats_title_search ON chats USING gin (title_search)`.execute(db);
      await sql`CREATE INDEX messages_content_search ON messages USING gin (content_search)`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX messages_content_search, chats_title_search`.execute(db);
      await sql`ALTER TABLE messages DROP COLUMN content_search`.execute(db);
      await sql`ALTER TABLE chats DROP COLUMN title_search`.execute(db);
      await sql`DROP FUNCTION search_terms(text), search_normalize(text)`.execute(db);
    },
  },
  '0002_archive': {
    async up(db) {
      // A message's fields beyond the columns (whatever a newer API adds), so a chat brought back
      // from PostgreSQL into Redis gets its messages back exactly as they were.
      await sql`ALTER TABLE messages ADD COLUMN extra jsonb NOT NULL DEFAULT '{}'::jsonb`.execute(db);
      // The archive job's walk: chats still in Redis, idle longest first.
      await sql`CREATE INDEX chats_in_redis_by_activity ON chats (last_activity_at, chat_id) WHERE NOT archived_from_redis`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX chats_in_redis_by_activity`.execute(db);
      await sql`ALTER TABLE messages DROP COLUMN extra`.execute(db);
    },
  },
  '0004_usage': {
    async up(db) {
      // A reply's token usage (null on user messages and on replies saved before usage was kept).
      await sql`
        ALTER TABLE messages
          ADD COLUMN prompt_tokens integer,
          ADD COLUMN completion_tokens integer,
          ADD COLUMN usage_model text,
          ADD COLUMN usage_estimated boolean`.execute(db);
      // GET /api/admin/usage: the replies of a date range, read from the index alone but for the
      // chat's owner and project (joined by primary key).
      await sql`
        CREATE INDEX messages_usage_created ON messages (created_at)
          INCLUDE (chat_id, prompt_tokens, completion_tokens) WHERE role = 'assistant'`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX messages_usage_created`.execute(db);
      await sql`
        ALTER TABLE messages DROP COLUMN prompt_tokens, DROP COLUMN completion_tokens, DROP COLUMN usage_model,
          DROP COLUMN usage_estimated`.execute(db);
    },
  },
  '0005_sharing': {
    async up(db) {
      // Who a chat is shared with by name (metadata.allowed_users), as a column the history's
      // readers (search) can ask "chats shared with this user" of through a GIN index; the
      // project-visible chats of a project through a partial index on `visibility`.
      await sql`ALTER TABLE chats ADD COLUMN allowed_users text[] NOT NULL DEFAULT '{}'`.execute(db);
      await sql`UPDATE chats SET allowed_users = ARRAY(SELECT jsonb_array_elements_text(metadata -> 'allowed_users'))
                WHERE jsonb_typeof(metadata -> 'allowed_users') = 'array'`.execute(db);
      await sql`UPDATE chats SET visibility = 'project' WHERE metadata ->> 'visibility' = 'project' AND chat_type = 'project'`.execute(db);
      await sql`CREATE INDEX chats_allowed_users ON chats USING gin (allowed_users)`.execute(db);
      await sql`CREATE INDEX chats_project_visible ON chats (project_number) WHERE visibility = 'project'`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX chats_project_visible`.execute(db);
      await sql`DROP INDEX chats_allowed_users`.execute(db);
      await sql`ALTER TABLE chats DROP COLUMN allowed_users`.execute(db);
    },
  },
  '0007_search_speed': {
    // Search at a million messages (docs/decisions/search.md):
    // - messages newest first, so a common word's newest matches are found without reading all;
    // - the GIN index without its pending list: every search would otherwise scan the entries
    //   written since the last flush, and a write costs little more;
    // - search_normalize() as 0003 wrote it, but with translate() (which compares every character
    //   of the text with each of the 63 of its list: ~0.1 ms a message, most of a message's
    //   indexing) replaced by one replace() per mapped letter and one regexp for the deleted ones.
    //   The same result for every code point, so the stored tsvectors hold.
    async up(db) {
      await sql`CREATE INDEX messages_created ON messages (created_at, message_id)`.execute(db);
      await sql`ALTER INDEX messages_content_search SET (fastupdate = off)`.execute(db);
      await sql`SELECT gin_clean_pending_list('messages_content_search')`.execute(db);
      await sql`
        CREATE OR REPLACE FUNCTION search_normalize(input text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN lower(public.unaccent('public.unaccent'::regdictionary,
                       regexp_replace(${mappedLetters(sql`input`)}, ${sql.lit(SEARCH_SEPARATORS)}, ' ', 'g'))
                     COLLATE "und-x-icu")`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX messages_created`.execute(db);
      await sql`ALTER INDEX messages_content_search RESET (fastupdate)`.execute(db);
      const [from, to] = SEARCH_LETTER_MAP;
      await sql`
        CREATE OR REPLACE FUNCTION search_normalize(input text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN lower(public.unaccent('public.unaccent'::regdictionary,
                       regexp_replace(translate(input, ${sql.lit(from)}, ${sql.lit(to)}), ${sql.lit(SEARCH_SEPARATORS)}, ' ', 'g'))
                     COLLATE "und-x-icu")`.execute(db);
    },
  },
  '0008_search_owner': {
    // Search at a million messages, second step (docs/decisions/search.md): every message carries
    // its chat's owner, so a user's own messages are found by indexes that hold only theirs:
    // - `owner_id`, the chat's `user_id`, filled in by a trigger as each message is written and
    //   kept equal by another should a chat ever change hands;
    // - (owner_id, created_at, message_id): a common word walks one user's messages newest first;
    // - GIN (owner_id, content_search) (btree_gin): the other words take one user's matches
    //   without reading everyone's. It answers a search on the text alone as well (the chats
    //   shared with a user), so it replaces messages_content_search; messages_created (the walk
    //   over every user's messages) goes too;
    // - (chat_id, created_at): the newest messages of the chats shared with a user.
    async up(db) {
      // Every message row is written once and two indexes built: minutes on a large history, more
      // than the pool's statement timeout (the migration's own transaction only).
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public`.execute(db);
      // The indexes replaced go first: the rewrite below would otherwise update them row by row.
      await sql`DROP INDEX messages_content_search, messages_created`.execute(db);
      await sql`ALTER TABLE messages ADD COLUMN owner_id text`.execute(db);
      await sql`UPDATE messages m SET owner_id = c.user_id FROM chats c WHERE c.chat_id = m.chat_id`.execute(db);
      await sql`ALTER TABLE messages ALTER COLUMN owner_id SET NOT NULL`.execute(db);
      // A message written without its owner (the mirror and every other writer) takes its chat's
      // (the chat row is written first: the foreign key asks for it); a bulk load may give it.
      await sql`
        CREATE FUNCTION messages_owner_of_chat() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.owner_id := (SELECT c.user_id FROM chats c WHERE c.chat_id = NEW.chat_id);
          RETURN NEW;
        END $$`.execute(db);
      await sql`
        CREATE TRIGGER messages_owner BEFORE INSERT ON messages
        FOR EACH ROW WHEN (NEW.owner_id IS NULL) EXECUTE FUNCTION messages_owner_of_chat()`.execute(db);
      // A chat that changes hands takes its messages with it.
      await sql`
        CREATE FUNCTION messages_follow_chat_owner() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE messages SET owner_id = NEW.user_id WHERE chat_id = NEW.chat_id;
          RETURN NULL;
        END $$`.execute(db);
      await sql`
        CREATE TRIGGER chats_owner_to_messages AFTER UPDATE OF user_id ON chats
        FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION messages_follow_chat_owner()`.execute(db);
      await sql`CREATE INDEX messages_owner_created ON messages (owner_id, created_at, message_id)`.execute(db);
      await sql`CREATE INDEX messages_owner_search ON messages USING gin (owner_id, content_search) WITH (fastupdate = off)`.execute(db);
      await sql`CREATE INDEX messages_chat_created ON messages (chat_id, created_at)`.execute(db);
    },
    async down(db) {
      await sql`CREATE INDEX messages_created ON messages (created_at, message_id)`.execute(db);
      await sql`CREATE INDEX messages_content_search ON messages USING gin (content_search) WITH (fastupdate = off)`.execute(db);
      await sql`DROP INDEX messages_chat_created, messages_owner_search, messages_owner_created`.execute(db);
      await sql`DROP TRIGGER chats_owner_to_messages ON chats`.execute(db);
      await sql`DROP TRIGGER messages_owner ON messages`.execute(db);
      await sql`DROP FUNCTION messages_follow_chat_owner(), messages_owner_of_chat()`.execute(db);
      await sql`ALTER TABLE messages DROP COLUMN owner_id`.execute(db);
    },
  },
  '0009_search_terms_titles': {
    // Search at a million messages, third step (docs/decisions/search.md):
    // - search_terms() without ts_debug(): the same words (the tokens of the types the 'simple'
    //   configuration maps, compounds and URLs left out, each through the 'simple' dictionary), in
    //   a thirtieth of the time (ts_debug() looks up each token's type and dictionaries in the
    //   catalogs, ~1 ms a query);
    // - GIN (user_id, title_search) (btree_gin): the user's own titles without a bitmap of every
    //   chat of theirs; it answers a search on titles alone as well, so it replaces
    //   chats_title_search.
    async up(db) {
      await searchTermsOf0009(db);
      await sql`CREATE INDEX chats_owner_title_search ON chats USING gin (user_id, title_search) WITH (fastupdate = off)`.execute(db);
      await sql`DROP INDEX chats_title_search`.execute(db);
    },
    async down(db) {
      await sql`CREATE INDEX chats_title_search ON chats USING gin (title_search)`.execute(db);
      await sql`DROP INDEX chats_owner_title_search`.execute(db);
      await sql`
        CREATE OR REPLACE FUNCTION search_terms(input text) RETURNS text[]
        LANGUAGE sql STABLE STRICT PARALLEL SAFE
        RETURN ARRAY(
          SELECT lexeme
          FROM ts_debug('simple'::regconfig, search_normalize(input)) WITH ORDINALITY AS token(alias, description, token, dictionaries, dictionary, lexemes, n),
               unnest(token.lexemes) AS lexeme
          WHERE token.alias NOT IN ('asciihword', 'hword', 'numhword', 'url')
          ORDER BY token.n)`.execute(db);
    },
  },
  '0010_search_words': {
    // Every word the search indexes hold, so the last word of a query (matched as a prefix) is
    // completed into the words that begin with it and the indexes are asked for those words: a
    // partial match reads and merges the posting lists of every word with that beginning, exact
    // words take part in the index's intersection (docs/decisions/search.md). Kept by statement
    // triggers on what is written to messages and chats; a word is never removed (a word no
    // longer in any text matches nothing). The order of the inserts (by word) keeps two writers
    // of the same new words from deadlocking.
    async up(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`CREATE TABLE search_words (word text COLLATE "C" PRIMARY KEY)`.execute(db);
      for (const [table, column] of [
        ['messages', 'content_search'],
        ['chats', 'title_search'],
      ] as const) {
        await sql`
          CREATE FUNCTION ${sql.raw(`search_words_of_${table}`)}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            INSERT INTO search_words (word)
            SELECT DISTINCT word FROM written, unnest(tsvector_to_array(written.${sql.raw(column)})) AS word ORDER BY word
            ON CONFLICT DO NOTHING;
            RETURN NULL;
          END $$`.execute(db);
        for (const event of ['INSERT', 'UPDATE']) {
          await sql`
            CREATE TRIGGER ${sql.raw(`${table}_search_words_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON ${sql.raw(table)}
            REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION ${sql.raw(`search_words_of_${table}`)}()`.execute(db);
        }
      }
      await sql`
        INSERT INTO search_words (word)
        SELECT word FROM messages, unnest(tsvector_to_array(content_search)) AS word
        UNION SELECT word FROM chats, unnest(tsvector_to_array(title_search)) AS word`.execute(db);
      await searchCompletionsOf0010(db);
    },
    async down(db) {
      for (const table of ['messages', 'chats']) {
        await sql`DROP TRIGGER ${sql.raw(`${table}_search_words_insert`)} ON ${sql.raw(table)}`.execute(db);
        await sql`DROP TRIGGER ${sql.raw(`${table}_search_words_update`)} ON ${sql.raw(table)}`.execute(db);
        await sql`DROP FUNCTION ${sql.raw(`search_words_of_${table}`)}()`.execute(db);
      }
      await sql`DROP FUNCTION search_completions(text, integer)`.execute(db);
      await sql`DROP TABLE search_words`.execute(db);
    },
  },
  '0011_search_title_words': {
    // The words of chat titles apart from those of messages, so a search whose words are in no
    // title skips the titles' statement (docs/decisions/search.md). Kept by the statement trigger
    // on chats that already fills search_words; a word is never removed, as there.
    async up(db) {
      await sql`CREATE TABLE search_title_words (word text COLLATE "C" PRIMARY KEY)`.execute(db);
      await sql`INSERT INTO search_title_words (word) SELECT DISTINCT word FROM chats, unnest(tsvector_to_array(title_search)) AS word`.execute(db);
      await titleWordsTrigger(['search_words', 'search_title_words']).execute(db);
      await searchInTitlesOf0011(db);
    },
    async down(db) {
      await sql`DROP FUNCTION search_in_titles(text[])`.execute(db);
      await titleWordsTrigger(['search_words']).execute(db);
      await sql`DROP TABLE search_title_words`.execute(db);
    },
  },
  '0012_search_owner_words': {
    // A posting list per owner and word (docs/decisions/search.md): a GIN index over each
    // message's words prefixed by a tag of its owner (the first 8 hex digits of md5(owner_id);
    // ownerTag() in search.store.ts computes the same), so a user's rare word or prefix intersects
    // only the user's own matches instead of the owner's, the word's and the completions' lists
    // over everyone. An expression index: no column, no rewrite, kept by every write of a row.
    // The words are joined with spaces and split again (a word of the text parser never holds
    // one), five times cheaper than a subquery over the words. The owner's entry in
    // (owner_id, content_search) then serves nothing, and the planner AND-ed it with the new index
    // (the owner's whole list read again): replaced by the text alone, which the chats shared
    // with a user read. search_walks_newest() tells the search whether walking the user's
    // messages newest first reads fewer rows than their matches (a common word).
    async up(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`SET LOCAL maintenance_work_mem = '256MB'`.execute(db);
      await ownerWords(db);
      await sql`CREATE INDEX messages_content_search ON messages USING gin (content_search) WITH (fastupdate = off)`.execute(db);
      await sql`DROP INDEX messages_owner_search`.execute(db);
      // Whether the newest `candidates` matches of `query` among `owner`'s messages are found
      // sooner by walking those messages newest first (about candidates * messages / matches
      // rows) than by reading every match (matches rows), from the planner's estimates: the
      // statistics of the owner column and of the words. EXPLAIN is only allowed in a volatile
      // function; the search asks once per statement.
      await sql`
        CREATE FUNCTION search_walks_newest(owner text, query tsquery, candidates integer) RETURNS boolean
        LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
        DECLARE
          estimate json;
          matches float8;
        BEGIN
          EXECUTE format('EXPLAIN (FORMAT JSON) SELECT FROM messages WHERE owner_id = %L AND content_search @@ %L::tsquery', owner, query) INTO estimate;
          matches := (estimate->0->'Plan'->>'Plan Rows')::float8;
          -- Fewer matches than candidates: all of them are read either way, the walk reads more.
          IF matches < candidates THEN
            RETURN false;
          END IF;
          EXECUTE format('EXPLAIN (FORMAT JSON) SELECT FROM messages WHERE owner_id = %L', owner) INTO estimate;
          RETURN matches * matches >= candidates * (estimate->0->'Plan'->>'Plan Rows')::float8;
        END $$`.execute(db);
      // Statistics of the new index's expression, which the planner estimates the owner's words by.
      await sql`ANALYZE messages`.execute(db);
    },
    async down(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`DROP FUNCTION search_walks_newest(text, tsquery, integer)`.execute(db);
      await sql`CREATE INDEX messages_owner_search ON messages USING gin (owner_id, content_search) WITH (fastupdate = off)`.execute(db);
      await sql`DROP INDEX messages_content_search, messages_owner_words`.execute(db);
      await sql`DROP FUNCTION search_owner_words(text, tsvector)`.execute(db);
    },
  },
  '0013_search_owner_months': {
    // The user's words keyed by owner and month (docs/decisions/search.md, "Words keyed by owner
    // and month"): each word of a message behind its owner's tag (0012) and the message's month
    // (UTC, months since year 0 in 4 hex digits), so the user's matches of a word or a prefix are
    // read newest months first, and a prefix with thousands of matches stops once it has the
    // newest candidates instead of reading every match's row to order them by time.
    // search_owner_windows() gives the months an owner has messages in as windows of 1, 2, 4, 8,
    // then 16 months, newest first; search_owner_window_query() turns a query into one over a window's
    // months. It replaces messages_owner_words (0012), whose entries it holds split by month.
    async up(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`SET LOCAL maintenance_work_mem = '256MB'`.execute(db);
      await sql`
        CREATE FUNCTION search_month(created timestamptz) RETURNS integer
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN (extract(year FROM timezone('UTC', created)) * 12 + extract(month FROM timezone('UTC', created)) - 1)::integer`.execute(db);
      // Every word behind `tag`: joined with spaces and split again, as search_owner_words() (0012).
      await sql`
        CREATE FUNCTION search_tagged_words(tag text, words tsvector) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN array_to_tsvector(string_to_array(tag || NULLIF(array_to_string(tsvector_to_array(words), ' ' || tag), ''), ' '))`.execute(db);
      await sql`
        CREATE FUNCTION search_owner_month_words(owner text, created timestamptz, words tsvector) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN search_tagged_words(left(md5(owner), 8) || lpad(to_hex(search_month(created)), 4, '0'), words)`.execute(db);
      await sql`
        CREATE INDEX messages_owner_month_words ON messages USING gin (search_owner_month_words(owner_id, created_at, content_search))
        WITH (fastupdate = off)`.execute(db);
      await sql`DROP INDEX messages_owner_words`.execute(db);
      await sql`DROP FUNCTION search_owner_words(text, tsvector)`.execute(db);
      // The tags of the months an owner has messages in (`tag` and each month's 4 hex digits), in
      // windows of 1, 2, 4, 8 and then 16 months at most (a window's query holds a key per month
      // and word) from the month of their newest message back to that of their oldest (two reads
      // of messages_owner_created), newest first. PL/pgSQL, so its plan is made once per
      // connection, not with each search's.
      await sql`
        CREATE FUNCTION search_owner_windows(owner text, tag text) RETURNS TABLE (tags text[])
        LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 8 AS $$
        BEGIN
          RETURN QUERY
            SELECT ARRAY(SELECT tag || lpad(to_hex(month), 4, '0')
                         FROM generate_series(span.last - step.skipped, greatest(span.last - step.skipped - step.months + 1, span.first), -1) AS month)
            FROM (SELECT search_month(max(created_at)) AS last, search_month(min(created_at)) AS first FROM messages WHERE owner_id = owner) AS span,
                 generate_series(0, 5 + (span.last - span.first) / 16) AS k,
                 LATERAL (SELECT CASE WHEN k <= 4 THEN (1 << k) - 1 ELSE 15 + 16 * (k - 4) END AS skipped,
                                 CASE WHEN k <= 4 THEN 1 << k ELSE 16 END AS months) AS step
            WHERE span.last - step.skipped >= span.first
            ORDER BY k;
        END $$`.execute(db);
      // `query` over a window's months (`tags`): each operand (a quoted word, perhaps a prefix)
      // becomes that word behind each month's tag, OR-ed. A message has one month, so an AND of
      // such groups still holds within one message. One expression, evaluated as the window's
      // index scan starts.
      await sql`
        CREATE FUNCTION search_owner_window_query(query tsquery, tags text[]) RETURNS tsquery
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN regexp_replace(query::text, $re$'((?:[^']|'')*)'(:\\*)?$re$, '( ''' || array_to_string(tags, '\\1''\\2 | ''') || '\\1''\\2 )', 'g')::tsquery`.execute(db);
      await sql`ANALYZE messages`.execute(db);
    },
    async down(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await ownerWords(db);
      await sql`DROP FUNCTION search_owner_window_query(tsquery, text[]), search_owner_windows(text, text)`.execute(db);
      await sql`DROP INDEX messages_owner_month_words`.execute(db);
      await sql`DROP FUNCTION search_owner_month_words(text, timestamptz, tsvector), search_tagged_words(text, tsvector), search_month(timestamptz)`.execute(db);
    },
  },
  '0014_search_words_plans': {
    // The query's words with plans kept by each session (docs/decisions/search.md): every search
    // asks search_terms(), search_completions() and search_in_titles() once, and their plans
    // were made again on every call.
    // - search_terms() in PL/pgSQL: as a SQL function it was planned on every call (its body
    //   holds a subquery, so it is never inlined), and planning search_normalize()'s expression
    //   of ~70 calls cost most of its ~0.15 ms. The text is normalized first, into a variable; the
    //   query over its tokens then keeps one plan.
    // - search_completions() and search_in_titles() ask for a beginning as a range of the
    //   words' B-tree (`word >= prefix AND word < search_prefix_end(prefix)`), which a plan made
    //   once for any prefix reads as narrowly as one made for each: `word ^@ prefix` is turned
    //   into that range only when the prefix is a constant, so they were planned on every call.
    // Each keeps one plan whatever the estimates (a plan_cache_mode of its own): the sessions that
    // send search's statements as named ones plan those for every execution (postgres.ts).
    async up(db) {
      // The least text after every text that begins with `prefix`, in code point order (the
      // "C" collation of the word tables): its last code point, trailing U+10FFFF (the greatest)
      // dropped, plus one, skipping the surrogates (never in a text). NULL when there is none: a
      // prefix of U+10FFFF only, which every text from it on begins with.
      await sql`
        CREATE FUNCTION search_prefix_end(prefix text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
        DECLARE
          kept text := rtrim(prefix, chr(1114111));
          last integer := ascii(right(kept, 1));
        BEGIN
          IF kept = '' THEN
            RETURN NULL;
          END IF;
          RETURN left(kept, -1) || chr(CASE last WHEN 55295 THEN 57344 ELSE last + 1 END);
        END $$`.execute(db);
      await sql`
        CREATE OR REPLACE FUNCTION search_terms(input text) RETURNS text[]
        LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $$
        DECLARE
          normalized text := search_normalize(input);
        BEGIN
          RETURN ARRAY(
            SELECT lexeme
            FROM ts_parse('default', normalized) WITH ORDINALITY AS token(tokid, token, n),
                 unnest(ts_lexize('simple'::regdictionary, token.token)) AS lexeme
            WHERE token.tokid = ANY (${await simpleWordTokens(db)}::int[])
            ORDER BY token.n);
        END $$`.execute(db);
      await sql`
        CREATE OR REPLACE FUNCTION search_completions(prefix text, max integer) RETURNS text[]
        LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $$
        DECLARE
          past text := search_prefix_end(prefix);
        BEGIN
          IF past IS NULL THEN
            RETURN ARRAY(SELECT word FROM search_words WHERE word >= prefix ORDER BY word LIMIT max);
          END IF;
          RETURN ARRAY(SELECT word FROM search_words WHERE word >= prefix AND word < past ORDER BY word LIMIT max);
        END $$`.execute(db);
      await sql`
        CREATE OR REPLACE FUNCTION search_in_titles(terms text[]) RETURNS boolean
        LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_generic_plan AS $$
        DECLARE
          last text := terms[cardinality(terms)];
          past text := search_prefix_end(last);
        BEGIN
          IF past IS NULL THEN
            IF NOT EXISTS (SELECT 1 FROM search_title_words WHERE word >= last) THEN
              RETURN false;
            END IF;
          ELSIF NOT EXISTS (SELECT 1 FROM search_title_words WHERE word >= last AND word < past) THEN
            RETURN false;
          END IF;
          FOR i IN 1 .. cardinality(terms) - 1 LOOP
            IF NOT EXISTS (SELECT 1 FROM search_title_words WHERE word = terms[i]) THEN
              RETURN false;
            END IF;
          END LOOP;
          RETURN true;
        END $$`.execute(db);
      // search_owner_windows() (0013) keeps its one plan in those sessions too: it reads the
      // owner's newest and oldest message through messages_owner_created, whoever the owner.
      await sql`ALTER FUNCTION search_owner_windows(text, text) SET plan_cache_mode = force_generic_plan`.execute(db);
    },
    async down(db) {
      await sql`ALTER FUNCTION search_owner_windows(text, text) RESET plan_cache_mode`.execute(db);
      // The definitions of 0009, 0010 and 0011.
      await searchTermsOf0009(db);
      await searchCompletionsOf0010(db);
      await searchInTitlesOf0011(db);
      await sql`DROP FUNCTION search_prefix_end(text)`.execute(db);
    },
  },
  '0015_chats_allowed_users_direct': {
    // The index of the users a chat is shared with (0005) written directly, as every other GIN
    // index of the history is (docs/decisions/search.md, "Who may open what: the sharing index
    // written directly"): with fastupdate on, each new chat, shared or not (an empty array is an
    // entry too), went into the index's pending list, which every search and "Shared with me"
    // page then read through in full (12 159 entries, ~1 ms a search, in the bench's history)
    // until a vacuum merged it. Turning it off does not flush what is pending: done here.
    async up(db) {
      await sql`ALTER INDEX chats_allowed_users SET (fastupdate = off)`.execute(db);
      await sql`SELECT gin_clean_pending_list('chats_allowed_users'::regclass)`.execute(db);
    },
    async down(db) {
      await sql`ALTER INDEX chats_allowed_users RESET (fastupdate)`.execute(db);
    },
  },
  '0016_search_shared_path': {
    // How many messages over every user the planner expects to hold the words of `query`: with
    // the messages of the chats shared with a user, what search chooses between reading the
    // shared chats' matches by the word (its matches over everyone, from the text's index) and by
    // the chats (each shared chat's messages), for a user with fewer matches of their own than it
    // ranks (docs/decisions/search.md, "The chats shared with a user, chosen at run time").
    // EXPLAIN is only allowed in a volatile function, as search_walks_newest() (0012).
    async up(db) {
      await sql`
        CREATE FUNCTION search_matches_estimate(query tsquery) RETURNS float8
        LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
        DECLARE
          estimate json;
        BEGIN
          EXECUTE format('EXPLAIN (FORMAT JSON) SELECT FROM messages WHERE content_search @@ %L::tsquery', query) INTO estimate;
          RETURN (estimate->0->'Plan'->>'Plan Rows')::float8;
        END $$`.execute(db);
    },
    async down(db) {
      await sql`DROP FUNCTION search_matches_estimate(tsquery)`.execute(db);
    },
  },
  '0017_chats_newest_message': {
    // When a chat's newest message was written (its greatest created_at, NULL without messages),
    // kept by the database itself: statement triggers on what is written to messages, whoever
    // writes it (the mirror, a bulk load), in the writer's transaction. Search skips a shared
    // chat with nothing as new as the oldest of the user's own candidates instead of probing its
    // messages (docs/decisions/search.md, "Candidates carry their rank; a shared chat skipped by
    // its newest message"). Only
    // ever raised: a message deleted leaves it as it was, which costs a probe, never a result.
    async up(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`ALTER TABLE chats ADD COLUMN newest_message_at timestamptz`.execute(db);
      await sql`
        CREATE FUNCTION chats_newest_message_of_messages() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE chats c SET newest_message_at = w.newest
          FROM (SELECT chat_id, max(created_at) AS newest FROM written GROUP BY chat_id) AS w
          WHERE c.chat_id = w.chat_id AND (c.newest_message_at IS NULL OR c.newest_message_at < w.newest);
          RETURN NULL;
        END $$`.execute(db);
      for (const event of ['INSERT', 'UPDATE']) {
        await sql`
          CREATE TRIGGER ${sql.raw(`messages_newest_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON messages
          REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION chats_newest_message_of_messages()`.execute(db);
      }
      await sql`
        UPDATE chats c SET newest_message_at = m.newest
        FROM (SELECT chat_id, max(created_at) AS newest FROM messages GROUP BY chat_id) AS m
        WHERE c.chat_id = m.chat_id`.execute(db);
    },
    async down(db) {
      await sql`DROP TRIGGER messages_newest_insert ON messages`.execute(db);
      await sql`DROP TRIGGER messages_newest_update ON messages`.execute(db);
      await sql`DROP FUNCTION chats_newest_message_of_messages()`.execute(db);
      await sql`ALTER TABLE chats DROP COLUMN newest_message_at`.execute(db);
    },
  },
  '0018_search_owner_title_words': {
    // The words of a user's titles behind their owner's tag (as 0012 and 0013 do for messages),
    // so the user's own titles are found from the posting lists of the user's own title words
    // instead of intersecting every title holding the words with the owner's whole list of chats in
    // chats_owner_title_search (docs/decisions/search.md, "A user's titles by their own words").
    // The owner is still compared: two owners may share a tag.
    async up(db) {
      await sql`SET LOCAL statement_timeout = 0`.execute(db);
      await sql`
        CREATE FUNCTION search_owner_title_words(owner text, words tsvector) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN search_tagged_words(left(md5(owner), 8), words)`.execute(db);
      await sql`
        CREATE INDEX chats_owner_title_words ON chats USING gin (search_owner_title_words(user_id, title_search))
        WITH (fastupdate = off)`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX chats_owner_title_words`.execute(db);
      await sql`DROP FUNCTION search_owner_title_words(text, tsvector)`.execute(db);
    },
  },
};

/**
 * The token types of the default parser whose tokens search_terms() keeps (0009): those the
 * 'simple' configuration maps, compounds and URLs left out (their parts are tokens too).
 */
/** search_terms() as 0009 wrote it (a SQL function, planned on every call; replaced by 0014). */
async function searchTermsOf0009(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION search_terms(input text) RETURNS text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN ARRAY(
      SELECT lexeme
      FROM ts_parse('default', search_normalize(input)) WITH ORDINALITY AS token(tokid, token, n),
           unnest(ts_lexize('simple'::regdictionary, token.token)) AS lexeme
      WHERE token.tokid = ANY (${await simpleWordTokens(db)}::int[])
      ORDER BY token.n)`.execute(db);
}

/**
 * search_completions() as 0010 wrote it (replaced by 0014): the first `max` words beginning with
 * `prefix`, in byte order. Planned for each prefix's value, so the index is read over that
 * prefix's range: a plan made once for any prefix (a plain SQL function's, or a cached generic
 * one) walks the index from its start.
 */
async function searchCompletionsOf0010(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION search_completions(prefix text, max integer) RETURNS text[]
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_custom_plan AS $$
    BEGIN
      RETURN ARRAY(SELECT word FROM search_words WHERE word ^@ prefix ORDER BY word LIMIT max);
    END $$`.execute(db);
}

/**
 * search_in_titles() as 0011 wrote it (replaced by 0014): whether a title may match the query's
 * terms, each but the last a word of some title, the last the beginning of one. Planned for each
 * call's values, as search_completions().
 */
async function searchInTitlesOf0011(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION search_in_titles(terms text[]) RETURNS boolean
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET plan_cache_mode = force_custom_plan AS $$
    DECLARE
      last text := terms[cardinality(terms)];
    BEGIN
      RETURN EXISTS (SELECT 1 FROM search_title_words WHERE word ^@ last)
        AND NOT EXISTS (SELECT 1 FROM unnest(terms[1:cardinality(terms) - 1]) AS term
                        WHERE NOT EXISTS (SELECT 1 FROM search_title_words WHERE word = term));
    END $$`.execute(db);
}

async function simpleWordTokens(db: Kysely<unknown>): Promise<RawBuilder<unknown>> {
  const { rows } = await sql<{ tokid: number }>`
    SELECT t.tokid FROM ts_token_type('default') AS t
    WHERE t.alias NOT IN ('asciihword', 'hword', 'numhword', 'url')
      AND EXISTS (SELECT 1 FROM pg_ts_config_map m WHERE m.mapcfg = 'simple'::regconfig AND m.maptokentype = t.tokid)
    ORDER BY t.tokid`.execute(db);
  return sql.lit(`{${rows.map((row) => row.tokid).join(',')}}`);
}

/** search_owner_words() and its index messages_owner_words (0012; replaced by 0013). */
async function ownerWords(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION search_owner_words(owner text, words tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_tsvector(string_to_array(
      left(md5(owner), 8) || NULLIF(array_to_string(tsvector_to_array(words), ' ' || left(md5(owner), 8)), ''), ' '))`.execute(db);
  await sql`
    CREATE INDEX messages_owner_words ON messages USING gin (search_owner_words(owner_id, content_search))
    WITH (fastupdate = off)`.execute(db);
}

/** The trigger function of chats (0010) that writes the words of the titles written into each of `tables`. */
function titleWordsTrigger(tables: string[]): RawBuilder<unknown> {
  const inserts = tables.map(
    (table) => sql`
          INSERT INTO ${sql.raw(table)} (word)
          SELECT DISTINCT word FROM written, unnest(tsvector_to_array(written.title_search)) AS word ORDER BY word
          ON CONFLICT DO NOTHING;`,
  );
  return sql`
        CREATE OR REPLACE FUNCTION search_words_of_chats() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN${sql.join(inserts, sql``)}
          RETURN NULL;
        END $$`;
}

/**
 * translate(text, SEARCH_LETTER_MAP) as replace() calls, one per mapped letter (a byte search,
 * fast), then one regexp deleting the letters without a counterpart.
 */
function mappedLetters(text: RawBuilder<unknown>): RawBuilder<unknown> {
  const [from, to] = SEARCH_LETTER_MAP.map((letters) => [...letters]) as [string[], string[]];
  const mapped = to.reduce((inner, letter, index) => sql`replace(${inner}, ${sql.lit(from[index])}, ${sql.lit(letter)})`, text);
  const deleted = from.slice(to.length).map((letter) => `\\u${(letter.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
  return sql`regexp_replace(${mapped}, ${sql.lit(`[${deleted.join('')}]`)}, '', 'g')`;
}

/** Every migration's name, sorted. */
export const HISTORY_MIGRATIONS: readonly string[] = Object.keys(migrations).sort();

/**
 * Brings the schema up to date (or up to the migration `upTo`, for tests of a migration's
 * backfill); safe to call from several processes at once.
 */
export async function migrateHistory(db: Kysely<unknown>, upTo?: string): Promise<string[]> {
  // Unordered: migrations written side by side may land in either order; each still runs once.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    allowUnorderedMigrations: true,
  });
  const { error, results } = await (upTo === undefined ? migrator.migrateToLatest() : migrator.migrateTo(upTo));
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
