import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ErrorBodySchema, generalCounterKey } from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { manualClock, startTestStack, type TestStack } from '../../test/harness.js';

const clock = manualClock('2026-11-24T09:30:00.000Z');
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ clock });
});

afterAll(() => stack?.stop());

async function appWith(env: Record<string, string>) {
  const { app } = await stack.build({ clock, env });
  return async (userId: string, body: Record<string, unknown> = { chat_type: 'general' }) =>
    request(app).post('/api/chats').set('Authorization', await stack.bearer(userId)).send(body);
}

const chatsOf = (userId: string) => stack.deps.redis.chat.zCard(`user:${userId}:chats`);

describe('per-user bounds on creating chats', () => {
  it('answers 429 with Retry-After beyond CHATS_PER_MINUTE, spending no number, and again 201 a minute later', async () => {
    const create = await appWith({ CHATS_PER_MINUTE: '3' });
    const user = 'burst.creator';
    for (let index = 0; index < 3; index += 1) expect((await create(user)).status).toBe(201);
    const counter = await stack.deps.redis.counters.get(generalCounterKey(clock.now()));

    const refused = await create(user);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(ErrorBodySchema.parse(refused.body)).toMatchObject({ code: 'rate_limited', detail: 'You can start 3 chats per minute. Try again in 60 s.' });
    expect(await chatsOf(user)).toBe(3);
    expect(await stack.deps.redis.counters.get(generalCounterKey(clock.now()))).toBe(counter);
    // Per user: someone else is not held back.
    expect((await create('other.creator')).status).toBe(201);

    clock.advance(20_000);
    const later = await create(user);
    expect(later.status).toBe(429);
    expect(later.headers['retry-after']).toBe('40');
    clock.advance(40_000);
    expect((await create(user)).status).toBe(201);
  });

  it('answers 409 at MAX_CHATS_PER_USER, for general and project chats, and 201 again once one is deleted', async () => {
    const create = await appWith({ MAX_CHATS_PER_USER: '4' });
    const arash: string = USERS.arash.username;
    const ids: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const response = await create(arash);
      expect(response.status).toBe(201);
      ids.push(CreateChatResponseSchema.parse(response.body).chat.chat_id);
    }
    const refused = await create(arash);
    expect(refused.status).toBe(409);
    expect(ErrorBodySchema.parse(refused.body)).toMatchObject({
      code: 'conflict',
      detail: 'You have 4 chats, the most one person can keep. Delete some to start new ones.',
    });
    const project = await create(arash, { chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Quota' });
    expect(project.status).toBe(409);
    expect(await chatsOf(arash)).toBe(4);

    // Pinned chats still count.
    const auth = await stack.bearer(arash);
    await stack.http().patch(`/api/chats/${ids[0]}`).set('Authorization', auth).send({ pinned: true }).expect(200);
    expect((await create(arash)).status).toBe(409);

    await stack.http().delete(`/api/chats/${ids[1]}`).set('Authorization', auth).expect(200);
    expect((await create(arash)).status).toBe(201);
    expect((await create(arash)).status).toBe(409);
  });
});
