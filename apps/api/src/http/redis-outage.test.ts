import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorBodySchema, HealthResponseSchema, ListChatsResponseSchema } from '@simorgh/contracts';
import { startTestStack, type TestStack } from '../test/harness.js';
import { USERS } from '@simorgh/devstack/fixtures';

let stack: TestStack;
let auth: string;

beforeAll(async () => {
  stack = await startTestStack();
  auth = await stack.bearer(USERS.arash.username);
});
afterAll(async () => {
  stack?.redis.signal('SIGCONT');
  await stack?.stop();
});

const listChats = () => stack.http().get('/api/chats').set('Authorization', auth);

async function expectFast503(call: () => PromiseLike<{ status: number; body: unknown }>) {
  const started = Date.now();
  const res = await call();
  expect(res.status).toBe(503);
  expect(ErrorBodySchema.parse(res.body).code).toBe('upstream_unavailable');
  expect(Date.now() - started).toBeLessThan(3000);
}

/** Polls until the API answers 200 again, proving it reconnected by itself. */
async function waitForRecovery(timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await listChats()).status === 200) return;
    await sleep(200);
  }
  throw new Error('API did not recover');
}

describe('Redis outage', () => {
  it('fails fast with 503 while Redis is frozen (SIGSTOP) and recovers after SIGCONT', async () => {
    expect((await listChats()).status).toBe(200);
    stack.redis.signal('SIGSTOP');
    try {
      await expectFast503(listChats);
      await expectFast503(async () => stack.http().post('/api/chats').set('Authorization', auth).send({ chat_type: 'general' }));
      const health = await stack.http().get('/api/health');
      expect(health.status).toBe(503);
      expect(HealthResponseSchema.parse(health.body).status).toBe('unhealthy');
    } finally {
      stack.redis.signal('SIGCONT');
    }
    await waitForRecovery();
    const created = await stack.http().post('/api/chats').set('Authorization', auth).send({ chat_type: 'general' });
    expect(created.status).toBe(201);
  });

  it('fails fast with 503 while Redis is dead and reconnects after it restarts', async () => {
    const before = ListChatsResponseSchema.parse((await listChats()).body).chats.length;
    stack.redis.signal('SIGKILL');
    await sleep(100);
    await expectFast503(listChats);
    const started = Date.now();
    const health = await stack.http().get('/api/health');
    expect(health.status).toBe(503);
    expect(HealthResponseSchema.parse(health.body).services.redis.status).toBe('unhealthy');
    expect(Date.now() - started).toBeLessThan(3000);
    await stack.redis.restart();
    await waitForRecovery();
    // AOF with fsync always: acknowledged chats survived the crash.
    expect(ListChatsResponseSchema.parse((await listChats()).body).chats.length).toBe(before);
  });
});
