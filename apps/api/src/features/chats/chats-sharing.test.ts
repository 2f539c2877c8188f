import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ChatResponseSchema,
  ErrorBodySchema,
  ListChatsResponseSchema,
  MAX_ALLOWED_USERS,
  SearchResponseSchema,
  SearchUsersResponseSchema,
  UserNamesResponseSchema,
  type ChatMetadata,
} from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startTcpProxy, type TcpProxy } from '@simorgh/devstack/tcp-proxy';
import request from 'supertest';
import type { Express } from 'express';
import { eventually } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { reconcileChats } from './chats-startup.js';
import { metadataKey, projectSharedKey, SHARED_PROJECTS_KEY, SHARED_PROJECTS_VERSION_KEY, userIndexKey } from './chats.scripts.js';

let stack: ServedStackWithModel;
const arash: string = USERS.arash.username;
const sara = USERS.sara.username;
const reza = USERS.reza.username;
const leila = USERS.leila.username;
const omid = USERS.omid.username;
const refinery = String(PROJECTS.refinery.id);

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 0 }, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' } });
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  await stack.deps.redis.cache.flushDb();
});

const projectChat = (owner = arash) => stack.createChat(owner, { chat_type: 'project', project_number: refinery, page_name: 'Flare header sizing' });

async function share(chatId: string, body: Record<string, unknown>, user: string = arash, app: Express = stack.app) {
  return request(app).patch(`/api/chats/${chatId}`).set('Authorization', await stack.bearer(user)).send(body);
}

async function shareOk(chatId: string, body: Record<string, unknown>, user: string = arash) {
  const res = await share(chatId, body, user);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ChatResponseSchema.parse(res.body).chat;
}

async function shared(user: string, query: Record<string, string | number> = {}) {
  const res = await stack.http().get('/api/chats').query({ scope: 'shared', ...query }).set('Authorization', await stack.bearer(user));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ListChatsResponseSchema.parse(res.body);
}

async function getAs(user: string, chatId: string) {
  return stack.http().get(`/api/chats/${chatId}`).set('Authorization', await stack.bearer(user));
}

async function invalidate(body: Record<string, string>) {
  await stack.http().post('/api/admin/tpms-cache/invalidate').set('Authorization', await stack.bearer(USERS.admin.username)).send(body).expect(200);
}

async function withoutPermission<T>(user: string, run: () => Promise<T>): Promise<T> {
  const admin = await stack.tpmsAdmin();
  try {
    await admin.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [refinery, user]);
    await invalidate({ project_number: refinery, user_id: user });
    return await run();
  } finally {
    await admin.execute('INSERT IGNORE INTO draft_permission (project_ID, user) VALUES (?, ?)', [refinery, user]);
    await admin.end();
    await invalidate({ project_number: refinery, user_id: user });
  }
}

describe('PATCH /api/chats/:id sharing', () => {
  it('shares a project chat by name and with the project, in every chat object, filed in the indexes and mirrored', async () => {
    const chat = await projectChat();
    expect(chat).toMatchObject({ visibility: 'private', allowed_users: [], access: 'owner' });
    const res = await share(chat.chat_id, { visibility: 'project', allowed_users: [sara, 'R.HOSSEINI'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // Names are kept as TPMS spells them: that is what a sign-in's user ID is.
    expect(ChatResponseSchema.parse(res.body).chat).toMatchObject({ visibility: 'project', allowed_users: [sara, reza], access: 'owner' });
    expect((await stack.chatOf(arash, chat.chat_id)).allowed_users).toEqual([sara, reza]);
    const chatDb = stack.deps.redis.chat;
    expect(await chatDb.zScore(`user:${sara}:shared`, chat.chat_id)).toBe(Date.parse(chat.created_at));
    expect(await chatDb.zScore(`project:${refinery}:shared`, chat.chat_id)).toBe(Date.parse(chat.created_at));
    expect(await chatDb.sIsMember('shared:projects', refinery)).toBe(1);

    await eventually(async () => {
      const rows = await stack.sql<{ visibility: string; allowed_users: string[] }>('SELECT visibility, allowed_users FROM chats WHERE chat_id = $1', [chat.chat_id]);
      return rows[0]?.visibility === 'project' && rows[0].allowed_users.join() === [sara, reza].join();
    });

    // Taking everyone off: nothing left in the indexes, and an empty list on the wire.
    const off = await share(chat.chat_id, { visibility: 'private', allowed_users: [] });
    expect(ChatResponseSchema.parse(off.body).chat).toMatchObject({ visibility: 'private', allowed_users: [] });
    expect(await chatDb.zScore(`user:${sara}:shared`, chat.chat_id)).toBeNull();
    expect(await chatDb.zScore(`project:${refinery}:shared`, chat.chat_id)).toBeNull();
    expect(await chatDb.sIsMember('shared:projects', refinery)).toBe(0);
    // The stored list is left out rather than written as the {} an empty Lua table encodes to.
    const stored = JSON.parse((await chatDb.get(`chat:${chat.chat_id}:metadata`)) ?? '{}') as Record<string, unknown>;
    expect(stored.allowed_users).toBeUndefined();
    await eventually(async () => {
      const rows = await stack.sql<{ allowed_users: string[] }>('SELECT allowed_users FROM chats WHERE chat_id = $1', [chat.chat_id]);
      return rows[0]?.allowed_users.length === 0;
    });
  });

  it.each([
    [{ allowed_users: ['no.such.user'] }, 'User no.such.user does not exist or is not active'],
    [{ allowed_users: [USERS.inactive.username] }, `User ${USERS.inactive.username} does not exist or is not active`],
    [{ allowed_users: [sara, leila] }, `User ${leila} has no access to project ${refinery}`],
    [{ allowed_users: [arash] }, `User ${arash} owns this chat; list only the people to share it with`],
  ])('refuses %j on a project chat with 400 naming the user, and changes nothing', async (body, detail) => {
    const chat = await projectChat();
    const res = await share(chat.chat_id, body);
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ code: 'validation', detail });
    expect(await stack.chatOf(arash, chat.chat_id)).toEqual(chat);
  });

  it('validates the shape: at most 50 people, IDs not blank, a known visibility, "project" only on a project chat', async () => {
    const general = await stack.createChat(arash);
    const tooMany = Array.from({ length: MAX_ALLOWED_USERS + 1 }, (_, index) => `user.${index}`);
    for (const body of [{ allowed_users: tooMany }, { allowed_users: [' '] }, { allowed_users: 'sara' }, { visibility: 'team' }]) {
      const res = await share(general.chat_id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
    const res = await share(general.chat_id, { visibility: 'project' });
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).detail).toBe('Only a project chat can be shared with everyone on its project');
    // A general chat can be shared by name with anyone active, whatever their projects.
    const named = await share(general.chat_id, { allowed_users: [leila] });
    expect(ChatResponseSchema.parse(named.body).chat).toMatchObject({ allowed_users: [leila], visibility: 'private' });
    expect(await stack.chatOf(arash, general.chat_id)).toMatchObject({ allowed_users: [leila] });
  });

  it('keeps people already on the list without asking TPMS again, so a list can shrink after someone left the project', async () => {
    const chat = await projectChat();
    await shareOk(chat.chat_id, { allowed_users: [sara, omid] });
    await withoutPermission(omid, async () => {
      // Omid lost the project: adding him again is refused, but the list can still change around him.
      const res = await share(chat.chat_id, { allowed_users: [omid, sara] });
      expect(res.status).toBe(200);
      expect((await getAs(omid, chat.chat_id)).status).toBe(404);
      const removed = await share(chat.chat_id, { allowed_users: [sara] });
      expect(ChatResponseSchema.parse(removed.body).chat.allowed_users).toEqual([sara]);
    });
  });

  it('lets only the owner change sharing: 403 for those who may open the chat, 404 for the rest', async () => {
    const chat = await projectChat();
    await shareOk(chat.chat_id, { allowed_users: [sara] });
    const refused = await share(chat.chat_id, { allowed_users: [sara, reza] }, sara);
    expect(refused.status).toBe(403);
    expect(ErrorBodySchema.parse(refused.body).detail).toBe('Only the owner can rename, pin, archive or share this chat');
    expect((await share(chat.chat_id, { visibility: 'project' }, reza)).status).toBe(404);
    expect((await stack.chatOf(arash, chat.chat_id)).allowed_users).toEqual([sara]);
  });

  it('answers 503, never 403 or 404, when TPMS cannot be asked', async () => {
    const chat = await projectChat();
    await shareOk(chat.chat_id, { visibility: 'project', allowed_users: [sara] });
    const proxy: TcpProxy = await startTcpProxy(Number(stack.env.MYSQL_PORT));
    try {
      const flaky = (await stack.build({ env: { MYSQL_PORT: String(proxy.port) } })).app;
      await stack.deps.redis.cache.flushDb();
      await proxy.cut();
      for (const user of [sara, reza]) {
        const res = await request(flaky).get(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer(user));
        expect(res.status, user).toBe(503);
        expect(ErrorBodySchema.parse(res.body).code).toBe('upstream_unavailable');
      }
      const list = await request(flaky).get('/api/chats?scope=shared').set('Authorization', await stack.bearer(reza));
      expect(list.status).toBe(503);
      const search = await request(flaky).get('/api/search').query({ q: 'flare' }).set('Authorization', await stack.bearer(reza));
      expect(search.status).toBe(503);
      expect(ErrorBodySchema.parse(search.body).code).toBe('upstream_unavailable');
      const adding = await share(chat.chat_id, { allowed_users: [sara, reza] }, arash, flaky);
      expect(adding.status).toBe(503);
      await proxy.restore();
      expect((await request(flaky).get(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer(reza))).status).toBe(200);
    } finally {
      await proxy.close();
    }
  });
});

describe('GET /api/chats?scope=shared', () => {
  it('lists chats shared by name and through the project, newest first, a page at a time, each with its access', async () => {
    // An owner of their own, so the other tests' chats stay out of these lists.
    const owner = USERS.admin.username;
    const admin = await stack.tpmsAdmin();
    await admin.execute('INSERT IGNORE INTO draft_permission (project_ID, user) VALUES (?, ?)', [refinery, owner]);
    try {
      await listsSharedChats(owner);
    } finally {
      await admin.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [refinery, owner]);
      await admin.end();
    }
  });

  async function listsSharedChats(owner: string) {
    const made: ChatMetadata[] = [];
    for (let index = 0; index < 5; index += 1) made.push(await stack.createChat(owner, { chat_type: 'project', project_number: refinery, page_name: `Page ${index}` }));
    const general = await stack.createChat(owner);
    await shareOk(made[0]?.chat_id ?? '', { visibility: 'project' }, owner);
    await shareOk(made[1]?.chat_id ?? '', { allowed_users: [reza] }, owner);
    await shareOk(made[2]?.chat_id ?? '', { visibility: 'project', allowed_users: [reza] }, owner);
    await shareOk(made[3]?.chat_id ?? '', { allowed_users: [sara] }, owner);
    await shareOk(general.chat_id, { allowed_users: [reza] }, owner);
    // Reza's own project-visible chat is his, not shared with him.
    const own = await projectChat(reza);
    await shareOk(own.chat_id, { visibility: 'project' }, reza);

    const expected = [general, made[2], made[1], made[0]].map((chat) => chat?.chat_id);
    const seen: ChatMetadata[] = [];
    let cursor: string | null = null;
    do {
      const page = await shared(reza, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.chats.length).toBeLessThanOrEqual(2);
      seen.push(...page.chats);
      cursor = page.next_cursor;
    } while (cursor !== null);
    // The other tests' chats (Arash's, older) are shared too; these are this owner's.
    const theirs = (chats: ChatMetadata[]) => chats.filter((chat) => chat.user_id !== arash);
    expect(theirs(seen).map((chat) => chat.chat_id)).toEqual(expected);
    expect(theirs(seen).map((chat) => chat.access)).toEqual(['allowed', 'allowed', 'allowed', 'project']);
    // Sara is on the project too: she sees the project's chats and the one shared with her.
    expect(theirs((await shared(sara)).chats).map((chat) => chat.chat_id)).toEqual([own, made[3], made[2], made[0]].map((chat) => chat?.chat_id));
    // Leila is not on the project: nothing.
    expect(theirs((await shared(leila)).chats)).toEqual([]);
    // scope=mine is unchanged: the owner's own chats only.
    const mine = ListChatsResponseSchema.parse((await stack.http().get('/api/chats').set('Authorization', await stack.bearer(reza))).body);
    expect(mine.chats.map((chat) => chat.chat_id)).toEqual([own.chat_id]);

    // Losing the project takes the project's chats away at once after an invalidation, named ones too.
    await withoutPermission(reza, async () => {
      expect((await shared(reza)).chats.map((chat) => chat.chat_id)).toEqual([general.chat_id]);
    });
    // Deleting a chat takes it out of every index.
    await stack.http().delete(`/api/chats/${made[2]?.chat_id}`).set('Authorization', await stack.bearer(owner)).expect(200);
    expect(await stack.deps.redis.chat.zScore(`user:${reza}:shared`, made[2]?.chat_id ?? '')).toBeNull();
    expect(await stack.deps.redis.chat.zScore(`project:${refinery}:shared`, made[2]?.chat_id ?? '')).toBeNull();
    expect(theirs((await shared(reza)).chats).map((chat) => chat.chat_id)).toEqual([general, made[1], made[0]].map((chat) => chat?.chat_id));
  }
});

describe('writing in a shared chat', () => {
  it('signs each user message with its author and counts it against the sender, not the owner', async () => {
    const chat = await projectChat();
    await shareOk(chat.chat_id, { visibility: 'project' });
    const reply = await stack.sendMessage(reza, chat.chat_id, 'Which flare tip?');
    expect(reply.status).toBe(200);
    expect(reply.of('user_message')[0]?.message).toMatchObject({ author_id: reza, author_name: USERS.reza.displayName });
    expect(reply.events.at(-1)?.event.type).toBe('done');
    const messages = await stack.messagesOf(arash, chat.chat_id);
    expect(messages.map((message) => [message.role, message.author_id, message.author_name])).toEqual([
      ['user', reza, USERS.reza.displayName],
      ['assistant', undefined, undefined],
    ]);
    expect(await stack.deps.redis.cache.zCard(`ratelimit:messages:${reza}`)).toBe(1);
    expect(await stack.deps.redis.cache.exists(`ratelimit:messages:${arash}`)).toBe(0);
    await eventually(async () => {
      const rows = await stack.sql<{ author_id: string | null; author_name: string | null }>(
        "SELECT extra->>'author_id' AS author_id, extra->>'author_name' AS author_name FROM messages WHERE chat_id = $1 AND role = 'user'",
        [chat.chat_id],
      );
      return rows[0]?.author_id === reza && rows[0].author_name === USERS.reza.displayName;
    });
  });
});

describe('GET /api/users', () => {
  async function search(query: Record<string, string>, user: string = arash) {
    return stack.http().get('/api/users').query(query).set('Authorization', await stack.bearer(user));
  }
  const ids = (res: request.Response) => SearchUsersResponseSchema.parse(res.body).users.map((user) => user.user_id);

  it('finds active users by the start of their ID or display name, never inactive ones', async () => {
    expect(ids(await search({ q: 'r.' }))).toEqual([reza]);
    expect(SearchUsersResponseSchema.parse((await search({ q: 'reza' })).body).users).toEqual([{ user_id: reza, display_name: USERS.reza.displayName }]);
    expect(ids(await search({ q: 'M' }))).toEqual([]);
    expect(ids(await search({ q: 'Mina' }))).toEqual([]);
    // LIKE wildcards are matched literally.
    expect(ids(await search({ q: '%' }))).toEqual([]);
    expect(ids(await search({ q: '_' }))).toEqual([]);
  });

  it('lists only people on the project when asked for one, and only to people on it', async () => {
    const onProject = ids(await search({ q: 'o', project_number: refinery }));
    expect(onProject).toEqual([omid]);
    const everyone = ids(await search({ q: 'l' }));
    expect(everyone).toEqual([leila]);
    expect(ids(await search({ q: 'l', project_number: refinery }))).toEqual([]);
    // m.tehrani has a permission row but is inactive.
    expect(ids(await search({ q: 'm', project_number: refinery }))).toEqual([]);
    expect((await search({ q: 'a', project_number: String(PROJECTS.substation.id) })).status).toBe(403);
    expect((await search({ q: 'a', project_number: '99999' })).status).toBe(404);
  });

  it('answers at most ten and refuses a missing or blank prefix (400)', async () => {
    const admin = await stack.tpmsAdmin();
    try {
      for (let index = 0; index < 12; index += 1) {
        await admin.execute("INSERT IGNORE INTO users (username, password_hash, display_name, is_active) VALUES (?, 'x', ?, 1)", [`zz.user${index}`, `Zed ${index}`]);
      }
    } finally {
      await admin.end();
    }
    expect(ids(await search({ q: 'zz' }))).toHaveLength(10);
    for (const query of [{}, { q: '' }, { q: '  ' }] as Array<Record<string, string>>) expect((await search(query)).status).toBe(400);
  });

  it('names the people a chat is shared with: each ID once, in order, its TPMS name or itself; 400 for none or more than 50', async () => {
    const names = async (ids: string) => stack.http().get('/api/users/names').query({ ids }).set('Authorization', await stack.bearer(arash));
    const res = await names(`${reza}, ${leila},${reza},no.such.user`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(UserNamesResponseSchema.parse(res.body).users).toEqual([
      { user_id: reza, display_name: USERS.reza.displayName },
      { user_id: leila, display_name: USERS.leila.displayName },
      { user_id: 'no.such.user', display_name: 'no.such.user' },
    ]);
    for (const ids of ['', ' , ', Array.from({ length: MAX_ALLOWED_USERS + 1 }, (_, index) => `u${index}`).join(',')]) {
      const refused = await names(ids);
      expect(refused.status).toBe(400);
      ErrorBodySchema.parse(refused.body);
    }
  });
});

describe('search over shared chats', () => {
  async function found(user: string, q: string) {
    const res = await stack.http().get('/api/search').query({ q }).set('Authorization', await stack.bearer(user));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return [...new Set(SearchResponseSchema.parse(res.body).results.map((result) => result.chat_id))];
  }

  it('finds chats shared by name or with the project for the people they are shared with, under current permission', async () => {
    const team = await stack.createChat(arash, { chat_type: 'project', project_number: refinery, page_name: 'Quench tower fouling' });
    const named = await stack.createChat(arash);
    const kept = await stack.createChat(arash, { chat_type: 'project', project_number: refinery, page_name: 'Quench tower budget' });
    await shareOk(team.chat_id, { visibility: 'project' });
    await shareOk(named.chat_id, { allowed_users: [leila] });
    await stack.http().patch(`/api/chats/${named.chat_id}`).set('Authorization', await stack.bearer(arash)).send({ chat_name: 'Quench water chemistry' }).expect(200);
    await stack.drained();

    expect((await found(arash, 'quench')).sort()).toEqual([team, named, kept].map((chat) => chat.chat_id).sort());
    expect(await found(reza, 'quench')).toEqual([team.chat_id]);
    expect(await found(leila, 'quench')).toEqual([named.chat_id]);
    expect(await found(USERS.sara.username, 'quench')).toEqual([team.chat_id]);
    await withoutPermission(reza, async () => {
      expect(await found(reza, 'quench')).toEqual([]);
    });
  });

  it("finds the messages of a shared chat for the people it is shared with, filtered like the owner's, and no longer once unshared", async () => {
    const say = async (chatId: string, content: string) => {
      const reply = await stack.sendMessage(arash, chatId, content);
      expect(reply.of('done')).toHaveLength(1);
    };
    const team = await projectChat();
    const named = await stack.createChat(arash);
    const own = await stack.createChat(leila);
    await say(team.chat_id, 'desalter emulsion breaker dosage');
    await say(named.chat_id, 'desalter wash water ratio');
    await shareOk(team.chat_id, { visibility: 'project' });
    await shareOk(named.chat_id, { allowed_users: [leila] });
    const leilasOwn = await stack.sendMessage(leila, own.chat_id, 'desalter temperature');
    expect(leilasOwn.of('done')).toHaveLength(1);
    await stack.drained();

    expect((await found(arash, 'desalter')).sort()).toEqual([team.chat_id, named.chat_id].sort());
    expect((await found(leila, 'desalt')).sort()).toEqual([named.chat_id, own.chat_id].sort());
    expect(await found(reza, 'desalter emul')).toEqual([team.chat_id]);
    expect(await found(reza, 'desalter wash')).toEqual([]);
    const projects = await stack.http().get('/api/search').query({ q: 'desalter', chat_type: 'project' }).set('Authorization', await stack.bearer(leila));
    expect(SearchResponseSchema.parse(projects.body).results).toEqual([]);
    const onProject = await stack.http().get('/api/search').query({ q: 'desalter', chat_type: 'project', project_number: refinery }).set('Authorization', await stack.bearer(reza));
    expect(new Set(SearchResponseSchema.parse(onProject.body).results.map((result) => result.chat_id))).toEqual(new Set([team.chat_id]));
    const general = await stack.http().get('/api/search').query({ q: 'desalter', chat_type: 'general' }).set('Authorization', await stack.bearer(leila));
    expect(new Set(SearchResponseSchema.parse(general.body).results.map((result) => result.chat_id))).toEqual(new Set([named.chat_id, own.chat_id]));

    await shareOk(named.chat_id, { allowed_users: [] });
    await shareOk(team.chat_id, { visibility: 'private' });
    await stack.drained();
    expect(await found(leila, 'desalter')).toEqual([own.chat_id]);
    expect(await found(reza, 'desalter')).toEqual([]);
    expect((await found(arash, 'desalter')).sort()).toEqual([team.chat_id, named.chat_id].sort());
  });
  it("asks Redis for the user's answer on every project with chats shared with everyone: allowed, denied or not cached (then TPMS), among thousands", async () => {
    // More projects than one MGET of the script reads (1 000), none with a chat in the history.
    const others = Array.from({ length: 2500 }, (_, index) => String(800_000 + index));
    await stack.deps.redis.chat.sAdd(SHARED_PROJECTS_KEY, others);
    try {
      const team = await stack.createChat(arash, { chat_type: 'project', project_number: refinery, page_name: 'Stripper reboiler duty' });
      await shareOk(team.chat_id, { visibility: 'project' });
      await stack.drained();
      // Nothing cached: asked of TPMS (and cached); then answered from the cache.
      expect(await found(reza, 'stripper')).toEqual([team.chat_id]);
      expect(await found(reza, 'stripper')).toEqual([team.chat_id]);
      expect(await found(leila, 'stripper')).toEqual([]);
      expect(await found(leila, 'stripper')).toEqual([]);
      await withoutPermission(reza, async () => {
        expect(await found(reza, 'stripper')).toEqual([]);
        expect(await found(reza, 'stripper')).toEqual([]);
      });
      expect(await found(reza, 'stripper')).toEqual([team.chat_id]);
    } finally {
      await stack.deps.redis.chat.sRem(SHARED_PROJECTS_KEY, others);
    }
  });

  it('answers the shared list and search from one memo per user, made from and dropped with the answers it rests on, among thousands of projects', async () => {
    const cache = stack.deps.redis.cache;
    const memoOf = (user: string) => cache.get(`tpms:permitted:${user}`);
    const allowedIn = (memo: string | null) => memo?.slice(memo.indexOf('|') + 1).split(',').filter(Boolean) ?? null;
    const listed = async (user: string) => (await shared(user)).chats.map((chat) => chat.chat_id);
    const others = Array.from({ length: 2500 }, (_, index) => String(810_000 + index));
    // Written as the sharing script would: the set and its version.
    await stack.deps.redis.chat.sAdd(SHARED_PROJECTS_KEY, others);
    await stack.deps.redis.chat.incr(SHARED_PROJECTS_VERSION_KEY);
    try {
      const team = await stack.createChat(arash, { chat_type: 'project', project_number: refinery, page_name: 'Amine regenerator foaming' });
      await shareOk(team.chat_id, { visibility: 'project' });
      await stack.drained();

      // Nothing cached: TPMS is asked (writing the answers drops any memo); the next read finds
      // every answer cached and remembers the allowed ones.
      expect(await found(reza, 'amine')).toEqual([team.chat_id]);
      expect(await memoOf(reza)).toBeNull();
      expect(await listed(reza)).toContain(team.chat_id);
      expect(allowedIn(await memoOf(reza))).toEqual([refinery]);
      // It lives no longer than the earliest answer it was read from (a denial, TPMS_NEGATIVE_CACHE_TTL_S).
      const denial = await cache.pExpireTime(`tpms:perm:${others[0]}:${reza}`);
      const memoExpires = await cache.pExpireTime(`tpms:permitted:${reza}`);
      expect(memoExpires).toBeGreaterThan(Date.now());
      expect(memoExpires).toBeLessThanOrEqual(denial);

      // Search and the list both answer from it alone: with the answers it was made from removed
      // behind its back (not as the app removes them), nothing is asked of the cache or TPMS again.
      await cache.del(others.map((project) => `tpms:perm:${project}:${reza}`));
      expect(await found(reza, 'amine')).toEqual([team.chat_id]);
      expect(await listed(reza)).toContain(team.chat_id);
      expect(await cache.exists(`tpms:perm:${others[0]}:${reza}`)).toBe(0);
      await invalidate({ user_id: reza });
      expect(await memoOf(reza)).toBeNull();

      // A revocation (the TPMS row gone, the pair's answer invalidated) drops the memo in the same
      // step: the chat is gone from GET, search and the list at once, and back with the grant.
      await withoutPermission(reza, async () => {
        expect(await memoOf(reza)).toBeNull();
        expect((await getAs(reza, team.chat_id)).status).toBe(404);
        expect(await found(reza, 'amine')).toEqual([]);
        expect(await listed(reza)).not.toContain(team.chat_id);
        expect(allowedIn(await memoOf(reza))).toEqual([]);
      });
      expect(await memoOf(reza)).toBeNull();
      expect((await getAs(reza, team.chat_id)).status).toBe(200);
      expect(await found(reza, 'amine')).toEqual([team.chat_id]);
      expect(await listed(reza)).toContain(team.chat_id);

      // Every other way an answer of the user's goes or changes drops it too: the project's
      // answers invalidated, the user's, and an answer written by a TPMS lookup.
      const remade = async () => {
        await found(reza, 'amine');
        await found(reza, 'amine');
        expect(allowedIn(await memoOf(reza))).toEqual([refinery]);
      };
      await remade();
      await invalidate({ project_number: refinery });
      expect(await memoOf(reza)).toBeNull();
      await remade();
      await invalidate({ user_id: reza });
      expect(await memoOf(reza)).toBeNull();
      await remade();
      expect((await stack.http().get(`/api/projects/${PROJECTS.compression.id}`).set('Authorization', await stack.bearer(reza))).status).toBe(403);
      expect(await memoOf(reza)).toBeNull();

      // A project joining the set is found at once by a user whose memo was made before it.
      await found(leila, 'amine');
      await found(leila, 'amine');
      expect(allowedIn(await memoOf(leila))).toEqual([]);
      const substation = await stack.createChat(sara, { chat_type: 'project', project_number: PROJECTS.substation.id, page_name: 'Amine sump pump' });
      await shareOk(substation.chat_id, { visibility: 'project' }, sara);
      await stack.drained();
      expect(await found(leila, 'amine')).toEqual([substation.chat_id]);
      expect(await listed(leila)).toContain(substation.chat_id);
      await stack.http().delete(`/api/chats/${substation.chat_id}`).set('Authorization', await stack.bearer(sara)).expect(200);
    } finally {
      await stack.deps.redis.chat.sRem(SHARED_PROJECTS_KEY, others);
    }
  });
});

describe('the sharing indexes filled at start-up', () => {
  it('files a chat shared with its project that they miss, and a memo made before sees it at once', async () => {
    const substation = String(PROJECTS.substation.id);
    const listed = async (user: string) => (await shared(user)).chats.map((chat) => chat.chat_id);
    const chat = await stack.createChat(sara, { chat_type: 'project', project_number: substation, page_name: 'Busbar thermography' });
    await shareOk(chat.chat_id, { visibility: 'project' }, sara);
    try {
      // Missing from the indexes, as a chat shared by an older version would be.
      await stack.deps.redis.chat.zRem(projectSharedKey(substation), chat.chat_id);
      await stack.deps.redis.chat.sRem(SHARED_PROJECTS_KEY, substation);
      expect(await listed(leila)).not.toContain(chat.chat_id);
      expect(await listed(leila)).not.toContain(chat.chat_id);
      expect(await stack.deps.redis.cache.get(`tpms:permitted:${leila}`)).not.toBeNull();
      await reconcileChats(stack.deps);
      expect(await listed(leila)).toContain(chat.chat_id);
    } finally {
      await stack.http().delete(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer(sara)).expect(200);
    }
  });
});

describe('the shared list across many project indexes', () => {
  it('pages through chats with equal creation times on different projects newest first, then ID descending, each once', async () => {
    const reader = 'tie.reader';
    const owner = 'tie.owner';
    const projects = Array.from({ length: 60 }, (_, index) => 720_000 + index);
    const chat = stack.deps.redis.chat;
    const created = Date.UTC(2024, 5, 1);
    // Two chats per project; every three chats share a creation time, across projects.
    const seeded = projects.flatMap((project, index) =>
      [0, 1].map((second) => ({ project, id: `P-${project}-${String(second + 1).padStart(6, '0')}`, createdMs: created + Math.floor((index * 2 + second) / 3) * 1000 })),
    );
    const admin = await stack.tpmsAdmin();
    try {
      await admin.query("INSERT INTO users (username, password_hash, display_name) VALUES (?, 'x', 'Tie Reader')", [reader]);
      await admin.query('INSERT INTO projects (IDProjectMain, Project_Name) VALUES ?', [projects.map((project) => [project, `Unit ${project}`])]);
      await admin.query('INSERT INTO draft_permission (project_ID, user) VALUES ?', [projects.map((project) => [project, reader])]);
      await Promise.all(
        seeded.map(async ({ project, id, createdMs }) => {
          const iso = new Date(createdMs).toISOString();
          const metadata = {
            chat_id: id, chat_name: `Unit ${project} notes`, user_id: owner, chat_type: 'project', project_number: String(project),
            project_name: `Unit ${project}`, page_name: 'Notes', created_at: iso, updated_at: iso, message_count: 0, status: 'active',
            pinned: false, visibility: 'project', allowed_users: [],
          };
          await chat.set(metadataKey(id), JSON.stringify(metadata));
          await chat.zAdd(userIndexKey(owner), { score: createdMs, value: id });
          await chat.zAdd(projectSharedKey(String(project)), { score: createdMs, value: id });
        }),
      );
      await chat.sAdd(SHARED_PROJECTS_KEY, projects.map(String));
      await chat.incr(SHARED_PROJECTS_VERSION_KEY);
      const expected = [...seeded].sort((a, b) => b.createdMs - a.createdMs || (a.id < b.id ? 1 : -1)).map((item) => item.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await shared(reader, { limit: 7, ...(cursor ? { cursor } : {}) });
        seen.push(...page.chats.map((item) => item.chat_id));
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(seen).toEqual(expected);
    } finally {
      await admin.query('DELETE FROM draft_permission WHERE user = ?', [reader]);
      await admin.query('DELETE FROM projects WHERE IDProjectMain >= ? AND IDProjectMain < ?', [720_000, 720_060]);
      await admin.query('DELETE FROM users WHERE username = ?', [reader]);
      await admin.end();
      await chat.del([userIndexKey(owner), ...seeded.map((item) => metadataKey(item.id)), ...projects.map((project) => projectSharedKey(String(project)))]);
      await chat.sRem(SHARED_PROJECTS_KEY, projects.map(String));
    }
  });
});

describe('the shared list of a reader on thousands of projects', () => {
  // More projects with chats visible to the project than the Redis client queues commands
  // (MAX_QUEUED_COMMANDS, 2 000): reading every project's index at once failed the page with 503.
  const PROJECT_COUNT = 2500;
  const FIRST_PROJECT = 700_000;
  const owner = 'bulk.owner';

  it('reads the project indexes a few at a time: the page is whole, newest first, never a 503', async () => {
    // A reader of their own, so no other test's chat is on their pages.
    const reader = 'bulk.reader';
    const projects = Array.from({ length: PROJECT_COUNT }, (_, index) => FIRST_PROJECT + index);
    const chat = stack.deps.redis.chat;
    const ids = projects.map((project, index) => `P-${project}-${String(index + 1).padStart(6, '0')}`);
    const admin = await stack.tpmsAdmin();
    try {
      await admin.query("INSERT INTO users (username, password_hash, display_name) VALUES (?, 'x', 'Bulk Reader')", [reader]);
      await admin.query('INSERT INTO projects (IDProjectMain, Project_Name) VALUES ?', [projects.map((project) => [project, `Unit ${project}`])]);
      await admin.query('INSERT INTO draft_permission (project_ID, user) VALUES ?', [projects.map((project) => [project, reader])]);
      // One chat visible to the project on each, in the stored layout (creating 2 500 through
      // the API would only slow the test down).
      const created = Date.UTC(2024, 0, 1);
      const seed = async (project: number, index: number) => {
        const createdMs = created + index * 1000;
        const iso = new Date(createdMs).toISOString();
        const id = ids[index] ?? '';
        const metadata = {
          chat_id: id, chat_name: `Unit ${project} notes`, user_id: owner, chat_type: 'project', project_number: String(project),
          project_name: `Unit ${project}`, page_name: 'Notes', created_at: iso, updated_at: iso, message_count: 0, status: 'active',
          pinned: false, visibility: 'project', allowed_users: [],
        };
        await Promise.all([
          chat.set(metadataKey(id), JSON.stringify(metadata)),
          chat.zAdd(userIndexKey(owner), { score: createdMs, value: id }),
          chat.zAdd(projectSharedKey(String(project)), { score: createdMs, value: id }),
          chat.sAdd(SHARED_PROJECTS_KEY, String(project)),
        ]);
      };
      // 100 projects (400 commands) at a time: the client queues at most 2 000.
      for (let start = 0; start < projects.length; start += 100) {
        await Promise.all(projects.slice(start, start + 100).map((project, offset) => seed(project, start + offset)));
      }

      const first = await shared(reader);
      expect(first.chats.map((item) => item.chat_id)).toEqual(ids.slice(-30).reverse());
      expect(first.chats.every((item) => item.access === 'project')).toBe(true);
      const second = await shared(reader, { cursor: first.next_cursor ?? '' });
      expect(second.chats[0]?.chat_id).toBe(ids.at(-31));
    } finally {
      await admin.query('DELETE FROM draft_permission WHERE project_ID >= ? AND project_ID < ?', [FIRST_PROJECT, FIRST_PROJECT + PROJECT_COUNT]);
      await admin.query('DELETE FROM projects WHERE IDProjectMain >= ? AND IDProjectMain < ?', [FIRST_PROJECT, FIRST_PROJECT + PROJECT_COUNT]);
      await admin.query('DELETE FROM users WHERE username = ?', [reader]);
      await admin.end();
      await chat.del([userIndexKey(owner), ...ids.map(metadataKey), ...projects.map((project) => projectSharedKey(String(project)))]);
      await chat.sRem(SHARED_PROJECTS_KEY, projects.map(String));
    }
  });
});
