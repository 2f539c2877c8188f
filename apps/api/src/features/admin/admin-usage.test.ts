import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ErrorBodySchema, MeResponseSchema, UsageResponseSchema, type Message, type UsageRow } from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { manualClock } from '../../test/harness.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;
const sara: string = USERS.sara.username;
const admin: string = USERS.admin.username;
const refinery = String(PROJECTS.refinery.id);

const clock = manualClock('2026-03-01T12:00:00Z');
let stack: ServedStackWithModel;
/** Every reply written, with its owner and project. */
const replies: Array<{ user: string; project: string | null; chatId: string; message: Message }> = [];

async function reply(user: string, chatId: string, project: string | null, at: string) {
  clock.set(at);
  const stream = await stack.sendMessage(user, chatId, `Question at ${at}`);
  const message = stream.of('assistant_message')[0]?.message;
  if (!message?.usage) throw new Error(`no reply with usage at ${at}`);
  replies.push({ user, project, chatId, message });
}

beforeAll(async () => {
  stack = await startServedStack({ clock, model: { tokenDelayMs: 0 }, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' } });
  const general = await stack.createChat(arash);
  const project = await stack.createChat(arash, { chat_type: 'project', project_number: refinery, page_name: 'Usage review' });
  const sarasProject = await stack.createChat(sara, { chat_type: 'project', project_number: refinery, page_name: 'Her review' });
  const sarasGeneral = await stack.createChat(sara);
  // The edges of UTC days: the last second of 1 March and the first of 2 March.
  await reply(arash, general.chat_id, null, '2026-03-01T23:59:59.999Z');
  await reply(arash, project.chat_id, refinery, '2026-03-02T00:00:00.000Z');
  await reply(arash, project.chat_id, refinery, '2026-03-02T10:00:00.000Z');
  await reply(sara, sarasProject.chat_id, refinery, '2026-03-03T08:00:00.000Z');
  // Without the server's count: estimated, and counted all the same.
  stack.llm.configure({ sendUsage: false });
  await reply(sara, sarasGeneral.chat_id, null, '2026-03-03T09:00:00.000Z');
  stack.llm.configure({ sendUsage: true });
  await reply(sara, sarasGeneral.chat_id, null, '2026-03-05T09:00:00.000Z');
  await stack.drained();
});

afterAll(() => stack?.stop());

const usage = async (query: Record<string, string>, user = admin) =>
  request(stack.app).get('/api/admin/usage').query(query).set('Authorization', await stack.bearer(user));

/** The expected row for the replies picked, summed the way the endpoint documents. */
function sum(key: string, picked: typeof replies): UsageRow {
  return {
    key,
    chats: new Set(picked.map((item) => item.chatId)).size,
    messages: picked.length,
    prompt_tokens: picked.reduce((total, item) => total + (item.message.usage?.prompt_tokens ?? 0), 0),
    completion_tokens: picked.reduce((total, item) => total + (item.message.usage?.completion_tokens ?? 0), 0),
  };
}
const onDay = (day: string) => replies.filter((item) => item.message.created_at.startsWith(day));
const inRange = (from: string, to: string) => replies.filter((item) => item.message.created_at.slice(0, 10) >= from && item.message.created_at.slice(0, 10) <= to);

describe('GET /api/admin/usage', () => {
  it('sums replies per UTC day, both ends of the range included, with a row for every day', async () => {
    const res = await usage({ from: '2026-03-01', to: '2026-03-04', group_by: 'day' });
    expect(res.status).toBe(200);
    const { rows } = UsageResponseSchema.parse(res.body);
    expect(rows).toEqual([sum('2026-03-01', onDay('2026-03-01')), sum('2026-03-02', onDay('2026-03-02')), sum('2026-03-03', onDay('2026-03-03')), sum('2026-03-04', [])]);
    expect(rows[0]?.messages).toBe(1);
    expect(rows[1]?.messages).toBe(2);
    expect(rows[2]?.prompt_tokens).toBeGreaterThan(0);
  });

  it('sums per user, the largest first, within the range only', async () => {
    const all = UsageResponseSchema.parse((await usage({ from: '2026-03-01', to: '2026-03-05', group_by: 'user' })).body).rows;
    const expected = [arash, sara].map((user) => sum(user, replies.filter((item) => item.user === user)));
    expected.sort((a, b) => b.prompt_tokens + b.completion_tokens - (a.prompt_tokens + a.completion_tokens));
    expect(all).toEqual(expected);

    const oneDay = UsageResponseSchema.parse((await usage({ from: '2026-03-02', to: '2026-03-02', group_by: 'user' })).body).rows;
    expect(oneDay).toEqual([sum(arash, onDay('2026-03-02'))]);
    const limited = UsageResponseSchema.parse((await usage({ from: '2026-03-01', to: '2026-03-05', group_by: 'user', limit: '1' })).body).rows;
    expect(limited).toEqual(expected.slice(0, 1));
  });

  it('sums per project over every user of it, leaving general chats out', async () => {
    const rows = UsageResponseSchema.parse((await usage({ from: '2026-03-01', to: '2026-03-03', group_by: 'project' })).body).rows;
    expect(rows).toEqual([sum(refinery, inRange('2026-03-01', '2026-03-03').filter((item) => item.project === refinery))]);
    expect(rows[0]).toMatchObject({ chats: 2, messages: 3 });
  });

  it('answers no rows for a range without replies', async () => {
    const res = await usage({ from: '2025-01-01', to: '2025-01-31', group_by: 'user' });
    expect(UsageResponseSchema.parse(res.body)).toEqual({ rows: [] });
  });

  it.each([
    ['a date that does not exist', { from: '2026-02-30', to: '2026-03-01', group_by: 'day' }],
    ['a date in another format', { from: '2026-3-1', to: '2026-03-01', group_by: 'day' }],
    ['from after to', { from: '2026-03-02', to: '2026-03-01', group_by: 'day' }],
    ['a range over 366 days', { from: '2025-01-01', to: '2026-01-02', group_by: 'day' }],
    ['an unknown group_by', { from: '2026-03-01', to: '2026-03-02', group_by: 'week' }],
    ['no from', { to: '2026-03-02', group_by: 'user' }],
    ['a limit of 0', { from: '2026-03-01', to: '2026-03-02', group_by: 'user', limit: '0' }],
  ])('refuses %s with 400 and the one error body', async (_, query) => {
    const res = await usage(query);
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
  });

  it('takes a range of exactly 366 days', async () => {
    expect((await usage({ from: '2025-03-05', to: '2026-03-05', group_by: 'project' })).status).toBe(200);
  });

  it('is for admins only (403), and /api/auth/me tells the web app who is one', async () => {
    const refused = await usage({ from: '2026-03-01', to: '2026-03-02', group_by: 'user' }, arash);
    expect(refused.status).toBe(403);
    expect(ErrorBodySchema.parse(refused.body).code).toBe('forbidden');
    const me = async (user: string) => MeResponseSchema.parse((await request(stack.app).get('/api/auth/me').set('Authorization', await stack.bearer(user))).body).is_admin;
    expect(await me(admin)).toBe(true);
    expect(await me(arash)).toBe(false);
  });

  it('answers 503 with the one error body while PostgreSQL does not answer', async () => {
    const down = await stack.build({ clock, env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/history' }, mirror: false });
    const res = await request(down.app).get('/api/admin/usage').query({ from: '2026-03-01', to: '2026-03-02', group_by: 'user' }).set('Authorization', await stack.bearer(admin));
    expect(res.status).toBe(503);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ code: 'upstream_unavailable', detail: expect.stringMatching(/PostgreSQL/) });
  });
});
