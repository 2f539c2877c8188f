import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import request from 'supertest';
import { ListChatsResponseSchema } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../../../test/served-stack.js';
import { MOVED_BUCKET_MAX, userIndexKey, userMovedCountKey, userMovedKey } from '../../chats/chats.scripts.js';
import { movedField, movedKey } from '../history.scripts.js';

let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 1 }, env: { MESSAGES_PER_MINUTE: '10000' } });
});

afterAll(() => stack?.stop());

const redis = () => stack.deps.redis.chat;
const marker = (chatId: string) => redis().hGet(movedKey(chatId), movedField(chatId));
const send = (chatId: string, content: string, user: string) => stack.sendMessage(user, chatId, content);

/** Every chat of `user` moved out of Redis (a chat brought back a moment ago too). */
async function moveAll(user: string) {
  const ids = (await stack.chatsOf(user)).map((chat) => chat.chat_id);
  if (ids.length > 0) await redis().del(ids.map((id) => `chat:${id}:restored`));
  await stack.drained();
  return stack.runArchive();
}

describe('the list of moved chats across API processes', () => {
  it('shows a moved chat renamed, pinned, moved again or deleted through one process in the list of another at once', async () => {
    const user = 'moved.two-processes';
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => stack.createChat(user)));
    if (!first || !second || !third) throw new Error('three chats');
    await moveAll(user);
    const other = await stack.build({ llmBaseUrl: stack.llm.url });
    const named = async (chatId: string) => (await stack.chatsOf(user, other.app)).find((chat) => chat.chat_id === chatId);
    expect((await stack.chatsOf(user, other.app)).map((chat) => chat.chat_id).sort()).toEqual([first, second, third].map((chat) => chat.chat_id).sort());

    const authorization = await stack.bearer(user);
    await stack.http().patch(`/api/chats/${first.chat_id}`).set('Authorization', authorization).send({ chat_name: 'Renamed through the first' }).expect(200);
    expect(await named(first.chat_id)).toMatchObject({ chat_name: 'Renamed through the first' });

    await stack.http().patch(`/api/chats/${second.chat_id}`).set('Authorization', authorization).send({ pinned: true }).expect(200);
    expect((await stack.chatsOf(user, other.app))[0]).toMatchObject({ chat_id: second.chat_id, pinned: true });

    // Moved again at their new versions: the other process shows them as they are now, never
    // what it read of them when they were moved the first time.
    expect((await moveAll(user)).archived).toBe(2);
    expect(await marker(first.chat_id)).toMatch(/^\d+$/);
    expect(await named(first.chat_id)).toMatchObject({ chat_name: 'Renamed through the first' });
    expect((await stack.chatsOf(user, other.app))[0]).toMatchObject({ chat_id: second.chat_id, pinned: true });
    await stack.http().patch(`/api/chats/${first.chat_id}`).set('Authorization', authorization).send({ chat_name: 'And again' }).expect(200);
    expect(await named(first.chat_id)).toMatchObject({ chat_name: 'And again' });

    await stack.http().delete(`/api/chats/${third.chat_id}`).set('Authorization', authorization).expect(200);
    expect(await named(third.chat_id)).toBeUndefined();
    await request(other.app).get(`/api/chats/${third.chat_id}`).set('Authorization', authorization).expect(404);
  });

  it('serves a moved chat from the copy a process read at the version it was moved at, not from PostgreSQL each time', async () => {
    const user = 'moved.copies';
    const chat = await stack.createChat(user);
    await moveAll(user);
    const reader = await stack.build({ llmBaseUrl: stack.llm.url });
    expect((await stack.chatsOf(user, reader.app))[0]).toMatchObject({ chat_id: chat.chat_id, chat_name: chat.chat_name });
    // A row changed behind the API's back, at the same version (nothing the API does changes a
    // moved chat's row without a new version): the process that read it keeps its copy, a
    // process that never did reads the row.
    await stack.sql(`UPDATE chats SET metadata = jsonb_set(metadata, '{chat_name}', '"Changed behind"') WHERE chat_id = $1`, [chat.chat_id]);
    expect((await stack.chatsOf(user, reader.app))[0]).toMatchObject({ chat_name: chat.chat_name });
    const fresh = await stack.build({ llmBaseUrl: stack.llm.url, mirror: false });
    expect((await stack.chatsOf(user, fresh.app))[0]).toMatchObject({ chat_name: 'Changed behind' });
  });
});

describe('the marker of a moved chat', () => {
  it('is the version alone, under the last two digits of the ID, when the message counter is the number of messages', async () => {
    const user = 'moved.marker';
    const chat = await stack.createChat(user);
    expect((await send(chat.chat_id, 'A question', user)).of('done')).toHaveLength(1);
    await moveAll(user);
    const [row] = await stack.sql<{ version: string }>('SELECT mirror_version::text AS version FROM chats WHERE chat_id = $1', [chat.chat_id]);
    expect(await marker(chat.chat_id)).toBe(row?.version);
    expect(await redis().hKeys(movedKey(chat.chat_id))).toContain(chat.chat_id.slice(-2));

    // Brought back: the counter is the number of messages again, the next ones follow.
    expect((await send(chat.chat_id, 'After the move', user)).of('done')).toHaveLength(1);
    expect(await redis().get(`chat:${chat.chat_id}:message_seq`)).toBe('4');
    expect((await stack.messagesOf(user, chat.chat_id)).map((message) => message.message_id)).toEqual([1, 2, 3, 4].map((n) => `S-${chat.chat_id}-M-00${n}`));
  });

  it('keeps a message counter that is not the number of messages, and brings it back', async () => {
    const user = 'moved.counter';
    const chat = await stack.createChat(user);
    expect((await send(chat.chat_id, 'A question', user)).of('done')).toHaveLength(1);
    // As after messages numbered and then removed: the counter is ahead of the list.
    await redis().set(`chat:${chat.chat_id}:message_seq`, '7');
    await moveAll(user);
    expect(await marker(chat.chat_id)).toMatch(/^\d+:7$/);
    expect((await send(chat.chat_id, 'After the move', user)).of('done')).toHaveLength(1);
    const ids = (await stack.messagesOf(user, chat.chat_id)).map((message) => message.message_id);
    expect(ids.slice(2)).toEqual([`S-${chat.chat_id}-M-008`, `S-${chat.chat_id}-M-009`]);
  });

  it('reads and removes a marker written in the earlier form (the whole ID as field, version and counter)', async () => {
    const user = 'moved.earlier-marker';
    const chat = await stack.createChat(user);
    expect((await send(chat.chat_id, 'A question', user)).of('done')).toHaveLength(1);
    await moveAll(user);
    const version = (await marker(chat.chat_id)) as string;
    await redis().hDel(movedKey(chat.chat_id), movedField(chat.chat_id));
    await redis().hSet(movedKey(chat.chat_id), chat.chat_id, `${version}:2`);

    expect((await stack.chatsOf(user)).map((listed) => listed.chat_id)).toEqual([chat.chat_id]);
    expect(await stack.chatOf(user, chat.chat_id)).toMatchObject({ chat_id: chat.chat_id, message_count: 2 });
    expect((await send(chat.chat_id, 'After the move', user)).of('done')).toHaveLength(1);
    expect(await redis().hExists(movedKey(chat.chat_id), chat.chat_id)).toBe(0);
    expect((await stack.messagesOf(user, chat.chat_id)).map((message) => message.message_id)).toEqual([1, 2, 3, 4].map((n) => `S-${chat.chat_id}-M-00${n}`));
  });
});
/** Every ID of `user`'s list for `query`, page after page of `limit` (from `cursor` when given). */
async function pageThrough(app: Express, user: string, query: Record<string, string>, limit: number, cursor: string | null = null, pages = Infinity) {
  const ids: string[] = [];
  const authorization = await stack.bearer(user);
  let next = cursor;
  for (let page = 0; page < pages; page += 1) {
    const response = await request(app).get('/api/chats').query({ ...query, limit, ...(next ? { cursor: next } : {}) }).set('Authorization', authorization);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const body = ListChatsResponseSchema.parse(response.body);
    ids.push(...body.chats.map((chat) => chat.chat_id));
    next = body.next_cursor;
    if (next === null) break;
  }
  return { ids, next };
}

/** The user's moved chats, bucket by bucket (lowest bucket first), as Redis holds them. */
async function buckets(user: string) {
  const bounds = await redis().zRange(userMovedKey(user), 0, -1);
  return Promise.all(
    bounds.map(async (bound) => {
      const key = `${userMovedKey(user)}:${bound === '' ? 'first' : bound}`;
      const encoding = await redis().sendCommand(['OBJECT', 'ENCODING', key]);
      return { bound, encoding, members: await redis().zRangeWithScores(key, 0, -1) };
    }),
  );
}
const movedMembers = async (user: string) => (await buckets(user)).flatMap((bucket) => bucket.members.map((member) => member.value));

describe('the index of moved chats (out of the owner\'s sorted set)', () => {
  it('lists hot and moved chats in one order, page by page across the two and across a move, pinned first, filters applied', async () => {
    const user = USERS.arash.username;
    const authorization = await stack.bearer(user);
    const chats: string[] = [];
    // 300 chats, every tenth of a project: more than one bucket of moved chats holds.
    for (let batch = 0; batch < 15; batch += 1) {
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stack.createChat(user, (batch * 20 + index) % 10 === 0 ? { chat_type: 'project', project_number: '10234', page_name: 'Piping stress review' } : undefined),
        ),
      );
      chats.push(...created.map((chat) => chat.chat_id));
    }
    // Creation times shared by three chats each: equal scores are ordered by ID, across buckets too.
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const scores = new Map(chats.map((chatId, index) => [chatId, base + Math.floor(index / 3) * 1000]));
    await redis().zAdd(userIndexKey(user), [...scores].map(([value, score]) => ({ score, value })));
    for (const index of [5, 150]) await stack.http().patch(`/api/chats/${chats[index]}`).set('Authorization', authorization).send({ pinned: true }).expect(200);
    for (const index of [7, 200, 201]) await stack.http().patch(`/api/chats/${chats[index]}`).set('Authorization', authorization).send({ status: 'archived' }).expect(200);
    const queries = { all: { status: 'all' }, active: {}, archived: { status: 'archived' }, project: { status: 'all', project_number: '10234' } };
    const expected = new Map<string, string[]>();
    for (const [name, query] of Object.entries(queries)) expected.set(name, (await pageThrough(stack.app, user, query, 100)).ids);
    expect(expected.get('all')).toHaveLength(300);
    expect(expected.get('all')?.slice(0, 2)).toEqual([chats[150], chats[5]]);
    expect(expected.get('archived')).toHaveLength(3);
    expect(expected.get('project')).toHaveLength(30);
    // Two pages read while every chat is in Redis; the rest after the move.
    const started = await pageThrough(stack.app, user, queries.all, 40, null, 2);

    expect((await moveAll(user)).archived).toBeGreaterThanOrEqual(300);
    expect(await redis().zCard(userIndexKey(user))).toBe(0);
    const filed = await buckets(user);
    expect(filed.length).toBeGreaterThan(2);
    for (const bucket of filed) {
      expect(bucket.members.length).toBeLessThanOrEqual(MOVED_BUCKET_MAX);
      expect(bucket.encoding).toBe('listpack');
    }
    expect(new Map(filed.flatMap((bucket) => bucket.members.map((member) => [member.value, member.score])))).toEqual(scores);
    expect(await redis().get(userMovedCountKey(user))).toBe('300');

    const rest = await pageThrough(stack.app, user, queries.all, 40, started.next);
    expect([...started.ids, ...rest.ids]).toEqual(expected.get('all'));

    // Every ninth brought back by a rename: hot and moved chats alternate through the list.
    const back = chats.filter((_, index) => index % 9 === 0);
    await Promise.all(back.map((chatId) => stack.http().patch(`/api/chats/${chatId}`).set('Authorization', authorization).send({ chat_name: 'Back in Redis' }).expect(200)));
    for (const chatId of back) expect(await redis().zScore(userIndexKey(user), chatId)).toBe(scores.get(chatId));
    expect((await movedMembers(user)).filter((chatId) => back.includes(chatId))).toEqual([]);
    expect(await redis().get(userMovedCountKey(user))).toBe(String(300 - back.length));
    for (const limit of [7, 100]) {
      for (const [name, query] of Object.entries(queries)) expect((await pageThrough(stack.app, user, query, limit)).ids, `${name}, ${limit} per page`).toEqual(expected.get(name));
    }
  }, 120_000);

  it('takes a moved chat out of the buckets when it is deleted, and counts moved chats toward the chat limit', async () => {
    const user = 'moved.limit';
    const limited = await stack.build({ llmBaseUrl: stack.llm.url, env: { MAX_CHATS_PER_USER: '3' } });
    const chats = [];
    for (let index = 0; index < 3; index += 1) chats.push(await stack.createChat(user, undefined, limited.app));
    await moveAll(user);
    expect(await redis().zCard(userIndexKey(user))).toBe(0);
    expect(await redis().get(userMovedCountKey(user))).toBe('3');
    const authorization = await stack.bearer(user);
    await request(limited.app).post('/api/chats').set('Authorization', authorization).send({ chat_type: 'general' }).expect(409);

    const [gone, ...kept] = chats.map((chat) => chat.chat_id);
    await stack.http().delete(`/api/chats/${gone}`).set('Authorization', authorization).expect(200);
    expect((await movedMembers(user)).sort()).toEqual(kept.sort());
    expect(await redis().get(userMovedCountKey(user))).toBe('2');
    await request(limited.app).post('/api/chats').set('Authorization', authorization).send({ chat_type: 'general' }).expect(201);
    for (const chatId of kept) await stack.http().delete(`/api/chats/${chatId}`).set('Authorization', authorization).expect(200);
    expect(await redis().keys(`${userMovedKey(user)}*`)).toEqual([]);
  });

  it('keeps serving chats moved before the buckets existed (their member in the index), and files them in the buckets on the next pass', async () => {
    const user = 'moved.earlier-index';
    const chats = await Promise.all([1, 2, 3, 4].map(() => stack.createChat(user)));
    await moveAll(user);
    const expected = (await pageThrough(stack.app, user, { status: 'all' }, 100)).ids;
    // As an earlier release left them: members in the index, no buckets, nothing filed yet.
    const members = (await buckets(user)).flatMap((bucket) => bucket.members);
    await redis().zAdd(userIndexKey(user), members);
    await redis().del([...(await redis().keys(`${userMovedKey(user)}*`)), 'history:moved-index']);

    expect((await pageThrough(stack.app, user, { status: 'all' }, 3)).ids).toEqual(expected);
    const [first, second] = chats.map((chat) => chat.chat_id);
    expect(await stack.chatOf(user, first as string)).toMatchObject({ chat_id: first });
    // Brought back: its member stays where it was.
    const score = await redis().zScore(userIndexKey(user), first as string);
    await stack.http().patch(`/api/chats/${first}`).set('Authorization', await stack.bearer(user)).send({ chat_name: 'Renamed' }).expect(200);
    expect(await redis().zScore(userIndexKey(user), first as string)).toBe(score);
    await stack.http().delete(`/api/chats/${second}`).set('Authorization', await stack.bearer(user)).expect(200);

    // The next pass files the others in the buckets (and moves the renamed one again).
    await moveAll(user);
    expect(await redis().zCard(userIndexKey(user))).toBe(0);
    expect((await movedMembers(user)).sort()).toEqual(expected.filter((chatId) => chatId !== second).sort());
    expect(await redis().get(userMovedCountKey(user))).toBe('3');
    expect(await redis().hGet('history:moved-index', 'done')).toBe('1');
    expect((await pageThrough(stack.app, user, { status: 'all' }, 2)).ids).toEqual(expected.filter((chatId) => chatId !== second));
  });
});
