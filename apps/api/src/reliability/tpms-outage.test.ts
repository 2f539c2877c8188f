import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateChatResponseSchema, ErrorBodySchema, HealthResponseSchema, ListChatsResponseSchema } from '@simorgh/contracts';
import { listen } from '../test/event-stream-client.js';
import { FIXTURE_PASSWORD, PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startTestStack, type TestStack } from '../test/harness.js';
import { startTcpProxy, type TcpProxy } from '@simorgh/devstack/tcp-proxy';

let stack: TestStack;
let proxy: TcpProxy;
let server: Awaited<ReturnType<typeof listen>>;
let token: string;
const arash = USERS.arash.username;

beforeAll(async () => {
  stack = await startTestStack();
  // The shared MariaDB keeps running for other files; this file's API reaches it through a
  // proxy that can be cut (TPMS stopped) or made to hang (TPMS frozen).
  proxy = await startTcpProxy(Number(stack.env.MYSQL_PORT));
  const flaky = await stack.build({ env: { MYSQL_PORT: String(proxy.port) } });
  server = await listen(flaky.app);
  token = await stack.tokenFor(arash);
});
afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await stack?.stop();
});

async function call(method: string, path: string, body?: object, authorization = `Bearer ${token}`) {
  const started = performance.now();
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as unknown, ms: performance.now() - started };
}

const projectChat = (id: number, page: string) => ({ chat_type: 'project', project_number: String(id), page_name: page });

async function health() {
  const res = await call('GET', '/api/health');
  return { status: res.status, body: HealthResponseSchema.parse(res.body) };
}

async function expectDirectoryUnavailable(res: { status: number; body: unknown; ms: number }) {
  expect(res.status).toBe(503);
  expect(ErrorBodySchema.parse(res.body)).toMatchObject({ detail: 'Project directory unavailable, try again shortly', code: 'upstream_unavailable' });
  expect(res.ms).toBeLessThan(5000);
}

describe.each([
  ['stopped (connections refused)', () => proxy.cut()],
  ['frozen (connections accepted, never answered)', async () => proxy.hang()],
])('TPMS %s', (_name, breakTpms) => {
  it('keeps cached projects and general sessions working, answers 503 for the rest, reports degraded health and recovers by itself', async () => {
    await stack.deps.redis.cache.flushDb();
    // Before the outage: the refinery answers are cached by using them.
    const existing = await call('POST', '/api/chats', projectChat(PROJECTS.refinery.id, 'Before the outage'));
    expect(existing.status).toBe(201);
    const existingId = CreateChatResponseSchema.parse(existing.body).chat.chat_id;
    const counters = stack.deps.redis.counters;
    const compressionCounter = `session:counter:project:${PROJECTS.compression.id}`;
    const spentBefore = await counters.get(compressionCounter);

    await breakTpms();
    try {
      // Cached project: open, create, read.
      expect((await call('GET', `/api/projects/${PROJECTS.refinery.id}`)).status).toBe(200);
      expect((await call('POST', '/api/chats', projectChat(PROJECTS.refinery.id, 'During the outage'))).status).toBe(201);
      expect((await call('GET', `/api/chats/${existingId}`)).status).toBe(200);
      // Uncached: a bounded 503, never a 403/404, and no number spent.
      await expectDirectoryUnavailable(await call('GET', `/api/projects/${PROJECTS.compression.id}`));
      await expectDirectoryUnavailable(await call('POST', '/api/chats', projectChat(PROJECTS.compression.id, 'Uncached')));
      expect(await counters.get(compressionCounter)).toBe(spentBefore);
      expect(await stack.deps.redis.cache.exists(`tpms:project:${PROJECTS.compression.id}`)).toBe(0);
      // Sign-in needs TPMS: 503, not "wrong password".
      const login = await call('POST', '/api/auth/login', { username: arash, password: FIXTURE_PASSWORD }, '');
      expect(login.status).toBe(503);
      // General sessions do not depend on TPMS at all.
      expect((await call('POST', '/api/chats', { chat_type: 'general' })).status).toBe(201);
      const list = await call('GET', '/api/chats?status=all');
      expect(list.status).toBe(200);
      expect(ListChatsResponseSchema.parse(list.body).chats.map((chat) => chat.chat_id)).toContain(existingId);
      // Health: degraded (200), TPMS down, within its short bound.
      const started = Date.now();
      const degraded = await health();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.services.sql_auth.status).toBe('unhealthy');
      expect(degraded.body.services.redis.status).toBe('healthy');
    } finally {
      await proxy.restore();
    }

    // Recovery needs no restart: the pool reconnects on the next request.
    const deadline = Date.now() + 10_000;
    let recovered = await call('GET', `/api/projects/${PROJECTS.compression.id}`);
    while (recovered.status !== 200 && Date.now() < deadline) {
      await sleep(200);
      recovered = await call('GET', `/api/projects/${PROJECTS.compression.id}`);
    }
    expect(recovered.status).toBe(200);
    expect((await call('POST', '/api/chats', projectChat(PROJECTS.compression.id, 'After the outage'))).status).toBe(201);
    expect((await health()).body.services.sql_auth.status).toBe('healthy');
  }, 60_000);
});
