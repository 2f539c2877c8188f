import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChatResponseSchema, CreateChatResponseSchema, ErrorBodySchema, parseSessionId } from '@simorgh/contracts';
import { reconcileChats } from '../features/chats/chats-startup.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStack } from '../test/served-stack.js';

let stack: ServedStack;
const arash = USERS.arash.username;

beforeAll(async () => {
  stack = await startServedStack();
});
afterAll(async () => {
  stack?.redis.signal('SIGCONT');
  await stack?.stop();
});

type Attempt = { status: number; id: string | null; code: string | null };

async function createGeneral(token: string): Promise<Attempt> {
  try {
    const res = await fetch(`${stack.url}/api/chats`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ chat_type: 'general' }),
    });
    const body: unknown = await res.json();
    if (res.status === 201) return { status: 201, id: CreateChatResponseSchema.parse(body).chat.chat_id, code: null };
    return { status: res.status, id: null, code: ErrorBodySchema.parse(body).code };
  } catch {
    return { status: 0, id: null, code: null };
  }
}

async function readChat(id: string, token: string) {
  const res = await fetch(`${stack.url}/api/chats/${id}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as unknown };
}

/**
 * Until the API answers again and this test process's own Redis clients (stack.deps, which the
 * tests after a restart use directly) have reconnected too: each reconnects on its own backoff.
 */
async function waitUntilServing(token: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const clients = Object.values(stack.deps.redis);
  while (Date.now() < deadline) {
    const res = await fetch(`${stack.url}/api/chats?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (res.status === 200 && clients.every((client) => client.isReady)) return;
    await sleep(100);
  }
  throw new Error("the API, or this process's Redis clients, did not recover after Redis restarted");
}

describe('Redis killed (kill -9) during a burst of creations', () => {
  it('keeps every acknowledged session after a restart on the same data dir, and never issues an ID twice', async () => {
    // appendfsync always + noeviction: what the harness (and deploy) run; checked here, not assumed.
    const config = await stack.deps.redis.counters.configGet(['appendonly', 'appendfsync', 'maxmemory-policy']);
    expect(config).toMatchObject({ appendonly: 'yes', appendfsync: 'always', 'maxmemory-policy': 'noeviction' });

    const token = await stack.tokenFor(arash);
    const attempts: Attempt[] = [];
    let killed = false;
    const workers = Array.from({ length: 25 }, async () => {
      for (let round = 0; round < 16; round += 1) {
        const attempt = await createGeneral(token);
        attempts.push(attempt);
        if (!killed && attempts.filter((item) => item.status === 201).length >= 120) {
          killed = true;
          stack.redis.signal('SIGKILL');
        }
      }
    });
    await Promise.all(workers);
    expect(killed).toBe(true);

    // Every answer is a success or the one 503 body: nothing hangs, nothing becomes a 500.
    for (const attempt of attempts) {
      expect(attempt.status === 201 || (attempt.status === 503 && attempt.code === 'upstream_unavailable')).toBe(true);
    }
    const acknowledged = attempts.flatMap((attempt) => (attempt.id ? [attempt.id] : []));
    expect(acknowledged.length).toBeGreaterThanOrEqual(120);
    expect(attempts.some((attempt) => attempt.status === 503)).toBe(true);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);

    await stack.redis.restart();
    await waitUntilServing(token);

    for (const id of acknowledged) {
      const res = await readChat(id, token);
      expect(res.status, `acknowledged session ${id} lost`).toBe(200);
      expect(ChatResponseSchema.parse(res.body).chat.user_id).toBe(arash);
    }

    // New sessions after the crash continue past every number handed out before it.
    const highest = Math.max(...acknowledged.map((id) => (parseSessionId(id) as { seq: number }).seq));
    const after: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      const attempt = await createGeneral(token);
      expect(attempt.status).toBe(201);
      after.push(attempt.id as string);
    }
    const all = [...acknowledged, ...after];
    expect(new Set(all).size).toBe(all.length);
    for (const id of after) expect((parseSessionId(id) as { seq: number }).seq).toBeGreaterThan(highest);
  }, 60_000);
});

describe('session counters lost', () => {
  it('skips to a fresh ID after FLUSHDB on the counters DB, overwriting nothing', async () => {
    const token = await stack.tokenFor(USERS.sara.username);
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const post = async (body: object) => {
      const res = await fetch(`${stack.url}/api/chats`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      expect(res.status).toBe(201);
      return CreateChatResponseSchema.parse(await res.json()).chat;
    };
    const project = { chat_type: 'project', project_number: String(PROJECTS.substation.id), page_name: 'Relay settings' };
    const before = [await post({ chat_type: 'general' }), await post({ chat_type: 'general' }), await post(project), await post(project)];

    await stack.deps.redis.counters.flushDb();

    const general = await post({ chat_type: 'general' });
    const projectChat = await post(project);
    const ids = [...before.map((chat) => chat.chat_id), general.chat_id, projectChat.chat_id];
    expect(new Set(ids).size).toBe(ids.length);
    // The skipped numbers still belong to their original sessions, unchanged.
    for (const chat of before) {
      const res = await readChat(chat.chat_id, token);
      expect(ChatResponseSchema.parse(res.body).chat).toEqual(chat);
    }

    // Start-up reconciliation puts the counters back at the highest stored IDs: no skipping needed.
    await stack.deps.redis.counters.flushDb();
    await reconcileChats(stack.deps);
    const next = await post(project);
    const seqOf = (id: string) => (parseSessionId(id) as { seq: number }).seq;
    expect(seqOf(next.chat_id)).toBe(seqOf(projectChat.chat_id) + 1);
  });
});
