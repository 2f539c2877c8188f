import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compareEventIds,
  ErrorBodySchema,
  ListMessagesResponseSchema,
  type StreamEvent,
} from '@simorgh/contracts';
import { tokenize, type FakeLlm } from '@simorgh/devstack/fake-llm';
import { USERS } from '@simorgh/devstack/fixtures';
import { eventually, followEvents, listen, postStream, type ReceivedEvent, type StreamReply } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;
const REPLY = 'Centrifugal pumps move liquid by turning a rotor, and the curve shows head against flow for each speed. '.repeat(3).trim();

let stack: ServedStackWithModel;
let llm: FakeLlm;
let token: string;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 5, reply: REPLY },
    env: { LLM_TIMEOUT_MS: '5000', MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' },
  });
  llm = stack.llm;
  token = await stack.tokenFor(arash);
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
  llm.configure({ tokenDelayMs: 5, reply: REPLY });
});

const url = (chatId: string, what: 'messages' | 'events' | 'stop') => `${stack.url}/api/chats/${chatId}/${what}`;

/** Sends a message; `closeAfter` closes the request once that many deltas arrived (a tab closed). */
function send(chatId: string, content: string, closeAfter?: number): Promise<StreamReply> {
  const browser = new AbortController();
  let deltas = 0;
  return postStream(url(chatId, 'messages'), token, { content }, {
    signal: browser.signal,
    onEvent: (event) => {
      if (event.type === 'delta') deltas += 1;
      if (closeAfter !== undefined && deltas >= closeAfter) browser.abort();
    },
  });
}

/** Follows the chat's events until `until` says stop (inclusive), the stream ends, or 10 s pass. */
function follow(chatId: string, options: { lastEventId?: string; until?: (event: StreamEvent) => boolean } = {}): Promise<StreamReply> {
  const tab = new AbortController();
  const until = options.until ?? ((event) => event.type === 'done');
  const timer = setTimeout(() => tab.abort(), 10_000);
  return followEvents(url(chatId, 'events'), token, {
    ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    signal: tab.signal,
    onEvent: (event) => {
      if (until(event)) tab.abort();
    },
  }).finally(() => clearTimeout(timer));
}

async function page(chatId: string) {
  const res = await fetch(url(chatId, 'messages'), { headers: { Authorization: `Bearer ${token}` } });
  return ListMessagesResponseSchema.parse(await res.json());
}

const textOf = (events: ReceivedEvent[]) =>
  events.map(({ event }) => (event.type === 'delta' ? event.content : '')).join('');

const idsOf = (events: ReceivedEvent[]) => events.map((item) => item.id);

function expectIncreasingIds(events: ReceivedEvent[]) {
  const ids = idsOf(events);
  for (const id of ids) expect(id).toMatch(/^\d+-\d+$/);
  for (let index = 1; index < ids.length; index += 1) expect(compareEventIds(ids[index - 1] as string, ids[index] as string)).toBeLessThan(0);
}

describe('a reply outlives its request', () => {
  it('completes and is saved complete when the request closes after the first delta; the events stream delivers the rest', async () => {
    llm.configure({ tokenDelayMs: 20 });
    const chat = await stack.createChat(arash);
    const cut = await send(chat.chat_id, 'Explain pump curves', 1);
    expect(cut.of('delta').length).toBeGreaterThanOrEqual(1);
    expectIncreasingIds(cut.events);
    const lastSeen = cut.events.at(-1)?.id as string;

    const rest = await follow(chat.chat_id, { lastEventId: lastSeen });
    expectIncreasingIds(rest.events);
    expect(compareEventIds(lastSeen, rest.events[0]?.id as string)).toBeLessThan(0);
    expect(textOf(cut.events) + textOf(rest.events)).toBe(REPLY);
    const final = rest.of('assistant_message')[0]?.message;
    expect(final).toMatchObject({ status: 'complete', content: REPLY });
    const saved = (await stack.messagesOf(arash, chat.chat_id))[1];
    expect(saved).toEqual(final);
  });

  it('shows the reply so far (streaming) in GET messages with last_event_id, and following after it gives exactly the rest', async () => {
    llm.configure({ tokenDelayMs: 25 });
    const chat = await stack.createChat(arash);
    const reply = send(chat.chat_id, 'Explain cavitation');
    await eventually(async () => ((await page(chat.chat_id)).messages[1]?.content.length ?? 0) > 0, 5000);
    const during = await page(chat.chat_id);
    const writing = during.messages[1];
    expect(writing).toMatchObject({ role: 'assistant', status: 'streaming', message_id: `S-${chat.chat_id}-M-002` });
    const rest = await follow(chat.chat_id, { lastEventId: during.last_event_id });
    expect((writing?.content ?? '') + textOf(rest.events)).toBe(REPLY);
    expect(rest.events.some(({ event }) => event.type === 'user_message')).toBe(false);
    await reply;
    const after = await page(chat.chat_id);
    expect(after.messages[1]).toMatchObject({ status: 'complete', content: REPLY });
    expect(after.last_event_id).toBe(rest.events.at(-1)?.id);
  });

  it('starts a newcomer without Last-Event-ID at the first event of the reply in progress', async () => {
    llm.configure({ tokenDelayMs: 25 });
    const chat = await stack.createChat(arash);
    const reply = send(chat.chat_id, 'What is NPSH?');
    await eventually(async () => ((await page(chat.chat_id)).messages[1]?.content.length ?? 0) > 20, 5000);
    const newcomer = await follow(chat.chat_id);
    expect(newcomer.events[0]?.event).toMatchObject({ type: 'user_message', message: { content: 'What is NPSH?' } });
    expect(textOf(newcomer.events)).toBe(REPLY);
    expect(idsOf(newcomer.events)).toEqual(idsOf((await reply).events));
  });

  it('gives the first token the ID reserved for it: an event written while the model is silent comes before it, on every stream', async () => {
    llm.configure({ tokenDelayMs: 5, slowDelayMs: 300 });
    llm.setMode('slow');
    const chat = await stack.createChat(arash);
    const everything = follow(chat.chat_id, { lastEventId: (await page(chat.chat_id)).last_event_id });
    const reply = send(chat.chat_id, 'What is NPSH?');
    // The reply is open (its user message stored) and the model has not answered yet.
    await eventually(async () => (await page(chat.chat_id)).messages[1]?.status === 'streaming');
    const renamed = await fetch(`${stack.url}/api/chats/${chat.chat_id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ chat_name: 'Pump suction' }),
    });
    expect(renamed.status).toBe(200);
    const own = await reply;
    const followed = await everything;

    expectIncreasingIds(own.events);
    expectIncreasingIds(followed.events);
    expect(textOf(own.events)).toBe(REPLY);
    expect(textOf(followed.events)).toBe(REPLY);
    expect(followed.events.slice(0, 3).map(({ event }) => event.type)).toEqual(['user_message', 'chat_updated', 'delta']);
    // The requester got the first delta before it was stored, under the ID it was stored with.
    const firstDelta = own.events.find(({ event }) => event.type === 'delta');
    expect(followed.events[2]?.id).toBe(firstDelta?.id);
    // Re-attaching after the rename gives exactly the rest, the first token included.
    const rest = await follow(chat.chat_id, { lastEventId: followed.events[1]?.id as string });
    expect(idsOf(rest.events)).toEqual(idsOf(followed.events.slice(2)));
    expect((await stack.messagesOf(arash, chat.chat_id))[1]).toMatchObject({ status: 'complete', content: REPLY });
  });
});

describe('following a chat', () => {
  it('answers reset first for an ID older than what is kept or beyond the last, and 400 for a malformed one', async () => {
    const chat = await stack.createChat(arash);
    const empty = await follow(chat.chat_id, { lastEventId: '5-0', until: () => true });
    expect(empty.events.map(({ event }) => event.type)).toEqual(['reset']);
    await send(chat.chat_id, 'Hello');
    for (const lastEventId of ['1-0', '99999999999999-0']) {
      const stale = await follow(chat.chat_id, { lastEventId, until: () => true });
      expect(stale.events[0]?.event.type, lastEventId).toBe('reset');
      expect(stale.events[0]?.id).toBe((await page(chat.chat_id)).last_event_id);
    }
    const query = await fetch(`${url(chat.chat_id, 'events')}?last_event_id=not-an-id`, { headers: { Authorization: `Bearer ${token}` } });
    expect(query.status).toBe(400);
    expect(ErrorBodySchema.parse(await query.json()).code).toBe('validation');
    const header = await fetch(url(chat.chat_id, 'events'), { headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': 'x' } });
    expect(header.status).toBe(400);
  });

  it('takes last_event_id from the query for clients that cannot send the header', async () => {
    const chat = await stack.createChat(arash);
    const first = await send(chat.chat_id, 'One');
    const tab = new AbortController();
    const seen: string[] = [];
    const second = send(chat.chat_id, 'Two');
    await followEvents(`${url(chat.chat_id, 'events')}?last_event_id=${first.events.at(-1)?.id}`, token, {
      signal: tab.signal,
      onEvent: (event) => {
        seen.push(event.type);
        if (event.type === 'done') tab.abort();
      },
    });
    expect(seen[0]).toBe('user_message');
    await second;
  });

  it('tells followers of renames and pins (chat_updated) and ends their stream with chat_deleted', async () => {
    const chat = await stack.createChat(arash);
    // From the ID the page reflects: a rename made before the stream is open still arrives (replayed).
    const events = follow(chat.chat_id, { lastEventId: (await page(chat.chat_id)).last_event_id, until: (event) => event.type === 'chat_deleted' });
    const patched = await fetch(`${stack.url}/api/chats/${chat.chat_id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ chat_name: 'Pump curves', pinned: true }),
    });
    expect(patched.status).toBe(200);
    const deleted = await fetch(`${stack.url}/api/chats/${chat.chat_id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect(deleted.status).toBe(200);
    const received = await events;
    expect(received.events.map(({ event }) => event.type)).toEqual(['chat_updated', 'chat_deleted']);
    expect(received.of('chat_updated')[0]?.chat).toMatchObject({ chat_name: 'Pump curves', pinned: true });
  });

  it("answers 404 for someone else's chat", async () => {
    const chat = await stack.createChat(USERS.sara.username);
    const res = await fetch(url(chat.chat_id, 'events'), { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(404);
  });

  it('property: any split of a reply at any event ID, replayed then live, equals the whole sequence', async () => {
    llm.configure({ tokenDelayMs: 8 });
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 40 }), async (split) => {
        const chat = await stack.createChat(arash);
        const before = (await page(chat.chat_id)).last_event_id;
        // A first tab sees `split` + 1 events, then goes away; a second picks up from its last ID.
        const firstTab = new AbortController();
        let seen = 0;
        const first = followEvents(url(chat.chat_id, 'events'), token, {
          lastEventId: before,
          signal: firstTab.signal,
          onEvent: (event) => {
            seen += 1;
            if (seen > split || event.type === 'done') firstTab.abort();
          },
        });
        await eventually(() => stack.deps.redis.chat.exists(`chat:${chat.chat_id}:reply`).then((n) => n === 0));
        const reply = send(chat.chat_id, `Split at ${split}`);
        const head = await first;
        const lastId = head.events.at(-1)?.id as string;
        const tail = head.events.at(-1)?.event.type === 'done' ? [] : (await follow(chat.chat_id, { lastEventId: lastId })).events;
        await reply;
        const whole = await follow(chat.chat_id, { lastEventId: before });
        const joined = [...head.events, ...tail];
        expect(joined.map(({ id, event }) => ({ id, event }))).toEqual(whole.events.map(({ id, event }) => ({ id, event })));
        expectIncreasingIds(whole.events);
        expect(textOf(whole.events)).toBe(REPLY);
      }),
      { numRuns: 8 },
    );
  }, 60_000);
});

describe('ending a reply early', () => {
  it('stops from a second tab: the reply is saved stopped and its followers see it end', async () => {
    llm.configure({ tokenDelayMs: 40 });
    const chat = await stack.createChat(arash);
    const reply = send(chat.chat_id, 'Describe every pump type', 1);
    const watcher = follow(chat.chat_id, { lastEventId: (await page(chat.chat_id)).last_event_id });
    await eventually(async () => ((await page(chat.chat_id)).messages[1]?.content.length ?? 0) > 0);
    await reply;
    const stop = await fetch(url(chat.chat_id, 'stop'), { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    expect(((await stop.json()) as { stopped: boolean }).stopped).toBe(true);
    const seen = await watcher;
    const final = seen.of('assistant_message')[0]?.message;
    expect(final?.status).toBe('stopped');
    expect(final?.content.length).toBeLessThan(REPLY.length);
    expect((await stack.messagesOf(arash, chat.chat_id))[1]).toEqual(final);
  });

  it('ends the reply when the chat is deleted: the model request is aborted, nothing is left behind, the slot is free', async () => {
    llm.configure({ tokenDelayMs: 40 });
    const chat = await stack.createChat(arash);
    const reply = send(chat.chat_id, 'Delete me while you answer');
    await eventually(async () => ((await page(chat.chat_id)).messages[1]?.content.length ?? 0) > 0);
    const watcher = follow(chat.chat_id, { lastEventId: (await page(chat.chat_id)).last_event_id, until: (event) => event.type === 'chat_deleted' });
    await fetch(`${stack.url}/api/chats/${chat.chat_id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect((await watcher).events.at(-1)?.event.type).toBe('chat_deleted');
    const ended = await reply;
    expect(ended.of('error')[0]?.detail).toBe('This conversation was deleted.');
    const upstream = await llm.waitForRequest((item) => item.kind === 'chat' && item.messages.at(-1)?.content === 'Delete me while you answer');
    await eventually(() => upstream.aborted);
    expect(upstream.finishedAt).toBeNull();
    const chatDb = stack.deps.redis.chat;
    for (const key of ['messages', 'reply', 'reply_text', 'streaming']) expect(await chatDb.exists(`chat:${chat.chat_id}:${key}`), key).toBe(0);
    expect(await chatDb.zScore('replies:leases', chat.chat_id)).toBeNull();
    expect(await stack.deps.redis.cache.zCard(`ratelimit:streams:${arash}`)).toBe(0);
  });
});

describe('limits', () => {
  it('counts replies running, not connections: a reply whose request closed holds its slot until it ends', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { CONCURRENT_STREAMS: '1', MESSAGES_PER_MINUTE: '1000' } });
    const limitedServer = await listen(limited.app);
    try {
      llm.configure({ tokenDelayMs: 40 });
      const user = USERS.admin.username;
      const userToken = await stack.tokenFor(user);
      const first = await stack.createChat(user, undefined, limited.app);
      const second = await stack.createChat(user, undefined, limited.app);
      const tab = new AbortController();
      await postStream(`${limitedServer.url}/api/chats/${first.chat_id}/messages`, userToken, { content: 'Long one' }, {
        signal: tab.signal,
        onEvent: (event) => {
          if (event.type === 'delta') tab.abort();
        },
      });
      const refused = await postStream(`${limitedServer.url}/api/chats/${second.chat_id}/messages`, userToken, { content: 'Another' });
      expect(refused.status).toBe(429);
      await eventually(async () => (await stack.messagesOf(user, first.chat_id))[1]?.status === 'complete', 10_000);
      const accepted = await postStream(`${limitedServer.url}/api/chats/${second.chat_id}/messages`, userToken, { content: 'Another' });
      expect(accepted.status).toBe(200);
      expect(accepted.of('assistant_message')[0]?.message.status).toBe('complete');
    } finally {
      await limitedServer.close();
    }
  });
});

describe('memory', () => {
  it('keeps each chat\'s events capped and expiring, and leaves nothing else behind, however many replies', async () => {
    const capped = await stack.build({ llmBaseUrl: llm.url, env: { CHAT_EVENTS_MAX: '100', MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' } });
    const cappedServer = await listen(capped.app);
    try {
      llm.configure({ tokenDelayMs: 0, reply: tokenize(REPLY).join('') });
      const chat = await stack.createChat(arash, undefined, capped.app);
      const chatDb = stack.deps.redis.chat;
      const key = `chat-events:${chat.chat_id}`;
      const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await chatDb.info('memory'))?.[1]);
      const replies = async (count: number) => {
        for (let index = 0; index < count; index += 1) {
          const reply = await postStream(`${cappedServer.url}/api/chats/${chat.chat_id}/messages`, token, { content: `Question ${index}` });
          expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');
        }
      };
      await replies(15);
      const lengthAfter15 = await chatDb.xLen(key);
      const memoryAfter15 = await usedMemory();
      await replies(30);
      // Trimming drops whole nodes of 100 entries, so the stream holds at most 100 + 100.
      expect(lengthAfter15).toBeLessThanOrEqual(200);
      expect(await chatDb.xLen(key)).toBeLessThanOrEqual(200);
      const ttl = await chatDb.pTTL(key);
      expect(ttl).toBeGreaterThan(600_000);
      expect(ttl).toBeLessThanOrEqual(900_000);
      // 30 more replies (each with its messages, which do grow) leave the events' share flat.
      const grown = (await usedMemory()) - memoryAfter15;
      const messagesBytes = (await chatDb.lRange(`chat:${chat.chat_id}:messages`, 30, -1)).join('').length;
      expect(grown).toBeLessThan(messagesBytes * 3 + 64 * 1024);
      for (const suffix of ['reply', 'reply_text', 'streaming']) expect(await chatDb.exists(`chat:${chat.chat_id}:${suffix}`)).toBe(0);
      expect(await chatDb.zCard('replies:leases')).toBe(0);
    } finally {
      await cappedServer.close();
    }
  }, 60_000);
});
