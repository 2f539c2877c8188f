import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../../test/harness.js';
import { startServedStack, type ServedStackWithModel } from '../../../test/served-stack.js';
import { userMovedCountKey, userMovedKey } from '../../chats/chats.scripts.js';
import { movedField, movedKey } from '../history.scripts.js';
import { createHistoryStore } from '../history.store.js';

const DAY_MS = 86_400_000;
const clock = manualClock('2026-01-05T09:00:00.000Z');
let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ clock, model: { tokenDelayMs: 1 }, env: { ARCHIVE_AFTER_DAYS: '30', RETENTION_DAYS: '90' } });
});

afterAll(() => stack?.stop());

const redis = () => stack.deps.redis.chat;
const run = async () => {
  await stack.drained();
  return stack.runArchive({});
};
const listed = async (user: string) => (await stack.chatsOf(user)).map((chat) => chat.chat_id);

describe('ARCHIVE_AFTER_DAYS and RETENTION_DAYS', () => {
  it('moves chats idle 30 days, deletes chats idle 90 days from both stores, and nothing brings them back', async () => {
    const user = 'retention.user';
    const old = await stack.createChat(user);
    await stack.sendMessage(user, old.chat_id, 'An old question');
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
    await stack.drained();
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [old.chat_id])).toEqual([]);
    expect(await stack.sql('SELECT 1 FROM messages WHERE chat_id = $1', [old.chat_id])).toEqual([]);
    expect(await redis().hExists(movedKey(old.chat_id), movedField(old.chat_id))).toBe(0);
    expect(await redis().zScore(`user:${user}:chats`, old.chat_id)).toBeNull();
    // Out of the owner's moved chats too: the one left is the middle one.
    expect(await redis().get(userMovedCountKey(user))).toBe('1');
    expect(await redis().zScore(`${userMovedKey(user)}:first`, old.chat_id)).toBeNull();
    expect(await redis().zScore(`${userMovedKey(user)}:first`, middle.chat_id)).not.toBeNull();
    expect(await listed(user)).toEqual([recent.chat_id, middle.chat_id]);
    await stack.http().get(`/api/chats/${old.chat_id}`).set('Authorization', await stack.bearer(user)).expect(404);

    // Day 200: the other two, one moved and one still in Redis (brought back, then idle), go too.
    await stack.http().patch(`/api/chats/${middle.chat_id}`).set('Authorization', await stack.bearer(user)).send({ pinned: true }).expect(200);
    clock.advance(100 * DAY_MS);
    await stack.drained();
    expect((await run()).deleted).toBe(2);
    await stack.drained();
    for (const chat of [middle, recent]) {
      // (A chat brought back keeps a lease of a few seconds against the next move; it expires by itself.)
      expect((await redis().keys(`chat:${chat.chat_id}:*`)).filter((key) => !key.endsWith(':restored'))).toEqual([]);
      expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [chat.chat_id])).toEqual([]);
      expect(await stack.sql('SELECT 1 FROM deleted_chats WHERE chat_id = $1', [chat.chat_id])).toHaveLength(1);
    }
    expect(await redis().zCard(`user:${user}:pinned`)).toBe(0);
    expect(await redis().keys(`${userMovedKey(user)}*`)).toEqual([]);
    expect(await listed(user)).toEqual([]);

    // A late or replayed entry about a deleted chat cannot bring it back.
    const store = createHistoryStore(stack.deps.history.db);
    await store.apply({ id: '1-0', fields: { kind: 'chat', chat_id: old.chat_id, meta: JSON.stringify(old) } });
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [old.chat_id])).toEqual([]);
  });
});
