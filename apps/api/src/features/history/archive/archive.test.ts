import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatResponseSchema, type ChatMetadata, type Message } from '@simorgh/contracts';
import { ADMIN_USERS, USERS } from '@simorgh/devstack/fixtures';
import { reconcileChats } from '../../chats/chats-startup.js';
import { eventually } from '../../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../../test/served-stack.js';
import { closingOpenEnded, sampleRequest, tableRoutes } from '../../../test/route-samples.js';
import { createHistoryService } from '../history.service.js';
import { movedField, movedKey } from '../history.scripts.js';
import { createHistoryStore } from '../history.store.js';

const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 1 }, env: { MESSAGES_PER_MINUTE: '10000', CONCURRENT_STREAMS: '50' } });
});

afterAll(() => stack?.stop());

const redis = () => stack.deps.redis.chat;
const send = (chatId: string, content: string, user = arash) => stack.sendMessage(user, chatId, content);

/** The chat's keys in the chat DB (metadata, messages, message counter, anything else). */
const chatKeys = async (chatId: string) => (await redis().keys(`chat:${chatId}:*`)).sort();
const isMoved = async (chatId: string) => (await redis().hExists(movedKey(chatId), movedField(chatId))) === 1;

const pgMessages = (chatId: string) => stack.sql<{ message_id: string; content: string }>('SELECT message_id, content FROM messages WHERE chat_id = $1 ORDER BY seq', [chatId]);

describe('moving idle chats out of Redis', () => {
  it('leaves only its member in the owner\'s moved chats and a marker; the chat reads the same from PostgreSQL: list, chat, message pages', async () => {
    const user = arash;
    const chat = await stack.createChat(user);
    for (const question of ['First question', 'Second question', 'Third question']) expect((await send(chat.chat_id, question, user)).of('done')).toHaveLength(1);
    const pinned = await stack.createChat(user);
    await stack.http().patch(`/api/chats/${pinned.chat_id}`).set('Authorization', await stack.bearer(user)).send({ pinned: true, chat_name: 'Pinned one' }).expect(200);
    const project = await stack.createChat(user, { chat_type: 'project', project_number: '10234', page_name: 'Piping stress review' });
    await stack.drained();

    const before = {
      list: await stack.chatsOf(user),
      chat: await stack.chatOf(user, chat.chat_id),
      messages: await stack.messagesOf(user, chat.chat_id),
    };
    expect(before.messages).toHaveLength(6);
    expect((await chatKeys(chat.chat_id)).length).toBeGreaterThan(0);

    const result = await stack.runArchive();
    expect(result.archived).toBeGreaterThanOrEqual(3);
    for (const id of [chat.chat_id, pinned.chat_id, project.chat_id]) {
      expect(await chatKeys(id)).toEqual([]);
      expect(await isMoved(id)).toBe(true);
    }
    expect(await stack.sql('SELECT chat_id FROM chats WHERE chat_id = $1 AND archived_from_redis', [chat.chat_id])).toHaveLength(1);

    expect(await stack.chatsOf(user)).toEqual(before.list);
    expect(await stack.chatOf(user, chat.chat_id)).toEqual(before.chat);
    expect(await stack.chatOf(user, project.chat_id)).toMatchObject({ chat_type: 'project', page_name: 'Piping stress review' });
    expect(await stack.messagesOf(user, chat.chat_id)).toEqual(before.messages);
    // Paging by `before`, two at a time, gives the same pages as Redis did.
    const authorization = await stack.bearer(user);
    const pages: Message[][] = [];
    let cursor: string | null = null;
    do {
      const response = await stack.http().get(`/api/chats/${chat.chat_id}/messages`).query({ limit: 2, ...(cursor ? { before: cursor } : {}) }).set('Authorization', authorization).expect(200);
      pages.unshift(response.body.messages as Message[]);
      cursor = response.body.next_before as string | null;
    } while (cursor !== null);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2]);
    expect(pages.flat()).toEqual(before.messages);
    await stack.http().get(`/api/chats/${chat.chat_id}/messages`).query({ before: `S-${chat.chat_id}-M-999` }).set('Authorization', authorization).expect(400);
    // Someone else's moved chat is as missing as ever.
    await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer('someone.else')).expect(404);
    await stack.http().get(`/api/chats/${chat.chat_id}/messages`).set('Authorization', await stack.bearer('someone.else')).expect(404);
  });

  it('brings a chat back whole when a message is sent to it, and the reply follows the old messages', async () => {
    const user = 'archive.sender';
    const chat = await stack.createChat(user);
    await send(chat.chat_id, 'Before the move', user);
    await stack.drained();
    const before = await stack.messagesOf(user, chat.chat_id);
    await stack.runArchive();
    expect(await chatKeys(chat.chat_id)).toEqual([]);

    const reply = await send(chat.chat_id, 'After the move', user);
    expect(reply.of('done')).toHaveLength(1);
    expect(reply.of('error')).toEqual([]);
    expect(await isMoved(chat.chat_id)).toBe(false);
    const after = await stack.messagesOf(user, chat.chat_id);
    expect(after.slice(0, 2)).toEqual(before);
    expect(after.map((message) => message.message_id)).toEqual([1, 2, 3, 4].map((n) => `S-${chat.chat_id}-M-00${n}`));
    expect(after[2]?.content).toBe('After the move');
    expect(await redis().lLen(`chat:${chat.chat_id}:messages`)).toBe(4);
    await stack.drained();
    expect((await pgMessages(chat.chat_id)).map((message) => message.message_id)).toEqual(after.map((message) => message.message_id));
    // Active again: not moved until it is idle and mirrored, then moved again.
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1 AND NOT archived_from_redis', [chat.chat_id])).toHaveLength(1);
  });

  it('serves every chat route of the route table on a moved chat, each write bringing it back first', async () => {
    const user = arash;
    const chat = await stack.createChat(user);
    await send(chat.chat_id, 'A question to keep', user);
    const authorization = await stack.bearer(user);
    const routes = tableRoutes((route) => route.path.startsWith('/api/chats/:id'));
    // Delete last: it ends the chat.
    routes.sort((a, b) => Number(a.name === 'deleteChat') - Number(b.name === 'deleteChat'));
    expect(routes.map((route) => route.name)).toContain('regenerateReply');
    for (const route of routes) {
      // A chat just brought back is kept from the next move for a few seconds.
      await eventually(async () => {
        await stack.drained();
        await stack.runArchive();
        return (await chatKeys(chat.chat_id)).length === 0;
      }, 15_000);
      const sample = sampleRequest(route, { id: chat.chat_id });
      const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
      const response = await closingOpenEnded(
        stack.http()[method](sample.path).set('Authorization', authorization).set('Content-Type', 'application/json'),
        route,
      ).send(sample.body ?? '');
      expect(response.status, `${route.name}: ${JSON.stringify(response.body)}`).toBe(200);
      if (route.name === 'updateChat') expect(ChatResponseSchema.parse(response.body).chat).toMatchObject({ chat_name: 'taken over', pinned: true, status: 'archived' });
      if (route.name === 'generateTitle') expect(await stack.chatOf(user, chat.chat_id)).toMatchObject({ chat_name: expect.any(String) });
    }
    // Deleted: gone from both stores, the marker too.
    await stack.drained();
    expect(await isMoved(chat.chat_id)).toBe(false);
    expect(await chatKeys(chat.chat_id)).toEqual([]);
    expect(await stack.sql('SELECT 1 FROM chats WHERE chat_id = $1', [chat.chat_id])).toEqual([]);
    expect(await stack.sql('SELECT 1 FROM deleted_chats WHERE chat_id = $1', [chat.chat_id])).toHaveLength(1);
    await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', authorization).expect(404);
    expect((await stack.chatsOf(user)).map((listed) => listed.chat_id)).not.toContain(chat.chat_id);
  });

  it('never loses a message that races with the move: each chat is whole in Redis or moved, and every message is there once', async () => {
    const user = 'archive.racer';
    const chats = await Promise.all(Array.from({ length: 4 }, () => stack.createChat(user)));
    const sent = new Map<string, string[]>(chats.map((chat) => [chat.chat_id, []]));
    let moves = 0;
    const sendAll = (round: number) =>
      Promise.all(
        chats.map(async (chat) => {
          const content = `round ${round} to ${chat.chat_id}`;
          const reply = await send(chat.chat_id, content, user);
          expect(reply.status).toBe(200);
          expect(reply.of('error')).toEqual([]);
          sent.get(chat.chat_id)?.push(content);
        }),
      );
    for (let round = 0; round < 16; round += 1) {
      // As if the few seconds a chat brought back is kept from the next move had passed.
      await redis().del(chats.map((chat) => `chat:${chat.chat_id}:restored`));
      await stack.drained();
      if (round % 2 === 0) {
        // Moved, then written to: the message brings the chat back.
        moves += (await stack.runArchive()).archived;
        await sendAll(round);
      } else {
        // The messages go out with the pass: each lands before the move (which then leaves the
        // chat alone), or after it and brings the chat back.
        const [result] = await Promise.all([stack.runArchive(), sendAll(round)]);
        moves += result.archived;
      }
    }
    await stack.drained();
    expect(moves).toBeGreaterThanOrEqual(8 * chats.length);
    for (const chat of chats) {
      const keys = await chatKeys(chat.chat_id);
      const moved = await isMoved(chat.chat_id);
      // Exactly one of: whole in Redis (metadata and messages) or moved (no keys, a marker).
      if (moved) expect(keys).toEqual([]);
      else expect(keys).toEqual(expect.arrayContaining([`chat:${chat.chat_id}:messages`, `chat:${chat.chat_id}:metadata`]));
      const shown = await stack.messagesOf(user, chat.chat_id);
      const questions = shown.filter((message) => message.role === 'user').map((message) => message.content);
      expect(questions).toEqual(sent.get(chat.chat_id));
      expect(shown).toHaveLength(32);
      expect((await pgMessages(chat.chat_id)).map((message) => message.message_id)).toEqual(shown.map((message) => message.message_id));
    }
  }, 120_000);

  it('never issues an ID twice: with the counters flushed, new chats skip every moved chat, after a restart and even without one', async () => {
    const user = 'archive.counter';
    const old = await Promise.all(Array.from({ length: 3 }, () => stack.createChat(user)));
    await stack.drained();
    await stack.runArchive();
    const highest = old.map((chat) => chat.chat_id).sort().at(-1) as string;

    await stack.deps.redis.counters.flushDb();
    // Without reconciliation, the creation script still skips the numbers of moved chats.
    const skipping = await stack.createChat(user);
    expect(old.map((chat) => chat.chat_id)).not.toContain(skipping.chat_id);

    // A restart: reconciliation raises the counters above every ID PostgreSQL knows.
    await stack.deps.redis.counters.flushDb();
    const restarted = await stack.build({ llmBaseUrl: stack.llm.url });
    const history = createHistoryService({
      chat: restarted.deps.redis.chat,
      db: restarted.deps.history.db,
      clock: restarted.deps.clock,
      logger: restarted.deps.logger,
      archive: { afterDays: 30, retentionDays: undefined },
    });
    const report = await reconcileChats(restarted.deps, history.highestSessionNumbers);
    expect(report.countersRaised).toBeGreaterThan(0);
    const fresh = await Promise.all(Array.from({ length: 3 }, () => stack.createChat(user, undefined, restarted.app)));
    for (const chat of fresh) expect(chat.chat_id > highest && chat.chat_id > skipping.chat_id).toBe(true);
  });

  it('brings back and moves chats written before the mirror existed (backfill), with their legacy messages', async () => {
    const user = 'archive.legacy';
    const chatId = 'G-202001-000007';
    const legacy = [
      JSON.stringify({ role: 'user', content: 'An old question', timestamp: 1_577_880_000 }),
      JSON.stringify({ role: 'assistant', content: 'An old answer', timestamp: 1_577_880_005 }),
    ];
    await redis().set(`chat:${chatId}:metadata`, JSON.stringify({ user_id: user, chat_name: 'From before', created_at: '2020-01-01T12:00:00.000Z', updated_at: '2020-01-01T12:00:05.000Z', message_count: 2, status: 'active', pinned: false, chat_type: 'general' }));
    await redis().rPush(`chat:${chatId}:messages`, legacy);
    await redis().zAdd(`user:${user}:chats`, { score: Date.parse('2020-01-01T12:00:00.000Z'), value: chatId });
    // As on a Redis that the mirror's first release found: the backfill has not run yet.
    await redis().del('history:backfill');
    const before = await stack.messagesOf(user, chatId);
    expect(before.map((message) => message.content)).toEqual(['An old question', 'An old answer']);

    await stack.runArchive();
    expect(await chatKeys(chatId)).toEqual([]);
    expect((await pgMessages(chatId)).map((message) => message.content)).toEqual(['An old question', 'An old answer']);
    expect(await stack.messagesOf(user, chatId)).toEqual(before);
    expect((await stack.chatsOf(user)).map((chat) => chat.chat_id)).toEqual([chatId]);
    // Idempotent: a second pass queues nothing again.
    await stack.runArchive();
    expect(await redis().hGet('history:backfill', 'done')).toBe('1');
  });

  it('changes nothing when an outbox entry older than the move is replayed', async () => {
    const user = 'archive.replay';
    const chat = await stack.createChat(user);
    await stack.drained();
    await stack.runArchive();
    const row = async () => (await stack.sql('SELECT chat_name, archived_from_redis, mirror_version::text FROM chats WHERE chat_id = $1', [chat.chat_id]))[0];
    const before = await row();
    const store = createHistoryStore(stack.deps.history.db);
    await store.apply({ id: '1-0', fields: { kind: 'chat', chat_id: chat.chat_id, meta: JSON.stringify({ ...chat, chat_name: 'An old name' }) } });
    expect(await row()).toEqual(before);
    expect(before).toMatchObject({ archived_from_redis: true });
  });

  it('answers 403 to non-administrators and 400 to a bad idle_days', async () => {
    await stack.http().post('/api/admin/archive/run').set('Authorization', await stack.bearer(arash)).send({}).expect(403);
    for (const body of [{ idle_days: -1 }, { idle_days: 1.5 }, { idle_days: 'x' }, { idle_days: 1, other: 1 }]) {
      await stack.http().post('/api/admin/archive/run').set('Authorization', await stack.bearer(ADMIN_USERS)).send(body).expect(400);
    }
    // The default is ARCHIVE_AFTER_DAYS (30): nothing here is that old.
    expect(await stack.runArchive({})).toEqual({ archived: 0, deleted: 0 });
  });
});

describe('memory of a moved chat', () => {
  it('is its marker and its member in the owner\'s moved-chats buckets: well under 100 bytes per chat, for owners of more than 128 chats', async () => {
    const users = ['archive.memory0', 'archive.memory1'];
    const chats: ChatMetadata[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      chats.push(...(await Promise.all(Array.from({ length: 40 }, (_, index) => stack.createChat(users[index % users.length] as string)))));
    }
    await stack.drained();
    await stack.runArchive();
    for (const chat of chats.slice(0, 20)) expect(await chatKeys(chat.chat_id)).toEqual([]);
    const ids = chats.map((chat) => chat.chat_id);
    const buckets = [...new Set(ids.map(movedKey))];
    const usage = async (key: string) => Number(await redis().sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
    const total = async (keys: string[]) => (await Promise.all(keys.map(usage))).reduce((sum, bytes) => sum + bytes, 0);
    const markers = await total(buckets);
    // The owner's index (empty: every chat moved), the directory, the buckets and the count.
    const indexes = await total((await Promise.all(users.map((user) => redis().keys(`user:${user}:*`)))).flat());
    const perChat = (markers + indexes) / chats.length;
    console.info(`moved chat: ${perChat.toFixed(1)} bytes each (marker ${(markers / chats.length).toFixed(1)}, moved-chats index ${(indexes / chats.length).toFixed(1)}; ${chats.length} chats of ${users.length} users)`);
    expect(perChat).toBeLessThan(100);
    // The version alone under a two-digit field: about a third of the marker of the whole ID and "version:counter".
    expect(markers / chats.length).toBeLessThan(40);
  }, 60_000);
});
