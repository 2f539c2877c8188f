import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, formatMessageId, ListMessagesResponseSchema, type Message } from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { USERS } from '@simorgh/devstack/fixtures';
import { listen, postStream } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { messageSeqKey, messagesKey, streamLockKey } from './messages.scripts.js';
import { HISTORY_MAX_MESSAGES } from './messages.service.js';

const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 0 },
    env: { MESSAGES_PER_MINUTE: '10000', CONCURRENT_STREAMS: '10', MAX_MESSAGES_PER_CHAT: '100000' },
  });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

const storedMessage = (chatId: string, seq: number | null, index: number): string =>
  JSON.stringify({
    ...(seq === null ? {} : { message_id: formatMessageId(chatId, seq) }),
    role: index % 2 === 0 ? 'user' : 'assistant',
    content: `message ${index} of a long conversation about flange ratings`,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
    status: 'complete',
  });

/**
 * Writes `count` messages straight into the chat's list (one RPUSH per 1 000), numbered from 1
 * with a gap wherever `gapEvery` says (a reply reserved but never saved), or without IDs at all
 * as the previous system stored them. Returns the IDs a reader sees, oldest first.
 */
async function seed(chatId: string, count: number, options: { gapEvery?: number; legacy?: boolean } = {}): Promise<string[]> {
  const raws: string[] = [];
  const ids: string[] = [];
  let seq = 0;
  for (let index = 0; index < count; index += 1) {
    seq += 1;
    if (options.gapEvery && seq % options.gapEvery === 0) seq += 1;
    raws.push(storedMessage(chatId, options.legacy ? null : seq, index));
    ids.push(formatMessageId(chatId, options.legacy ? index + 1 : seq));
  }
  for (let start = 0; start < raws.length; start += 1000) {
    await stack.deps.redis.chat.rPush(messagesKey(chatId), raws.slice(start, start + 1000));
  }
  if (!options.legacy) await stack.deps.redis.chat.set(messageSeqKey(chatId), String(seq));
  return ids;
}

const page = async (chatId: string, query: Record<string, string | number>) =>
  stack.http().get(`/api/chats/${chatId}/messages`).query(query).set('Authorization', await stack.bearer(arash));

/** Walks every page from the newest back; returns the pages, newest first. */
async function walk(chatId: string, limit: number): Promise<Message[][]> {
  const pages: Message[][] = [];
  let before: string | null = null;
  do {
    const response = await page(chatId, { limit, ...(before === null ? {} : { before }) });
    expect(response.status).toBe(200);
    const body = ListMessagesResponseSchema.parse(response.body);
    pages.push(body.messages);
    before = body.next_before;
    if (before !== null) expect(before).toBe(body.messages[0]?.message_id);
  } while (before !== null);
  return pages;
}

describe('GET /api/chats/:id/messages, a page at a time', () => {
  it('walks 450 messages (with gaps in the numbering) back to the start with no message missing or repeated', async () => {
    const chat = await stack.createChat(arash);
    const ids = await seed(chat.chat_id, 450, { gapEvery: 17 });
    for (const limit of [1, 7, 100, 200]) {
      const pages = await walk(chat.chat_id, limit);
      expect(pages.length).toBe(Math.ceil(450 / limit));
      for (const messages of pages) {
        expect(messages.length).toBeLessThanOrEqual(limit);
        const times = messages.map((message) => message.created_at);
        expect(times).toEqual([...times].sort());
      }
      expect(pages.reverse().flat().map((message) => message.message_id)).toEqual(ids);
    }
  });

  it('answers the newest 100 by default, and next_before null once the start is reached', async () => {
    const chat = await stack.createChat(arash);
    const ids = await seed(chat.chat_id, 150);
    const first = ListMessagesResponseSchema.parse((await page(chat.chat_id, {})).body);
    expect(first.messages.map((message) => message.message_id)).toEqual(ids.slice(50));
    expect(first.next_before).toBe(ids[50]);
    const second = ListMessagesResponseSchema.parse((await page(chat.chat_id, { before: ids[50] as string })).body);
    expect(second.messages.map((message) => message.message_id)).toEqual(ids.slice(0, 50));
    expect(second.next_before).toBeNull();
    // Before the very first message there is nothing.
    const none = ListMessagesResponseSchema.parse((await page(chat.chat_id, { before: ids[0] as string })).body);
    expect(none).toEqual({ messages: [], next_before: null, last_event_id: '0-0' });
  });

  it('pages a legacy chat whose messages carry no IDs', async () => {
    const legacyId = '9a1c5e2f-3b4d-4c6e-8f70-112233445566';
    await stack.deps.redis.chat.set(
      `chat:${legacyId}:metadata`,
      JSON.stringify({ chat_id: legacyId, chat_name: 'Old thread', user_id: arash, created_at: '2024-11-03T08:15:00Z' }),
    );
    const ids = await seed(legacyId, 230, { legacy: true });
    const pages = await walk(legacyId, 100);
    expect(pages.map((messages) => messages.length)).toEqual([100, 100, 30]);
    expect(pages.reverse().flat().map((message) => message.message_id)).toEqual(ids);
  });

  it('answers 400 with the error body for a before that is not a message of this chat, or a bad limit', async () => {
    const chat = await stack.createChat(arash);
    const other = await stack.createChat(arash);
    await seed(chat.chat_id, 20, { gapEvery: 5 });
    const empty = await stack.createChat(arash);
    const cases: Array<[string, Record<string, string | number>]> = [
      [chat.chat_id, { before: 'not-an-id' }],
      [chat.chat_id, { before: formatMessageId(other.chat_id, 1) }],
      // Numbers the gaps skipped, and one past the end.
      [chat.chat_id, { before: formatMessageId(chat.chat_id, 5) }],
      [chat.chat_id, { before: formatMessageId(chat.chat_id, 26) }],
      [chat.chat_id, { before: formatMessageId(chat.chat_id, 9999) }],
      [empty.chat_id, { before: formatMessageId(empty.chat_id, 1) }],
      [chat.chat_id, { limit: 0 }],
      [chat.chat_id, { limit: 201 }],
      [chat.chat_id, { limit: 'ten' }],
      [chat.chat_id, { limit: 2.5 }],
    ];
    for (const [chatId, query] of cases) {
      const response = await page(chatId, query);
      expect(response.status, JSON.stringify(query)).toBe(400);
      expect(ErrorBodySchema.parse(response.body).code).toBe('validation');
    }
  });
});

describe('bounds on a chat', () => {
  it('refuses a message to a full chat (409) and saves nothing, calling no model', async () => {
    const small = await stack.build({ llmBaseUrl: llm.url, env: { MAX_MESSAGES_PER_CHAT: '10', MESSAGES_PER_MINUTE: '1000' } });
    const smallServer = await listen(small.app);
    try {
      const chat = await stack.createChat(arash);
      await seed(chat.chat_id, 8);
      const token = await stack.tokenFor(arash);
      const url = `${smallServer.url}/api/chats/${chat.chat_id}/messages`;
      expect((await postStream(url, token, { content: 'The last question that fits' })).status).toBe(200);
      expect(await stack.deps.redis.chat.lLen(messagesKey(chat.chat_id))).toBe(10);

      const seqBefore = await stack.deps.redis.chat.get(messageSeqKey(chat.chat_id));
      const modelCalls = llm.requests.length;
      const refused = await postStream(url, token, { content: 'One more?' });
      expect(refused.status).toBe(409);
      expect(ErrorBodySchema.parse(refused.json)).toMatchObject({ code: 'conflict', detail: 'This chat is full (10 messages); start a new one.' });
      expect(await stack.deps.redis.chat.lLen(messagesKey(chat.chat_id))).toBe(10);
      expect(await stack.deps.redis.chat.get(messageSeqKey(chat.chat_id))).toBe(seqBefore);
      expect(await stack.deps.redis.chat.exists(streamLockKey(chat.chat_id))).toBe(0);
      expect(llm.requests.length).toBe(modelCalls);
      // Regenerating the last reply takes no room: it replaces it in place.
      expect((await postStream(`${smallServer.url}/api/chats/${chat.chat_id}/regenerate`, token)).status).toBe(200);
      expect(await stack.deps.redis.chat.lLen(messagesKey(chat.chat_id))).toBe(10);
    } finally {
      await smallServer.close();
    }
  });

  it('counts generate-title against MESSAGES_PER_MINUTE: beyond it 429 with Retry-After, and no model call', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '3' } });
    // A user of its own: the log is per user and the other tests fill arash's.
    const user = 'title.limit';
    const chat = await stack.createChat(user);
    const auth = await stack.bearer(user);
    const title = () =>
      stack.http().post(`/api/chats/${chat.chat_id}/generate-title`).set('Authorization', auth).send({ first_message: 'Pump NPSH margins' });
    const call = () =>
      request(limited.app).post(`/api/chats/${chat.chat_id}/generate-title`).set('Authorization', auth).send({ first_message: 'Pump NPSH margins' });
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await call()).status).toBe(200);
    const titleCalls = llm.requests.filter((item) => item.kind === 'title').length;
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(ErrorBodySchema.parse(refused.body)).toMatchObject({ code: 'rate_limited', detail: expect.stringMatching(/3 messages per minute/) });
    expect(llm.requests.filter((item) => item.kind === 'title').length).toBe(titleCalls);
    // The same limit as messages: a send is refused too.
    const server2 = await listen(limited.app);
    try {
      const send = await postStream(`${server2.url}/api/chats/${chat.chat_id}/messages`, await stack.tokenFor(user), { content: 'Hello' });
      expect(send.status).toBe(429);
    } finally {
      await server2.close();
    }
    // The main app (a higher limit) still answers: the limit is per configuration, not global.
    expect((await title()).status).toBe(200);
  });
});

describe('the cost of opening a reply', () => {
  /** Microseconds Redis spent in the reply-opening script of each send to `chatId`. */
  async function openingScriptUsec(chatId: string, sends: number): Promise<number[]> {
    const redis = stack.deps.redis.chat;
    const token = await stack.tokenFor(arash);
    const times: number[] = [];
    for (let index = 0; index < sends; index += 1) {
      await redis.sendCommand(['SLOWLOG', 'RESET']);
      const reply = await postStream(`${stack.url}/api/chats/${chatId}/messages`, token, { content: `question ${index}` });
      expect(reply.status).toBe(200);
      const log = (await redis.sendCommand(['SLOWLOG', 'GET', '1000'])) as Array<[number, number, number, string[]]>;
      // The script that declares the chat's reply lock as its second key opens the reply.
      const opening = log.filter(([, , , args]) => args[0]?.toUpperCase().startsWith('EVAL') && args[4] === streamLockKey(chatId));
      expect(opening.length).toBe(1);
      times.push(Number(opening[0]?.[2]));
    }
    return times;
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

  it('stays flat however long the chat is: 5 000 messages cost no more than 3x the 200 a reply reads at most', async () => {
    const redis = stack.deps.redis.chat;
    await redis.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '0']);
    await redis.sendCommand(['CONFIG', 'SET', 'slowlog-max-len', '1000']);
    try {
      const short = await stack.createChat(arash);
      // HISTORY_MAX_MESSAGES: the longest chat a reply still reads whole.
      await seed(short.chat_id, HISTORY_MAX_MESSAGES);
      const long = await stack.createChat(arash);
      await seed(long.chat_id, 5000);
      // Warm up both (the first run loads the script: a NOSCRIPT EVALSHA, then EVAL), then
      // alternate so drift hits both alike.
      const token = await stack.tokenFor(arash);
      for (const chat of [short, long]) {
        expect((await postStream(`${stack.url}/api/chats/${chat.chat_id}/messages`, token, { content: 'warm up' })).status).toBe(200);
      }
      const shortTimes: number[] = [];
      const longTimes: number[] = [];
      for (let round = 0; round < 5; round += 1) {
        shortTimes.push(...(await openingScriptUsec(short.chat_id, 1)));
        longTimes.push(...(await openingScriptUsec(long.chat_id, 1)));
      }
      console.info(`reply-opening script: ${HISTORY_MAX_MESSAGES} messages ${median(shortTimes)} µs, 5 000 messages ${median(longTimes)} µs (medians of 5)`);
      expect(median(longTimes)).toBeLessThanOrEqual(3 * median(shortTimes));
    } finally {
      await redis.sendCommand(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']);
    }
  });
});
