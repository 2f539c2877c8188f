import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ListMessagesResponseSchema, parseSessionId, StopResponseSchema } from '@simorgh/contracts';
import { postStream } from '../test/event-stream-client.js';
import { USERS } from '@simorgh/devstack/fixtures';
import { startBalancedStack, type BalancedStack } from '../test/balanced-stack.js';

/**
 * Two API processes (separate node processes, as two containers would be) sharing one Redis
 * and one TPMS, behind the repository's nginx.conf balancing between them.
 */
let stack: BalancedStack;

beforeAll(async () => {
  stack = await startBalancedStack({
    model: { tokenDelayMs: 25 },
    apiEnv: {
      LOG_LEVEL: 'debug', // 'chat created' lines show which process served each creation
      MESSAGES_PER_MINUTE: '1000',
      CONCURRENT_STREAMS: '10',
    },
  });
}, 120_000);

afterAll(() => stack?.stop());

async function create(baseUrl: string, token: string) {
  const res = await fetch(`${baseUrl}/api/chats`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ chat_type: 'general' }),
  });
  expect(res.status).toBe(201);
  return CreateChatResponseSchema.parse(await res.json()).chat.chat_id;
}

describe('two API processes behind one nginx', () => {
  it('issue no duplicate IDs under concurrent load through nginx, and both processes take part', async () => {
    const users = Array.from({ length: 20 }, (_, index) => `two.proc${index}`);
    const tokens = await Promise.all(users.map((user) => stack.tokenFor(user)));
    const ids = await Promise.all(Array.from({ length: 400 }, (_, index) => create(stack.nginx.url, tokens[index % tokens.length] as string)));
    expect(new Set(ids).size).toBe(400);
    const seqs = ids.map((id) => (parseSessionId(id) as { seq: number }).seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 400 }, (_, index) => index + 1));
    for (const api of stack.apis) expect(api.log().split('"chat created"').length - 1).toBeGreaterThan(20);
  }, 60_000);

  it('stream replies through nginx frame by frame, several at once', async () => {
    const users = [USERS.arash.username, USERS.sara.username, 'two.stream1', 'two.stream2', 'two.stream3', 'two.stream4'];
    const replies = await Promise.all(
      users.map(async (user) => {
        const token = await stack.tokenFor(user);
        const chatId = await create(stack.nginx.url, token);
        const reply = await postStream(`${stack.nginx.url}/api/chats/${chatId}/messages`, token, { content: `Flange rating for ${user}?` });
        return { reply, chatId, token };
      }),
    );
    for (const { reply, chatId, token } of replies) {
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const deltas = reply.events.filter((item) => item.event.type === 'delta');
      expect(deltas.length).toBeGreaterThan(10);
      // Unbuffered: the first delta arrives long before the last one (tokens are 25 ms apart).
      expect((deltas.at(-1)?.at ?? 0) - (deltas[0]?.at ?? 0)).toBeGreaterThan(200);
      expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');
      expect(reply.events.at(-1)?.event.type).toBe('done');
      const stored = await fetch(`${stack.nginx.url}/api/chats/${chatId}/messages`, { headers: { Authorization: `Bearer ${token}` } });
      expect(ListMessagesResponseSchema.parse(await stored.json()).messages.map((message) => message.status)).toEqual(['complete', 'complete']);
    }
  }, 60_000);

  it('stops a reply streamed by one process from a request to the other', async () => {
    stack.llm.configure({ tokenDelayMs: 80 });
    try {
      const [streaming, other] = stack.apis;
      const token = await stack.tokenFor(USERS.arash.username);
      const chatId = await create(streaming.url, token);
      let stop: Promise<Response> | null = null;
      const reply = await postStream(`${streaming.url}/api/chats/${chatId}/messages`, token, { content: 'List every API 610 pump type' }, {
        onEvent: (event) => {
          if (event.type === 'delta' && !stop) {
            stop = fetch(`${other.url}/api/chats/${chatId}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
          }
        },
      });
      const stopped = await (stop as Promise<Response> | null);
      expect(stopped?.status).toBe(200);
      expect(StopResponseSchema.parse(await stopped?.json()).stopped).toBe(true);
      expect(reply.of('assistant_message')[0]?.message.status).toBe('stopped');
      expect(reply.events.at(-1)?.event.type).toBe('done');
    } finally {
      stack.llm.configure({ tokenDelayMs: 25 });
    }
  }, 30_000);
});
