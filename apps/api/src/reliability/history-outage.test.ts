import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveRunResponseSchema, CreateChatResponseSchema, ErrorBodySchema, HealthResponseSchema, ListChatsResponseSchema } from '@simorgh/contracts';
import { startPostgres, type PostgresServer } from '@simorgh/devstack';
import { startTcpProxy } from '@simorgh/devstack/tcp-proxy';
import { startApiProcess, type ApiProcess } from '@simorgh/devstack/api-process';
import { startFakeLlm, type FakeLlm } from '@simorgh/devstack/fake-llm';
import { ADMIN_USERS } from '@simorgh/devstack/fixtures';
import request from 'supertest';
import { closeDeps } from '../deps.js';
import { movedField, movedKey, OUTBOX_KEY } from '../features/history/history.scripts.js';
import { eventually, listen, postStream } from '../test/event-stream-client.js';
import { startTestStack, type TestStack } from '../test/harness.js';
import { closingOpenEnded, sampleRequest, tableRoutes } from '../test/route-samples.js';

/**
 * The history's PostgreSQL is this file's own (the shared one must not be stopped), and the
 * stack's own process runs no mirror: each test decides which processes mirror.
 */
let root: string;
let postgres: PostgresServer;
let llm: FakeLlm;
let stack: TestStack;
const processes: ApiProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'simorgh-history-outage-'));
  [postgres, llm] = await Promise.all([startPostgres({ dataDir: join(root, 'postgres'), durable: false }), startFakeLlm({ tokenDelayMs: 1 })]);
  await postgres.createDatabase('history');
  stack = await startTestStack({
    mirror: false,
    llmBaseUrl: llm.url,
    env: { DATABASE_URL: postgres.url('history'), HISTORY_CLAIM_IDLE_MS: '1000', MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((api) => api.stop()));
  await stack?.stop();
  await llm?.stop();
  await postgres?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const backlog = () => stack.deps.redis.chat.xLen(OUTBOX_KEY);
const history = async <R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> => {
  const { createHistoryDb } = await import('../postgres.js');
  const { pool } = createHistoryDb({ DATABASE_URL: postgres.url('history'), DATABASE_POOL_SIZE: 1 });
  try {
    return (await pool.query<R>(text, values)).rows;
  } finally {
    await pool.end();
  }
};

describe('PostgreSQL down', () => {
  it('leaves chatting unaffected during a burst, says degraded, and drains the backlog into PostgreSQL once it is back', async () => {
    const mirrored = await stack.build({
      llmBaseUrl: llm.url,
      env: { DATABASE_URL: postgres.url('history'), MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' },
    });
    const server = await listen(mirrored.app);
    try {
      await postgres.stop();
      const users = Array.from({ length: 5 }, (_, index) => `outage.user${index}`);
      const created = await Promise.all(Array.from({ length: 30 }, (_, index) => stack.createChat(users[index % users.length] as string, undefined, mirrored.app)));
      const replies = await Promise.all(
        created.slice(0, 10).map(async (chat) =>
          postStream(`${server.url}/api/chats/${chat.chat_id}/messages`, await stack.tokenFor(chat.user_id), { content: `Question for ${chat.chat_id}` }),
        ),
      );
      for (const reply of replies) expect(reply.of('done')).toHaveLength(1);
      for (const reply of replies) expect(reply.of('error')).toEqual([]);

      const health = HealthResponseSchema.parse((await stack.http().get('/api/health').set('Authorization', await stack.bearer(ADMIN_USERS))).body);
      expect(health.status).toBe('degraded');
      expect(health.services.history.status).toBe('unhealthy');
      // At least the 30 creations and the 10 questions wait; replies and titles follow them.
      expect(health.services.history.backlog).toBeGreaterThanOrEqual(40);
      expect(await backlog()).toBeGreaterThanOrEqual(40);

      await postgres.restart();
      await eventually(async () => (await backlog()) === 0, 30_000);
      const ids = created.map((chat) => chat.chat_id);
      const [chats] = await history<{ count: string }>('SELECT count(*) FROM chats WHERE chat_id = ANY($1)', [ids]);
      const [messages] = await history<{ count: string }>('SELECT count(*) FROM messages WHERE chat_id = ANY($1)', [ids]);
      expect(Number(chats?.count)).toBe(30);
      expect(Number(messages?.count)).toBe(20);
      const after = HealthResponseSchema.parse((await stack.http().get('/api/health')).body);
      expect(after.services.history.status).toBe('healthy');
    } finally {
      await server.close();
      await closeDeps(mirrored.deps);
    }
  }, 90_000);
});

describe('an API process killed with changes in flight', () => {
  it('has its unfinished entries claimed and written by another process', async () => {
    const apiEnv = stack.processEnv({ DATABASE_URL: postgres.url('history'), HISTORY_CLAIM_IDLE_MS: '1000' });
    // The first process reaches PostgreSQL through a proxy that then hangs: it takes the new
    // entries and cannot finish them (SIGSTOP would stop only the postmaster, not open sessions).
    const proxy = await startTcpProxy(postgres.port);
    const first = await startApiProcess({ env: { ...apiEnv, DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/history` }, logFile: join(root, 'first.log') });
    processes.push(first);
    proxy.hang();
    try {
      const token = await stack.tokenFor('killed.user');
      const ids = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await fetch(`${first.url}/api/chats`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ chat_type: 'general' }),
          });
          expect(res.status).toBe(201);
          return CreateChatResponseSchema.parse(await res.json()).chat.chat_id;
        }),
      );
      // The first process has taken entries (at least the first, stuck writing it) and holds them.
      const pending = await eventually(async () => {
        const summary = (await stack.deps.redis.chat.sendCommand(['XPENDING', OUTBOX_KEY, 'history-mirror'])) as [number, string | null, string | null, Array<[string, string]> | null];
        return Number(summary[0]) >= 1 ? summary[3] : false;
      }, 10_000);
      expect(pending).toHaveLength(1);
      expect(pending?.[0]?.[0]).toContain(`-${first.pid}-`);
      expect(await backlog()).toBe(10);

      process.kill(first.pid, 'SIGKILL');

      const second = await startApiProcess({ env: apiEnv, logFile: join(root, 'second.log') });
      processes.push(second);
      await eventually(async () => (await backlog()) === 0, 30_000);
      const rows = await history<{ chat_id: string }>('SELECT chat_id FROM chats WHERE chat_id = ANY($1) ORDER BY chat_id', [ids]);
      expect(rows.map((row) => row.chat_id)).toEqual([...ids].sort());
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

/**
 * An app that mirrors, and one chat of `user` with one exchange, moved out of Redis by an
 * administrator's pass; `close` ends the app.
 */
async function withMovedChat(user: string) {
  const mirrored = await stack.build({ llmBaseUrl: llm.url, env: { DATABASE_URL: postgres.url('history'), MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' } });
  const server = await listen(mirrored.app);
  const redis = stack.deps.redis.chat;
  const authorization = await stack.bearer(user);
  const call = (method: 'get' | 'post' | 'patch' | 'delete', path: string) => request(mirrored.app)[method](path).set('Authorization', authorization).set('Content-Type', 'application/json');
  const send = async (chatId: string, content: string) => postStream(`${server.url}/api/chats/${chatId}/messages`, await stack.tokenFor(user), { content });
  const chatKeys = async (chatId: string) => (await redis.keys(`chat:${chatId}:*`)).sort();
  const listed = async () => {
    const list = await call('get', '/api/chats').query({ status: 'all' });
    expect(list.status).toBe(200);
    return ListChatsResponseSchema.parse(list.body).chats.map((chat) => chat.chat_id);
  };
  const close = async () => {
    await server.close();
    await closeDeps(mirrored.deps);
  };
  try {
    const moved = await stack.createChat(user, undefined, mirrored.app);
    expect((await send(moved.chat_id, 'Kept through the outage')).of('done')).toHaveLength(1);
    await eventually(async () => (await backlog()) === 0, 10_000);
    const run = await call('post', '/api/admin/archive/run').set('Authorization', await stack.bearer(ADMIN_USERS)).send({ idle_days: 0 });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(ArchiveRunResponseSchema.parse(run.body).archived).toBeGreaterThanOrEqual(1);
    expect(await chatKeys(moved.chat_id)).toEqual([]);
    const before = await stack.messagesOf(user, moved.chat_id);
    expect(before.map((message) => message.content)).toEqual(['Kept through the outage', expect.any(String)]);
    return { app: mirrored.app, redis, call, send, chatKeys, listed, moved, before, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Every process of this file's PostgreSQL: the postmaster and its children (one per session, and its workers). */
function postgresPids(): number[] {
  const postmaster = Number(readFileSync(join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [postmaster, ...children];
}

describe('a chat moved out of Redis while PostgreSQL is down', () => {
  it('answers 503 with the error body on every route of the chat and keeps it whole; hot chats keep working; once PostgreSQL is back it opens and takes messages again', async () => {
    const user = 'moved.user';
    const { redis, call, send, chatKeys, listed, moved, before, close } = await withMovedChat(user);
    try {
      await postgres.stop();

      // Every route of the chat (open, messages, events, rename, send, regenerate, title, stop,
      // delete): the one error body with 503, never 404 or 500, and the chat stays as it was.
      const routes = tableRoutes((route) => route.path.startsWith('/api/chats/:id'));
      expect(routes.map((route) => route.name)).toEqual(expect.arrayContaining(['getChat', 'listMessages', 'sendMessage', 'deleteChat']));
      for (const route of routes) {
        const sample = sampleRequest(route, { id: moved.chat_id });
        const response = await closingOpenEnded(call(route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete', sample.path), route).send(sample.body ?? '');
        expect(response.status, `${route.name}: ${JSON.stringify(response.body)}`).toBe(503);
        expect(ErrorBodySchema.parse(response.body).code).toBe('upstream_unavailable');
      }
      const outboxFields = async () => ((await redis.sendCommand(['XRANGE', OUTBOX_KEY, '-', '+'])) as Array<[string, string[]]>).map(([, flat]) => flat);
      expect((await outboxFields()).filter((flat) => flat.includes(moved.chat_id))).toEqual([]);
      expect(await chatKeys(moved.chat_id)).toEqual([]);
      expect(await redis.hExists(movedKey(moved.chat_id), movedField(moved.chat_id))).toBe(1);

      // Hot chats: created, answered, listed (the moved chat left out of the list meanwhile).
      const hot = await stack.createChat(user);
      const hotReply = await send(hot.chat_id, 'A question during the outage');
      expect(hotReply.of('done')).toHaveLength(1);
      expect(hotReply.of('error')).toEqual([]);
      expect(await listed()).toContain(hot.chat_id);

      await postgres.restart();
      await eventually(async () => (await call('get', `/api/chats/${moved.chat_id}`)).status === 200, 30_000);
      expect(await stack.messagesOf(user, moved.chat_id)).toEqual(before);
      expect((await send(moved.chat_id, 'After the outage')).of('done')).toHaveLength(1);
      const messages = await stack.messagesOf(user, moved.chat_id);
      expect(messages.map((message) => message.content).slice(0, 3)).toEqual([...before.map((message) => message.content), 'After the outage']);
      expect(messages).toHaveLength(4);
      expect(await redis.hExists(movedKey(moved.chat_id), movedField(moved.chat_id))).toBe(0);
      expect(await listed()).toEqual(expect.arrayContaining([moved.chat_id, hot.chat_id]));
      await eventually(async () => (await backlog()) === 0, 30_000);
      const [rows] = await history<{ count: string }>('SELECT count(*) FROM messages WHERE chat_id = $1', [moved.chat_id]);
      expect(Number(rows?.count)).toBe(4);
    } finally {
      await close();
    }
  }, 120_000);

  it('answers within seconds while PostgreSQL hangs: the list with the moved chat where the process has read it before and without it elsewhere, the moved chat 503, hot chats as usual', async () => {
    const user = 'hung.user';
    const { call, send, listed, moved, close } = await withMovedChat(user);
    const hot = await stack.createChat(user);
    // Pool connections are open and idle: the reads below go to sessions that will not answer.
    expect(await listed()).toEqual(expect.arrayContaining([moved.chat_id, hot.chat_id]));
    // A process that has not listed the moved chat yet.
    const unread = await stack.build({ mirror: false, env: { DATABASE_URL: postgres.url('history') } });
    const listedByUnread = async () => {
      const list = await request(unread.app).get('/api/chats').query({ status: 'all' }).set('Authorization', await stack.bearer(user));
      expect(list.status).toBe(200);
      return ListChatsResponseSchema.parse(list.body).chats.map((chat) => chat.chat_id);
    };
    const pids = postgresPids();
    const resume = () => pids.forEach((pid) => process.kill(pid, 'SIGCONT'));
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    // Should a request below hang after all, PostgreSQL resumes anyway and the file can end.
    const safety = setTimeout(resume, 60_000);
    try {
      const timed = async <T>(work: () => Promise<T>) => {
        const started = performance.now();
        const result = await work();
        return { result, ms: performance.now() - started };
      };
      // The moved chat's metadata as this process read it at the version it was moved at.
      expect(await listed()).toEqual(expect.arrayContaining([moved.chat_id, hot.chat_id]));
      const list = await timed(listedByUnread);
      expect(list.result).toContain(hot.chat_id);
      expect(list.result).not.toContain(moved.chat_id);
      const open = await timed(async () => request(unread.app).get(`/api/chats/${moved.chat_id}`).set('Authorization', await stack.bearer(user)));
      expect(open.result.status).toBe(503);
      expect(ErrorBodySchema.parse(open.result.body).code).toBe('upstream_unavailable');
      // HISTORY_READ_TIMEOUT_MS (5 s) and the pool's connect timeout (2 s) bound them.
      for (const { ms } of [list, open]) expect(ms).toBeLessThan(8000);
      const reply = await send(hot.chat_id, 'A question while PostgreSQL hangs');
      expect(reply.of('done')).toHaveLength(1);
    } finally {
      clearTimeout(safety);
      resume();
    }
    try {
      await eventually(async () => (await call('get', `/api/chats/${moved.chat_id}`)).status === 200, 30_000);
      expect(await listedByUnread()).toEqual(expect.arrayContaining([moved.chat_id, hot.chat_id]));
    } finally {
      await closeDeps(unread.deps);
      await close();
    }
  }, 120_000);
});
