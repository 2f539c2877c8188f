import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  HealthResponseSchema,
  LlmDiagnosticsSchema,
  PLACEHOLDER_TITLE,
  StopResponseSchema,
} from '@simorgh/contracts';
import request from 'supertest';
import type { Express } from 'express';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { eventually, listen, type StreamOptions } from '../../test/event-stream-client.js';
import { USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 2 },
    env: { LLM_TIMEOUT_MS: '1000', MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' },
  });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
  llm.configure({ tokenDelayMs: 2, slowDelayMs: 3000, retryAfterS: 7, reply: undefined, titleReply: undefined });
});

const newChat = (userId = arash, app?: Express) => stack.createChat(userId, undefined, app);

const send = (chatId: string, content: string, { userId = arash, ...options }: StreamOptions & { userId?: string; url?: string } = {}) =>
  stack.sendMessage(userId, chatId, content, options);

const messagesOf = (chatId: string, userId = arash) => stack.messagesOf(userId, chatId);
const chatOf = (chatId: string, userId = arash) => stack.chatOf(userId, chatId);

const lastChatRequest = (content: string) =>
  llm.waitForRequest((item) => item.kind === 'chat' && item.messages.at(-1)?.content === content);

describe('stopping a reply', () => {
  it('stops a reply from another request and ends the stream with the stopped reply', async () => {
    llm.configure({ tokenDelayMs: 60 });
    const chat = await newChat();
    const token = await stack.bearer(arash);
    let stop: Promise<request.Response> | null = null;
    const reply = await send(chat.chat_id, 'Describe every API 610 pump type', {
      onEvent: (event) => {
        if (event.type === 'delta' && !stop) stop = stack.http().post(`/api/chats/${chat.chat_id}/stop`).set('Authorization', token).then((r) => r);
      },
    });
    const stopResponse = await stop!;
    expect(StopResponseSchema.parse(stopResponse.body)).toEqual({ status: 'success', chat_id: chat.chat_id, stopped: true });
    expect(reply.of('assistant_message')[0]?.message.status).toBe('stopped');
    expect(reply.events.at(-1)?.event.type).toBe('done');
    const upstream = await lastChatRequest('Describe every API 610 pump type');
    expect(upstream.aborted).toBe(true);

    const nothing = await stack.http().post(`/api/chats/${chat.chat_id}/stop`).set('Authorization', token);
    expect(StopResponseSchema.parse(nothing.body).stopped).toBe(false);
  });

  it('stops a reply streamed by another API process (Redis pub/sub)', async () => {
    llm.configure({ tokenDelayMs: 60 });
    const other = await stack.build({ llmBaseUrl: llm.url, env: { LLM_TIMEOUT_MS: '1000' } });
    const chat = await newChat();
    const token = await stack.bearer(arash);
    let stop: Promise<request.Response> | null = null;
    const reply = await send(chat.chat_id, 'Explain API 682 seal plans', {
      onEvent: (event) => {
        if (event.type === 'delta' && !stop) stop = request(other.app).post(`/api/chats/${chat.chat_id}/stop`).set('Authorization', token).then((r) => r);
      },
    });
    expect(StopResponseSchema.parse((await stop!).body).stopped).toBe(true);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('stopped');
    expect((await lastChatRequest('Explain API 682 seal plans')).aborted).toBe(true);
  });
});

describe('model failures', () => {
  it('turns a model outage into an error event and a saved error reply; the chat stays usable', async () => {
    llm.setMode('failing');
    const chat = await newChat();
    const failed = await send(chat.chat_id, 'Size a control valve');

    expect(failed.status).toBe(200);
    const [error] = failed.of('error');
    expect(error).toMatchObject({ code: 'upstream_unavailable' });
    expect(error?.detail).toMatch(/HTTP 500/);
    const [reply] = failed.of('assistant_message').map((event) => event.message);
    expect(reply).toMatchObject({ message_id: `S-${chat.chat_id}-M-002`, status: 'error', content: '', error: error?.detail });
    expect(failed.events.at(-1)?.event.type).toBe('done');
    // The title still comes, from the fallback.
    expect(failed.of('title')[0]?.title).toBe('Size a control valve');

    llm.setMode('normal');
    const retried = await send(chat.chat_id, 'Size a control valve, please');
    expect(retried.of('assistant_message')[0]?.message).toMatchObject({ message_id: `S-${chat.chat_id}-M-004`, status: 'complete' });
    // The failed reply is not sent back to the model as if it were an answer.
    const upstream = await lastChatRequest('Size a control valve, please');
    expect(upstream.messages.map((message) => message.role)).toEqual(['system', 'user', 'user']);
    expect((await chatOf(chat.chat_id)).message_count).toBe(4);
  });

  it('times out a model that never answers (LLM_TIMEOUT_MS) and aborts the upstream request', async () => {
    llm.setMode('hanging');
    const chat = await newChat();
    const started = Date.now();
    const reply = await send(chat.chat_id, 'Hello?');
    expect(Date.now() - started).toBeLessThan(4000);
    expect(reply.of('error')[0]).toMatchObject({ code: 'upstream_unavailable' });
    expect(reply.of('error')[0]?.detail).toMatch(/did not answer within 1 s/);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('error');
    const upstream = await lastChatRequest('Hello?');
    await eventually(() => upstream.aborted, 2000);
  });

  it('times out a stream that goes silent after it started', async () => {
    llm.setMode('slow');
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'Silent after headers');
    expect(reply.of('error')[0]?.detail).toMatch(/did not answer within 1 s/);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('error');
  });

  it('reports a model rate limit (429) with the wait the server asked for', async () => {
    llm.setMode('rate_limited');
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'Busy model');
    expect(reply.of('error')[0]).toMatchObject({ code: 'rate_limited' });
    expect(reply.of('error')[0]?.detail).toMatch(/in 7 s/);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('error');
    expect(llm.requests.filter((item) => item.kind === 'chat' && item.messages.at(-1)?.content === 'Busy model')).toHaveLength(1);
  });
});

describe('without a configured model', () => {
  it('saves the message, explains how to configure a model, titles the chat from its first words', async () => {
    const bare = await stack.build({ env: { OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, OPENAI_MODEL: undefined } });
    const bareServer = await listen(bare.app);
    try {
      const chat = await newChat(arash, bare.app);
      const reply = await send(chat.chat_id, 'Is anyone there to answer?', { url: bareServer.url });
      expect(reply.of('user_message')[0]?.message.content).toBe('Is anyone there to answer?');
      const detail = reply.of('error')[0]?.detail ?? '';
      expect(detail).toContain('OPENAI_BASE_URL');
      expect(detail).toContain('OPENAI_API_KEY');
      expect(detail).toContain('OPENAI_MODEL');
      expect(reply.of('title')[0]?.title).toBe('Is anyone there to answer');
      expect((await messagesOf(chat.chat_id)).map((message) => message.status)).toEqual(['complete', 'error']);
      expect((await chatOf(chat.chat_id)).chat_name).not.toBe(PLACEHOLDER_TITLE);

      const health = HealthResponseSchema.parse((await request(bare.app).get('/api/health')).body);
      expect(health.services.llm.status).toBe('not_configured');
      const diagnostics = await request(bare.app).get('/api/llm/diagnostics').set('Authorization', await stack.bearer(arash));
      expect(LlmDiagnosticsSchema.parse(diagnostics.body)).toMatchObject({ configured: false, reachable: false, base_url_host: null });
    } finally {
      await bareServer.close();
    }
  });
});

describe('per-user limits', () => {
  it('refuses messages over MESSAGES_PER_MINUTE with 429 and Retry-After, before saving anything', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '2' } });
    const limitedServer = await listen(limited.app);
    try {
      const user = 'limit.minute';
      const chat = await newChat(user, limited.app);
      for (const content of ['one', 'two']) {
        expect((await send(chat.chat_id, content, { userId: user, url: limitedServer.url })).status).toBe(200);
      }
      const refused = await send(chat.chat_id, 'three', { userId: user, url: limitedServer.url });
      expect(refused.status).toBe(429);
      expect(ErrorBodySchema.parse(refused.json).code).toBe('rate_limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await chatOf(chat.chat_id, user)).message_count).toBe(4);
      // No message number was spent on the refused one: the next message follows on.
      expect(await stack.deps.redis.chat.get(`chat:${chat.chat_id}:message_seq`)).toBe('4');
      // Another user is not affected.
      const other = await newChat('limit.other', limited.app);
      expect((await send(other.chat_id, 'one', { userId: 'limit.other', url: limitedServer.url })).status).toBe(200);
    } finally {
      await limitedServer.close();
    }
  });

  it("does not count a message sent to a chat the user cannot see (404) against MESSAGES_PER_MINUTE", async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '2' } });
    const limitedServer = await listen(limited.app);
    try {
      const user = 'limit.notfound';
      const others = await newChat(arash, limited.app);
      for (const content of ['probe one', 'probe two']) {
        const refused = await send(others.chat_id, content, { userId: user, url: limitedServer.url });
        expect(refused.status).toBe(404);
        expect(ErrorBodySchema.parse(refused.json).code).toBe('not_found');
      }
      const own = await newChat(user, limited.app);
      for (const content of ['one', 'two']) {
        expect((await send(own.chat_id, content, { userId: user, url: limitedServer.url })).status).toBe(200);
      }
      expect((await chatOf(others.chat_id)).message_count).toBe(0);
    } finally {
      await limitedServer.close();
    }
  });

  it('does not count a message refused because a reply is still being written (409) against MESSAGES_PER_MINUTE', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '2', LLM_TIMEOUT_MS: '10000' } });
    const limitedServer = await listen(limited.app);
    try {
      const user = 'limit.busy';
      const busy = await newChat(user, limited.app);
      const other = await newChat(user, limited.app);
      llm.configure({ slowDelayMs: 800 });
      llm.setMode('slow');
      const running = send(busy.chat_id, 'slow one', { userId: user, url: limitedServer.url });
      await lastChatRequest('slow one');
      const refused = await send(busy.chat_id, 'while busy', { userId: user, url: limitedServer.url });
      expect(refused.status).toBe(409);
      expect((await running).of('assistant_message')[0]?.message.status).toBe('complete');
      llm.setMode('normal');
      // The 409 took nothing: the second message of the minute is still free, the third is not.
      expect((await send(other.chat_id, 'second', { userId: user, url: limitedServer.url })).status).toBe(200);
      expect((await send(other.chat_id, 'third', { userId: user, url: limitedServer.url })).status).toBe(429);
    } finally {
      await limitedServer.close();
    }
  });

  it('refuses a stream over CONCURRENT_STREAMS with 429 and Retry-After', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { CONCURRENT_STREAMS: '1', LLM_TIMEOUT_MS: '10000' } });
    const limitedServer = await listen(limited.app);
    try {
      const user = 'limit.streams';
      const first = await newChat(user, limited.app);
      const second = await newChat(user, limited.app);
      // The first reply holds its slot until it is stopped, however long the machine takes.
      llm.setMode('hanging');
      const running = send(first.chat_id, 'held until stopped', { userId: user, url: limitedServer.url });
      await lastChatRequest('held until stopped');
      const refused = await send(second.chat_id, 'in parallel', { userId: user, url: limitedServer.url });
      expect(refused.status).toBe(429);
      expect(ErrorBodySchema.parse(refused.json).code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await chatOf(second.chat_id, user)).message_count).toBe(0);
      llm.setMode('normal');
      const stop = await fetch(`${limitedServer.url}/api/chats/${first.chat_id}/stop`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${await stack.tokenFor(user)}` },
      });
      expect(stop.status).toBe(200);
      expect((await running).of('assistant_message')[0]?.message.status).toBe('stopped');
      // The slot is free again once the reply is done.
      expect((await send(second.chat_id, 'now', { userId: user, url: limitedServer.url })).status).toBe(200);
    } finally {
      await limitedServer.close();
    }
  });
});
