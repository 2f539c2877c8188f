import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ListMessagesResponseSchema, type StreamEvent } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { eventually, followEvents, postStream, type ReceivedEvent } from '../test/event-stream-client.js';
import { startBalancedStack, type BalancedStack } from '../test/balanced-stack.js';

/**
 * Live replies across two API processes (separate node processes) behind the real nginx: a
 * reply written by one is followed through the other, and when its process is killed, the
 * other recovers it within the lease.
 */
const LEASE_MS = 1500;
const REPLY = 'Each stage of a multistage pump adds head, so the curve of the whole pump is the sum of its stages. '.repeat(4).trim();

let stack: BalancedStack;
let token: string;

beforeAll(async () => {
  stack = await startBalancedStack({
    model: { tokenDelayMs: 30, reply: REPLY },
    apiEnv: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10', REPLY_LEASE_MS: String(LEASE_MS) },
  });
  token = await stack.tokenFor(USERS.arash.username);
}, 120_000);

afterAll(() => stack?.stop());

async function create(baseUrl: string) {
  const res = await fetch(`${baseUrl}/api/chats`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ chat_type: 'general' }),
  });
  expect(res.status).toBe(201);
  return CreateChatResponseSchema.parse(await res.json()).chat.chat_id;
}

async function page(baseUrl: string, chatId: string) {
  const res = await fetch(`${baseUrl}/api/chats/${chatId}/messages`, { headers: { Authorization: `Bearer ${token}` } });
  return ListMessagesResponseSchema.parse(await res.json());
}

/** Sends through `baseUrl` and closes the request after the first delta (a reloaded tab). */
async function sendAndLeave(baseUrl: string, chatId: string, content: string) {
  const tab = new AbortController();
  return postStream(`${baseUrl}/api/chats/${chatId}/messages`, token, { content }, {
    signal: tab.signal,
    onEvent: (event) => {
      if (event.type === 'delta') tab.abort();
    },
  });
}

function followUntil(baseUrl: string, chatId: string, lastEventId: string, until: (event: StreamEvent) => boolean, timeoutMs = 30_000) {
  const tab = new AbortController();
  const timer = setTimeout(() => tab.abort(), timeoutMs);
  return followEvents(`${baseUrl}/api/chats/${chatId}/events`, token, {
    lastEventId,
    signal: tab.signal,
    onEvent: (event) => {
      if (until(event)) tab.abort();
    },
  }).finally(() => clearTimeout(timer));
}

const textOf = (events: ReceivedEvent[]) => events.map(({ event }) => (event.type === 'delta' ? event.content : '')).join('');

describe('live replies across two API processes behind nginx', () => {
  it('re-attaches a reply written by one process through the other, and through nginx, with nothing missing or repeated', async () => {
    const [first, second] = stack.apis;
    const chatId = await create(stack.nginx.url);
    const cut = await sendAndLeave(first.url, chatId, 'How do stages add head?');
    const lastSeen = cut.events.at(-1)?.id as string;
    const [direct, proxied] = await Promise.all([
      followUntil(second.url, chatId, lastSeen, (event) => event.type === 'done'),
      followUntil(stack.nginx.url, chatId, lastSeen, (event) => event.type === 'done'),
    ]);
    for (const rest of [direct, proxied]) {
      expect(textOf(cut.events) + textOf(rest.events)).toBe(REPLY);
      expect(rest.of('assistant_message')[0]?.message).toMatchObject({ status: 'complete', content: REPLY });
    }
    expect(proxied.events.map((item) => item.id)).toEqual(direct.events.map((item) => item.id));
    expect((await page(stack.nginx.url, chatId)).messages[1]).toMatchObject({ status: 'complete', content: REPLY });
  }, 60_000);

  it('marks a reply interrupted within the lease when its process is killed, tells its followers, and the chat is usable again', async () => {
    const [doomed, survivor] = stack.apis;
    const chatId = await create(survivor.url);
    const cut = await sendAndLeave(doomed.url, chatId, 'Describe a boiler feed pump');
    const follower = followUntil(survivor.url, chatId, cut.events.at(-1)?.id as string, (event) => event.type === 'done');
    await eventually(async () => ((await page(survivor.url, chatId)).messages[1]?.content.length ?? 0) > 20, 10_000);
    process.kill(doomed.pid, 'SIGKILL');
    const killedAt = Date.now();

    const seen = await follower;
    const recoveredAt = Date.now();
    expect(seen.of('error')[0]?.detail).toBe('The reply was interrupted');
    expect(seen.events.at(-1)?.event.type).toBe('done');
    // Lease plus the sweep interval (a third of it), with room for a busy machine; far below 30 s.
    expect(recoveredAt - killedAt).toBeLessThan(LEASE_MS + LEASE_MS / 3 + 3000);
    const saved = (await page(survivor.url, chatId)).messages[1];
    expect(saved).toMatchObject({ role: 'assistant', status: 'error', error: 'The reply was interrupted' });
    expect(REPLY.startsWith(saved?.content ?? 'x')).toBe(true);
    expect(saved?.content.length).toBeGreaterThan(0);
    expect(saved?.content).toBe(textOf(cut.events) + textOf(seen.events));
    // Counted in the usage report, estimated as the writer would have: 4 characters a token.
    expect(saved?.usage).toMatchObject({ completion_tokens: Math.ceil((saved?.content.length ?? 0) / 4), model: saved?.model, estimated: true });
    expect(saved?.model).toEqual(expect.any(String));
    // The system prompt and the question, each with its framing.
    expect(saved?.usage?.prompt_tokens).toBeGreaterThan(Math.ceil('Describe a boiler feed pump'.length / 4) + 8);

    const again = await postStream(`${survivor.url}/api/chats/${chatId}/messages`, token, { content: 'Try again' });
    expect(again.status).toBe(200);
    expect(again.of('assistant_message')[0]?.message.status).toBe('complete');
  }, 60_000);
});
