import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ListChatsResponseSchema, parseSessionId } from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStack } from '../test/served-stack.js';

let stack: ServedStack;

beforeAll(async () => {
  stack = await startServedStack();
});
afterAll(() => stack?.stop());

const seqOf = (id: string) => (parseSessionId(id) as { seq: number }).seq;
const consecutive = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

describe('1 000 concurrent creations across users', () => {
  it('gives 1 000 distinct, consecutive IDs, each in its owner\'s list', async () => {
    // 800 general sessions from 40 users and 200 refinery sessions from the two users allowed on it.
    const generalUsers = Array.from({ length: 40 }, (_, index) => `load.user${index}`);
    const projectUsers = [USERS.arash.username, USERS.sara.username];
    const tokens = new Map(await Promise.all([...generalUsers, ...projectUsers].map(async (user) => [user, await stack.tokenFor(user)] as const)));
    // Warm the TPMS cache once, so the burst measures Redis allocation rather than 200 identical SQL lookups.
    for (const user of projectUsers) {
      const res = await fetch(`${stack.url}/api/projects/${PROJECTS.refinery.id}`, { headers: { Authorization: `Bearer ${tokens.get(user)}` } });
      expect(res.status).toBe(200);
    }
    const jobs = [
      ...Array.from({ length: 800 }, (_, index) => ({ user: generalUsers[index % generalUsers.length] as string, body: { chat_type: 'general' } })),
      ...Array.from({ length: 200 }, (_, index) => ({
        user: projectUsers[index % 2] as string,
        body: { chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: `Load ${index}` },
      })),
    ];
    const created = await Promise.all(
      jobs.map(async (job) => {
        const res = await fetch(`${stack.url}/api/chats`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tokens.get(job.user)}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(job.body),
        });
        expect(res.status).toBe(201);
        return CreateChatResponseSchema.parse(await res.json()).chat;
      }),
    );

    const ids = created.map((chat) => chat.chat_id);
    expect(new Set(ids).size).toBe(1000);
    const general = created.filter((chat) => chat.chat_type === 'general').map((chat) => seqOf(chat.chat_id));
    const project = created.filter((chat) => chat.chat_type === 'project').map((chat) => seqOf(chat.chat_id));
    expect(general.sort((a, b) => a - b)).toEqual(consecutive(800));
    expect(project.sort((a, b) => a - b)).toEqual(consecutive(200));

    // Metadata and index were written together: every user lists exactly their own sessions.
    for (const user of [generalUsers[0] as string, USERS.sara.username]) {
      const res = await fetch(`${stack.url}/api/chats?limit=100`, { headers: { Authorization: `Bearer ${tokens.get(user)}` } });
      const listed = ListChatsResponseSchema.parse(await res.json()).chats.map((chat) => chat.chat_id).sort();
      expect(listed).toEqual(created.filter((chat) => chat.user_id === user).map((chat) => chat.chat_id).sort());
    }
  }, 60_000);
});
