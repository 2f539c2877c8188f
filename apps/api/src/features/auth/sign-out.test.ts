import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import request from 'supertest';
import { ErrorBodySchema, LogoutResponseSchema } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { closingOpenEnded, sampleRequest, tableRoutes, type TableRoute } from '../../test/route-samples.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const arash = USERS.arash.username;
const admin = USERS.admin.username;
const PROTECTED = tableRoutes((route) => route.access !== 'public');

function call(app: Express, route: TableRoute, token: string, chatId: string) {
  const sample = sampleRequest(route, { id: chatId, project_number: '10234' });
  const method = sample.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
  const pending = closingOpenEnded(request(app)[method](sample.path).set('Authorization', `Bearer ${token}`), route);
  return sample.body === undefined ? pending : pending.set('Content-Type', 'application/json').send(sample.body);
}

async function expectRefused(response: request.Response, what: string) {
  expect(response.status, what).toBe(401);
  expect(ErrorBodySchema.parse(response.body).code, what).toBe('unauthorized');
}

async function setActive(userId: string, active: boolean) {
  const connection = await stack.tpmsAdmin();
  try {
    await connection.query('UPDATE users SET is_active = ? WHERE username = ?', [active ? 1 : 0, userId]);
  } finally {
    await connection.end();
  }
}

async function invalidateUser(userId: string) {
  await request(stack.app).post('/api/admin/tpms-cache/invalidate').set('Authorization', await stack.bearer(admin)).send({ user_id: userId }).expect(200);
}

describe('POST /api/auth/logout', () => {
  it('revokes the token on every route that needs one, in another API process too, and leaves other tokens working', async () => {
    // An admin, so the admin routes answer the token too before sign-out.
    const token = await stack.tokenFor(admin);
    const otherToken = await stack.tokenFor(admin);
    const chat = await stack.createChat(admin);
    const other = await stack.build();
    expect(PROTECTED.length).toBeGreaterThan(10);

    for (const route of PROTECTED.filter((r) => r.name !== 'logout')) {
      const response = await call(stack.app, route, token, chat.chat_id);
      expect(response.status, `${route.name} before sign-out`).not.toBe(401);
    }

    const out = await request(stack.app).post('/api/auth/logout').set('Authorization', `Bearer ${token}`);
    expect(out.status).toBe(200);
    expect(LogoutResponseSchema.parse(out.body)).toEqual({ status: 'success' });

    const survivor = await stack.createChat(admin);
    for (const app of [stack.app, other.app]) {
      for (const route of PROTECTED) await expectRefused(await call(app, route, token, survivor.chat_id), route.name);
    }
    for (const app of [stack.app, other.app]) {
      await request(app).get('/api/chats').set('Authorization', `Bearer ${otherToken}`).expect(200);
    }
  });

  it('needs a token, and a signed-out token cannot sign out again', async () => {
    await expectRefused(await request(stack.app).post('/api/auth/logout'), 'no token');
    const token = await stack.tokenFor(arash);
    await request(stack.app).post('/api/auth/logout').set('Authorization', `Bearer ${token}`).expect(200);
    await expectRefused(await request(stack.app).post('/api/auth/logout').set('Authorization', `Bearer ${token}`), 'again');
  });

  it('keeps a revoked token out for as long as it would have lived, and no longer', async () => {
    const token = await stack.tokenFor(arash);
    await request(stack.app).post('/api/auth/logout').set('Authorization', `Bearer ${token}`).expect(200);
    const keys = await stack.deps.redis.cache.keys('auth:revoked:*');
    const ttls = await Promise.all(keys.map((key) => stack.deps.redis.cache.ttl(key)));
    // The harness signs one-hour tokens; the entry lives until exp plus the 30 s clock tolerance.
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3630);
    }
  });
});

describe('a user made inactive in TPMS', () => {
  it('is refused within the cache TTL, with the one error body', async () => {
    const { app } = await stack.build({ env: { TPMS_CACHE_TTL_S: '1' } });
    const token = await stack.tokenFor(arash);
    // Forget what earlier tests cached for an hour, so this app caches with its own TTL.
    await invalidateUser(arash);
    await request(app).get('/api/chats').set('Authorization', `Bearer ${token}`).expect(200);
    await setActive(arash, false);
    try {
      // Cached as active for at most TPMS_CACHE_TTL_S (1 s here), then asked of TPMS again.
      const started = Date.now();
      let response = await request(app).get('/api/chats').set('Authorization', `Bearer ${token}`);
      while (response.status === 200 && Date.now() - started < 3000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await request(app).get('/api/chats').set('Authorization', `Bearer ${token}`);
      }
      await expectRefused(response, 'after the TTL');
      expect(Date.now() - started).toBeLessThan(2500);
      await expectRefused(await request(app).get('/api/auth/me').set('Authorization', `Bearer ${await stack.tokenFor(arash)}`), 'a new token');
    } finally {
      await setActive(arash, true);
      await invalidateUser(arash);
    }
    await request(app).get('/api/chats').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('is refused at once after an administrator invalidates the cache for that user, in every process', async () => {
    const other = await stack.build();
    const token = await stack.tokenFor(arash);
    // The test before may have left arash cached for 1 s only; cache him for this app's hour.
    await invalidateUser(arash);
    await request(stack.app).get('/api/chats').set('Authorization', `Bearer ${token}`).expect(200);
    await setActive(arash, false);
    try {
      // Still cached as active (one hour by default) ...
      await request(stack.app).get('/api/chats').set('Authorization', `Bearer ${token}`).expect(200);
      const invalidated = await request(stack.app)
        .post('/api/admin/tpms-cache/invalidate')
        .set('Authorization', await stack.bearer(admin))
        .send({ user_id: arash });
      expect(invalidated.status).toBe(200);
      expect(invalidated.body.removed).toBeGreaterThanOrEqual(1);
      // ... until the invalidation, after which both processes refuse it.
      for (const app of [stack.app, other.app]) {
        for (const route of PROTECTED) await expectRefused(await call(app, route, token, 'G-202611-000001'), route.name);
      }
    } finally {
      await setActive(arash, true);
      await invalidateUser(arash);
    }
    await request(other.app).get('/api/chats').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('keeps being served while TPMS cannot answer whether the user is active', async () => {
    const { app } = await stack.build({ env: { MYSQL_PORT: '1' } });
    await stack.deps.redis.cache.del(`tpms:user:${USERS.sara.username}:active`);
    await request(app).get('/api/chats').set('Authorization', await stack.bearer(USERS.sara.username)).expect(200);
  });
});
