import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChatResponseSchema,
  DeleteChatResponseSchema,
  ErrorBodySchema,
  ListChatsResponseSchema,
  type ChatMetadata,
} from '@simorgh/contracts';
import { buildServices } from '../../app.js';
import { manualClock, startTestStack, type TestStack } from '../../test/harness.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { MAX_SCANNED_PER_PAGE } from './chat-list.js';
import { reconcileChats } from './chats-startup.js';

const clock = manualClock('2026-02-01T09:00:00Z');
let stack: TestStack;
const arash = USERS.arash.username;
const sara = USERS.sara.username;

beforeAll(async () => {
  stack = await startTestStack({ clock });
});
afterAll(() => stack?.stop());

const auth = (user: string) => stack.bearer(user);

/** Creates a chat a minute after the previous one, so creation order is unambiguous. */
async function create(user: string, body?: Record<string, unknown>): Promise<ChatMetadata> {
  clock.advance(60_000);
  return stack.createChat(user, body);
}

async function list(user: string, query: Record<string, string | number> = {}) {
  const res = await stack.http().get('/api/chats').query(query).set('Authorization', await auth(user));
  expect(res.status).toBe(200);
  return ListChatsResponseSchema.parse(res.body);
}

async function listAll(user: string, query: Record<string, string | number>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(user, { ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.chats.map((chat) => chat.chat_id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

describe('listing chats', () => {
  let mine: ChatMetadata[];

  beforeAll(async () => {
    mine = [];
    for (let index = 0; index < 7; index += 1) mine.push(await create('lister'));
    await create('someone.else');
  });

  it('lists only my chats, newest first, in pages joined by a cursor', async () => {
    const first = await list('lister', { limit: 3 });
    expect(first.chats.map((chat) => chat.chat_id)).toEqual(mine.slice(-3).reverse().map((chat) => chat.chat_id));
    expect(first.next_cursor).not.toBeNull();
    const all = await listAll('lister', { limit: 3 });
    expect(all).toEqual([...mine].reverse().map((chat) => chat.chat_id));
  });

  it('keeps a cursor stable when chats are created or deleted between pages', async () => {
    const first = await list('lister', { limit: 2 });
    const newest = first.chats[0];
    if (!newest || !first.next_cursor) throw new Error('expected a full first page');
    const extra = await create('lister');
    const del = await stack.http().delete(`/api/chats/${newest.chat_id}`).set('Authorization', await auth('lister'));
    expect(del.status).toBe(200);
    const rest = await listAll('lister', { limit: 2, cursor: first.next_cursor });
    expect(rest).toEqual([...mine].reverse().slice(2).map((chat) => chat.chat_id));
    expect(rest).not.toContain(extra.chat_id);
    mine = mine.filter((chat) => chat.chat_id !== newest.chat_id).concat(extra);
  });

  it('puts pinned chats first and hides archived ones unless asked', async () => {
    const oldest = mine[0];
    const second = mine[1];
    if (!oldest || !second) throw new Error('fixture chats missing');
    const pin = await stack.http().patch(`/api/chats/${oldest.chat_id}`).set('Authorization', await auth('lister')).send({ pinned: true });
    expect(ChatResponseSchema.parse(pin.body).chat.pinned).toBe(true);
    const archive = await stack
      .http()
      .patch(`/api/chats/${second.chat_id}`)
      .set('Authorization', await auth('lister'))
      .send({ status: 'archived' });
    expect(ChatResponseSchema.parse(archive.body).chat.status).toBe('archived');

    const active = await listAll('lister', { limit: 2 });
    expect(active[0]).toBe(oldest.chat_id);
    expect(active).not.toContain(second.chat_id);
    expect(await listAll('lister', { status: 'archived' })).toEqual([second.chat_id]);
    expect(await listAll('lister', { status: 'all' })).toContain(second.chat_id);
  });

  it('shows every change on the next listing, though it remembers the chats it listed', async () => {
    const chat = await create('relister');
    const listed = async () => (await list('relister')).chats.find((item) => item.chat_id === chat.chat_id);
    expect(await listed()).toMatchObject({ chat_name: 'New conversation', pinned: false, message_count: 0 });

    const renamed = await stack.http().patch(`/api/chats/${chat.chat_id}`).set('Authorization', await auth('relister')).send({ chat_name: 'Flare header sizing' });
    expect(renamed.status).toBe(200);
    expect(await listed()).toMatchObject({ chat_name: 'Flare header sizing', pinned: false });

    // Written behind the API's back, in the stored format: the next listing reads it.
    const key = `chat:${chat.chat_id}:metadata`;
    const stored = JSON.parse((await stack.deps.redis.chat.get(key)) ?? '{}') as Record<string, unknown>;
    await stack.deps.redis.chat.set(key, JSON.stringify({ ...stored, message_count: 6, pinned: true }));
    await stack.deps.redis.chat.zAdd(`user:relister:pinned`, { score: Date.parse(chat.created_at), value: chat.chat_id });
    expect(await listed()).toMatchObject({ chat_name: 'Flare header sizing', pinned: true, message_count: 6 });
  });

  it('filters by chat_type and project_number', async () => {
    const project = await create(arash, { chat_type: 'project', project_number: PROJECTS.refinery.id, page_name: 'Flare stack' });
    await create(arash, { chat_type: 'project', project_number: PROJECTS.compression.id, page_name: 'Seals' });
    await create(arash);
    const projects = await listAll(arash, { chat_type: 'project' });
    expect(projects).toHaveLength(2);
    expect(await listAll(arash, { project_number: String(PROJECTS.refinery.id) })).toEqual([project.chat_id]);
    expect(await listAll(arash, { chat_type: 'general' })).toHaveLength(1);
  });

  it('rejects a forged cursor and a bad limit with 400', async () => {
    for (const query of [{ cursor: 'not-a-cursor' }, { limit: 0 }, { limit: 101 }, { status: 'deleted' }]) {
      const res = await stack.http().get('/api/chats').query(query).set('Authorization', await auth('lister'));
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });
});

/**
 * Writes legacy (UUID) chats straight into Redis, as the previous system did; `series` keeps
 * each user's IDs apart.
 */
async function seed(user: string, series: number, count: number, at: (index: number) => number, extra: (index: number) => Record<string, unknown> = () => ({})) {
  const ids: string[] = [];
  let writes: Array<Promise<unknown>> = [];
  for (let index = 0; index < count; index += 1) {
    // The client refuses more than 2000 queued commands (see redis.ts).
    if (writes.length >= 1000) {
      await Promise.all(writes);
      writes = [];
    }
    const chatId = `${String(series).padStart(8, '0')}-0000-4000-8000-${String(index).padStart(12, '0')}`;
    const createdAt = new Date(at(index)).toISOString();
    writes.push(
      stack.deps.redis.chat.set(
        `chat:${chatId}:metadata`,
        JSON.stringify({ chat_id: chatId, user_id: user, chat_name: `Seeded ${index}`, created_at: createdAt, message_count: 0, ...extra(index) }),
      ),
      stack.deps.redis.chat.zAdd(`user:${user}:chats`, { score: at(index), value: chatId }),
    );
    ids.push(chatId);
  }
  await Promise.all(writes);
  return ids;
}

describe('listing a large index', () => {
  const heavy = 'heavy.user';
  const size = MAX_SCANNED_PER_PAGE + 500;
  let ids: string[];

  beforeAll(async () => {
    // Oldest first; the oldest one is the only archived chat, far beyond one scan's reach.
    ids = await seed(heavy, 1, size, (index) => Date.parse('2024-01-01T00:00:00Z') + index * 60_000, (index) =>
      index === 0 ? { status: 'archived' } : {},
    );
  });

  it('pages through thousands of chats with pinned ones first, none repeated or skipped', async () => {
    const pinned = [ids[10], ids[2000]];
    for (const id of pinned) {
      const res = await stack.http().patch(`/api/chats/${id}`).set('Authorization', await auth(heavy)).send({ pinned: true });
      expect(ChatResponseSchema.parse(res.body).chat.pinned).toBe(true);
    }
    const first = await list(heavy, { limit: 5 });
    expect(first.chats.map((chat) => chat.chat_id)).toEqual([ids[2000], ids[10], ids[size - 1], ids[size - 2], ids[size - 3]]);
    const all = await listAll(heavy, { limit: 100 });
    const unpinned = [...ids].reverse().filter((id) => id !== ids[0] && !pinned.includes(id));
    expect(all).toEqual([ids[2000], ids[10], ...unpinned]);

    const unpin = await stack.http().patch(`/api/chats/${ids[2000]}`).set('Authorization', await auth(heavy)).send({ pinned: false });
    expect(ChatResponseSchema.parse(unpin.body).chat.pinned).toBe(false);
    expect(await stack.deps.redis.chat.zRange(`user:${heavy}:pinned`, 0, -1)).toEqual([ids[10]]);
    const deleted = await stack.http().delete(`/api/chats/${ids[10]}`).set('Authorization', await auth(heavy));
    expect(deleted.status).toBe(200);
    expect(await stack.deps.redis.chat.exists(`user:${heavy}:pinned`)).toBe(0);
    expect((await list(heavy, { limit: 1 })).chats[0]?.chat_id).toBe(ids[size - 1]);
  });

  it('bounds the scan for a rare filter and returns a cursor to continue it', async () => {
    const first = await list(heavy, { status: 'archived' });
    expect(first.chats).toEqual([]);
    expect(first.next_cursor).not.toBeNull();
    expect(await listAll(heavy, { status: 'archived' })).toEqual([ids[0]]);
  });

  it('walks chats created in the same millisecond in ID order without stalling', async () => {
    const same = await seed('tied.user', 2, 75, () => Date.parse('2025-06-01T12:00:00Z'));
    const all = await listAll('tied.user', { limit: 7 });
    expect(all).toEqual([...same].sort().reverse());
  });

  it('restores the pinned set at start-up for chats pinned before it existed', async () => {
    const [plain, pinnedBefore] = await seed('old.pinner', 3, 2, (index) => Date.parse('2023-03-01T00:00:00Z') + index * 1000, (index) =>
      index === 1 ? { pinned: true } : {},
    );
    await reconcileChats(stack.deps);
    const after = await list('old.pinner');
    expect(after.chats.map((chat) => [chat.chat_id, chat.pinned])).toEqual([
      [pinnedBefore, true],
      [plain, false],
    ]);
  });
});

describe('reading, renaming and deleting a chat', () => {
  it('gets, renames and deletes my chat; the number is not reused', async () => {
    const chat = await create(sara);
    const auth = await stack.bearer(sara);
    const got = await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', auth);
    expect(ChatResponseSchema.parse(got.body).chat).toEqual(chat);

    clock.advance(1000);
    const renamed = await stack.http().patch(`/api/chats/${chat.chat_id}`).set('Authorization', auth).send({ chat_name: '  Pump NPSH check ' });
    const body = ChatResponseSchema.parse(renamed.body).chat;
    expect(body.chat_name).toBe('Pump NPSH check');
    expect(body.updated_at).toBe(clock.now().toISOString());
    expect(body.created_at).toBe(chat.created_at);

    await stack.deps.redis.chat.rPush(`chat:${chat.chat_id}:messages`, ['m1']);
    await stack.deps.redis.chat.set(`chat:${chat.chat_id}:message_seq`, '1');
    const deleted = await stack.http().delete(`/api/chats/${chat.chat_id}`).set('Authorization', auth);
    expect(DeleteChatResponseSchema.parse(deleted.body)).toEqual({ status: 'success', chat_id: chat.chat_id });
    expect(
      await stack.deps.redis.chat.exists([`chat:${chat.chat_id}:metadata`, `chat:${chat.chat_id}:messages`, `chat:${chat.chat_id}:message_seq`]),
    ).toBe(0);
    expect(await stack.deps.redis.chat.zScore(`user:${sara}:chats`, chat.chat_id)).toBeNull();
    expect((await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', auth)).status).toBe(404);
    const next = await create(sara);
    expect(next.chat_id).not.toBe(chat.chat_id);
  });

  it('rejects an empty patch or an invalid status with 400', async () => {
    const chat = await create(sara);
    for (const body of [{}, { status: 'deleted' }, { chat_name: '   ' }, { pinned: 'yes' }]) {
      const res = await stack.http().patch(`/api/chats/${chat.chat_id}`).set('Authorization', await auth(sara)).send(body);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });
});

describe('isolation between users', () => {
  it("answers 404 for someone else's chat on every endpoint, and changes nothing", async () => {
    const general = await create(arash);
    const project = await create(arash, { chat_type: 'project', project_number: PROJECTS.refinery.id, page_name: 'Shared project' });
    const intruder = await auth(sara); // Sara has permission on the refinery project too.
    for (const chat of [general, project]) {
      const calls = [
        stack.http().get(`/api/chats/${chat.chat_id}`),
        stack.http().patch(`/api/chats/${chat.chat_id}`).send({ chat_name: 'mine now' }),
        stack.http().delete(`/api/chats/${chat.chat_id}`),
      ];
      for (const call of calls) {
        const res = await call.set('Authorization', intruder);
        expect(res.status).toBe(404);
        expect(ErrorBodySchema.parse(res.body).code).toBe('not_found');
      }
    }
    const listed = await listAll(sara, { status: 'all' });
    expect(listed).not.toContain(general.chat_id);
    const stillThere = await stack.http().get(`/api/chats/${project.chat_id}`).set('Authorization', await auth(arash));
    expect(ChatResponseSchema.parse(stillThere.body).chat.chat_name).toBe('Shared project');
  });

  it('answers 404 for malformed and missing IDs alike', async () => {
    for (const id of ['nope', 'G-202613-000001', 'G-202602-00001', 'P-0-000001', 'G-202602-999999', '00000000-0000-0000-0000-000000000000']) {
      const res = await stack.http().get(`/api/chats/${encodeURIComponent(id)}`).set('Authorization', await auth(arash));
      expect(res.status).toBe(404);
      expect(ErrorBodySchema.parse(res.body).code).toBe('not_found');
    }
  });

  it('re-checks project permission on every read: revoked access ends once the cache drops it', async () => {
    const chat = await create(arash, { chat_type: 'project', project_number: PROJECTS.compression.id, page_name: 'Revocation' });
    const admin = await stack.tpmsAdmin();
    try {
      await admin.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [PROJECTS.compression.id, arash]);
      // Still cached as allowed.
      expect((await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', await auth(arash))).status).toBe(200);
      const drop = await stack
        .http()
        .post('/api/admin/tpms-cache/invalidate')
        .set('Authorization', await auth(USERS.admin.username))
        .send({ user_id: arash });
      expect(drop.status).toBe(200);
      const res = await stack.http().get(`/api/chats/${chat.chat_id}`).set('Authorization', await auth(arash));
      expect(res.status).toBe(403);
      expect(res.body.detail).toBe(`Access denied for project ${PROJECTS.compression.id}`);
    } finally {
      await admin.execute('INSERT IGNORE INTO draft_permission (project_ID, user) VALUES (?, ?)', [PROJECTS.compression.id, arash]);
      await admin.end();
      await stack.deps.redis.cache.flushDb();
    }
  });
});

describe('legacy UUID chats', () => {
  const legacyId = '3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b';
  const indexedId = '7a1b2c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d';

  beforeAll(async () => {
    // Written by the previous system: no chat_type, status, message_count or project fields.
    await stack.deps.redis.chat.set(
      `chat:${legacyId}:metadata`,
      JSON.stringify({ chat_id: legacyId, chat_name: 'Old heat exchanger thread', user_id: 'legacy.user', created_at: '2024-11-03T08:15:00' }),
    );
    await stack.deps.redis.chat.rPush(`chat:${legacyId}:messages`, ['{"role":"user"}', '{"role":"assistant"}', '{"role":"user"}']);
    await stack.deps.redis.chat.set(
      `chat:${indexedId}:metadata`,
      JSON.stringify({ chat_id: indexedId, user_id: 'legacy.user', created_at: '2024-12-01T10:00:00Z', message_count: 4 }),
    );
    await stack.deps.redis.chat.zAdd('user:legacy.user:chats', { score: Date.parse('2024-12-01T10:00:00Z'), value: indexedId });
  });

  it('indexes legacy chats missing from the user index at start-up and lists them with defaults', async () => {
    const before = await list('legacy.user');
    expect(before.chats.map((chat) => chat.chat_id)).toEqual([indexedId]);
    const report = await reconcileChats(stack.deps);
    expect(report.indexed).toBe(1);
    const after = await list('legacy.user');
    expect(after.chats.map((chat) => chat.chat_id)).toEqual([indexedId, legacyId]);
    expect(after.chats[1]).toMatchObject({
      chat_name: 'Old heat exchanger thread',
      chat_type: 'general',
      status: 'active',
      message_count: 3,
      pinned: false,
      project_number: null,
    });
    expect(after.chats[0]).toMatchObject({ chat_name: 'New conversation', message_count: 4 });
  });

  it('loads, renames and deletes a legacy chat like any other', async () => {
    const auth = await stack.bearer('legacy.user');
    const got = await stack.http().get(`/api/chats/${legacyId}`).set('Authorization', auth);
    expect(ChatResponseSchema.parse(got.body).chat).toMatchObject({ chat_id: legacyId, message_count: 3 });
    const renamed = await stack.http().patch(`/api/chats/${legacyId}`).set('Authorization', auth).send({ pinned: true });
    expect(ChatResponseSchema.parse(renamed.body).chat).toMatchObject({ pinned: true, chat_name: 'Old heat exchanger thread', message_count: 3 });
    expect((await stack.http().get(`/api/chats/${legacyId}`).set('Authorization', await stack.bearer(arash))).status).toBe(404);
    const deleted = await stack.http().delete(`/api/chats/${legacyId}`).set('Authorization', auth);
    expect(deleted.status).toBe(200);
    expect(await stack.deps.redis.chat.exists(`chat:${legacyId}:messages`)).toBe(0);
  });
});

describe('the service used by the messages feature', () => {
  it('sets a generated title only while the name is still the placeholder', async () => {
    const { chats } = buildServices(stack.deps);
    const chat = await create(arash);
    expect(await chats.setTitleIfPlaceholder(chat.chat_id, 'Flange rating at 300 °C')).toBe(true);
    expect(await chats.setTitleIfPlaceholder(chat.chat_id, 'A later guess')).toBe(false);
    expect((await chats.openChat(arash, chat.chat_id)).chat.chat_name).toBe('Flange rating at 300 °C');
    expect(await chats.setTitleIfPlaceholder('G-209901-000001', 'No such chat')).toBe(false);
  });
});
