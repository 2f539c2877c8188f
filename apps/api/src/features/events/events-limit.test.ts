import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { eventually, followEvents, listen, type StreamReply } from '../../test/event-stream-client.js';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { followersKey } from './events.service.js';

/**
 * EVENT_STREAMS_PER_USER bounds a user's open event streams across API processes: two apps on
 * the same Redis stand for two processes.
 */
const arash: string = USERS.arash.username;
const SLOTS_KEY = followersKey(arash);

let stack: TestStack;
let first: Awaited<ReturnType<typeof listen>>;
let second: Awaited<ReturnType<typeof listen>>;
let token: string;
let chatId: string;

beforeAll(async () => {
  stack = await startTestStack({ env: { EVENT_STREAMS_PER_USER: '2' } });
  first = await listen(stack.app);
  second = await listen((await stack.build({ env: { EVENT_STREAMS_PER_USER: '2' }, mirror: false })).app);
  token = await stack.tokenFor(arash);
  chatId = (await stack.createChat(arash)).chat_id;
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await stack?.stop();
});

const held = () => stack.deps.redis.cache.zCard(SLOTS_KEY);

/** An open tab following the chat on `server`, until `close`. */
function openTab(server: { url: string }) {
  const tab = new AbortController();
  const reply = followEvents(`${server.url}/api/chats/${chatId}/events`, token, { signal: tab.signal });
  return { reply, close: () => tab.abort() };
}

async function expectRefused(reply: Promise<StreamReply>) {
  const refused = await reply;
  expect(refused.status).toBe(429);
  expect(refused.headers.get('retry-after')).toBe('5');
  expect(ErrorBodySchema.parse(refused.json).detail).toMatch(/2 chats open live already/);
}

describe('open event streams per user', () => {
  it('are counted across API processes: the third is refused on either, and a closed one frees its slot', async () => {
    const a = openTab(first);
    const b = openTab(second);
    await eventually(async () => (await held()) === 2);
    await expectRefused(openTab(first).reply);
    await expectRefused(openTab(second).reply);

    a.close();
    await a.reply;
    await eventually(async () => (await held()) === 1);
    const c = openTab(first);
    await eventually(async () => (await held()) === 2);
    await expectRefused(openTab(second).reply);

    b.close();
    c.close();
    await Promise.all([b.reply, c.reply]);
    await eventually(async () => (await held()) === 0);
  });

  it('free the slots of a process that died once their leases lapse', async () => {
    // Two slots left by a process killed mid-stream: one lapsed, one still leased.
    const now = Date.now();
    await stack.deps.redis.cache.zAdd(SLOTS_KEY, [
      { score: now - 1, value: 'died-long-ago' },
      { score: now + 60_000, value: 'died-just-now' },
    ]);
    const a = openTab(second);
    await eventually(async () => (await stack.deps.redis.cache.zScore(SLOTS_KEY, 'died-long-ago')) === null && (await held()) === 2);
    await expectRefused(openTab(first).reply);
    a.close();
    await a.reply;
    await stack.deps.redis.cache.zRem(SLOTS_KEY, 'died-just-now');
  });
});
