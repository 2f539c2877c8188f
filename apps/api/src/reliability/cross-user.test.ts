import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChatResponseSchema,
  CreateChatResponseSchema,
  ErrorBodySchema,
  formatGeneralId,
  formatProjectId,
  ListChatsResponseSchema,
  ListMessagesResponseSchema,
  parseSessionId,
  PLACEHOLDER_TITLE,
  SearchResponseSchema,
  type ChatMetadata,
} from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { eventually, postStream } from '../test/event-stream-client.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../test/served-stack.js';
import { pathParamsOf, sampleRequest, tableRoutes } from '../test/route-samples.js';

let stack: ServedStackWithModel;
let llm: FakeLlm;
const owner = USERS.arash.username;
// Sara may use the refinery project too: only session ownership stands between her and these.
const intruder = USERS.sara.username;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 0 }, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' } });
  llm = stack.llm;
});
afterAll(() => stack?.stop());

async function create(user: string, body: object): Promise<ChatMetadata> {
  const res = await fetch(`${stack.url}/api/chats`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await stack.tokenFor(user)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return CreateChatResponseSchema.parse(await res.json()).chat;
}

/** Every route of the table that takes a chat ID. */
const CHAT_ROUTES = tableRoutes((route) => pathParamsOf(route).includes('id'));

/** The ID itself, its neighbours and spelling variants that must not reach another session. */
function probesFor(id: string): string[] {
  const parts = parseSessionId(id);
  const probes = [id, id.toLowerCase(), `${id}%20`, encodeURIComponent(`${id}/`), `${id}%00`, `0${id}`];
  if (parts?.kind === 'general') {
    const month = new Date(`${parts.month.slice(0, 4)}-${parts.month.slice(4)}-15T00:00:00Z`);
    for (const seq of [parts.seq - 1, parts.seq + 1, parts.seq + 1000]) if (seq >= 1) probes.push(formatGeneralId(month, seq));
    probes.push(id.replace(/-(\d+)$/, (_, seq: string) => `-0${seq}`));
  }
  if (parts?.kind === 'project') {
    for (const seq of [parts.seq - 1, parts.seq + 1]) if (seq >= 1) probes.push(formatProjectId(parts.projectNumber, seq));
    probes.push(id.replace(`P-${parts.projectNumber}-`, `P-0${parts.projectNumber}-`));
  }
  return probes;
}

describe("another user's sessions", () => {
  it('answer 404 on every endpoint for their IDs, neighbouring IDs and spelling variants, and stay unchanged', async () => {
    const ownerToken = await stack.tokenFor(owner);
    const mine = [
      await create(owner, { chat_type: 'general' }),
      await create(owner, { chat_type: 'general' }),
      await create(owner, { chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Owner page' }),
      await create(owner, { chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Owner page 2' }),
    ];
    // Sara's own session sits between the owner's numbers; it must stay reachable for her only.
    const hers = await create(intruder, { chat_type: 'general' });
    const last = await create(owner, { chat_type: 'general' });
    mine.push(last);
    // A legacy session written by the previous system.
    const legacyId = '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f';
    await stack.deps.redis.chat.set(`chat:${legacyId}:metadata`, JSON.stringify({ user_id: owner, chat_name: 'Legacy notes', created_at: '2023-05-01T08:00:00Z' }));
    await stack.deps.redis.chat.zAdd(`user:${owner}:chats`, { score: Date.parse('2023-05-01T08:00:00Z'), value: legacyId });
    for (const chat of [mine[0], mine[2]]) {
      const reply = await postStream(`${stack.url}/api/chats/${chat?.chat_id}/messages`, ownerToken, { content: 'Pump NPSH margin?' });
      expect(reply.events.at(-1)?.event.type).toBe('done');
    }
    // The automatic title may land just after the stream ends; wait for it so the snapshot is stable.
    await eventually(async () => {
      const res = await fetch(`${stack.url}/api/chats/${mine[0]?.chat_id}`, { headers: { Authorization: `Bearer ${ownerToken}` } });
      return ChatResponseSchema.parse(await res.json()).chat.chat_name !== PLACEHOLDER_TITLE;
    });

    const snapshot = async () =>
      Promise.all(
        [...mine.map((chat) => chat.chat_id), legacyId].map(async (id) => {
          const headers = { Authorization: `Bearer ${ownerToken}` };
          const chat = await fetch(`${stack.url}/api/chats/${id}`, { headers });
          const messages = await fetch(`${stack.url}/api/chats/${id}/messages`, { headers });
          return { chat: ChatResponseSchema.parse(await chat.json()).chat, messages: ListMessagesResponseSchema.parse(await messages.json()).messages };
        }),
      );
    const before = await snapshot();
    const upstreamBefore = llm.requests.length;

    const intruderToken = await stack.tokenFor(intruder);
    const probes = [...new Set([...mine.map((chat) => chat.chat_id), legacyId].flatMap(probesFor))].filter((id) => id !== hers.chat_id);
    let checked = 0;
    expect(CHAT_ROUTES.length).toBeGreaterThanOrEqual(8);
    for (const route of CHAT_ROUTES) {
      const results = await Promise.all(
        probes.map(async (id) => {
          const { method, path, body } = sampleRequest(route, { id });
          const res = await fetch(`${stack.url}${path}`, {
            method,
            headers: { Authorization: `Bearer ${intruderToken}`, 'Content-Type': 'application/json' },
            ...(body ? { body } : {}),
          });
          return { label: `${method} ${path}`, status: res.status, body: (await res.json()) as unknown };
        }),
      );
      for (const result of results) {
        expect(result.status, result.label).toBe(404);
        expect(ErrorBodySchema.parse(result.body).code, result.label).toBe('not_found');
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(300);

    // Nothing changed, nothing was sent to the model, nothing leaked into her list.
    expect(await snapshot()).toEqual(before);
    expect(llm.requests.length).toBe(upstreamBefore);
    const list = await fetch(`${stack.url}/api/chats?status=all&limit=100`, { headers: { Authorization: `Bearer ${intruderToken}` } });
    expect(ListChatsResponseSchema.parse(await list.json()).chats.map((chat) => chat.chat_id)).toEqual([hers.chat_id]);
    // Search: whatever words of the owner's titles, pages, messages and replies (or IDs) she
    // types, nothing of his comes back, though the same queries find his chats for him.
    const searchAs = async (token: string, q: string) => {
      const res = await fetch(`${stack.url}/api/search?${new URLSearchParams({ q, limit: '50' })}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status, q).toBe(200);
      return SearchResponseSchema.parse(await res.json()).results;
    };
    const queries = ['Pump NPSH margin', 'pump', 'npsh', 'owner page', 'Owner page 2', 'demo model', 'You asked', 'p', 'o', ...mine.map((chat) => chat.chat_id)];
    await eventually(async () => (await searchAs(ownerToken, 'owner page 2')).length > 0);
    for (const q of queries.slice(0, 6)) expect((await searchAs(ownerToken, q)).length, q).toBeGreaterThan(0);
    for (const q of queries) {
      for (const result of await searchAs(intruderToken, q)) expect(result.chat_id, q).toBe(hers.chat_id);
    }

    // Her own session between them still works for her.
    const own = await fetch(`${stack.url}/api/chats/${hers.chat_id}`, { headers: { Authorization: `Bearer ${intruderToken}` } });
    expect(own.status).toBe(200);
  }, 60_000);
});

/** The chat routes someone other than the owner may use on a chat they may open; the rest are the owner's alone. */
const OPEN_TO_OTHERS: ReadonlySet<string> = new Set(['getChat', 'listMessages', 'sendMessage', 'stopReply', 'chatEvents']);

describe('the roles around a shared chat', () => {
  const reza = USERS.reza.username;
  const leila = USERS.leila.username;
  const omid = USERS.omid.username;
  const refinery = String(PROJECTS.refinery.id);

  async function call(route: (typeof CHAT_ROUTES)[number], id: string, token: string) {
    const { method, path, body } = sampleRequest(route, { id });
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body ? { body } : {}),
    });
    const label = `${method} ${path}`;
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return { label, status: res.status, body: (await res.json()) as unknown };
    // A reply stream ends by itself; a stream that follows a chat does not: its status is the answer.
    if (method === 'GET') await res.body?.cancel();
    else await res.text();
    return { label, status: res.status, body: null };
  }

  async function patch(id: string, body: object) {
    const res = await fetch(`${stack.url}/api/chats/${id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${await stack.tokenFor(owner)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
  }

  it('gives each role exactly its access on every chat route, and changes nothing where it is refused', async () => {
    const ownerToken = await stack.tokenFor(owner);
    const project = { chat_type: 'project', project_number: refinery };
    const shared = await create(owner, { ...project, page_name: 'Shared with the team' });
    await patch(shared.chat_id, { visibility: 'project', allowed_users: [intruder, omid] });
    const closed = await create(owner, { ...project, page_name: 'Kept private' });
    await patch(closed.chat_id, { allowed_users: [intruder] });
    await patch(closed.chat_id, { allowed_users: [] });
    const general = await create(owner, { chat_type: 'general' });
    await patch(general.chat_id, { allowed_users: [leila] });
    for (const chat of [shared, closed, general]) {
      const reply = await postStream(`${stack.url}/api/chats/${chat.chat_id}/messages`, ownerToken, { content: 'Relief load for the flare?' });
      expect(reply.events.at(-1)?.event.type).toBe('done');
    }
    await eventually(async () => (await stack.chatOf(owner, general.chat_id)).chat_name !== PLACEHOLDER_TITLE);

    // Omid was on the list and on the project; his permission row goes, and an admin drops the cache.
    const admin = await stack.tpmsAdmin();
    try {
      await admin.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [refinery, omid]);
    } finally {
      await admin.end();
    }
    const invalidated = await fetch(`${stack.url}/api/admin/tpms-cache/invalidate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await stack.tokenFor(USERS.admin.username)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ project_number: refinery, user_id: omid }),
    });
    expect(invalidated.status).toBe(200);

    const snapshot = async () =>
      Promise.all([shared, closed, general].map(async (chat) => ({ chat: await stack.chatOf(owner, chat.chat_id), messages: await stack.messagesOf(owner, chat.chat_id) })));

    const outsiders = [
      { role: 'project member of a private chat', user: reza, chat: closed },
      { role: 'non-member of a project-wide chat', user: leila, chat: shared },
      { role: 'revoked member still named', user: omid, chat: shared },
      { role: 'removed allowed user', user: intruder, chat: closed },
      { role: 'project member of a general chat', user: reza, chat: general },
    ];
    const before = await snapshot();
    const upstreamBefore = llm.requests.length;
    for (const { role, user, chat } of outsiders) {
      const token = await stack.tokenFor(user);
      for (const route of CHAT_ROUTES) {
        const result = await call(route, chat.chat_id, token);
        expect(result.status, `${role}: ${result.label}`).toBe(404);
        expect(ErrorBodySchema.parse(result.body).code).toBe('not_found');
      }
    }
    expect(await snapshot()).toEqual(before);
    expect(llm.requests.length).toBe(upstreamBefore);

    const insiders = [
      { role: 'allowed user', user: intruder, chat: shared, access: 'allowed' },
      { role: 'project member', user: reza, chat: shared, access: 'project' },
      { role: 'allowed user of a general chat', user: leila, chat: general, access: 'allowed' },
    ];
    for (const { role, user, chat, access } of insiders) {
      const token = await stack.tokenFor(user);
      const ownersOnly = CHAT_ROUTES.filter((route) => !OPEN_TO_OTHERS.has(route.name));
      expect(ownersOnly.length).toBeGreaterThanOrEqual(4);
      const untouched = await snapshot();
      const upstream = llm.requests.length;
      for (const route of ownersOnly) {
        const result = await call(route, chat.chat_id, token);
        expect(result.status, `${role}: ${result.label}`).toBe(403);
        expect(ErrorBodySchema.parse(result.body).detail).toMatch(/^Only the owner can /);
      }
      expect(await snapshot()).toEqual(untouched);
      expect(llm.requests.length).toBe(upstream);
      for (const route of CHAT_ROUTES.filter((candidate) => OPEN_TO_OTHERS.has(candidate.name))) {
        const result = await call(route, chat.chat_id, token);
        expect(result.status, `${role}: ${result.label}`).toBe(200);
        if (route.name === 'getChat') expect(ChatResponseSchema.parse(result.body).chat).toMatchObject({ chat_id: chat.chat_id, access });
      }
      const messages = await stack.messagesOf(owner, chat.chat_id);
      expect(messages.at(-2)).toMatchObject({ role: 'user', author_id: user });
    }

    // The owner may do everything, delete last.
    const ownerRoutes = [...CHAT_ROUTES.filter((route) => route.name !== 'deleteChat'), ...CHAT_ROUTES.filter((route) => route.name === 'deleteChat')];
    for (const route of ownerRoutes) {
      const result = await call(route, general.chat_id, ownerToken);
      expect(result.status, `owner: ${result.label}`).toBe(200);
    }
    expect((await fetch(`${stack.url}/api/chats/${general.chat_id}`, { headers: { Authorization: `Bearer ${ownerToken}` } })).status).toBe(404);
  }, 90_000);
});
