import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponseSchema, type ChatMetadata, type Message } from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { ADMIN_USERS, USERS } from '@simorgh/devstack/fixtures';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { createHistoryDb } from '../../postgres.js';
import { eventually, listen, postStream, type StreamOptions } from '../../test/event-stream-client.js';
import { startTestStack } from '../../test/harness.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { HISTORY_MIGRATIONS, migrateHistory } from './history.migrations.js';
import { OUTBOX_KEY } from './history.scripts.js';
import { createHistoryStore, type OutboxEntry } from './history.store.js';

const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 2 }, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' } });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

const send = (chatId: string, content: string, options: StreamOptions = {}) => stack.sendMessage(arash, chatId, content, options);


type ChatRow = Omit<ChatMetadata, 'created_at' | 'updated_at'> & { created_at: Date; updated_at: Date };
type MessageRow = Omit<Message, 'created_at' | 'model' | 'error' | 'usage' | 'author_id' | 'author_name'> & {
  created_at: Date;
  model: string | null;
  error: string | null;
  extra: Record<string, unknown>;
  seq: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  usage_model: string | null;
  usage_estimated: boolean | null;
};

const chatRow = async (chatId: string) => (await stack.sql<ChatRow>('SELECT * FROM chats WHERE chat_id = $1', [chatId]))[0];
const messageRows = (chatId: string) => stack.sql<MessageRow>('SELECT * FROM messages WHERE chat_id = $1 ORDER BY seq', [chatId]);

/** PostgreSQL holds exactly what the API shows for the chat. */
async function expectMirrored(chatId: string) {
  const [chat, messages, row, rows] = await Promise.all([stack.chatOf(arash, chatId), stack.messagesOf(arash, chatId), chatRow(chatId), messageRows(chatId)]);
  expect(row).toMatchObject({
    chat_id: chat.chat_id,
    user_id: chat.user_id,
    chat_type: chat.chat_type,
    project_number: chat.project_number,
    project_name: chat.project_name,
    page_name: chat.page_name,
    chat_name: chat.chat_name,
    status: chat.status,
    pinned: chat.pinned,
    message_count: chat.message_count,
    visibility: chat.visibility,
    allowed_users: chat.allowed_users,
  });
  expect(row?.created_at.toISOString()).toBe(chat.created_at);
  expect(row?.updated_at.toISOString()).toBe(chat.updated_at);
  expect(
    rows.map((message) => ({
      message_id: message.message_id,
      role: message.role,
      content: message.content,
      status: message.status,
      created_at: message.created_at.toISOString(),
      ...(message.model === null ? {} : { model: message.model }),
      ...(message.error === null ? {} : { error: message.error }),
      // A user message's author travels in `extra`, with any other field without a column.
      ...(typeof message.extra.author_id === 'string' ? { author_id: message.extra.author_id } : {}),
      ...(typeof message.extra.author_name === 'string' ? { author_name: message.extra.author_name } : {}),
      usage:
        message.prompt_tokens === null
          ? null
          : { prompt_tokens: message.prompt_tokens, completion_tokens: message.completion_tokens, model: message.usage_model, estimated: message.usage_estimated },
    })),
  ).toEqual(messages.map((message) => ({ ...message, created_at: new Date(message.created_at).toISOString(), usage: message.usage ?? null })));
}

describe('the history mirror', () => {
  it('writes every kind of change to PostgreSQL: create, title, rename, pin, archive, messages, failed, stopped and regenerated replies, delete', async () => {
    const general = await stack.createChat(arash);
    const project = await stack.createChat(arash, { chat_type: 'project', project_number: '10234', page_name: 'Piping stress review' });
    await stack.drained();
    await expectMirrored(general.chat_id);
    await expectMirrored(project.chat_id);

    // A reply (and the automatic title), then a failed one, regenerated into a complete one.
    expect((await send(general.chat_id, 'How do I size a relief valve?')).of('done')).toHaveLength(1);
    llm.setMode('failing');
    expect((await send(general.chat_id, 'And for a gas service?')).of('error').length).toBeGreaterThan(0);
    await stack.drained();
    expect((await messageRows(general.chat_id)).map((message) => message.status)).toEqual(['complete', 'complete', 'complete', 'error']);
    llm.setMode('normal');
    const again = await postStream(`${stack.url}/api/chats/${general.chat_id}/regenerate`, await stack.tokenFor(arash));
    expect(again.of('done')).toHaveLength(1);
    await stack.drained();
    await expectMirrored(general.chat_id);
    expect((await messageRows(general.chat_id)).map((message) => message.status)).toEqual(['complete', 'complete', 'complete', 'complete']);

    // A reply the user stops (from another request) is saved as stopped.
    llm.configure({ tokenDelayMs: 40 });
    const stopper = await stack.bearer(arash);
    let stopping: Promise<unknown> | null = null;
    await send(project.chat_id, 'Write a long explanation of pump curves', {
      onEvent: (event) => {
        if (event.type === 'delta' && !stopping) stopping = stack.http().post(`/api/chats/${project.chat_id}/stop`).set('Authorization', stopper).then((r) => r);
      },
    });
    await stopping;
    llm.configure({ tokenDelayMs: 2 });
    await eventually(async () => (await stack.messagesOf(arash, project.chat_id))[1]?.status === 'stopped', 5000);
    await stack.drained();
    await expectMirrored(project.chat_id);

    // Title, rename, pin, archive.
    const authorization = await stack.bearer(arash);
    await stack.http().post(`/api/chats/${project.chat_id}/generate-title`).set('Authorization', authorization).send({ first_message: 'Stress analysis of a hot line' }).expect(200);
    await stack.http().patch(`/api/chats/${general.chat_id}`).set('Authorization', authorization).send({ chat_name: 'PSV sizing', pinned: true }).expect(200);
    await stack.http().patch(`/api/chats/${project.chat_id}`).set('Authorization', authorization).send({ status: 'archived' }).expect(200);
    await stack.drained();
    await expectMirrored(general.chat_id);
    await expectMirrored(project.chat_id);
    expect(await chatRow(general.chat_id)).toMatchObject({ chat_name: 'PSV sizing', pinned: true });
    expect(await chatRow(project.chat_id)).toMatchObject({ status: 'archived' });

    // Delete removes the chat and its messages.
    await stack.http().delete(`/api/chats/${general.chat_id}`).set('Authorization', authorization).expect(200);
    await stack.drained();
    expect(await chatRow(general.chat_id)).toBeUndefined();
    expect(await messageRows(general.chat_id)).toEqual([]);
  });

  it('reports the mirror in health: healthy with no backlog; lag and backlog for admins only', async () => {
    await stack.drained();
    const anonymous = HealthResponseSchema.parse((await stack.http().get('/api/health')).body);
    expect(anonymous.services.history).toEqual({ status: 'healthy', latency_ms: expect.any(Number) });
    const admin = HealthResponseSchema.parse((await stack.http().get('/api/health').set('Authorization', await stack.bearer(ADMIN_USERS))).body);
    expect(admin.services.history).toMatchObject({ status: 'healthy', lag_ms: 0, backlog: 0 });
  });
});

describe('replayed entries', () => {
  it('change nothing: applied again, in any order, PostgreSQL stays as it was, and a deleted chat stays deleted', async () => {
    // A second app whose process runs no mirror: its changes wait in the outbox, where the test copies them.
    const quiet = await startTestStack({ mirror: false, llmBaseUrl: llm.url });
    try {
      const quietServer = await listen(quiet.app);
      const kept = await quiet.createChat(arash);
      const deleted = await quiet.createChat(arash);
      await postStream(`${quietServer.url}/api/chats/${kept.chat_id}/messages`, await quiet.tokenFor(arash), { content: 'Hello' });
      await postStream(`${quietServer.url}/api/chats/${deleted.chat_id}/messages`, await quiet.tokenFor(arash), { content: 'Bye' });
      await quiet.http().patch(`/api/chats/${kept.chat_id}`).set('Authorization', await quiet.bearer(arash)).send({ chat_name: 'Renamed', pinned: true }).expect(200);
      await quiet.http().delete(`/api/chats/${deleted.chat_id}`).set('Authorization', await quiet.bearer(arash)).expect(200);
      await quietServer.close();

      const raw = (await quiet.deps.redis.chat.sendCommand(['XRANGE', OUTBOX_KEY, '-', '+'])) as Array<[string, string[]]>;
      const entries: OutboxEntry[] = raw.map(([id, flat]) => ({
        id,
        fields: Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]])) as Record<string, string>,
      }));
      expect(new Set(entries.map((entry) => entry.fields.kind))).toEqual(new Set(['chat', 'message', 'delete']));

      // Now a mirror drains the outbox.
      await quiet.build();
      await quiet.drained();
      const snapshot = async () => ({
        chats: await quiet.sql('SELECT * FROM chats ORDER BY chat_id'),
        messages: await quiet.sql('SELECT * FROM messages ORDER BY message_id'),
      });
      const before = await snapshot();
      expect(before.chats.map((chat) => chat.chat_id)).toEqual([kept.chat_id]);
      expect(before.chats[0]).toMatchObject({ chat_name: 'Renamed', pinned: true, message_count: 2 });

      const store = createHistoryStore(quiet.deps.history.db);
      for (const entry of entries) await store.apply(entry);
      expect(await snapshot()).toEqual(before);
      for (const entry of [...entries].reverse()) await store.apply(entry);
      expect(await snapshot()).toEqual(before);
    } finally {
      await quiet.stop();
    }
  });
});

describe('migrations', () => {
  /** Runs `use` with the URL of a new empty database, dropped afterwards. */
  async function withFreshDatabase(prefix: string, use: (url: string) => Promise<void>): Promise<void> {
    const name = `${prefix}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: stack.postgresUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(stack.postgresUrl);
    url.pathname = `/${name}`;
    try {
      await use(url.toString());
    } finally {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      await admin.end();
    }
  }

  it('run once when two processes migrate a fresh database at the same time', () =>
    withFreshDatabase('migrate', async (url) => {
      const dbs = [0, 1].map(() => createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }).db);
      try {
        const results = await Promise.all(dbs.map((db) => migrateHistory(db)));
        expect(results.flat().sort()).toEqual(HISTORY_MIGRATIONS);
        const check = new pg.Client({ connectionString: url });
        await check.connect();
        const applied = await check.query('SELECT name FROM kysely_migration');
        await check.end();
        expect(applied.rows.map((row: { name: string }) => row.name).sort()).toEqual(HISTORY_MIGRATIONS);
        expect(await migrateHistory(dbs[0] as Kysely<unknown>)).toEqual([]);
      } finally {
        await Promise.all(dbs.map((db) => db.destroy()));
      }
    }));

  /** A chat and a message written straight into the history, as the mirror would. */
  const chatRowIn = (pool: pg.Pool, id: string, title: string) =>
    pool.query(
      `INSERT INTO chats (chat_id, user_id, chat_type, chat_name, status, created_at, updated_at, last_activity_at, metadata, mirror_version)
       VALUES ($1, 'someone', 'general', $2, 'active', now(), now(), now(), '{}', 1)`,
      [id, title],
    );
  const messageRowIn = (pool: pg.Pool, id: string, chatId: string, content: string, createdAt = 'now') =>
    pool.query(
      `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version) VALUES ($1, $2, 1, 'user', $3, 'complete', $4, 1)`,
      [id, chatId, content, createdAt],
    );
  /** The IDs of the messages meeting `condition`, in ID order, once its plan is seen to read `index`. */
  const messagesThrough = async (client: pg.PoolClient, index: string, condition: string, values: unknown[]) => {
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT message_id FROM messages WHERE ${condition}`, values)).rows;
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain(index);
    return (await client.query<{ message_id: string }>(`SELECT message_id FROM messages WHERE ${condition} ORDER BY message_id`, values)).rows.map((row) => row.message_id);
  };
  /** The search indexes of messages, by name. */
  const searchIndexesOf = async (pool: pg.Pool) =>
    (
      await pool.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'messages' AND (indexname LIKE '%search%' OR indexname LIKE '%words%') ORDER BY 1`,
      )
    ).rows.map((row) => row.indexname);
  const wordsIn = async (pool: pg.Pool, table: 'search_words' | 'search_title_words') =>
    (await pool.query<{ word: string }>(`SELECT word FROM ${table} ORDER BY word`)).rows.map((row) => row.word);

  it('fills search_words with the words of the history written before it (0010), then keeps it as messages and chats are written', () =>
    withFreshDatabase('words', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const words = () => wordsIn(pool, 'search_words');
      const chat = (id: string, title: string) => chatRowIn(pool, id, title);
      const message = (id: string, chatId: string, content: string) => messageRowIn(pool, id, chatId, content);
      try {
        await migrateHistory(db, '0009_search_terms_titles');
        await chat('c1', 'Pump Curve');
        await message('m1', 'c1', 'Crème brûlée, ۱۲ كتاب');
        expect(await migrateHistory(db)).toContain('0010_search_words');
        expect(await words()).toEqual(['12', 'brulee', 'creme', 'curve', 'pump', 'کتاب']);
        await chat('c2', 'Flare header');
        await message('m2', 'c2', 'relief valve');
        await pool.query(`UPDATE messages SET content = 'relief valve sizing' WHERE message_id = 'm2'`);
        expect(await words()).toEqual(['12', 'brulee', 'creme', 'curve', 'flare', 'header', 'pump', 'relief', 'sizing', 'valve', 'کتاب']);
      } finally {
        await db.destroy();
      }
    }));

  it('keeps the words of titles apart (0011): filled from the titles written before it, kept as chats are written, gone again going down', () =>
    withFreshDatabase('title_words', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const inTitles = async (q: string) => (await pool.query<{ may: boolean }>('SELECT search_in_titles(search_terms($1)) AS may', [q])).rows[0]?.may;
      try {
        await migrateHistory(db, '0010_search_words');
        await chatRowIn(pool, 'c1', 'Pump Curve');
        await messageRowIn(pool, 'm1', 'c1', 'relief valve');
        expect(await migrateHistory(db, '0011_search_title_words')).toEqual(['0011_search_title_words']);
        expect(await wordsIn(pool, 'search_title_words')).toEqual(['curve', 'pump']);
        await chatRowIn(pool, 'c2', 'Flare header');
        await pool.query(`UPDATE chats SET chat_name = 'Crème brûlée' WHERE chat_id = 'c1'`);
        expect(await wordsIn(pool, 'search_title_words')).toEqual(['brulee', 'creme', 'curve', 'flare', 'header', 'pump']);
        // Every word but the last in some title, the last the beginning of a title's word.
        expect(await inTitles('flare he')).toBe(true);
        expect(await inTitles('CREME brû')).toBe(true);
        expect(await inTitles('header pump')).toBe(true);
        expect(await inTitles('relief')).toBe(false);
        expect(await inTitles('pump relief')).toBe(false);
        expect(await inTitles('relief pump')).toBe(false);
        expect(await inTitles('!!!')).toBe(false);
        expect(await migrateHistory(db, '0010_search_words')).toEqual(['0011_search_title_words']);
        expect((await pool.query(`SELECT to_regclass('search_title_words') AS t, to_regprocedure('search_in_titles(text[])') AS f`)).rows).toEqual([{ t: null, f: null }]);
        await chatRowIn(pool, 'c3', 'Seal flush');
        expect(await wordsIn(pool, 'search_words')).toEqual(['brulee', 'creme', 'curve', 'flare', 'flush', 'header', 'pump', 'relief', 'seal', 'valve']);
      } finally {
        await db.destroy();
      }
    }));

  it('keys the words of messages by their owner (0012): found through the index as messages are written, changed and deleted; the previous index again going down', () =>
    withFreshDatabase('owner_words', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const tag = createHash('md5').update('someone').digest('hex').slice(0, 8);
      let client: pg.PoolClient | undefined;
      // The user's messages holding every word of `words` (the last also as a prefix), through the index only.
      const ownMatches = async (...words: string[]) => {
        const query = words.map((word, index) => `'${tag}${word}'${index === words.length - 1 ? ':*' : ''}`).join(' & ');
        if (!client) throw new Error('no client');
        return messagesThrough(client, 'messages_owner_words', `search_owner_words(owner_id, content_search) @@ $1::tsquery`, [query]);
      };
      const indexes = () => searchIndexesOf(pool);
      try {
        await migrateHistory(db, '0011_search_title_words');
        await chatRowIn(pool, 'c1', 'Compressor station');
        await messageRowIn(pool, 'm1', 'c1', 'Relief valve on the compressor');
        expect(await migrateHistory(db, '0012_search_owner_words')).toEqual(['0012_search_owner_words']);
        expect(await indexes()).toEqual(['messages_content_search', 'messages_owner_words']);
        const words = await pool.query(
          `SELECT search_owner_words('someone', to_tsvector('simple', 'Valve compressor valve'))::text AS words, search_owner_words('someone', ''::tsvector) AS none`,
        );
        expect(words.rows).toEqual([{ words: `'${tag}compressor' '${tag}valve'`, none: null }]);
        // One session that plans without sequential scans (the migrator takes the pool's other two).
        client = await pool.connect();
        await client.query('SET enable_seqscan = off');
        expect(await ownMatches('valve', 'compr')).toEqual(['m1']);
        await messageRowIn(pool, 'm2', 'c1', 'valve compression test');
        expect(await ownMatches('valve', 'compr')).toEqual(['m1', 'm2']);
        await pool.query(`UPDATE messages SET content = 'gate valve' WHERE message_id = 'm1'`);
        expect(await ownMatches('valve', 'compr')).toEqual(['m2']);
        expect(await ownMatches('gate')).toEqual(['m1']);
        await pool.query(`DELETE FROM messages WHERE message_id = 'm2'`);
        expect(await ownMatches('valve')).toEqual(['m1']);
        client.release();
        client = undefined;
        // Walking the user's messages newest first pays once a word is in enough of them (the planner's estimates).
        await pool.query(
          `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
           SELECT 'n' || n, 'c1', n, 'user', CASE WHEN n = 1 THEN 'ubiquitous scarce' ELSE 'ubiquitous entry' END, 'complete', now(), 1
           FROM generate_series(1, 2000) AS n`,
        );
        await pool.query('ANALYZE messages');
        const walks = async (query: string) =>
          (await pool.query<{ walks: boolean }>(`SELECT search_walks_newest('someone', $1::tsquery, 500) AS walks`, [query])).rows[0]?.walks;
        expect(await walks(`'ubiquitous'`)).toBe(true);
        expect(await walks(`'ubiquitous' | 'entry'`)).toBe(true);
        expect(await walks(`'scarce'`)).toBe(false);
        expect(await walks(`'ubiquitous' & 'scarce'`)).toBe(false);
        expect(await migrateHistory(db, '0011_search_title_words')).toEqual(['0012_search_owner_words']);
        expect(await indexes()).toEqual(['messages_owner_search']);
        const gone = await pool.query(
          `SELECT to_regprocedure('search_owner_words(text, tsvector)') AS words, to_regprocedure('search_walks_newest(text, tsquery, integer)') AS walks`,
        );
        expect(gone.rows).toEqual([{ words: null, walks: null }]);
      } finally {
        client?.release();
        await db.destroy();
      }
    }));

  it('keys the words of messages by owner and month (0013): read a window of months at a time, newest first, as messages are written, changed and deleted; the owner words again going down', () =>
    withFreshDatabase('owner_months', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const tag = createHash('md5').update('someone').digest('hex').slice(0, 8);
      // The tag of a month of the owner: months since year 0 (UTC) in 4 hex digits; 2026-11 is 0x5f02.
      const month = (code: number) => `${tag}${code.toString(16).padStart(4, '0')}`;
      const windows = async () => (await pool.query<{ tags: string[] }>(`SELECT tags FROM search_owner_windows('someone', $1)`, [tag])).rows.map((row) => row.tags);
      let client: pg.PoolClient | undefined;
      // The owner's messages in the months of `tags` holding every word of `query`, through the index only.
      const inWindow = async (query: string, tags: string[]) => {
        if (!client) throw new Error('no client');
        return messagesThrough(client, 'messages_owner_month_words', `search_owner_month_words(owner_id, created_at, content_search) @@ search_owner_window_query($1::tsquery, $2)`, [
          query,
          tags,
        ]);
      };
      const indexes = () => searchIndexesOf(pool);
      try {
        await migrateHistory(db, '0012_search_owner_words');
        await chatRowIn(pool, 'c1', 'Compressor station');
        await messageRowIn(pool, 'm1', 'c1', 'Relief valve on the compressor', '2026-11-15T10:00:00Z');
        // 23:30 on 31 October in New York is 1 November in UTC.
        await messageRowIn(pool, 'm2', 'c1', 'valve compression test', '2026-10-31T23:30:00-04:00');
        await messageRowIn(pool, 'm3', 'c1', 'compressor valve survey', '2026-05-02T00:00:00Z');
        expect(await migrateHistory(db, '0013_search_owner_months')).toEqual(['0013_search_owner_months']);
        expect(await indexes()).toEqual(['messages_content_search', 'messages_owner_month_words']);
        const words = await pool.query(
          `SELECT search_owner_month_words('someone', '2026-11-30T23:30:00-05:00', to_tsvector('simple', 'Valve compressor valve'))::text AS words,
                  search_owner_month_words('someone', now(), ''::tsvector) AS none,
                  search_owner_window_query($$'valve' & ( 'it''s' | 'compr':* )$$, ARRAY['A', 'B'])::text AS query`,
        );
        expect(words.rows).toEqual([
          { words: `'${month(0x5f03)}compressor' '${month(0x5f03)}valve'`, none: null, query: `( 'Avalve' | 'Bvalve' ) & ( 'Ait''s' | 'Bit''s' | 'Acompr':* | 'Bcompr':* )` },
        ]);
        // From November back to May: windows of 1, 2 and the 4 months left.
        const [november, ...older] = [0x5f02, 0x5f01, 0x5f00, 0x5eff, 0x5efe, 0x5efd, 0x5efc].map(month);
        expect(await windows()).toEqual([[november], older.slice(0, 2), older.slice(2)]);
        // A longer history (December 2022 to November 2026): windows grow to 16 months and stay there.
        await messageRowIn(pool, 'm4', 'c1', 'archived note', '2022-12-15T00:00:00Z');
        const long = await windows();
        expect(long.map((tags) => tags.length)).toEqual([1, 2, 4, 8, 16, 16, 1]);
        expect(long.flat()).toEqual(Array.from({ length: 48 }, (_, index) => month(0x5f02 - index)));
        // One session that plans without sequential scans (the migrator takes the pool's other two).
        client = await pool.connect();
        await client.query('SET enable_seqscan = off');
        expect(await inWindow(`'valve' & 'compr':*`, [november as string])).toEqual(['m1', 'm2']);
        expect(await inWindow(`'valve' & 'compr':*`, older.slice(0, 2))).toEqual([]);
        expect(await inWindow(`'valve' & 'compr':*`, older.slice(2))).toEqual(['m3']);
        expect(await inWindow(`'relief' & 'survey'`, [november as string, ...older])).toEqual([]);
        await pool.query(`UPDATE messages SET content = 'gate valve' WHERE message_id = 'm1'`);
        expect(await inWindow(`'valve' & 'compr':*`, [november as string])).toEqual(['m2']);
        expect(await inWindow(`'gate'`, [november as string])).toEqual(['m1']);
        await pool.query(`DELETE FROM messages WHERE message_id = 'm2'`);
        expect(await inWindow(`'valve'`, [november as string])).toEqual(['m1']);
        client.release();
        client = undefined;
        expect(await migrateHistory(db, '0012_search_owner_words')).toEqual(['0013_search_owner_months']);
        expect(await indexes()).toEqual(['messages_content_search', 'messages_owner_words']);
        const gone = await pool.query(
          `SELECT to_regprocedure('search_owner_month_words(text, timestamptz, tsvector)') AS words, to_regprocedure('search_owner_windows(text, text)') AS windows,
                  to_regprocedure('search_owner_window_query(tsquery, text[])') AS query, to_regprocedure('search_owner_words(text, tsvector)') IS NOT NULL AS before`,
        );
        expect(gone.rows).toEqual([{ words: null, windows: null, query: null, before: true }]);
      } finally {
        client?.release();
        await db.destroy();
      }
    }));

  it('completes a beginning and finds it in titles through a range of the words (0014), as a prefix match would, at the edges of the code points too', () =>
    withFreshDatabase('word_ranges', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const max = '\u{10FFFF}';
      // Beside each beginning, the words just past its range: the last code point plus one,
      // after U+D7FF the first past the surrogates, the greatest code point at the end.
      const words = ['a', 'ab', 'abc', 'abd', 'ac', `a${max}`, `a${max}b`, 'b', `x\u{D7FF}`, `x\u{D7FF}y`, `x\u{E000}`, `x\u{E000}z`, '\u{FFFF}', '\u{FFFF}a', '\u{10000}', 'é', 'éa', 'f', 'کتاب', 'کتابها', 'کپ', `${max}${max}`, `${max}${max}q`];
      const beginnings = ['', 'a', 'ab', 'abc', 'abe', `a${max}`, `x\u{D7FF}`, 'x', '\u{FFFF}', 'é', 'کتا', 'ک', max, `${max}${max}`, `${max}${max}${max}`, 'z'];
      type Answer = { beginning: string; completions: string[]; firstTwo: string[]; inTitles: boolean; afterAb: boolean };
      const answers = async () =>
        (
          await pool.query<Answer>(
            `SELECT b AS beginning, search_completions(b, 100) AS completions, search_completions(b, 2) AS "firstTwo",
                    search_in_titles(ARRAY[b]) AS "inTitles", search_in_titles(ARRAY['ab', b]) AS "afterAb"
             FROM unnest($1::text[]) WITH ORDINALITY AS beginning(b, n) ORDER BY n`,
            [beginnings],
          )
        ).rows;
      const expected = beginnings.map((beginning): Answer => {
        // Code point order, as the words' "C" collation compares them.
        const completions = words.filter((word) => word.startsWith(beginning)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        return { beginning, completions, firstTwo: completions.slice(0, 2), inTitles: completions.length > 0, afterAb: completions.length > 0 };
      });
      try {
        await migrateHistory(db, '0014_search_words_plans');
        for (const table of ['search_words', 'search_title_words']) await pool.query(`INSERT INTO ${table} (word) SELECT unnest($1::text[])`, [words]);
        expect(await answers()).toEqual(expected);
        expect(expected.find((answer) => answer.beginning === `${max}${max}`)?.completions).toEqual([`${max}${max}`, `${max}${max}q`]);
        // A term but the last must be a word of some title.
        expect((await pool.query(`SELECT search_in_titles(ARRAY['abz', 'a']) AS "inTitles"`)).rows).toEqual([{ inTitles: false }]);
        // Down to the migration before, the functions answer as they did, the range's bound gone.
        const before = HISTORY_MIGRATIONS[HISTORY_MIGRATIONS.indexOf('0014_search_words_plans') - 1] as string;
        expect(await migrateHistory(db, before)).toEqual(['0014_search_words_plans']);
        expect(await answers()).toEqual(expected);
        expect((await pool.query(`SELECT to_regprocedure('search_prefix_end(text)') AS f`)).rows).toEqual([{ f: null }]);
      } finally {
        await db.destroy();
      }
    }));

  it('writes the sharing index directly (0015): nothing left pending for searches to read through, before or after; pending again going down', () =>
    withFreshDatabase('allowed_users', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      let chats = 0;
      // A few chats, one shared: each is an entry of chats_allowed_users (an empty array too).
      const someChats = async () => {
        for (let n = 0; n < 3; n += 1) await chatRowIn(pool, `c${(chats += 1)}`, 'Sizing');
        await pool.query(`UPDATE chats SET allowed_users = '{reader}' WHERE chat_id = $1`, [`c${chats}`]);
      };
      // The pages of the index's pending list merged into it (and so no longer read by every search).
      const pendingPages = async () =>
        Number((await pool.query<{ pages: string }>(`SELECT gin_clean_pending_list('chats_allowed_users'::regclass) AS pages`)).rows[0]?.pages);
      const options = async () =>
        (await pool.query<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE relname = 'chats_allowed_users'`)).rows[0]?.reloptions;
      try {
        await migrateHistory(db, '0014_search_words_plans');
        await someChats();
        expect(await pendingPages()).toBeGreaterThan(0);
        await someChats();
        expect(await migrateHistory(db, '0015_chats_allowed_users_direct')).toEqual(['0015_chats_allowed_users_direct']);
        expect(await options()).toEqual(['fastupdate=off']);
        expect(await pendingPages()).toBe(0);
        await someChats();
        expect(await pendingPages()).toBe(0);
        const shared = await pool.query(`SELECT chat_id FROM chats WHERE allowed_users @> '{reader}' ORDER BY chat_id`);
        expect(shared.rows).toEqual([{ chat_id: 'c3' }, { chat_id: 'c6' }, { chat_id: 'c9' }]);
        expect(await migrateHistory(db, '0014_search_words_plans')).toEqual(['0015_chats_allowed_users_direct']);
        expect(await options()).toBeNull();
        await someChats();
        expect(await pendingPages()).toBeGreaterThan(0);
      } finally {
        await db.destroy();
      }
    }));

  it("gives the planner's estimate of the messages holding a query's words (0016), and takes it away going down", () =>
    withFreshDatabase('matches_estimate', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const estimate = async (query: string) =>
        Number((await pool.query<{ rows: number }>(`SELECT search_matches_estimate($1::tsquery) AS rows`, [query])).rows[0]?.rows);
      try {
        await migrateHistory(db, '0016_search_shared_path');
        await chatRowIn(pool, 'c1', 'Flare study');
        await pool.query(
          `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
           SELECT 'm' || n, 'c1', n, 'user', CASE WHEN n % 100 = 0 THEN 'rare flare' ELSE 'common entry' END, 'complete', now(), 1
           FROM generate_series(1, 2000) AS n`,
        );
        await pool.query('ANALYZE messages');
        // As the planner's statistics have it: 1 message in 100 against every one.
        expect(await estimate(`'rare'`)).toBeLessThan(100);
        expect(await estimate(`'common' | 'rare'`)).toBeGreaterThan(1000);
        expect(await migrateHistory(db, '0015_chats_allowed_users_direct')).toEqual(['0016_search_shared_path']);
        expect((await pool.query(`SELECT to_regprocedure('search_matches_estimate(tsquery)') AS f`)).rows).toEqual([{ f: null }]);
      } finally {
        await db.destroy();
      }
    }));

  it("keeps each chat's newest message time (0017): filled in going up, raised by every insert and update of its messages however written, never lowered; gone going down", () =>
    withFreshDatabase('newest_message', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
      const newest = async () =>
        Object.fromEntries(
          (await pool.query<{ chat_id: string; newest: Date | null }>(`SELECT chat_id, newest_message_at AS newest FROM chats ORDER BY chat_id`)).rows.map((row) => [
            row.chat_id,
            row.newest?.toISOString() ?? null,
          ]),
        );
      try {
        await migrateHistory(db, '0016_search_shared_path');
        for (const id of ['c1', 'c2', 'c3']) await chatRowIn(pool, id, 'Flare study');
        await messageRowIn(pool, 'c1-1', 'c1', 'first', at(10));
        await messageRowIn(pool, 'c1-2', 'c1', 'second', at(20));
        await messageRowIn(pool, 'c2-1', 'c2', 'only', at(5));
        expect(await migrateHistory(db, '0017_chats_newest_message')).toEqual(['0017_chats_newest_message']);
        // Filled in from the messages already there; a chat without messages has none.
        expect(await newest()).toEqual({ c1: at(20), c2: at(5), c3: null });
        // An older message leaves it; one statement writing to several chats raises each.
        await messageRowIn(pool, 'c1-0', 'c1', 'late copy of an old one', at(1));
        await pool.query(
          `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
           SELECT id, chat, 2, 'user', 'bulk', 'complete', created, 1 FROM (VALUES ('c2-2', 'c2', $1::timestamptz), ('c2-3', 'c2', $2), ('c3-1', 'c3', $3)) AS v(id, chat, created)`,
          [at(30), at(25), at(7)],
        );
        expect(await newest()).toEqual({ c1: at(20), c2: at(30), c3: at(7) });
        // A message rewritten newer raises it (an update, and an insert that conflicts, as the mirror's upsert); older never lowers it.
        await pool.query(`UPDATE messages SET created_at = $1 WHERE message_id = 'c1-1'`, [at(40)]);
        await pool.query(
          `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version) VALUES ('c3-1', 'c3', 1, 'user', 'again', 'complete', $1, 2)
           ON CONFLICT (message_id) DO UPDATE SET created_at = EXCLUDED.created_at`,
          [at(50)],
        );
        await pool.query(`UPDATE messages SET created_at = $1 WHERE chat_id = 'c2'`, [at(2)]);
        await pool.query(`DELETE FROM messages WHERE chat_id = 'c1'`);
        expect(await newest()).toEqual({ c1: at(40), c2: at(30), c3: at(50) });
        expect(await migrateHistory(db, '0016_search_shared_path')).toEqual(['0017_chats_newest_message']);
        const columns = await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'chats' AND column_name = 'newest_message_at'`);
        expect(columns.rows).toEqual([]);
        await messageRowIn(pool, 'c1-3', 'c1', 'after going down', at(60));
      } finally {
        await db.destroy();
      }
    }));

  it("indexes each owner's title words behind the owner's tag (0018): an owner's titles by their own words, a prefix too; gone going down", () =>
    withFreshDatabase('owner_titles', async (url) => {
      const { db, pool } = createHistoryDb({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 });
      const ownTitles = async (owner: string, query: string) => {
        const client = await pool.connect();
        try {
          // As search asks: the owner's words through the index, the owner compared on the rows.
          await client.query('SET enable_seqscan = off');
          const select = `SELECT chat_id FROM (
              SELECT * FROM chats WHERE search_owner_title_words(user_id, title_search) @@ search_owner_window_query($1::tsquery, ARRAY[left(md5($2), 8)])
              OFFSET 0) AS c
            WHERE user_id = $2`;
          const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${select}`, [query, owner])).rows;
          expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('chats_owner_title_words');
          return (await client.query<{ chat_id: string }>(`${select} ORDER BY chat_id`, [query, owner])).rows.map((row) => row.chat_id);
        } finally {
          client.release();
        }
      };
      try {
        await migrateHistory(db, '0017_chats_newest_message');
        await chatRowIn(pool, 'c1', 'Compressor valve notes');
        await chatRowIn(pool, 'c2', 'Valve sizing');
        await chatRowIn(pool, 'c3', 'Compressor valve notes');
        await pool.query(`UPDATE chats SET user_id = 'other' WHERE chat_id = 'c3'`);
        expect(await migrateHistory(db, '0018_search_owner_title_words')).toEqual(['0018_search_owner_title_words']);
        await chatRowIn(pool, 'c4', 'Compression test valve');
        expect(await ownTitles('someone', `'valve'`)).toEqual(['c1', 'c2', 'c4']);
        expect(await ownTitles('someone', `'valve' & 'compr':*`)).toEqual(['c1', 'c4']);
        expect(await ownTitles('other', `'valve' & 'compr':*`)).toEqual(['c3']);
        expect(await ownTitles('nobody', `'valve'`)).toEqual([]);
        expect(await migrateHistory(db, '0017_chats_newest_message')).toEqual(['0018_search_owner_title_words']);
        expect((await pool.query(`SELECT to_regprocedure('search_owner_title_words(text, tsvector)') AS f, to_regclass('chats_owner_title_words') AS i`)).rows).toEqual([
          { f: null, i: null },
        ]);
      } finally {
        await db.destroy();
      }
    }));
});
