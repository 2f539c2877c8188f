import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema, ProjectSchema } from '@simorgh/contracts';
import type { Express } from 'express';
import request from 'supertest';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { PROJECTS, UNKNOWN_PROJECT, USERS } from '@simorgh/devstack/fixtures';
import { startTcpProxy, type TcpProxy } from '@simorgh/devstack/tcp-proxy';

let stack: TestStack;
let proxy: TcpProxy;
/** An app whose TPMS connection goes through `proxy`, which tests cut and hang. */
let flakyApp: Express;
const arash: string = USERS.arash.username;

beforeAll(async () => {
  stack = await startTestStack();
  proxy = await startTcpProxy(Number(stack.env.MYSQL_PORT));
  flakyApp = (await stack.build({ env: { MYSQL_PORT: String(proxy.port) } })).app;
});
afterAll(async () => {
  await proxy.close();
  await stack.stop();
});
beforeEach(async () => {
  await stack.deps.redis.cache.flushDb();
});

const lookup = async (projectNumber: string | number, user: string = arash, app: Express = stack.app) =>
  request(app).get(`/api/projects/${projectNumber}`).set('Authorization', await stack.bearer(user));

describe('GET /api/projects/:project_number', () => {
  it('returns the project for a user with permission', async () => {
    const res = await lookup(PROJECTS.refinery.id);
    expect(res.status).toBe(200);
    expect(ProjectSchema.parse(res.body)).toEqual({ project_number: String(PROJECTS.refinery.id), project_name: PROJECTS.refinery.name });
  });

  it('accepts leading zeros and answers with the canonical number', async () => {
    const res = await lookup(`00${PROJECTS.refinery.id}`);
    expect(ProjectSchema.parse(res.body).project_number).toBe(String(PROJECTS.refinery.id));
  });

  it('answers 404 with the exact detail for an unknown project', async () => {
    const res = await lookup(UNKNOWN_PROJECT);
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ detail: `Project ID ${UNKNOWN_PROJECT} not found in database`, code: 'not_found' });
  });

  it('answers 403 with the exact detail without permission', async () => {
    const res = await lookup(PROJECTS.tankFarm.id);
    expect(res.status).toBe(403);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ detail: `Access denied for project ${PROJECTS.tankFarm.id}`, code: 'forbidden' });
  });

  it('answers 400 for something that is not a project number', async () => {
    for (const value of ['abc', '0', '1234567890123', '-5', '1e5']) {
      const res = await lookup(value);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });

  it('requires a token (401)', async () => {
    const res = await stack.http().get(`/api/projects/${PROJECTS.refinery.id}`);
    expect(res.status).toBe(401);
    expect(ErrorBodySchema.parse(res.body).code).toBe('unauthorized');
  });
});

describe('the TPMS cache', () => {
  it('caches positive answers for TPMS_CACHE_TTL_S and negative ones briefly', async () => {
    await lookup(PROJECTS.refinery.id);
    await lookup(UNKNOWN_PROJECT);
    await lookup(PROJECTS.tankFarm.id);
    const cache = stack.deps.redis.cache;
    expect(await cache.get(`tpms:project:${PROJECTS.refinery.id}`)).toContain(PROJECTS.refinery.name);
    expect(await cache.ttl(`tpms:project:${PROJECTS.refinery.id}`)).toBeGreaterThan(3500);
    expect(await cache.get(`tpms:perm:${PROJECTS.refinery.id}:${arash}`)).toBe('1');
    expect(await cache.get(`tpms:project:${UNKNOWN_PROJECT}`)).toBe('missing');
    expect(await cache.ttl(`tpms:project:${UNKNOWN_PROJECT}`)).toBeLessThanOrEqual(60);
    expect(await cache.get(`tpms:perm:${PROJECTS.tankFarm.id}:${arash}`)).toBe('0');
    expect(await cache.ttl(`tpms:perm:${PROJECTS.tankFarm.id}:${arash}`)).toBeLessThanOrEqual(60);
  });

  it('lets an admin drop cached answers for a project so a grant takes effect at once', async () => {
    expect((await lookup(PROJECTS.tankFarm.id)).status).toBe(403);
    const admin = await stack.tpmsAdmin();
    try {
      await admin.execute('INSERT INTO draft_permission (project_ID, user) VALUES (?, ?)', [PROJECTS.tankFarm.id, arash]);
      expect((await lookup(PROJECTS.tankFarm.id)).status).toBe(403);
      const res = await stack
        .http()
        .post('/api/admin/tpms-cache/invalidate')
        .set('Authorization', await stack.bearer(USERS.admin.username))
        .send({ project_number: String(PROJECTS.tankFarm.id) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'success', removed: 2 });
      expect((await lookup(PROJECTS.tankFarm.id)).status).toBe(200);
    } finally {
      await admin.execute('DELETE FROM draft_permission WHERE project_ID = ? AND user = ?', [PROJECTS.tankFarm.id, arash]);
      await admin.end();
    }
  });

  it('refuses cache invalidation to users not in ADMIN_USERS (403) and empty requests (400)', async () => {
    await lookup(PROJECTS.refinery.id);
    const denied = await stack
      .http()
      .post('/api/admin/tpms-cache/invalidate')
      .set('Authorization', await stack.bearer(arash))
      .send({ project_number: String(PROJECTS.refinery.id) });
    expect(denied.status).toBe(403);
    expect(ErrorBodySchema.parse(denied.body).code).toBe('forbidden');
    expect(await stack.deps.redis.cache.exists(`tpms:project:${PROJECTS.refinery.id}`)).toBe(1);
    const empty = await stack.http().post('/api/admin/tpms-cache/invalidate').set('Authorization', await stack.bearer(USERS.admin.username)).send({});
    expect(empty.status).toBe(400);
  });
});

describe('TPMS outage', () => {
  afterAll(async () => {
    await proxy.restore();
  });

  it('keeps answering cached projects, answers 503 for uncached ones, and recovers by itself', async () => {
    expect((await lookup(PROJECTS.refinery.id, arash, flakyApp)).status).toBe(200);
    await proxy.cut();

    const cached = await lookup(PROJECTS.refinery.id, arash, flakyApp);
    expect(cached.status).toBe(200);

    const started = Date.now();
    const uncached = await lookup(PROJECTS.compression.id, arash, flakyApp);
    expect(uncached.status).toBe(503);
    expect(uncached.body).toMatchObject({ detail: 'Project directory unavailable, try again shortly', code: 'upstream_unavailable' });
    expect(Date.now() - started).toBeLessThan(5000);
    // The failure is not remembered as "not found" or "denied".
    expect(await stack.deps.redis.cache.exists(`tpms:project:${PROJECTS.compression.id}`)).toBe(0);

    const create = await request(flakyApp)
      .post('/api/chats')
      .set('Authorization', await stack.bearer(arash))
      .send({ chat_type: 'project', project_number: PROJECTS.compression.id, page_name: 'During outage' });
    expect(create.status).toBe(503);
    expect(await stack.deps.redis.counters.get(`session:counter:project:${PROJECTS.compression.id}`)).toBeNull();

    await proxy.restore();
    const recovered = await lookup(PROJECTS.compression.id, arash, flakyApp);
    expect(recovered.status).toBe(200);
  });

  it('answers 503 within a few seconds when TPMS accepts connections but never answers', async () => {
    proxy.hang();
    const started = Date.now();
    const res = await lookup(PROJECTS.substation.id, USERS.sara.username, flakyApp);
    expect(res.status).toBe(503);
    expect(ErrorBodySchema.parse(res.body).code).toBe('upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    await proxy.restore();
  });
});
