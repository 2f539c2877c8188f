import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ErrorBodySchema, HealthResponseSchema, LlmDiagnosticsSchema } from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const KEY = 'sk-test-secret-key-0123456789';
const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({
    model: { apiKey: KEY },
    env: { OPENAI_API_KEY: KEY, OPENAI_TITLE_MODEL: 'fake-title-model' },
  });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
});

/** A fresh app (and so a fresh probe cache) on the same stack. */
async function freshApp(env: Record<string, string | undefined> = {}) {
  return (await stack.build({ llmBaseUrl: llm.url, env: { OPENAI_API_KEY: KEY, ...env } })).app;
}

async function diagnostics(app = stack.app) {
  const response = await request(app).get('/api/llm/diagnostics').set('Authorization', await stack.bearer(arash));
  expect(response.status).toBe(200);
  expect(response.text).not.toContain(KEY);
  return LlmDiagnosticsSchema.parse(response.body);
}

describe('GET /api/llm/diagnostics', () => {
  it('reports the host, models, reachability and probe latency, never the key', async () => {
    const before = llm.requests.length;
    const result = await diagnostics();
    expect(result).toMatchObject({
      configured: true,
      base_url_host: `127.0.0.1:${llm.port}`,
      chat_model: 'fake-model',
      title_model: 'fake-title-model',
      reachable: true,
      last_error: null,
    });
    expect(result.latency_ms).toBeGreaterThanOrEqual(0);
    expect(result.last_success_at).not.toBeNull();
    expect(result.checked_at).not.toBeNull();
    const probe = llm.requests.slice(before).find((item) => item.kind === 'models');
    expect(probe?.authorization).toBe(`Bearer ${KEY}`);
  });

  it('reuses a recent probe instead of asking the model server again', async () => {
    const app = await freshApp();
    await diagnostics(app);
    const probes = llm.requests.filter((item) => item.kind === 'models').length;
    await diagnostics(app);
    await request(app).get('/api/health');
    expect(llm.requests.filter((item) => item.kind === 'models').length).toBe(probes);
  });

  it('reports an unreachable model server with a readable last error', async () => {
    llm.setMode('failing');
    const result = await diagnostics(await freshApp());
    expect(result.reachable).toBe(false);
    expect(result.last_error).toMatch(/HTTP 500/);
  });

  it('gives up on a hanging model server quickly', async () => {
    llm.setMode('hanging');
    const started = Date.now();
    const result = await diagnostics(await freshApp());
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.reachable).toBe(false);
  });

  it('says the key was refused, without showing it', async () => {
    const result = await diagnostics(await freshApp({ OPENAI_API_KEY: 'sk-wrong-key-abcdef' }));
    expect(result.reachable).toBe(false);
    expect(result.last_error).toMatch(/refused the API key/);
    expect(JSON.stringify(result)).not.toContain('sk-wrong-key-abcdef');
  });

  it('needs a signed-in user (401)', async () => {
    const response = await request(stack.app).get('/api/llm/diagnostics');
    expect(response.status).toBe(401);
    expect(ErrorBodySchema.parse(response.body).code).toBe('unauthorized');
  });
});

describe('health of the model server', () => {
  it('is healthy with a latency when the models endpoint answers', async () => {
    const health = HealthResponseSchema.parse((await request(await freshApp()).get('/api/health')).body);
    expect(health.services.llm.status).toBe('healthy');
    expect(health.services.llm.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('is degraded when the model server answers but no model is configured', async () => {
    // Why it is degraded is for administrators; anyone else sees the status only.
    const admin = await stack.bearer(USERS.admin.username);
    const health = HealthResponseSchema.parse((await request(await freshApp({ OPENAI_MODEL: undefined })).get('/api/health').set('Authorization', admin)).body);
    expect(health.services.llm.status).toBe('degraded');
    expect(health.services.llm.detail).toContain('OPENAI_MODEL');
    expect(health.status).toBe('degraded');
  });

  it('is unhealthy, and the API degraded (200), when the model server fails', async () => {
    llm.setMode('failing');
    const response = await request(await freshApp()).get('/api/health');
    expect(response.status).toBe(200);
    const health = HealthResponseSchema.parse(response.body);
    expect(health.services.llm.status).toBe('unhealthy');
    expect(health.status).toBe('degraded');
  });
});
