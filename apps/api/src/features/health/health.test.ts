import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponseSchema, type ServiceHealth } from '@simorgh/contracts';
import request from 'supertest';
import { ADMIN_USERS, USERS } from '@simorgh/devstack/fixtures';
import { listen } from '../../test/event-stream-client.js';
import { startTestStack, type TestStack } from '../../test/harness.js';

let stack: TestStack;

/** Swaps the LLM probe for one test, restoring whatever the LLM feature installed. */
async function withLlmHealth(probe: (() => Promise<ServiceHealth>) | undefined, run: () => Promise<void>) {
  const original = stack.deps.llmHealth;
  if (probe) stack.deps.llmHealth = probe;
  else delete stack.deps.llmHealth;
  try {
    await run();
  } finally {
    if (original) stack.deps.llmHealth = original;
    else delete stack.deps.llmHealth;
  }
}

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

describe('GET /api/health', () => {
  it('is public and reports each service with a latency', async () => {
    await withLlmHealth(async () => ({ status: 'healthy', latency_ms: 3 }), async () => {
      const res = await stack.http().get('/api/health');
      expect(res.status).toBe(200);
      const body = HealthResponseSchema.parse(res.body);
      expect(body.status).toBe('healthy');
      expect(body.services.redis.status).toBe('healthy');
      expect(body.services.redis.latency_ms).toBeGreaterThanOrEqual(0);
      expect(body.services.sql_auth.status).toBe('healthy');
      expect(body.services.llm).toEqual({ status: 'healthy', latency_ms: 3 });
    });
  });

  it('stays healthy and quick while someone follows a chat (the events reader blocks its own connection)', async () => {
    const chat = await stack.createChat(USERS.arash.username);
    const server = await listen(stack.app);
    const follow = new AbortController();
    try {
      const events = await fetch(`${server.url}/api/chats/${chat.chat_id}/events`, {
        headers: { Authorization: `Bearer ${await stack.tokenFor(USERS.arash.username)}` },
        signal: follow.signal,
      });
      expect(events.status).toBe(200);
      await withLlmHealth(async () => ({ status: 'healthy', latency_ms: 1 }), async () => {
        const started = performance.now();
        const body = HealthResponseSchema.parse((await stack.http().get('/api/health').expect(200)).body);
        expect(body.services.redis.status).toBe('healthy');
        // Far below the reader's 5 s block, which a ping on its connection would wait behind.
        expect(performance.now() - started).toBeLessThan(3000);
      });
    } finally {
      follow.abort();
      await server.close();
    }
  });

  it('is degraded (200) when no LLM probe is installed', async () => {
    await withLlmHealth(undefined, async () => {
      const body = HealthResponseSchema.parse((await stack.http().get('/api/health').expect(200)).body);
      expect(body.status).toBe('degraded');
      expect(body.services.llm.status).toBe('not_configured');
    });
  });

  it('is degraded (200) when the LLM check fails or throws', async () => {
    const failing = async (): Promise<ServiceHealth> => {
      throw new Error('connection refused');
    };
    await withLlmHealth(failing, async () => {
      const body = HealthResponseSchema.parse((await stack.http().get('/api/health').set('Authorization', await stack.bearer(ADMIN_USERS)).expect(200)).body);
      expect(body.status).toBe('degraded');
      expect(body.services.llm).toMatchObject({ status: 'unhealthy', detail: 'connection refused' });
    });
  });

  it('is degraded (200), quickly, when TPMS is unreachable', async () => {
    const { app } = await stack.build({ env: { MYSQL_PORT: '1' } });
    const started = Date.now();
    const res = await request(app).get('/api/health');
    expect(res.status).toBe(200);
    const body = HealthResponseSchema.parse(res.body);
    expect(body.status).toBe('degraded');
    expect(body.services.sql_auth.status).toBe('unhealthy');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports TPMS as not_configured without MYSQL_HOST', async () => {
    const { app } = await stack.build({ env: { MYSQL_HOST: '' } });
    const body = HealthResponseSchema.parse((await request(app).get('/api/health')).body);
    expect(body.services.sql_auth.status).toBe('not_configured');
    expect(body.status).toBe('degraded');
  });

  describe('who sees what', () => {
    const modelHost = 'llm-gpu-07.corp.internal';
    const failingModel = async (): Promise<ServiceHealth> => ({ status: 'unhealthy', detail: `connect ECONNREFUSED ${modelHost}:8000` });

    /** An app whose TPMS refuses connections, so its health has a failure detail naming the address. */
    async function failingTpmsApp() {
      const built = await stack.build({ env: { MYSQL_PORT: '1' } });
      built.deps.llmHealth = failingModel;
      return built;
    }

    it('shows anyone without a token only statuses and latencies: no detail, host or address', async () => {
      const { app, env } = await failingTpmsApp();
      const res = await request(app).get('/api/health').expect(200);
      const body = HealthResponseSchema.parse(res.body);
      expect(body.status).toBe('degraded');
      for (const service of Object.values(body.services)) expect(service).not.toHaveProperty('detail');
      expect(body.services.sql_auth.status).toBe('unhealthy');
      expect(body.services.llm.status).toBe('unhealthy');
      const text = res.text;
      for (const secret of [env.MYSQL_HOST ?? 'MYSQL_HOST', 'ECONNREFUSED', modelHost, new URL(stack.redis.url).host]) {
        expect(text).not.toContain(secret);
      }
    });

    it('shows the same to a signed-in user who is not an administrator, and to a bad token', async () => {
      const { app } = await failingTpmsApp();
      for (const authorization of [await stack.bearer(USERS.arash.username), 'Bearer not.a.token', `Bearer ${'x'.repeat(20)}`]) {
        const res = await request(app).get('/api/health').set('Authorization', authorization).expect(200);
        expect(res.text).not.toContain('detail');
        expect(res.text).not.toContain(modelHost);
      }
    });

    it('shows an administrator the details', async () => {
      const { app } = await failingTpmsApp();
      const res = await request(app).get('/api/health').set('Authorization', await stack.bearer(ADMIN_USERS)).expect(200);
      const body = HealthResponseSchema.parse(res.body);
      expect(body.services.llm.detail).toContain(modelHost);
      expect(body.services.sql_auth.detail).toEqual(expect.any(String));
    });

    it('treats a signed-out administrator as anyone', async () => {
      const { app } = await failingTpmsApp();
      const token = await stack.tokenFor(ADMIN_USERS);
      await request(app).post('/api/auth/logout').set('Authorization', `Bearer ${token}`).expect(200);
      const res = await request(app).get('/api/health').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.text).not.toContain(modelHost);
    });
  });
});
