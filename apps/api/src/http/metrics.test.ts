import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ErrorBodySchema, ErrorCodeSchema, routes } from '@simorgh/contracts';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import request from 'supertest';
import type { Express } from 'express';
import { eventually, listen, postStream } from '../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../test/served-stack.js';
import { createMetrics } from '../metrics.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const arash = USERS.arash.username;
const sara = USERS.sara.username;

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The Prometheus text format's sample lines, with their labels. */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and these labels (0 when absent). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value ?? 0;
}

let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 1 }, env: { METRICS_TOKEN } });
});

afterAll(() => stack?.stop());

/** A new app with its own deps, so its metrics start from zero. */
async function freshApp(): Promise<Express> {
  return (await stack.build({ llmBaseUrl: stack.llm.url, env: { METRICS_TOKEN } })).app;
}

async function scrape(app: Express): Promise<Sample[]> {
  const response = await request(app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(response.status).toBe(200);
  return parseSamples(response.text);
}

async function sendMessage(app: Express, userId: string, chatId: string, content: string) {
  const server = await listen(app);
  try {
    return await postStream(`${server.url}/api/chats/${chatId}/messages`, await stack.tokenFor(userId), { content });
  } finally {
    await server.close();
  }
}

describe('GET /metrics', () => {
  it('answers 404 with the one error body when METRICS_TOKEN is unset', async () => {
    const { app } = await stack.build();
    for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}`]) {
      const call = request(app).get('/metrics');
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      expect(response.status).toBe(404);
      expect(ErrorBodySchema.parse(response.body).code).toBe('not_found');
    }
  });

  it('refuses a missing or wrong token with 401 and the one error body', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${METRICS_TOKEN}x`, METRICS_TOKEN, `Basic ${METRICS_TOKEN}`, await stack.bearer(arash)]) {
      const call = request(stack.app).get('/metrics');
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      expect(response.status, authorization).toBe(401);
      expect(ErrorBodySchema.parse(response.body).code).toBe('unauthorized');
      expect(response.text).not.toContain('simorgh_');
    }
  });

  it('answers 200 in the Prometheus text format with the process metrics, given the token', async () => {
    const response = await request(stack.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(stack.deps.metrics.registry.contentType);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseSamples(response.text);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((sample) => sample.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts requests by route template and status, replies, chats created by type, and store latency', async () => {
    const app = await freshApp();
    const auth = await stack.bearer(arash);
    const general = await request(app).post('/api/chats').set('Authorization', auth).send({ chat_type: 'general' });
    expect(general.status).toBe(201);
    const project = await request(app)
      .post('/api/chats')
      .set('Authorization', auth)
      .send({ chat_type: 'project', project_number: PROJECTS.refinery.id, page_name: 'Pump sizing' });
    expect(project.status).toBe(201);
    expect((await request(app).get('/api/chats').set('Authorization', auth)).status).toBe(200);
    expect((await request(app).get('/api/chats/G-209901-999999').set('Authorization', auth)).status).toBe(404);
    expect((await request(app).get('/api/no-such-thing').set('Authorization', auth)).status).toBe(404);
    const reply = await sendMessage(app, arash, CreateChatResponseSchema.parse(general.body).chat.chat_id, 'Size a pump for 40 m head');
    expect(reply.status).toBe(200);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');

    // A request is counted when its response closes, which may come a moment after the client read it.
    const samples = await eventually(async () => {
      const scraped = await scrape(app);
      const counted = scraped.filter((sample) => sample.name === 'simorgh_http_requests_total').reduce((sum, sample) => sum + sample.value, 0);
      return counted === 6 && scraped;
    });
    const requests = (method: string, route: string, status: string) => valueOf(samples, 'simorgh_http_requests_total', { method, route, status });
    expect(requests('POST', '/api/chats', '201')).toBe(2);
    expect(requests('GET', '/api/chats', '200')).toBe(1);
    expect(requests('GET', '/api/chats/:id', '404')).toBe(1);
    expect(requests('GET', 'unmatched', '404')).toBe(1);
    expect(requests('POST', '/api/chats/:id/messages', '200')).toBe(1);
    const streamed = { method: 'POST', route: '/api/chats/:id/messages', status: '200' };
    expect(valueOf(samples, 'simorgh_http_request_duration_seconds_count', streamed)).toBe(1);
    // The stream counts until it ends: at least the model's time to answer.
    expect(valueOf(samples, 'simorgh_http_request_duration_seconds_sum', streamed)).toBeGreaterThanOrEqual(
      valueOf(samples, 'simorgh_reply_first_token_seconds_sum'),
    );
    expect(valueOf(samples, 'simorgh_replies_running')).toBe(0);
    expect(valueOf(samples, 'simorgh_reply_first_token_seconds_count')).toBe(1);
    expect(valueOf(samples, 'simorgh_reply_duration_seconds_count', { status: 'complete' })).toBe(1);
    expect(valueOf(samples, 'simorgh_chats_created_total', { type: 'general' })).toBe(1);
    expect(valueOf(samples, 'simorgh_chats_created_total', { type: 'project' })).toBe(1);
    expect(valueOf(samples, 'simorgh_tpms_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'simorgh_redis_command_duration_seconds_count', { client: 'chat' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'simorgh_redis_command_duration_seconds_count', { client: 'cache' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'simorgh_model_errors_total')).toBe(0);

    // The history mirror (running in this app's process) writes the changes to PostgreSQL.
    const history = await eventually(async () => {
      const scraped = await scrape(app);
      return valueOf(scraped, 'simorgh_postgres_query_duration_seconds_count') > 0 && scraped;
    });
    for (const name of ['simorgh_history_mirror_lag_seconds', 'simorgh_history_outbox_backlog']) {
      expect(history.filter((sample) => sample.name === name)).toHaveLength(1);
      expect(valueOf(history, name)).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts a model failure by its kind, and the failed reply leaves no reply running', async () => {
    const app = await freshApp();
    const chat = await stack.createChat(arash, undefined, app);
    stack.llm.setMode('failing');
    try {
      const reply = await sendMessage(app, arash, chat.chat_id, 'This one fails');
      const error = reply.of('error')[0];
      expect(error).toBeDefined();
      const samples = await scrape(app);
      const kind = ErrorCodeSchema.parse(error?.code);
      expect(valueOf(samples, 'simorgh_model_errors_total', { kind })).toBe(1);
      expect(valueOf(samples, 'simorgh_reply_duration_seconds_count', { status: 'error' })).toBe(1);
      expect(valueOf(samples, 'simorgh_reply_first_token_seconds_count')).toBe(0);
      expect(valueOf(samples, 'simorgh_replies_running')).toBe(0);
    } finally {
      stack.llm.setMode('normal');
    }
  });

  it('counts a failed title apart: the reply succeeded, so no model error of a reply', async () => {
    const app = await freshApp();
    const chat = await stack.createChat(arash, undefined, app);
    stack.llm.setTitleMode('failing');
    try {
      const reply = await sendMessage(app, arash, chat.chat_id, 'Size a relief valve');
      expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');
      // The fallback title comes once the title request has failed.
      expect(reply.of('title')[0]?.title).toBe('Size a relief valve');
      const samples = await scrape(app);
      expect(valueOf(samples, 'simorgh_title_errors_total', { kind: 'upstream_unavailable' })).toBe(1);
      expect(valueOf(samples, 'simorgh_model_errors_total')).toBe(0);
      expect(valueOf(samples, 'simorgh_reply_duration_seconds_count', { status: 'complete' })).toBe(1);
    } finally {
      stack.llm.setMode('normal');
    }
  });

  it('reads the history backlog and lag at each scrape, and still answers when the read fails', async () => {
    let read: () => Promise<{ backlog: number; lagMs: number }> = async () => ({ backlog: 3, lagMs: 2500 });
    const metrics = createMetrics({ historyBacklog: () => read() });
    let samples = parseSamples(await metrics.registry.metrics());
    expect(valueOf(samples, 'simorgh_history_mirror_lag_seconds')).toBe(2.5);
    expect(valueOf(samples, 'simorgh_history_outbox_backlog')).toBe(3);
    read = async () => {
      throw new Error('Redis is down');
    };
    samples = parseSamples(await metrics.registry.metrics());
    expect(valueOf(samples, 'simorgh_history_mirror_lag_seconds')).toBe(2.5);
    read = async () => ({ backlog: 0, lagMs: 0 });
    samples = parseSamples(await metrics.registry.metrics());
    expect(valueOf(samples, 'simorgh_history_outbox_backlog')).toBe(0);
  });

  it('never uses a user, chat, message or project as a label value', async () => {
    const app = await freshApp();
    const ids: string[] = [];
    for (const userId of [arash, sara]) {
      const auth = await stack.bearer(userId);
      const chats = [
        await stack.createChat(userId, undefined, app),
        await stack.createChat(userId, { chat_type: 'project', project_number: PROJECTS.refinery.id, page_name: `Page of ${userId}` }, app),
      ];
      for (const chat of chats) {
        ids.push(chat.chat_id);
        const reply = await sendMessage(app, userId, chat.chat_id, `A question from ${userId}`);
        ids.push(...reply.of('assistant_message').map((event) => event.message.message_id));
        await request(app).get(`/api/chats/${chat.chat_id}/messages`).set('Authorization', auth);
        await request(app).get(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer(userId === arash ? sara : arash));
      }
      await request(app).get(`/api/chats/${userId}/${ids.at(-1) ?? ''}`).set('Authorization', auth);
    }
    expect(ids.length).toBeGreaterThanOrEqual(8);
    const forbidden = [...ids, arash, sara, ...Object.values(PROJECTS).map((project) => String(project.id))];

    const samples = await scrape(app);
    const templates = new Set<string>([...Object.values(routes).map((route) => route.path), 'unmatched']);
    const routeValues = new Set(samples.filter((sample) => 'route' in sample.labels).map((sample) => sample.labels.route));
    expect(routeValues.size).toBeGreaterThan(3);
    for (const route of routeValues) expect(templates.has(route as string), route).toBe(true);
    for (const sample of samples) {
      for (const [key, value] of Object.entries(sample.labels)) {
        if (key === 'le' || key === 'version' || key === 'space' || key === 'type' && sample.name.startsWith('nodejs_')) continue;
        for (const id of forbidden) expect(value, `${sample.name} ${key}`).not.toContain(id);
        // IDs and project numbers are long digit runs; no label value of ours has one.
        expect(value, `${sample.name} ${key}`).not.toMatch(/\d{4,}/);
      }
    }
  });
});
