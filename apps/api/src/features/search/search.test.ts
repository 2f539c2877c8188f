import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, SearchResponseSchema, type ChatMetadata, type SearchResponse, type SearchResult } from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startTcpProxy } from '@simorgh/devstack/tcp-proxy';
import { closeDeps } from '../../deps.js';
import { createHistoryDb } from '../../postgres.js';
import { OUTBOX_KEY } from '../history/history.scripts.js';
import { eventually, listen, postStream } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { chatsUserMayOpen } from './chats-user-may-open.js';
import { COMPLETIONS_MAX, createSearchStore, ownerTag, SEARCH_CANDIDATES } from './search.store.js';

const REPLY = 'Noted.';
let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 0, reply: REPLY, titleReply: 'Untitled' }, env: { MESSAGES_PER_MINUTE: '10000', CONCURRENT_STREAMS: '20' } });
});

afterAll(() => stack?.stop());

/** A chat of `user`, renamed to `title` before any message (so no automatic title replaces it). */
async function chat(user: string, options: { title?: string; project?: number; page?: string } = {}): Promise<ChatMetadata> {
  const created = await stack.createChat(
    user,
    options.project ? { chat_type: 'project', project_number: String(options.project), page_name: options.page ?? 'Design basis' } : { chat_type: 'general' },
  );
  if (options.title === undefined) return created;
  await stack.http().patch(`/api/chats/${created.chat_id}`).set('Authorization', await stack.bearer(user)).send({ chat_name: options.title }).expect(200);
  return { ...created, chat_name: options.title };
}

/** Saves a user message (the fake model answers "Noted."); returns its ID. */
async function say(user: string, chatId: string, content: string): Promise<string> {
  const reply = await stack.sendMessage(user, chatId, content);
  expect(reply.of('done')).toHaveLength(1);
  const saved = reply.of('user_message')[0];
  if (!saved) throw new Error('no user_message event');
  return saved.message.message_id;
}


async function search(user: string, query: Record<string, string | number>) {
  return stack.http().get('/api/search').query(query).set('Authorization', await stack.bearer(user));
}

async function find(user: string, q: string, extra: Record<string, string | number> = {}): Promise<SearchResponse> {
  const res = await search(user, { q, limit: 50, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return SearchResponseSchema.parse(res.body);
}

/** Every page of a search, followed by its cursor: each result's message ID ('title' for a title). */
async function everyPage(user: string, q: string, extra: Record<string, string> = {}): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: SearchResponse = SearchResponseSchema.parse((await search(user, { q, limit: 50, ...extra, ...(cursor ? { cursor } : {}) })).body);
    seen.push(...page.results.map((result) => result.message_id ?? 'title'));
    cursor = page.next_cursor;
  } while (cursor);
  return seen;
}

/**
 * Runs `check` with the user's newest matches found each way in turn, walking their messages
 * newest first and reading their words by month (search_walks_newest() chooses by the planner's
 * estimates; here it answers true, then false), and puts the function back.
 */
async function eachWayOfReading(check: (walks: boolean) => Promise<void>): Promise<void> {
  for (const walks of [true, false]) {
    await answering('search_walks_newest(owner text, query tsquery, candidates integer) RETURNS boolean', String(walks), () => check(walks));
  }
}

/** Runs `check` with the SQL function `signature` answering `value` whatever it is asked, then puts the function back. */
async function answering(signature: string, value: string, check: () => Promise<void>): Promise<void> {
  const name = signature.slice(0, signature.indexOf(' RETURNS'));
  const types = name.replace(/\w+ (\w+)(?=[,)])/g, '$1');
  const [definition] = await stack.sql<{ text: string }>(`SELECT pg_get_functiondef('${types}'::regprocedure) AS text`);
  try {
    await stack.sql(`CREATE OR REPLACE FUNCTION ${signature} LANGUAGE sql VOLATILE RETURN ${value}`);
    await check();
  } finally {
    await stack.sql(definition?.text ?? '');
  }
}

/** The words a result marks, cut out of its snippet by the highlights. */
const marked = (result: SearchResult) => result.highlights.map(([start, end]) => result.snippet.slice(start, end));
const messageIds = (response: SearchResponse) => response.results.map((result) => result.message_id);

describe('what matches, in English', () => {
  const user = 'search.english';
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const notes = await chat(user, { title: 'Plant notes' });
    ids.relief = await say(user, notes.chat_id, 'Size the Relief valve for the blocked outlet case');
    ids.reversed = await say(user, notes.chat_id, 'The outlet of the blocked line feeds a valve');
    ids.accents = await say(user, notes.chat_id, 'Crème Brûlée at the café in São Paulo');
    ids.plain = await say(user, notes.chat_id, 'creme brulee recipe');
    ids.html = await say(user, notes.chat_id, 'Bold <b>gasket</b> & torque <script>x</script>');
    ids.markdown = await say(user, notes.chat_id, `## Flange check\n\n${'Earlier notes on the unit. '.repeat(8)}The **bolt load** on \`B-7\` is *fine*:\n- see [the sheet](https://x.example/s.pdf)`);
    await stack.drained();
  });

  it('finds a message holding every word of the query, in any order', async () => {
    expect(messageIds(await find(user, 'valve blocked outlet'))).toEqual(expect.arrayContaining([ids.relief, ids.reversed]));
    expect(messageIds(await find(user, 'valve outlet relief'))).toEqual([ids.relief]);
    expect(messageIds(await find(user, 'valve outlet pump'))).toEqual([]);
  });

  it('matches the last word as a prefix only: "relie" finds "relief", "relie valve" does not', async () => {
    const typing = await find(user, 'relie');
    expect(messageIds(typing)).toEqual([ids.relief]);
    expect(marked(typing.results[0] as SearchResult)).toEqual(['Relief']);
    expect(messageIds(await find(user, 'valve relie'))).toEqual([ids.relief]);
    expect(messageIds(await find(user, 'relie valve'))).toEqual([]);
  });

  it('ignores case and accents, both in the text and in the query', async () => {
    for (const q of ['RELIEF VALVE', 'relief valve', 'rÉlïef vâlve']) expect(messageIds(await find(user, q)), q).toEqual([ids.relief]);
    for (const q of ['creme brulee', 'CRÈME BRÛLÉE', 'Creme Brûl']) {
      const response = await find(user, q);
      expect(new Set(messageIds(response)), q).toEqual(new Set([ids.accents, ids.plain]));
    }
    const accented = (await find(user, 'sao paulo cafe')).results[0] as SearchResult;
    expect(marked(accented)).toEqual(['café', 'São', 'Paulo']);
  });

  it('returns text, never HTML: the snippet is the message as written, highlights mark the words', async () => {
    const [result] = (await find(user, 'gasket torque')).results;
    expect(result?.snippet).toBe('Bold <b>gasket</b> & torque <script>x</script>');
    expect(marked(result as SearchResult)).toEqual(['gasket', 'torque']);
    expect(result).toMatchObject({ message_id: ids.html, role: 'user', chat_name: 'Plant notes', chat_type: 'general', project_number: null });
  });

  it('shows a message without its markdown markup, highlights marking the words in what is shown', async () => {
    const [result] = (await find(user, 'bolt load fine sheet')).results;
    expect(result?.message_id).toBe(ids.markdown);
    expect(result?.snippet).toMatch(/^…\S.* The bolt load on B-7 is fine: see the sheet$/);
    expect(result?.snippet).not.toMatch(/[*`#[\]]/);
    expect(marked(result as SearchResult)).toEqual(['bolt', 'load', 'fine', 'sheet']);
  });

  it('finds nothing for a query of punctuation alone, and still answers 200', async () => {
    expect((await find(user, '!!! --- ???')).results).toEqual([]);
  });

  it('completes the last word into the words of the history, and matches a beginning of more words than it completes as a prefix', async () => {
    const writer = 'search.completions';
    const log = await chat(writer, { title: 'Sensor log' });
    await stack.drained();
    // Straight into the history, as the mirror would: quasar01 … quasar40, one message each.
    const count = COMPLETIONS_MAX + 8;
    await stack.sql(
      `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
       SELECT $1 || '-' || n, $1, n, 'user', 'reading of quasar' || lpad(n::text, 2, '0'), 'complete', now() - interval '1 hour' + n * interval '1 second', 1
       FROM generate_series(1, $2::int) AS n`,
      [log.chat_id, count],
    );
    const found = async (q: string) => new Set((await find(writer, q)).results.map((result) => result.message_id));
    const ids = (from: number, to: number) => new Set(Array.from({ length: to - from + 1 }, (_, index) => `${log.chat_id}-${from + index}`));
    expect(await found('quasar')).toEqual(ids(1, count));
    expect(await found('reading quasar1')).toEqual(ids(10, 19));
    expect(await found('quasar40')).toEqual(ids(40, 40));
    expect(await found('quasar41')).toEqual(new Set());
    expect(marked((await find(writer, 'quasar3')).results[0] as SearchResult)).toEqual([expect.stringMatching(/^quasar3\d$/)]);
  });

  it('finds a title by words that are all in it, not by a word of its messages, and a title renamed to new words at once', async () => {
    const writer = 'search.titlewords';
    const renamed = await chat(writer, { title: 'Zanzibar quokka survey' });
    const counted = await say(writer, renamed.chat_id, 'the marmoset count');
    await stack.drained();
    expect((await find(writer, 'quokka zanz')).results.map((result) => [result.chat_id, result.message_id])).toEqual([[renamed.chat_id, null]]);
    expect(messageIds(await find(writer, 'marmoset'))).toEqual([counted]);
    // One word in the title, the other in a message: neither is a match.
    expect((await find(writer, 'quokka marmoset')).results).toEqual([]);
  });

  it('sends its statements prepared, and the session keeps one plan of each (the paths are chosen as it runs), without JIT', async () => {
    const writer = 'search.prepared';
    const notes = await chat(writer, { title: 'Ozone notes' });
    const reading = await say(writer, notes.chat_id, 'the ozone reading');
    await stack.drained();
    // One session, so every statement is prepared on it.
    const history = createHistoryDb({ DATABASE_URL: stack.postgresUrl, DATABASE_POOL_SIZE: 1 });
    try {
      const store = createSearchStore(history.db);
      const visible = await chatsUserMayOpen(writer, async () => ({ all: [] }));
      // More searches than PostgreSQL plans for their values before it may keep one generic plan by itself.
      for (let search = 0; search < 7; search += 1) {
        const { hits } = await store.page({ q: 'ozone', visible, after: null, limit: 20 });
        expect(hits.map((hit) => [hit.chat_id, hit.message_id])).toEqual([
          [notes.chat_id, null],
          [notes.chat_id, reading],
        ]);
      }
      const { rows } = await sql<{ generic_plans: string; custom_plans: string }>`
        SELECT generic_plans, custom_plans FROM pg_prepared_statements ORDER BY statement`.execute(history.db);
      // The words with the titles (one, short of a page), then the messages.
      expect(rows).toEqual(Array.from({ length: 2 }, () => ({ generic_plans: '7', custom_plans: '0' })));
      const mode = await sql<{ mode: string; jit: string }>`SELECT current_setting('plan_cache_mode') AS mode, current_setting('jit') AS jit`.execute(history.db);
      expect(mode.rows).toEqual([{ mode: 'force_generic_plan', jit: 'off' }]);
    } finally {
      await history.db.destroy();
    }
  });

  it('normalizes a word of ASCII letters and digits to itself lowercased (what highlights assume without asking PostgreSQL)', async () => {
    const rows = await stack.sql<{ ch: string; normalized: string }>(
      `SELECT chr(c) AS ch, search_normalize(chr(c) || chr(c)) AS normalized FROM generate_series(32, 126) AS c WHERE chr(c) ~ '^[A-Za-z0-9]$'`,
    );
    expect(rows).toHaveLength(62);
    for (const row of rows) expect(row.normalized, row.ch).toBe(`${row.ch}${row.ch}`.toLowerCase());
  });

  it("splits a query into the words ts_debug() gives for the 'simple' configuration, compounds and URLs left out", async () => {
    const queries = [
      'Relief-valve set at 3.5 bar, v2.1.0 of the sheet',
      'see https://x.example/a/b.pdf or mail ops@x.example about /etc/hosts',
      'CRÈME brûlée -12 +7 1e3 0x1F snake_case',
      'طراحیِ پمپ‌ها ۱۲٫۵ كتاب يک «گزارش»؟',
      '   ',
    ];
    const rows = await stack.sql<{ q: string; terms: string[]; expected: string[] }>(
      `SELECT q, search_terms(q) AS terms,
              ARRAY(SELECT lexeme
                    FROM ts_debug('simple'::regconfig, search_normalize(q)) WITH ORDINALITY AS token(alias, description, token, dictionaries, dictionary, lexemes, n),
                         unnest(token.lexemes) AS lexeme
                    WHERE token.alias NOT IN ('asciihword', 'hword', 'numhword', 'url')
                    ORDER BY token.n) AS expected
       FROM unnest($1::text[]) AS q`,
      [queries],
    );
    expect(rows).toHaveLength(queries.length);
    for (const row of rows) expect(row.terms, row.q).toEqual(row.expected);
    expect(rows[0]?.terms).toEqual(['relief', 'valve', 'set', 'at', '3.5', 'bar', 'v2.1.0', 'of', 'the', 'sheet']);
  });
});

describe('what matches, in Persian', () => {
  const user = 'search.persian';
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const notes = await chat(user, { title: 'یادداشت‌های کارگاه' });
    ids.arabicKaf = await say(user, notes.chat_id, 'كتاب راهنماي پمپ');
    ids.persianYeh = await say(user, notes.chat_id, 'یک کمپرسور تازه');
    ids.zwnj = await say(user, notes.chat_id, 'می‌خواهم گزارش را ببینم');
    ids.tatweel = await say(user, notes.chat_id, 'مـــهندس ارشد');
    ids.persianDigits = await say(user, notes.chat_id, 'فشار ۱۲۵ بار در خط');
    ids.asciiDigits = await say(user, notes.chat_id, 'pressure 340 bar at the header');
    ids.decimal = await say(user, notes.chat_id, 'ضریب ۳٫۵ برای طراحی');
    ids.harakat = await say(user, notes.chat_id, 'عِلْم و عمل');
    ids.punctuation = await say(user, notes.chat_id, 'سلام، دنیا «خوب» است؟');
    ids.emoji = await say(user, notes.chat_id, '😀 پمپ 😀 pump 𝒳 خوب');
    await stack.drained();
  });

  it('treats the Arabic and Persian forms of yeh and kaf as one letter, either way round', async () => {
    expect(messageIds(await find(user, 'کتاب راهنمای'))).toEqual([ids.arabicKaf]);
    const kaf = (await find(user, 'كتاب')).results[0] as SearchResult;
    expect(marked(kaf)).toEqual(['كتاب']);
    expect(messageIds(await find(user, 'يك كمپرسور'))).toEqual([ids.persianYeh]);
  });

  it('ignores the zero-width non-joiner and tatweel, in the text and in the query', async () => {
    const joined = await find(user, 'میخواهم گزارش');
    expect(messageIds(joined)).toEqual([ids.zwnj]);
    expect(marked(joined.results[0] as SearchResult)).toEqual(['می‌خواهم', 'گزارش']);
    expect(messageIds(await find(user, 'گزارش می‌خو'))).toEqual([ids.zwnj]);
    const stretched = await find(user, 'مهندس');
    expect(messageIds(stretched)).toEqual([ids.tatweel]);
    expect(marked(stretched.results[0] as SearchResult)).toEqual(['مـــهندس']);
    expect(messageIds(await find(user, 'ارشد مـهـنـدس'))).toEqual([ids.tatweel]);
  });

  it('matches Persian and Arabic-Indic digits with ASCII digits', async () => {
    for (const q of ['125 فشار', '۱۲۵ فشار', '١٢٥ فشار']) expect(messageIds(await find(user, q)), q).toEqual([ids.persianDigits]);
    for (const q of ['340 pressure', '۳۴۰ pressure', '٣٤٠ pressure']) expect(messageIds(await find(user, q)), q).toEqual([ids.asciiDigits]);
    expect(messageIds(await find(user, 'ضریب 3.5'))).toEqual([ids.decimal]);
    expect(marked((await find(user, 'ضریب 3.5')).results[0] as SearchResult)).toEqual(['ضریب', '۳٫۵']);
  });

  it('ignores Arabic diacritics and Persian punctuation around words', async () => {
    expect(messageIds(await find(user, 'علم عمل'))).toEqual([ids.harakat]);
    const greeting = await find(user, 'سلام دنیا');
    expect(messageIds(greeting)).toEqual([ids.punctuation]);
    expect(marked(greeting.results[0] as SearchResult)).toEqual(['سلام', 'دنیا']);
    expect(messageIds(await find(user, 'است'))).toEqual([ids.punctuation]);
  });

  it('gives highlights in UTF-16 offsets that stay right after characters outside the BMP', async () => {
    const [result] = (await find(user, 'pump پمپ')).results;
    expect(result?.snippet).toBe('😀 پمپ 😀 pump 𝒳 خوب');
    expect(result?.highlights).toEqual([
      [3, 6],
      [10, 14],
    ]);
    expect(marked(result as SearchResult)).toEqual(['پمپ', 'pump']);
  });

  it('finds titles in Persian, with the title as the snippet', async () => {
    const [title] = (await find(user, 'یادداشتهای')).results;
    expect(title).toMatchObject({ message_id: null, role: null, snippet: 'یادداشت‌های کارگاه', highlights: [[0, 11]] });
  });
});

describe('results, ranking and pages', () => {
  // May open refinery project chats in TPMS.
  const user = USERS.arash.username;
  let pump: ChatMetadata;
  let other: ChatMetadata;
  let project: ChatMetadata;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    pump = await chat(user, { title: 'Centrifugal pump sizing' });
    other = await chat(user, { title: 'Cooling water' });
    project = await chat(user, { project: PROJECTS.refinery.id, page: 'Pump house layout' });
    ids.once = await say(user, other.chat_id, 'check the pump curve');
    ids.thrice = await say(user, other.chat_id, 'pump pump pump, the pump curve again');
    ids.older = await say(user, pump.chat_id, 'impeller trim for the pump');
    ids.newer = await say(user, project.chat_id, 'impeller trim for the pump');
    ids.long = await say(user, pump.chat_id, `${'Background words about the site and its history. '.repeat(8)}Here the seal flush plan matters. ${'More words that follow on and on. '.repeat(8)}`);
    await stack.drained();
  });

  it('ranks title matches first, then relevance, then the newest', async () => {
    const { results } = await find(user, 'pump');
    expect(results.slice(0, 2).map((result) => [result.chat_id, result.message_id])).toEqual(
      expect.arrayContaining([
        [pump.chat_id, null],
        [project.chat_id, null],
      ]),
    );
    const messages = results.slice(2).map((result) => result.message_id);
    expect(messages[0]).toBe(ids.thrice);
    expect(messages.indexOf(ids.newer as string)).toBeLessThan(messages.indexOf(ids.older as string));
    expect(new Set(messages)).toEqual(new Set([ids.once, ids.thrice, ids.older, ids.newer]));
    // A title result carries the chat's project and page.
    expect(results.find((result) => result.chat_id === project.chat_id && result.message_id === null)).toMatchObject({
      chat_type: 'project',
      project_number: String(PROJECTS.refinery.id),
      project_name: PROJECTS.refinery.name,
      page_name: 'Pump house layout',
      snippet: 'Pump house layout',
      highlights: [[0, 4]],
    });
  });

  it('cuts a short excerpt around the match out of a long message', async () => {
    const [result] = (await find(user, 'seal flush')).results;
    expect(result?.message_id).toBe(ids.long);
    expect(result?.snippet.length).toBeLessThanOrEqual(182);
    expect(result?.snippet.startsWith('…')).toBe(true);
    expect(result?.snippet.endsWith('…')).toBe(true);
    expect(marked(result as SearchResult)).toEqual(['seal', 'flush']);
  });

  it('pages with an opaque cursor, each result once and in the same order as one long page', async () => {
    const whole = (await find(user, 'pump')).results.map((result) => `${result.chat_id}/${result.message_id}`);
    expect(whole.length).toBe(6);
    // Two title matches: a page of 1 is all titles (the messages are not read for it), a page of
    // 2 ends with the last title, a page of 3 mixes both.
    for (const limit of [1, 2, 3]) {
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: SearchResponse = SearchResponseSchema.parse((await search(user, { q: 'pump', limit, ...(cursor ? { cursor } : {}) })).body);
        expect(page.results.length).toBeLessThanOrEqual(limit);
        paged.push(...page.results.map((result) => `${result.chat_id}/${result.message_id}`));
        cursor = page.next_cursor;
      } while (cursor);
      expect(paged, `limit ${limit}`).toEqual(whole);
    }
  });

  it('ranks the newest matches of a word in more messages than it ranks, and pages through them all', async () => {
    const many = await chat('search.many', { title: 'Daily log' });
    await stack.drained();
    // Written straight into the history, as the mirror would: one message a minute, the most
    // relevant one (the word three times) among the oldest, a less relevant one among the newest.
    const count = SEARCH_CANDIDATES + 100;
    await stack.sql(
      `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
       SELECT $1 || '-' || n, $1, n, 'user',
              CASE WHEN n = 10 THEN 'ubiquitous ubiquitous ubiquitous' WHEN n = $2 - 5 THEN 'ubiquitous ubiquitous, entry ' || n
                   ELSE 'ubiquitous entry ' || n || ' of the long daily log with many more words' END,
              'complete', now() - interval '1 day' + n * interval '1 minute', 1
       FROM generate_series(1, $2::int) AS n`,
      [many.chat_id, count],
    );
    const seen = await everyPage('search.many', 'ubiquitous');
    const newest = Array.from({ length: SEARCH_CANDIDATES }, (_, index) => `${many.chat_id}-${count - index}`);
    expect(seen).toHaveLength(SEARCH_CANDIDATES);
    expect(new Set(seen)).toEqual(new Set(newest));
    expect(seen.slice(0, 2)).toEqual([`${many.chat_id}-${count - 5}`, `${many.chat_id}-${count}`]);
    // The same pages whichever way the user's newest matches are found.
    await eachWayOfReading(async (walks) => expect(await everyPage('search.many', 'ubiquitous'), `walks: ${walks}`).toEqual(seen));
  });

  it('takes the newest matches of messages written over years, a window of months at a time, the same whichever way they are read', async () => {
    const owner = 'search.years';
    const diary = await chat(owner, { title: 'Plant diary' });
    await stack.drained();
    // One message every 36 hours for about three years, straight into the history: the newest
    // candidates span 25 months, so the user's words are read in windows of 1, 2, 4, 8 and 16 months.
    const count = SEARCH_CANDIDATES + 200;
    await stack.sql(
      `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
       SELECT $1 || '-' || n, $1, n, 'user', 'perennial entry ' || n || ' of the diary', 'complete', now() - ($2 - n) * interval '36 hours', 1
       FROM generate_series(1, $2::int) AS n`,
      [diary.chat_id, count],
    );
    const newest = Array.from({ length: SEARCH_CANDIDATES }, (_, index) => `${diary.chat_id}-${count - index}`);
    const seen = await everyPage(owner, 'perennial');
    expect(new Set(seen)).toEqual(new Set(newest));
    expect(seen).toHaveLength(SEARCH_CANDIDATES);
    await eachWayOfReading(async (walks) => {
      for (const [q, extra] of [['perennial', {}], ['perenn', {}], ['diary perennial entr', {}], ['perennial', { chat_type: 'general' }]] as const) {
        expect(await everyPage(owner, q, extra), `walks: ${walks}, ${q} ${JSON.stringify(extra)}`).toEqual(seen);
      }
    });
  });

  it("takes the newest matches from the user's own chats and the chats shared with them together", async () => {
    const recipient = USERS.leila.username;
    const sharer = USERS.omid.username;
    const mine = await chat(recipient, { title: 'Shift log' });
    const theirs = await chat(sharer, { title: 'Crew notes' });
    await stack.http().patch(`/api/chats/${theirs.chat_id}`).set('Authorization', await stack.bearer(sharer)).send({ allowed_users: [recipient] }).expect(200);
    await stack.drained();
    // Straight into the history (the owner column filled in as the mirror's rows get it): one of
    // the recipient's messages a minute, and three in the shared chat, the newest of all, one
    // among the recipient's newest and one older than those.
    const count = SEARCH_CANDIDATES + 100;
    await stack.sql(
      `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
       SELECT chat_id || '-' || n, chat_id, n, 'user', 'omnipresent entry ' || n, 'complete', now() - interval '1 day' + minute * interval '1 minute', 1
       FROM (SELECT $1 AS chat_id, n, n::numeric AS minute FROM generate_series(1, $3::int) AS n
             UNION ALL SELECT $2, n, minute FROM (VALUES (1, $3 + 0.5), (2, 300.5), (3, 50.5)) AS shared(n, minute)) AS rows`,
      [mine.chat_id, theirs.chat_id, count],
    );
    const seen = await everyPage(recipient, 'omnipresent');
    const newestOwn = Array.from({ length: SEARCH_CANDIDATES - 2 }, (_, index) => `${mine.chat_id}-${count - index}`);
    expect(new Set(seen)).toEqual(new Set([`${theirs.chat_id}-1`, `${theirs.chat_id}-2`, ...newestOwn]));
    expect(seen).toHaveLength(SEARCH_CANDIDATES);
    expect((await find(sharer, 'omnipresent')).results.map((result) => result.message_id).sort()).toEqual([1, 2, 3].map((n) => `${theirs.chat_id}-${n}`).sort());
    // A shared chat whose newest message is older than the oldest of those is not read
    // (chats.newest_message_at); a message written to it later, newer than them all, is found.
    const quiet = await chat(sharer, { title: 'Old crew notes' });
    await stack.http().patch(`/api/chats/${quiet.chat_id}`).set('Authorization', await stack.bearer(sharer)).send({ allowed_users: [recipient] }).expect(200);
    await stack.drained();
    const written = (n: number, minute: number) =>
      stack.sql(
        `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
         VALUES ($1 || '-' || $2, $1, $2::int, 'user', 'omnipresent entry', 'complete', now() - interval '1 day' + $3 * interval '1 minute', 1)`,
        [quiet.chat_id, n, minute],
      );
    await written(1, 10.5);
    expect(await everyPage(recipient, 'omnipresent')).toEqual(seen);
    await written(2, count + 0.7);
    const after = await everyPage(recipient, 'omnipresent');
    expect(new Set(after)).toEqual(new Set([`${quiet.chat_id}-2`, `${theirs.chat_id}-1`, `${theirs.chat_id}-2`, ...newestOwn.slice(0, -1)]));
  });

  it('reads the chats shared with a user of few matches by the word or by the chats, whichever is chosen, with the same results', async () => {
    const reader = USERS.leila.username;
    const sharer = USERS.omid.username;
    const mine = await chat(reader, { title: 'Site walk' });
    const theirs = await chat(sharer, { title: 'Crew log' });
    await stack.http().patch(`/api/chats/${theirs.chat_id}`).set('Authorization', await stack.bearer(sharer)).send({ allowed_users: [reader] }).expect(200);
    const expected = new Set([
      await say(reader, mine.chat_id, 'a quixotic plan for the flare'),
      await say(sharer, theirs.chat_id, 'one quixotic idea'),
      await say(sharer, theirs.chat_id, 'another quixotic idea'),
    ]);
    await say(sharer, theirs.chat_id, 'nothing of the sort');
    await stack.drained();
    // search_matches_estimate() (migration 0016) against the shared chats' messages decides; here
    // each way is taken in turn: by the word when nothing is expected to match, by the chats when
    // everything is.
    for (const estimate of ['-1', '1e12']) {
      await answering('search_matches_estimate(query tsquery) RETURNS float8', estimate, async () => {
        for (const q of ['quixotic', 'quix', 'idea quixotic']) {
          const found = new Set(messageIds(await find(reader, q)));
          expect(found, `${q}, estimate ${estimate}`).toEqual(q === 'idea quixotic' ? new Set([...expected].slice(1)) : expected);
        }
      });
    }
  });

  it('plans without parallel workers, which on a busy server only queue (and would start for branches that never run)', async () => {
    const { rows } = await sql<{ max_parallel_workers_per_gather: string }>`SHOW max_parallel_workers_per_gather`.execute(stack.deps.history.db);
    expect(rows).toEqual([{ max_parallel_workers_per_gather: '0' }]);
  });

  it('filters by chat type and project, whichever way the user\'s matches are read (a project\'s own chats are read chat by chat)', async () => {
    await eachWayOfReading(async (walks) => {
      for (const q of ['impeller', 'impel']) {
        const way = `${q}, walks ${walks}`;
        expect(messageIds(await find(user, q, { chat_type: 'project' })), way).toEqual([ids.newer]);
        expect(messageIds(await find(user, q, { chat_type: 'general' })), way).toEqual([ids.older]);
        expect(messageIds(await find(user, q, { project_number: String(PROJECTS.refinery.id) })), way).toEqual([ids.newer]);
        expect(messageIds(await find(user, q, { chat_type: 'project', project_number: String(PROJECTS.refinery.id) })), way).toEqual([ids.newer]);
        expect(messageIds(await find(user, q, { chat_type: 'general', project_number: String(PROJECTS.refinery.id) })), way).toEqual([]);
        expect(messageIds(await find(user, q, { project_number: String(PROJECTS.compression.id) })), way).toEqual([]);
      }
    });
  });
});

describe('who sees what', () => {
  it("never finds another user's chats, titles or messages", async () => {
    const owner = USERS.arash.username;
    const intruder = USERS.sara.username;
    const secret = await chat(owner, { title: 'Confidential flare study' });
    await say(owner, secret.chat_id, 'flare tip velocity limits');
    const hers = await chat(intruder, { title: 'Her own notes' });
    await say(intruder, hers.chat_id, 'tip of the day');
    await stack.drained();
    expect((await find(owner, 'flare')).results.length).toBe(2);
    for (const q of ['flare', 'confidential', 'velocity limits', 'tip', 'f', secret.chat_id]) {
      for (const result of (await find(intruder, q)).results) expect(result.chat_id, q).toBe(hers.chat_id);
    }
  });

  it("never finds the words of another user whose own words carry the same tag", async () => {
    // Two users whose tags (the first 8 hex digits of md5) are the same: their words share posting
    // lists, and the owner column still tells them apart.
    const [one, other] = ['search.tag-80385', 'search.tag-95321'];
    expect(ownerTag(one)).toBe(ownerTag(other));
    const theirs = await chat(one, { title: 'Seal notes' });
    const secret = await say(one, theirs.chat_id, 'valve compressor seal leak');
    const mine = await chat(other, { title: 'Pump notes' });
    const own = await say(other, mine.chat_id, 'valve compression test');
    await stack.drained();
    expect(messageIds(await find(one, 'valve compr'))).toEqual([secret]);
    expect(messageIds(await find(other, 'valve compr'))).toEqual([own]);
    expect(messageIds(await find(other, 'valve c'))).toEqual([own]);
    for (const q of ['compressor', 'seal leak', 'leak', 'valve']) expect(messageIds(await find(other, q)), q).not.toContain(secret);
    // Titles too: each finds its own title by its words, never the other's.
    const titlesFound = async (user: string, q: string) => (await find(user, q)).results.filter((result) => result.message_id === null).map((result) => result.chat_id);
    expect(await titlesFound(one, 'notes')).toEqual([theirs.chat_id]);
    expect(await titlesFound(other, 'notes')).toEqual([mine.chat_id]);
    expect(await titlesFound(other, 'seal no')).toEqual([]);
  });

  it("finds a chat's messages by its owner of the moment: a chat that changes hands takes its messages with it", async () => {
    const first = 'search.first-owner';
    const second = 'search.second-owner';
    const handed = await chat(first, { title: 'Gearbox handover' });
    const messageId = await say(first, handed.chat_id, 'gearbox lubrication schedule');
    await stack.drained();
    expect(messageIds(await find(first, 'lubrication'))).toEqual([messageId]);
    expect((await find(second, 'lubrication')).results).toEqual([]);
    // A newer record of the chat naming another owner, through the outbox as every change travels.
    const meta = JSON.stringify({ ...(await stack.chatOf(first, handed.chat_id)), user_id: second });
    await stack.deps.redis.chat.xAdd(OUTBOX_KEY, '*', { kind: 'chat', chat_id: handed.chat_id, meta });
    await stack.drained();
    expect((await find(first, 'lubrication')).results).toEqual([]);
    expect((await find(first, 'gearbox')).results).toEqual([]);
    const found = await find(second, 'gearbox');
    expect(found.results.map((result) => result.message_id)).toEqual([null, messageId]);
    // A message the mirror writes later into the chat belongs to its owner of the moment too.
    const later = `${handed.chat_id}-M-99`;
    const message = { message_id: later, role: 'user', content: 'gearbox oil sampling', status: 'complete', created_at: new Date().toISOString() };
    await stack.deps.redis.chat.xAdd(OUTBOX_KEY, '*', { kind: 'message', chat_id: handed.chat_id, meta, data: JSON.stringify(message) });
    await stack.drained();
    expect(messageIds(await find(second, 'sampling'))).toEqual([later]);
    expect((await find(first, 'sampling')).results).toEqual([]);
  });

  it('forgets a deleted chat as soon as its deletion is mirrored', async () => {
    const user = 'search.deleter';
    const doomed = await chat(user, { title: 'Doomed manifold' });
    await say(user, doomed.chat_id, 'manifold drain points');
    await stack.drained();
    expect((await find(user, 'manifold')).results.length).toBe(2);
    await stack.http().delete(`/api/chats/${doomed.chat_id}`).set('Authorization', await stack.bearer(user)).expect(200);
    await stack.drained();
    expect((await find(user, 'manifold')).results).toEqual([]);
  });
});

describe('freshness', () => {
  it('finds a message within 2 s of its being saved', async () => {
    const user = 'search.fresh';
    const notes = await chat(user);
    await stack.drained();
    let savedAt = 0;
    const reply = await stack.sendMessage(user, notes.chat_id, 'xylophone deaerator', {
      onEvent: (event) => {
        if (event.type === 'user_message') savedAt = performance.now();
      },
    });
    expect(reply.of('done')).toHaveLength(1);
    const found = await eventually(async () => (await find(user, 'deaerator xylo')).results[0], Math.max(1, 2000 - (performance.now() - savedAt)));
    expect(found.message_id).toBe(reply.of('user_message')[0]?.message.message_id);
  });
});

describe('bad requests', () => {
  it('refuses an empty, blank, missing or too long query, and a bad limit or cursor, with 400 and the one error body', async () => {
    const user = 'search.bad';
    const queries: Array<Record<string, string | number>> = [{ q: '' }, { q: '   \t ' }, {}, { q: 'x'.repeat(201) }, { q: 'pump', limit: 0 }, { q: 'pump', limit: 51 }, { q: 'pump', cursor: 'not-a-cursor' }, { q: 'pump', chat_type: 'secret' }];
    for (const query of queries) {
      const res = await search(user, query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
    expect((await search(user, { q: ` ${'x'.repeat(200)} ` })).status).toBe(200);
  });
});

describe('PostgreSQL down', () => {
  it('answers 503 with the one error body while chatting goes on', async () => {
    const proxy = await startTcpProxy(Number(new URL(stack.postgresUrl).port));
    const url = new URL(stack.postgresUrl);
    url.port = String(proxy.port);
    const cut = await stack.build({ llmBaseUrl: stack.llm.url, mirror: false, env: { DATABASE_URL: url.toString(), MESSAGES_PER_MINUTE: '1000' } });
    const cutServer = await listen(cut.app);
    try {
      const user = 'search.outage';
      const before = await fetch(`${cutServer.url}/api/search?q=pump`, { headers: { Authorization: await stack.bearer(user) } });
      expect(before.status).toBe(200);
      await proxy.cut();
      const res = await fetch(`${cutServer.url}/api/search?q=pump`, { headers: { Authorization: await stack.bearer(user) } });
      expect(res.status).toBe(503);
      expect(ErrorBodySchema.parse(await res.json()).code).toBe('upstream_unavailable');
      const notes = await stack.createChat(user, { chat_type: 'general' }, cut.app);
      const reply = await postStream(`${cutServer.url}/api/chats/${notes.chat_id}/messages`, await stack.tokenFor(user), { content: 'still chatting' });
      expect(reply.of('done')).toHaveLength(1);
    } finally {
      await cutServer.close();
      await closeDeps(cut.deps);
      await proxy.close();
    }
  });
});

// Last in the file: the archive run moves every idle chat of the file out of Redis.
describe('chats moved out of Redis', () => {
  it('are found as before, title and messages', async () => {
    const user = 'search.moved';
    const old = await chat(user, { title: 'Turbine overhaul' });
    const messageId = await say(user, old.chat_id, 'turbine blade inspection intervals');
    await stack.drained();
    expect((await stack.runArchive()).archived).toBeGreaterThanOrEqual(1);
    // Moved: its metadata and messages are no longer in Redis.
    expect(await stack.deps.redis.chat.exists(`chat:${old.chat_id}:metadata`)).toBe(0);
    const found = await find(user, 'turbine');
    expect(found.results.map((result) => [result.chat_id, result.message_id])).toEqual([
      [old.chat_id, null],
      [old.chat_id, messageId],
    ]);
    expect(marked(found.results[1] as SearchResult)).toEqual(['turbine']);
  });
});
