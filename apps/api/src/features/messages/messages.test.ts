import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  MESSAGE_CONTENT_MAX,
  PLACEHOLDER_TITLE,
} from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { postStream } from '../../test/event-stream-client.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;
const sara: string = USERS.sara.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 2 },
    env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' },
    appOptions: { heartbeatMs: 50, messages: { titleWaitMs: 2000 } },
  });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
  llm.configure({ tokenDelayMs: 2, slowDelayMs: 300, reply: undefined, titleReply: undefined });
});

const newChat = (userId: string, body?: Record<string, unknown>) => stack.createChat(userId, body);

const send = (userId: string, chatId: string, content: string) => stack.sendMessage(userId, chatId, content);

const messagesOf = (userId: string, chatId: string) => stack.messagesOf(userId, chatId);
const chatOf = (userId: string, chatId: string) => stack.chatOf(userId, chatId);

describe('POST /api/chats/:id/messages', () => {
  it('streams the reply and saves both messages with consecutive IDs and message_count', async () => {
    const chat = await newChat(arash);
    const reply = await send(arash, chat.chat_id, 'How do I size a relief valve for a blocked outlet?');

    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(reply.headers.get('cache-control')).toMatch(/no-cache/);
    expect(reply.headers.get('x-accel-buffering')).toBe('no');
    const types = reply.events.map((item) => item.event.type);
    expect(types[0]).toBe('user_message');
    expect(types.at(-1)).toBe('done');
    expect(types.indexOf('assistant_message')).toBeGreaterThan(types.lastIndexOf('delta'));

    const [userMessage] = reply.of('user_message').map((event) => event.message);
    const [assistant] = reply.of('assistant_message').map((event) => event.message);
    expect(userMessage).toMatchObject({
      message_id: `S-${chat.chat_id}-M-001`,
      role: 'user',
      content: 'How do I size a relief valve for a blocked outlet?',
      status: 'complete',
    });
    const deltas = reply.of('delta');
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.every((delta) => delta.message_id === `S-${chat.chat_id}-M-002`)).toBe(true);
    expect(assistant).toMatchObject({ message_id: `S-${chat.chat_id}-M-002`, role: 'assistant', status: 'complete', model: 'fake-model' });
    expect(assistant?.content).toBe(deltas.map((delta) => delta.content).join(''));
    expect(assistant?.content).toContain('relief valve');

    expect(await messagesOf(arash, chat.chat_id)).toEqual([userMessage, assistant]);
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(2);
    const stored = JSON.parse((await stack.deps.redis.chat.get(`chat:${chat.chat_id}:metadata`)) ?? '{}');
    expect(stored.message_count).toBe(2);
  });

  it('continues the numbering and sends the earlier turns to the model', async () => {
    const chat = await newChat(arash);
    await send(arash, chat.chat_id, 'What is NPSH?');
    const second = await send(arash, chat.chat_id, 'And how do I calculate it?');

    expect(second.of('user_message')[0]?.message.message_id).toBe(`S-${chat.chat_id}-M-003`);
    expect(second.of('assistant_message')[0]?.message.message_id).toBe(`S-${chat.chat_id}-M-004`);
    expect((await messagesOf(arash, chat.chat_id)).map((message) => message.message_id)).toEqual(
      [1, 2, 3, 4].map((seq) => `S-${chat.chat_id}-M-00${seq}`),
    );
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(4);

    const request = llm.requests.filter((item) => item.kind === 'chat').at(-1);
    expect(request?.stream).toBe(true);
    expect(request?.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(request?.messages[1]?.content).toBe('What is NPSH?');
    expect(request?.messages[3]?.content).toBe('And how do I calculate it?');
  });

  it('sends heartbeat comments while the model is slow to answer', async () => {
    const chat = await newChat(arash);
    llm.setMode('slow');
    const reply = await send(arash, chat.chat_id, 'Explain water hammer');
    expect(reply.pings).toBeGreaterThanOrEqual(2);
    expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');
  });

  it('names the project and page to the model in a project chat, which keeps its page name', async () => {
    const chat = await newChat(arash, {
      chat_type: 'project',
      project_number: String(PROJECTS.refinery.id),
      page_name: 'Flare system P&ID review',
    });
    const reply = await send(arash, chat.chat_id, 'Which flare header size do we need?');

    expect(reply.of('title')).toEqual([]);
    const request = llm.requests.filter((item) => item.kind === 'chat').at(-1);
    const system = request?.messages[0];
    expect(system?.role).toBe('system');
    expect(system?.content).toContain(PROJECTS.refinery.name);
    expect(system?.content).toContain(String(PROJECTS.refinery.id));
    expect(system?.content).toContain('Flare system P&ID review');
    expect(llm.requests.some((item) => item.kind === 'title' && item.messages.some((m) => m.content.includes('flare header')))).toBe(false);
    expect((await chatOf(arash, chat.chat_id)).chat_name).toBe('Flare system P&ID review');
  });

  it('refuses a second message while a reply is still being written (409)', async () => {
    const chat = await newChat(arash);
    llm.setMode('slow');
    const first = send(arash, chat.chat_id, 'First question');
    await llm.waitForRequest((item) => item.kind === 'chat' && item.messages.at(-1)?.content === 'First question');
    const second = await send(arash, chat.chat_id, 'Second question');
    expect(second.status).toBe(409);
    expect(ErrorBodySchema.parse(second.json).code).toBe('conflict');
    expect((await first).of('assistant_message')[0]?.message.status).toBe('complete');
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(2);
    // The refused message was not saved and spent no message number.
    expect((await messagesOf(arash, chat.chat_id)).map((message) => message.content)).toEqual(['First question', expect.any(String)]);
    expect(await stack.deps.redis.chat.get(`chat:${chat.chat_id}:message_seq`)).toBe('2');
  });

  it('takes nothing for a chat of another user, nor for a project the user may no longer use', async () => {
    const limitsOf = async (userId: string) => [
      await stack.deps.redis.cache.zCard(`ratelimit:messages:${userId}`),
      await stack.deps.redis.cache.zCard(`ratelimit:streams:${userId}`),
    ];
    const project = String(PROJECTS.refinery.id);
    const chat = await newChat(arash, { chat_type: 'project', project_number: project, page_name: 'Relief valves' });
    const before = await limitsOf(sara);
    const foreign = await send(sara, chat.chat_id, 'Not my chat');
    expect(foreign.status).toBe(404);
    expect(await limitsOf(sara)).toEqual(before);

    const permissionKey = `tpms:perm:${project}:${arash}`;
    const mine = await limitsOf(arash);
    await stack.deps.redis.cache.set(permissionKey, '0');
    try {
      const revoked = await send(arash, chat.chat_id, 'Still allowed?');
      expect(revoked.status).toBe(403);
      expect(ErrorBodySchema.parse(revoked.json).detail).toBe(`Access denied for project ${project}`);
    } finally {
      await stack.deps.redis.cache.del(permissionKey);
    }
    expect(await limitsOf(arash)).toEqual(mine);
    expect(await messagesOf(arash, chat.chat_id)).toEqual([]);
    expect(await stack.deps.redis.chat.get(`chat:${chat.chat_id}:message_seq`)).toBeNull();
    expect(await stack.deps.redis.chat.get(`chat:${chat.chat_id}:streaming`)).toBeNull();
    expect(llm.requests.some((item) => item.messages.some((message) => message.content === 'Still allowed?' || message.content === 'Not my chat'))).toBe(false);
    // Allowed again: the same chat answers.
    expect((await send(arash, chat.chat_id, 'Allowed again')).of('assistant_message')[0]?.message.status).toBe('complete');
  });

  it('has saved the user message, with its message_count, by the time the model is asked; the reply shows as streaming', async () => {
    const chat = await newChat(arash);
    llm.setMode('slow');
    const reply = send(arash, chat.chat_id, 'Is the message stored yet?');
    await llm.waitForRequest((item) => item.kind === 'chat' && item.messages.at(-1)?.content === 'Is the message stored yet?');
    expect(await messagesOf(arash, chat.chat_id)).toMatchObject([
      { message_id: `S-${chat.chat_id}-M-001`, role: 'user', content: 'Is the message stored yet?', status: 'complete' },
      { message_id: `S-${chat.chat_id}-M-002`, role: 'assistant', content: '', status: 'streaming' },
    ]);
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(1);
    expect((await reply).of('user_message')[0]?.message).toEqual((await messagesOf(arash, chat.chat_id))[0]);
  });

  it.each([
    ['a missing content', {}],
    ['blank content', { content: '   ' }],
    ['content that is not text', { content: 42 }],
    ['content over the limit', { content: 'x'.repeat(MESSAGE_CONTENT_MAX + 1) }],
  ])('refuses %s with the one error body (400)', async (_name, body) => {
    const chat = await newChat(arash);
    const response = await stack.http()
      .post(`/api/chats/${chat.chat_id}/messages`)
      .set('Authorization', await stack.bearer(arash))
      .send(body);
    expect(response.status).toBe(400);
    expect(ErrorBodySchema.parse(response.body).code).toBe('validation');
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(0);
  });

  it('refuses a body that is not JSON (400)', async () => {
    const chat = await newChat(arash);
    const response = await stack.http()
      .post(`/api/chats/${chat.chat_id}/messages`)
      .set('Authorization', await stack.bearer(arash))
      .set('Content-Type', 'application/json')
      .send('{"content": ');
    expect(response.status).toBe(400);
    expect(ErrorBodySchema.parse(response.body).code).toBe('validation');
  });
});

describe('POST /api/chats/:id/regenerate', () => {
  it('replaces the last reply in place, keeping its ID, without a user_message event', async () => {
    const chat = await newChat(arash);
    const first = await send(arash, chat.chat_id, 'Typical pipe roughness of carbon steel?');
    const oldReply = first.of('assistant_message')[0]?.message;
    llm.configure({ reply: 'About 0.045 mm for new commercial steel pipe.' });

    const again = await postStream(`${stack.url}/api/chats/${chat.chat_id}/regenerate`, await stack.tokenFor(arash));
    expect(again.status).toBe(200);
    expect(again.of('user_message')).toEqual([]);
    const newReply = again.of('assistant_message')[0]?.message;
    expect(newReply).toMatchObject({ message_id: oldReply?.message_id, content: 'About 0.045 mm for new commercial steel pipe.' });
    expect(again.of('delta').every((delta) => delta.message_id === oldReply?.message_id)).toBe(true);

    const stored = await messagesOf(arash, chat.chat_id);
    expect(stored.map((message) => message.message_id)).toEqual([`S-${chat.chat_id}-M-001`, `S-${chat.chat_id}-M-002`]);
    expect(stored[1]?.content).toBe('About 0.045 mm for new commercial steel pipe.');
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(2);
    // The replaced reply is not part of what the model sees.
    const request = llm.requests.filter((item) => item.kind === 'chat').at(-1);
    expect(request?.messages.map((message) => message.role)).toEqual(['system', 'user']);
  });

  it('answers the last message with a new ID when it has no reply yet', async () => {
    const chat = await newChat(arash);
    await stack.deps.redis.chat.rPush(
      `chat:${chat.chat_id}:messages`,
      JSON.stringify({ role: 'user', content: 'Left unanswered', created_at: new Date().toISOString() }),
    );
    await stack.deps.redis.chat.set(`chat:${chat.chat_id}:message_seq`, '1');
    const again = await postStream(`${stack.url}/api/chats/${chat.chat_id}/regenerate`, await stack.tokenFor(arash));
    expect(again.of('assistant_message')[0]?.message.message_id).toBe(`S-${chat.chat_id}-M-002`);
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(2);
  });

  it('refuses a chat without messages (409)', async () => {
    const chat = await newChat(arash);
    const again = await postStream(`${stack.url}/api/chats/${chat.chat_id}/regenerate`, await stack.tokenFor(arash));
    expect(again.status).toBe(409);
    expect(ErrorBodySchema.parse(again.json).code).toBe('conflict');
  });
});

describe('isolation', () => {
  it.each([
    ['GET', 'messages'],
    ['POST', 'messages'],
    ['POST', 'stop'],
    ['POST', 'regenerate'],
    ['POST', 'generate-title'],
  ])("answers %s /api/chats/:id/%s on another user's chat with 404", async (method, action) => {
    const chat = await newChat(arash);
    await send(arash, chat.chat_id, 'Private question about our compressor');
    const requestsBefore = llm.requests.length;
    const path = `/api/chats/${chat.chat_id}/${action}`;
    const call = method === 'GET' ? stack.http().get(path) : stack.http().post(path).send({ content: 'hi', first_message: 'hi' });
    const response = await call.set('Authorization', await stack.bearer(sara));
    expect(response.status).toBe(404);
    const error = ErrorBodySchema.parse(response.body);
    expect(error.code).toBe('not_found');
    expect(error.detail).not.toMatch(/No endpoint/);
    expect(response.text).not.toContain('compressor');
    expect(llm.requests.length).toBe(requestsBefore);
    expect((await chatOf(arash, chat.chat_id)).message_count).toBe(2);
  });

  it('answers a malformed session ID with 404 and no token with 401', async () => {
    const malformed = await stack.http().get('/api/chats/not-a-chat/messages').set('Authorization', await stack.bearer(arash));
    expect(malformed.status).toBe(404);
    const chat = await newChat(arash);
    const anonymous = await stack.http().get(`/api/chats/${chat.chat_id}/messages`);
    expect(anonymous.status).toBe(401);
    expect(ErrorBodySchema.parse(anonymous.body).code).toBe('unauthorized');
  });
});

it('starts a new chat with the placeholder title', async () => {
  expect((await newChat(arash)).chat_name).toBe(PLACEHOLDER_TITLE);
});
