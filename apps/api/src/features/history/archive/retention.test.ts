import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveRunResponseSchema, ListChatsResponseSchema } from '@simorgh/contracts';
import { startFakeLlm, type FakeLlm } from '@simorgh/devstack/fake-llm';
import { ADMIN_USERS } from '@simorgh/devstack/fixtures';
import { eventually, listen, postStream } from '../../../test/event-stream-client.js';
import { manualClock, startTestStack, type TestStack } from '../../../test/harness.js';
import { movedField, movedKey, OUTBOX_KEY } from '../history.scripts.js';
import { createHistoryStore } from '../history.store.js';

const DAY_MS = 86_400_000;
const clock = manualClock('2026-01-05T09:00:00.000Z');
let llm: FakeLlm;
let stack: TestStack;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  llm = await startFakeLlm({ tokenDelayMs: 1 });
  stack = await startTestStack({ clock, llmBaseUrl: llm.url, env: { ARCHIVE_AFTER_DAYS: '30', RETENTION_DAYS: '90' } });
  server = await listen(stack.app);
});

afterAll(async () => {
  await server?.close();
  await stack?.stop();
  await llm?.stop();
});

const redis = () => stack.deps.redis.chat;
const drained = () => eventually(async () => (await redis().xLen(OUTBOX_KEY)) === 0, 10_000);
const run = async () => {
  await drained();
  const response = await stack.http().post('/api/admin/archive/run').set('Authorization', await stack.bearer(ADMIN_USERS)).send({});
  expect(response.status).toBe(200);
  return ArchiveRunResponseSchema.parse(response.body);
};
const listed = async (user: string) =>
  ListChatsResponseSchema.parse((await stack.http().get('/api/chats').query({ status: 'all' }).set('Authorization', await stack.bearer(user))).body).chats.map((chat) => chat.chat_id);

describe('ARCHIVE_AFTER_DAYS and RETENTION_DAYS', () => {
  it('moves chats idle 30 days, deletes chats idle 90 days from both stores, and nothing brings them back', async () => {
    const user = 'retention.user';
    const old = await stack.createChat(user);
    await postStream(`${server.url}/api/chats/${old.chat_id}/messages`, await stack.tokenFor(user), { content: 'An old question' });
    clock.advance(40 * DAY_MS);
    const middle = await stack.createChat(user);
    clock.advance(40 * DAY_MS);
    const recent = await stack.createChat(user);

    // Day 80: the first two are idle over 30 days and move; none is 90 days idle yet.
    expect(await run()).toEqual({ archived: 2, deleted: 0 });
    expect(await redis().exists(`chat:${old.chat_id}:metadata`)).toBe(0);
    expect(await redis().exists(`chat:${recent.chat_id}:metadata`)).toBe(1);
    expect(await listed(user)).toEqual([recent.chat_id, middle.chat_id, old.chat_id]);

    // Day 100: the oldest is idle over 90 days: deleted, moved as it was.
    clock.advance(20 * DAY_MS);
    expect(await run()).toEqual({ archived: 0, deleted: 1 });
    await drained();
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [old.chat_id])).toEqual([]);
    expect(await stack.sql('SELECT 1 FROM messages WHERE chat_id = $1', [old.chat_id])).toEqual([]);
    expect(await redis().hExists(movedKey(old.chat_id), movedField(old.chat_id))).toBe(0);
    expect(await redis().zScore(`user:${user}:chats`, old.chat_id)).toBeNull();
    expect(await listed(user)).toEqual([recent.chat_id, middle.chat_id]);
    await stack.http().get(`/api/chats/${old.chat_id}`).set('Authorization', await stack.bearer(user)).expect(404);

    // Day 200: the other two, one moved and one still in Redis (brought back, then idle), go too.
    await stack.http().patch(`/api/chats/${middle.chat_id}`).set('Authorization', await stack.bearer(user)).send({ pinned: true }).expect(200);
    clock.advance(100 * DAY_MS);
    await drained();
    expect((await run()).deleted).toBe(2);
    await drained();
    for (const chat of [middle, recent]) {
      // (A chat brought back keeps a lease of a few seconds against the next move; it expires by itself.)
      expect((await redis().keys(`chat:${chat.chat_id}:*`)).filter((key) => !key.endsWith(':restored'))).toEqual([]);
      expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [chat.chat_id])).toEqual([]);
      expect(await stack.sql('SELECT 1 FROM deleted_chats WHERE chat_id = $1', [chat.chat_id])).toHaveLength(1);
    }
    expect(await redis().zCard(`user:${user}:pinned`)).toBe(0);
    expect(await listed(user)).toEqual([]);

    // A late or replayed entry about a deleted chat cannot bring it back.
    const store = createHistoryStore(stack.deps.history.db);
    await store.apply({ id: '1-0', fields: { kind: 'chat', chat_id: old.chat_id, meta: JSON.stringify(old) } });
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [old.chat_id])).toEqual([]);
  });
});
