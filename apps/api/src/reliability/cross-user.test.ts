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
import { startFakeLlm, type FakeLlm } from '@simorgh/devstack/fake-llm';
import { eventually, listen, postStream } from '../test/event-stream-client.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startTestStack, type TestStack } from '../test/harness.js';
import { pathParamsOf, sampleRequest, tableRoutes } from '../test/route-samples.js';

let llm: FakeLlm;
let stack: TestStack;
let server: Awaited<ReturnType<typeof listen>>;
const owner = USERS.arash.username;
// Sara may use the refinery project too: only session ownership stands between her and these.
const intruder = USERS.sara.username;

beforeAll(async () => {
  llm = await startFakeLlm({ tokenDelayMs: 0 });
  stack = await startTestStack({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '20' } });
  server = await listen(stack.app);
});
afterAll(async () => {
  await server?.close();
  await stack?.stop();
  await llm?.stop();
});

async function create(user: string, body: object): Promise<ChatMetadata> {
  const res = await fetch(`${server.url}/api/chats`, {
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
      const reply = await postStream(`${server.url}/api/chats/${chat?.chat_id}/messages`, ownerToken, { content: 'Pump NPSH margin?' });
      expect(reply.events.at(-1)?.event.type).toBe('done');
    }
    // The automatic title may land just after the stream ends; wait for it so the snapshot is stable.
    await eventually(async () => {
      const res = await fetch(`${server.url}/api/chats/${mine[0]?.chat_id}`, { headers: { Authorization: `Bearer ${ownerToken}` } });
      return ChatResponseSchema.parse(await res.json()).chat.chat_name !== PLACEHOLDER_TITLE;
    });

    const snapshot = async () =>
      Promise.all(
        [...mine.map((chat) => chat.chat_id), legacyId].map(async (id) => {
          const headers = { Authorization: `Bearer ${ownerToken}` };
          const chat = await fetch(`${server.url}/api/chats/${id}`, { headers });
          const messages = await fetch(`${server.url}/api/chats/${id}/messages`, { headers });
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
          const res = await fetch(`${server.url}${path}`, {
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
    const list = await fetch(`${server.url}/api/chats?status=all&limit=100`, { headers: { Authorization: `Bearer ${intruderToken}` } });
    expect(ListChatsResponseSchema.parse(await list.json()).chats.map((chat) => chat.chat_id)).toEqual([hers.chat_id]);
    // Search: whatever words of the owner's titles, pages, messages and replies (or IDs) she
    // types, nothing of his comes back, though the same queries find his chats for him.
    const searchAs = async (token: string, q: string) => {
      const res = await fetch(`${server.url}/api/search?${new URLSearchParams({ q, limit: '50' })}`, { headers: { Authorization: `Bearer ${token}` } });
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
    const own = await fetch(`${server.url}/api/chats/${hers.chat_id}`, { headers: { Authorization: `Bearer ${intruderToken}` } });
    expect(own.status).toBe(200);
  }, 60_000);
});
