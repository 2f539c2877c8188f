import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { USERS } from '@simorgh/devstack/fixtures';
import { eventually, postStream } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { createLogger } from '../../logger.js';
import { createOutboxClient, MIRROR_BLOCK_MS, startHistoryMirror } from './history-mirror.js';
import { migrateHistory } from './history.migrations.js';
import { OUTBOX_KEY, SET_ASIDE_KEY } from './history.scripts.js';
import { createHistoryStore, readEntry, type OutboxEntry, type ReadableEntry } from './history.store.js';

/**
 * The mirror writes what one read returns in one transaction. This file's own process runs no
 * mirror: changes wait in the outbox, where a test reads them and applies them as one batch, or
 * starts a mirror that takes them all in one read.
 */
const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({ mirror: false, model: { tokenDelayMs: 1 }, env: { MESSAGES_PER_MINUTE: '1000' } });
  llm = stack.llm;
  // The mirror migrates the schema; none runs yet.
  await migrateHistory(stack.deps.history.db);
});

afterAll(() => stack?.stop());

const redis = () => stack.deps.redis.chat;
const send = (chatId: string, content: string) => stack.sendMessage(arash, chatId, content);
const patch = async (chatId: string, body: Record<string, unknown>) =>
  stack.http().patch(`/api/chats/${chatId}`).set('Authorization', await stack.bearer(arash)).send(body).expect(200);
const remove = async (chatId: string) => stack.http().delete(`/api/chats/${chatId}`).set('Authorization', await stack.bearer(arash)).expect(200);

const fieldsOf = (flat: string[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]])) as Record<string, string>;

/** The outbox entries after `after` (an entry ID), oldest first. */
async function outboxAfter(after: string): Promise<OutboxEntry[]> {
  const raw = (await redis().sendCommand(['XRANGE', OUTBOX_KEY, `(${after}`, '+'])) as Array<[string, string[]]>;
  return raw.map(([id, flat]) => ({ id, fields: fieldsOf(flat) }));
}
const lastOutboxId = async () => ((await redis().sendCommand(['XREVRANGE', OUTBOX_KEY, '+', '-', 'COUNT', '1'])) as Array<[string, string[]]>)[0]?.[0] ?? '0-0';

const readable = (entries: OutboxEntry[]): ReadableEntry[] =>
  entries.map((entry) => {
    const parsed = readEntry(entry);
    if (!parsed) throw new Error(`unreadable entry ${entry.id}`);
    return parsed;
  });

const chatRow = async (chatId: string) => (await stack.sql('SELECT chat_name, pinned, status, message_count FROM chats WHERE chat_id = $1', [chatId]))[0];
const messageRows = (chatId: string) => stack.sql<{ message_id: string; content: string; status: string }>('SELECT message_id, content, status FROM messages WHERE chat_id = $1 ORDER BY seq', [chatId]);
const snapshot = async (chatIds: string[]) => ({
  chats: await stack.sql('SELECT * FROM chats WHERE chat_id = ANY($1) ORDER BY chat_id', [chatIds]),
  messages: await stack.sql('SELECT * FROM messages WHERE chat_id = ANY($1) ORDER BY message_id', [chatIds]),
  tombstones: await stack.sql('SELECT chat_id, mirror_version FROM deleted_chats WHERE chat_id = ANY($1) ORDER BY chat_id', [chatIds]),
});

describe('a batch of outbox entries in one transaction', () => {
  it('ends as the entries one by one would: create, rename and delete of one chat leave it deleted; create, messages and rename of another leave the newest', async () => {
    const start = await lastOutboxId();
    const gone = await stack.createChat(arash);
    await patch(gone.chat_id, { chat_name: 'Short-lived' });
    await remove(gone.chat_id);
    const kept = await stack.createChat(arash);
    expect((await send(kept.chat_id, 'Which gasket for 150# steam?')).of('done')).toHaveLength(1);
    await patch(kept.chat_id, { chat_name: 'Gaskets', pinned: true });
    // A failed reply, then regenerated: the same message written twice, error then complete.
    llm.setMode('failing');
    expect((await send(kept.chat_id, 'And for 300#?')).of('error').length).toBeGreaterThan(0);
    llm.setMode('normal');
    expect((await postStream(`${stack.url}/api/chats/${kept.chat_id}/regenerate`, await stack.tokenFor(arash))).of('done')).toHaveLength(1);
    await patch(kept.chat_id, { status: 'archived' });
    const entries = await outboxAfter(start);
    expect(entries.filter((entry) => entry.fields.chat_id === gone.chat_id).map((entry) => entry.fields.kind)).toEqual(['chat', 'chat', 'delete']);
    const keptMessageEntries = entries.filter((entry) => entry.fields.chat_id === kept.chat_id && entry.fields.kind === 'message');
    const messageIds = keptMessageEntries.map((entry) => JSON.parse(entry.fields.data ?? '{}').message_id as string);
    expect(new Set(messageIds).size).toBeLessThan(messageIds.length);

    const store = createHistoryStore(stack.deps.history.db);
    await store.applyBatch(readable(entries));

    expect(await chatRow(gone.chat_id)).toBeUndefined();
    expect(await stack.sql('SELECT 1 FROM deleted_chats WHERE chat_id = $1', [gone.chat_id])).toHaveLength(1);
    const shown = await stack.chatOf(arash, kept.chat_id);
    expect(await chatRow(kept.chat_id)).toEqual({ chat_name: 'Gaskets', pinned: true, status: 'archived', message_count: 4 });
    expect(shown).toMatchObject({ chat_name: 'Gaskets', pinned: true, status: 'archived', message_count: 4 });
    const messages = await stack.messagesOf(arash, kept.chat_id);
    expect(await messageRows(kept.chat_id)).toEqual(messages.map((message) => ({ message_id: message.message_id, content: message.content, status: message.status })));
    expect(messages.map((message) => message.status)).toEqual(['complete', 'complete', 'complete', 'complete']);
    // The chat's newest message time, kept by the database (migration 0017), is that of its newest message.
    const [newest] = await stack.sql(
      'SELECT c.newest_message_at = (SELECT max(m.created_at) FROM messages m WHERE m.chat_id = c.chat_id) AS newest FROM chats c WHERE c.chat_id = $1',
      [kept.chat_id],
    );
    expect(newest).toEqual({ newest: true });

    // Replayed: the whole batch again, reversed, and entry by entry: nothing changes.
    const before = await snapshot([gone.chat_id, kept.chat_id]);
    await store.applyBatch(readable(entries));
    expect(await snapshot([gone.chat_id, kept.chat_id])).toEqual(before);
    await store.applyBatch(readable([...entries].reverse()));
    expect(await snapshot([gone.chat_id, kept.chat_id])).toEqual(before);
    for (const entry of entries) await store.apply(entry);
    expect(await snapshot([gone.chat_id, kept.chat_id])).toEqual(before);
    // A batch of only the older entries (before the delete) cannot bring the deleted chat back.
    await store.applyBatch(readable(entries.filter((entry) => entry.fields.chat_id === gone.chat_id && entry.fields.kind !== 'delete')));
    expect(await snapshot([gone.chat_id, kept.chat_id])).toEqual(before);
  });

  it('sets aside an entry PostgreSQL refuses and an unreadable one, writes the rest of their batch, and goes on mirroring', async () => {
    const start = await lastOutboxId();
    const first = await stack.createChat(arash);
    expect((await send(first.chat_id, 'Before the bad entries')).of('done')).toHaveLength(1);
    // A message PostgreSQL cannot store (a message number beyond its integer), and an entry of no known kind.
    const refused = await redis().xAdd(OUTBOX_KEY, '*', {
      kind: 'message',
      chat_id: first.chat_id,
      data: JSON.stringify({ message_id: `S-${first.chat_id}-M-99999999999`, role: 'user', content: 'too far', created_at: new Date().toISOString(), status: 'complete' }),
      meta: JSON.stringify(await stack.chatOf(arash, first.chat_id)),
    });
    const unreadable = await redis().xAdd(OUTBOX_KEY, '*', { kind: 'bogus', chat_id: first.chat_id });
    const second = await stack.createChat(arash);
    await patch(second.chat_id, { chat_name: 'After the bad entries' });
    await patch(first.chat_id, { pinned: true });
    const queued = await outboxAfter(start);
    expect(queued.length).toBeGreaterThan(6);

    // A mirror now takes them all in one read (this process ran none until now).
    await stack.build({ llmBaseUrl: llm.url });
    await stack.drained(15_000);

    expect(await chatRow(first.chat_id)).toMatchObject({ pinned: true, message_count: 2 });
    expect((await messageRows(first.chat_id)).map((row) => row.content)).toEqual((await stack.messagesOf(arash, first.chat_id)).map((message) => message.content));
    expect(await chatRow(second.chat_id)).toMatchObject({ chat_name: 'After the bad entries' });
    const setAside = ((await redis().sendCommand(['XRANGE', SET_ASIDE_KEY, '-', '+'])) as Array<[string, string[]]>).map(([, flat]) => fieldsOf(flat));
    expect(setAside.map((fields) => fields.entry_id).sort()).toEqual([refused, unreadable].sort());
    const refusedAside = setAside.find((fields) => fields.entry_id === refused);
    // SQLSTATE class 22 (data exception), with the entry's own fields kept for an operator.
    expect(refusedAside).toMatchObject({ kind: 'message', chat_id: first.chat_id, reason: expect.stringMatching(/^22/) });
    expect(refusedAside?.data).toContain('M-99999999999');
    expect(setAside.find((fields) => fields.entry_id === unreadable)).toMatchObject({ kind: 'bogus', reason: 'unreadable' });

    // Nothing is stuck: a later change is mirrored too.
    const third = await stack.createChat(arash);
    await eventually(async () => (await chatRow(third.chat_id)) !== undefined, 10_000);
    expect(await redis().xLen(OUTBOX_KEY)).toBe(0);
  });

  it('mirrors text holding NUL characters (which PostgreSQL text cannot hold) with U+FFFD in their place, and the text "\\u0000" as it is', async () => {
    const chat = await stack.createChat(arash);
    const chatId = `${chat.chat_id}-nul`;
    const entry: OutboxEntry = {
      id: '9999999999999-0',
      fields: {
        kind: 'message',
        chat_id: chatId,
        data: JSON.stringify({ message_id: `S-${chatId}-M-001`, role: 'user', content: 'pasted \u0000 bytes, C\'s "\\u0000" and \\\u0000', created_at: new Date().toISOString(), status: 'complete' }),
        meta: JSON.stringify({ ...(await stack.chatOf(arash, chat.chat_id)), chat_id: chatId, chat_name: 'a\u0000b' }),
      },
    };
    await createHistoryStore(stack.deps.history.db).applyBatch(readable([entry]));
    expect(await chatRow(chatId)).toMatchObject({ chat_name: 'a\uFFFDb' });
    expect(await messageRows(chatId)).toEqual([{ message_id: `S-${chatId}-M-001`, content: 'pasted \uFFFD bytes, C\'s "\\u0000" and \\\uFFFD', status: 'complete' }]);
  });

  it('waits quietly while nothing is queued: an empty read is no failure, so the next change is read at once, not after a growing pause', async () => {
    const lines: string[] = [];
    const logger = createLogger({ LOG_LEVEL: 'warn', NODE_ENV: 'test' }, { write: (line: string) => void lines.push(line) });
    const outbox = createOutboxClient(stack.deps.env, logger);
    await outbox.connect();
    const mirror = startHistoryMirror({ redis: outbox, db: stack.deps.history.db, logger, claimIdleMs: 60_000 });
    try {
      await stack.drained();
      // The idle spell the scenario is about: two and a half blocking reads with nothing to read.
      await new Promise((resolve) => setTimeout(resolve, MIRROR_BLOCK_MS * 2.5));
      expect(lines).toEqual([]);
      const chat = await stack.createChat(arash);
      await eventually(async () => (await chatRow(chat.chat_id)) !== undefined, 10_000);
      expect(lines).toEqual([]);
    } finally {
      await mirror.stop();
      outbox.destroy();
    }
  });
});
