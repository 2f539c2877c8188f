import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateChatResponseSchema,
  ErrorBodySchema,
  formatGeneralId,
  parseSessionId,
  type CreateChatResponse,
} from '@simorgh/contracts';
import { manualClock, startTestStack, type TestStack } from '../../test/harness.js';
import { PROJECTS, UNKNOWN_PROJECT, USERS } from '@simorgh/devstack/fixtures';
import { reconcileChats } from './chats-startup.js';

const clock = manualClock('2026-03-15T10:00:00Z');
let stack: TestStack;
// The clock jumps across months, so tokens are signed at the moment of each request.
const arash = USERS.arash.username;
const sara = USERS.sara.username;

beforeAll(async () => {
  stack = await startTestStack({ clock });
});
afterAll(() => stack?.stop());

async function createGeneral(user: string, body: Record<string, unknown> = {}): Promise<CreateChatResponse> {
  const res = await stack.http().post('/api/chats').set('Authorization', await stack.bearer(user)).send({ chat_type: 'general', ...body });
  expect(res.status).toBe(201);
  return CreateChatResponseSchema.parse(res.body);
}

describe('POST /api/chats (general)', () => {
  it('creates G-yyyyMM-nnnnnn IDs in sequence with the guide metadata', async () => {
    clock.set('2026-03-15T10:00:00Z');
    const first = await createGeneral(arash, { chat_name: 'ignored title' });
    const second = await createGeneral(arash);
    expect(first.chat.chat_id).toBe('G-202603-000001');
    expect(second.chat.chat_id).toBe('G-202603-000002');
    expect(first.message).toBe('General session created');
    expect(first.chat).toEqual({
      chat_id: 'G-202603-000001',
      chat_name: 'New conversation',
      user_id: USERS.arash.username,
      chat_type: 'general',
      project_number: null,
      project_name: null,
      page_name: null,
      created_at: '2026-03-15T10:00:00.000Z',
      updated_at: '2026-03-15T10:00:00.000Z',
      message_count: 0,
      status: 'active',
      pinned: false,
      visibility: 'private',
      allowed_users: [],
      access: 'owner',
    });
    const stored = JSON.parse((await stack.deps.redis.chat.get('chat:G-202603-000001:metadata')) ?? 'null');
    expect(stored).toMatchObject({ chat_id: 'G-202603-000001', message_count: 0, status: 'active' });
    expect(await stack.deps.redis.chat.zScore(`user:${USERS.arash.username}:chats`, 'G-202603-000001')).toBe(
      Date.parse('2026-03-15T10:00:00Z'),
    );
    expect(await stack.deps.redis.counters.get('session:counter:general:202603')).toBe('2');
  });

  it('starts a new counter when the UTC month rolls over', async () => {
    clock.set('2026-04-30T23:59:59.999Z');
    expect((await createGeneral(arash)).chat.chat_id).toBe('G-202604-000001');
    // Months are UTC: the first instant of May, and a local April evening that is already May in UTC.
    clock.set('2026-05-01T00:00:00.000Z');
    expect((await createGeneral(sara)).chat.chat_id).toBe('G-202605-000001');
    clock.set('2026-04-30T23:00:00-02:00');
    expect((await createGeneral(arash)).chat.chat_id).toBe('G-202605-000002');
  });

  it('gives hundreds of concurrent creations distinct consecutive IDs', async () => {
    clock.set('2026-06-10T08:00:00Z');
    const responses = await Promise.all(Array.from({ length: 300 }, (_, index) => createGeneral(index % 2 ? arash : sara)));
    const seqs = responses.map((response) => {
      const parts = parseSessionId(response.chat.chat_id);
      if (parts?.kind !== 'general') throw new Error(`unexpected ID ${response.chat.chat_id}`);
      return parts.seq;
    });
    expect(new Set(seqs).size).toBe(300);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, index) => index + 1));
  });

  it('refuses a user_id other than the signed-in user (403) and creates nothing', async () => {
    clock.set('2026-07-01T00:00:00Z');
    const res = await stack
      .http()
      .post('/api/chats')
      .set('Authorization', await stack.bearer(arash))
      .send({ chat_type: 'general', user_id: USERS.sara.username });
    expect(res.status).toBe(403);
    expect(ErrorBodySchema.parse(res.body).code).toBe('forbidden');
    expect(await stack.deps.redis.counters.get('session:counter:general:202607')).toBeNull();
    const ok = await createGeneral(arash, { user_id: USERS.arash.username });
    expect(ok.chat.chat_id).toBe('G-202607-000001');
  });

  it('never reissues an ID after its counter is lost: skips taken numbers (SET NX)', async () => {
    clock.set('2026-08-05T00:00:00Z');
    await createGeneral(arash);
    await createGeneral(arash);
    await createGeneral(sara);
    await stack.deps.redis.counters.del('session:counter:general:202608');
    const next = await createGeneral(sara);
    expect(next.chat.chat_id).toBe('G-202608-000004');
    // The taken chats still belong to their owners.
    const first = JSON.parse((await stack.deps.redis.chat.get('chat:G-202608-000001:metadata')) ?? '{}');
    expect(first.user_id).toBe(USERS.arash.username);
    expect(await stack.deps.redis.chat.zScore(`user:${USERS.sara.username}:chats`, 'G-202608-000001')).toBeNull();
  });

  it('widens past 999999 exactly as ids.ts formats it, in the stored key and JSON alike', async () => {
    clock.set('2026-10-05T00:00:00Z');
    await stack.deps.redis.counters.set('session:counter:general:202610', '999998');
    const last = await createGeneral(arash);
    const widened = await createGeneral(arash);
    expect([last.chat.chat_id, widened.chat.chat_id]).toEqual(['G-202610-999999', 'G-202610-1000000']);
    expect(widened.chat.chat_id).toBe(formatGeneralId(new Date('2026-10-05T00:00:00Z'), 1_000_000));
    const stored = JSON.parse((await stack.deps.redis.chat.get('chat:G-202610-1000000:metadata')) ?? '{}');
    // The wire adds the caller's access, and the empty share list that is never stored.
    expect({ ...stored, allowed_users: [], access: 'owner' }).toEqual(widened.chat);
    expect(await stack.deps.redis.chat.zScore(`user:${USERS.arash.username}:chats`, 'G-202610-1000000')).toBe(Date.parse('2026-10-05T00:00:00Z'));
  });

  it('raises counters at start-up to the highest stored ID', async () => {
    const month = new Date('2026-09-09T00:00:00Z');
    const stored = { chat_id: formatGeneralId(month, 41), user_id: USERS.arash.username, chat_name: 'x', created_at: month.toISOString() };
    await stack.deps.redis.chat.set(`chat:${stored.chat_id}:metadata`, JSON.stringify(stored));
    await stack.deps.redis.chat.set(`chat:P-${PROJECTS.tankFarm.id}-000007:metadata`, JSON.stringify({ ...stored, chat_id: `P-${PROJECTS.tankFarm.id}-000007` }));
    const report = await reconcileChats(stack.deps);
    expect(report.countersRaised).toBeGreaterThanOrEqual(2);
    expect(await stack.deps.redis.counters.get('session:counter:general:202609')).toBe('41');
    expect(await stack.deps.redis.counters.get(`session:counter:project:${PROJECTS.tankFarm.id}`)).toBe('7');
    clock.set(month);
    expect((await createGeneral(arash)).chat.chat_id).toBe('G-202609-000042');
    // Running it again never lowers a counter.
    await reconcileChats(stack.deps);
    expect(await stack.deps.redis.counters.get('session:counter:general:202609')).toBe('42');
  });
});

describe('POST /api/chats (project)', () => {
  const createProject = async (user: string, body: Record<string, unknown>) =>
    stack.http().post('/api/chats').set('Authorization', await stack.bearer(user)).send({ chat_type: 'project', ...body });

  it('creates P-<n>-nnnnnn with the project name filled in from TPMS', async () => {
    clock.set('2026-10-01T12:00:00Z');
    const res = await createProject(arash, { project_number: String(PROJECTS.compression.id), page_name: '  Compressor K-101 surge  ' });
    expect(res.status).toBe(201);
    const body = CreateChatResponseSchema.parse(res.body);
    expect(body.message).toBe(`Project session created for ${PROJECTS.compression.name}`);
    expect(body.chat).toMatchObject({
      chat_id: `P-${PROJECTS.compression.id}-000001`,
      chat_name: 'Compressor K-101 surge',
      chat_type: 'project',
      project_number: String(PROJECTS.compression.id),
      project_name: PROJECTS.compression.name,
      page_name: 'Compressor K-101 surge',
      message_count: 0,
      status: 'active',
    });
    const again = await createProject(arash, { project_number: PROJECTS.compression.id, page_name: 'Second page' });
    expect(CreateChatResponseSchema.parse(again.body).chat.chat_id).toBe(`P-${PROJECTS.compression.id}-000002`);
  });

  it('answers 404 with the exact detail for a project TPMS does not know, spending no number', async () => {
    const res = await createProject(arash, { project_number: String(UNKNOWN_PROJECT), page_name: 'Anything' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ detail: `Project ID ${UNKNOWN_PROJECT} not found in database`, code: 'not_found', request_id: expect.any(String) });
    expect(await stack.deps.redis.counters.get(`session:counter:project:${UNKNOWN_PROJECT}`)).toBeNull();
  });

  it('refuses a project the user has no permission for (403), spending no number', async () => {
    const res = await createProject(arash, { project_number: String(PROJECTS.substation.id), page_name: 'Relays' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: `Access denied for project ${PROJECTS.substation.id}`, code: 'forbidden', request_id: expect.any(String) });
    expect(await stack.deps.redis.counters.get(`session:counter:project:${PROJECTS.substation.id}`)).toBeNull();
  });

  it('checks access inside the creation script for a project opened before, against the cache as it is now', async () => {
    const project = String(PROJECTS.compression.id);
    const counterKey = `session:counter:project:${project}`;
    const permissionKey = `tpms:perm:${project}:${arash}`;
    const projectKey = `tpms:project:${project}`;
    const create = () => createProject(arash, { project_number: project, page_name: 'Again' });
    expect((await create()).status).toBe(201);
    // Known project, cache unchanged: one script and no separate read of the cached answers (the
    // one MGET is the sign-in check every authenticated request makes).
    await stack.deps.redis.cache.configResetStat();
    expect((await create()).status).toBe(201);
    const stats = await stack.deps.redis.cache.info('commandstats');
    expect(stats).toMatch(/cmdstat_mget:calls=1,/);
    expect(stats).toMatch(/cmdstat_evalsha:calls=1,/);
    const spent = await stack.deps.redis.counters.get(counterKey);

    // Denied in the cache since (e.g. revoked and re-read): 403, no number spent.
    await stack.deps.redis.cache.set(permissionKey, '0');
    const denied = await create();
    expect(denied.status).toBe(403);
    expect(ErrorBodySchema.parse(denied.body).detail).toBe(`Access denied for project ${project}`);
    expect(await stack.deps.redis.counters.get(counterKey)).toBe(spent);

    // Not cached any more: asked of TPMS again (which allows it) and cached.
    await stack.deps.redis.cache.del(permissionKey);
    expect((await create()).status).toBe(201);
    expect(await stack.deps.redis.cache.get(permissionKey)).toBe('1');

    // Renamed in the cache: the chat takes the name the cache holds now.
    await stack.deps.redis.cache.set(projectKey, JSON.stringify({ name: 'Compression Station (renamed)' }));
    try {
      const renamed = CreateChatResponseSchema.parse((await create()).body);
      expect(renamed.chat.project_name).toBe('Compression Station (renamed)');
      expect(renamed.message).toBe('Project session created for Compression Station (renamed)');
    } finally {
      await stack.deps.redis.cache.del(projectKey);
    }
    // Unknown to the cache and TPMS alike would be 404: the project key says "missing".
    await stack.deps.redis.cache.set(projectKey, 'missing');
    try {
      expect((await create()).status).toBe(404);
    } finally {
      await stack.deps.redis.cache.del(projectKey);
    }
  });

  it.each([
    [{ page_name: 'No project' }, 'project_number'],
    [{ project_number: String(PROJECTS.refinery.id) }, 'page_name'],
    [{ project_number: String(PROJECTS.refinery.id), page_name: '   ' }, 'page_name'],
    [{ project_number: String(PROJECTS.refinery.id), page_name: 'x'.repeat(201) }, 'page_name'],
    [{ project_number: '1234567890123', page_name: 'Too long' }, 'project_number'],
    [{ project_number: '12ab', page_name: 'Not digits' }, 'project_number'],
    [{ project_number: '0', page_name: 'Zero' }, 'project_number'],
  ])('rejects an invalid project request %j with 400 naming %s', async (body, field) => {
    const res = await createProject(arash, body);
    expect(res.status).toBe(400);
    const error = ErrorBodySchema.parse(res.body);
    expect(error.code).toBe('validation');
    expect(error.issues?.map((issue) => issue.path)).toContain(field);
  });

  it('rejects a missing or unknown chat_type with 400', async () => {
    for (const body of [{}, { chat_type: 'team' }]) {
      const res = await stack.http().post('/api/chats').set('Authorization', await stack.bearer(arash)).send(body);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });
});

describe('Redis databases', () => {
  it('keeps counters, chats and cached TPMS answers in their three configured DBs', async () => {
    clock.set('2026-12-01T00:00:00Z');
    const res = await stack
      .http()
      .post('/api/chats')
      .set('Authorization', await stack.bearer(arash))
      .send({ chat_type: 'project', project_number: PROJECTS.refinery.id, page_name: 'DB layout' });
    const { chat_id } = CreateChatResponseSchema.parse(res.body).chat;
    const { createClient } = await import('redis');
    const inDb = async (database: number, key: string) => {
      const client = createClient({ url: stack.redis.url, database });
      await client.connect();
      try {
        return await client.exists(key);
      } finally {
        client.destroy();
      }
    };
    expect(await inDb(0, `session:counter:project:${PROJECTS.refinery.id}`)).toBe(1);
    expect(await inDb(1, `session:counter:project:${PROJECTS.refinery.id}`)).toBe(0);
    expect(await inDb(1, `chat:${chat_id}:metadata`)).toBe(1);
    expect(await inDb(0, `chat:${chat_id}:metadata`)).toBe(0);
    expect(await inDb(2, `tpms:project:${PROJECTS.refinery.id}`)).toBe(1);
    expect(await inDb(1, `tpms:project:${PROJECTS.refinery.id}`)).toBe(0);
  });
});
