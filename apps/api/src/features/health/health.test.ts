import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthResponseSchema, type ServiceHealth } from '@simorgh/contracts';
import request from 'supertest';
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
afterAll(async () => {
  await stack.stop();
});

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
      const body = HealthResponseSchema.parse((await stack.http().get('/api/health').expect(200)).body);
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
});
