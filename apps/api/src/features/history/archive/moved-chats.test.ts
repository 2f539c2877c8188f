import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startServedStack, type ServedStackWithModel } from '../../../test/served-stack.js';
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
