import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { listen, postStream } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';
import { createEarlyRequests } from './early-model-request.js';
import { buildModelTurns } from './model-context.js';

const arash: string = USERS.arash.username;
const sara: string = USERS.sara.username;
/** Sends nothing in the other tests: the Redis limit of MESSAGES_PER_MINUTE counts from zero. */
const omid: string = USERS.omid.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 0 }, env: { MESSAGES_PER_MINUTE: '10000', CONCURRENT_STREAMS: '10' } });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

const chatRequests = () => llm.requests.filter((request) => request.kind === 'chat');
const early = async (deps = stack.deps) => {
  const counts = { used: 0, aborted: 0 };
  for (const value of (await deps.metrics.earlyModelRequests.get()).values) counts[value.labels.outcome as 'used' | 'aborted'] = value.value;
  return counts;
};
const turns = (request: { messages: Array<{ role: string; content: string }> }) => request.messages.map(({ role, content }) => `${role}: ${content}`);

describe('the model asked while a reply is admitted', () => {
  it('asks once per message, with the admitted history, from the first message of a chat created here on', async () => {
    const chat = await stack.createChat(arash);
    const before = await early();
    const asked = chatRequests().length;
    const first = await stack.sendMessage(arash, chat.chat_id, 'What is the design pressure of line 12?');
    const second = await stack.sendMessage(arash, chat.chat_id, 'And its test pressure?');
    expect([first.status, second.status]).toEqual([200, 200]);
    const replies = [first, second].map((reply) => reply.of('assistant_message')[0]?.message);
    expect(replies.map((message) => message?.status)).toEqual(['complete', 'complete']);

    const requests = chatRequests().slice(asked);
    expect(requests).toHaveLength(2);
    expect(requests.every((request) => !request.aborted)).toBe(true);
    const answer = replies[0]?.content ?? '';
    expect(turns(requests[1] as (typeof requests)[number]).slice(1)).toEqual([
      'user: What is the design pressure of line 12?',
      `assistant: ${answer}`,
      'user: And its test pressure?',
    ]);
    expect(await early()).toEqual({ used: before.used + 2, aborted: before.aborted });
  });

  it('aborts the early request when the history changed elsewhere, and answers from the stored history', async () => {
    const other = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '10000' } });
    const otherServer = await listen(other.app);
    try {
      // Created here: this process takes the chat to be empty. Then a message goes through another process.
      const chat = await stack.createChat(arash);
      expect((await stack.sendMessage(arash, chat.chat_id, 'Sent through the other process', { url: otherServer.url })).status).toBe(200);
      const before = await early();
      const asked = chatRequests().length;
      const reply = await stack.sendMessage(arash, chat.chat_id, 'Sent here');
      expect(reply.status).toBe(200);

      const requests = chatRequests().slice(asked);
      expect(requests).toHaveLength(2);
      const [guessed, answered] = requests as [(typeof requests)[number], (typeof requests)[number]];
      expect(turns(guessed).slice(1)).toEqual(['user: Sent here']);
      expect(turns(answered).slice(1, 2)).toEqual(['user: Sent through the other process']);
      expect(turns(answered).at(-1)).toBe('user: Sent here');
      expect(await early()).toEqual({ used: before.used, aborted: before.aborted + 1 });
      // Nothing of the aborted request reached the chat: one reply, complete.
      expect(reply.of('assistant_message').map((event) => event.message.status)).toEqual(['complete']);
    } finally {
      await otherServer.close();
    }
  });

  it('asks nothing early for a chat the sender does not own, a project chat, or a chat whose reply is still being written', async () => {
    const shared = await stack.createChat(arash);
    await stack.http().patch(`/api/chats/${shared.chat_id}`).set('Authorization', await stack.bearer(arash)).send({ allowed_users: [sara] }).expect(200);
    const project = await stack.createChat(arash, { chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Piping' });
    const before = await early();
    expect((await stack.sendMessage(sara, shared.chat_id, 'A colleague asks')).status).toBe(200);
    expect((await stack.sendMessage(arash, project.chat_id, 'About the project')).status).toBe(200);
    expect(await early()).toEqual(before);

    const chat = await stack.createChat(arash);
    llm.setMode('slow');
    try {
      const running = stack.sendMessage(arash, chat.chat_id, 'A slow answer');
      await llm.waitForRequest((request) => request.kind === 'chat' && request.messages.at(-1)?.content === 'A slow answer');
      const asked = chatRequests().length;
      const busy = await stack.sendMessage(arash, chat.chat_id, 'While it is written');
      expect(busy.status).toBe(409);
      expect(chatRequests().length).toBe(asked);
      await stack.http().post(`/api/chats/${chat.chat_id}/stop`).set('Authorization', await stack.bearer(arash)).expect(200);
      await running;
    } finally {
      llm.setMode('normal');
    }
  });

  it('asks early at most MESSAGES_PER_MINUTE times a minute per user, so refused messages cost no model request beyond it', async () => {
    const limited = await stack.build({ llmBaseUrl: llm.url, env: { MESSAGES_PER_MINUTE: '2' } });
    const server = await listen(limited.app);
    try {
      const chat = await stack.createChat(omid, { chat_type: 'general' }, limited.app);
      const token = await stack.tokenFor(omid);
      const url = `${server.url}/api/chats/${chat.chat_id}/messages`;
      expect((await postStream(url, token, { content: 'one' })).status).toBe(200);
      expect((await postStream(url, token, { content: 'two' })).status).toBe(200);
      const asked = chatRequests().length;
      const refused = await postStream(url, token, { content: 'three' });
      expect(refused.status).toBe(429);
      expect(chatRequests().length).toBe(asked);
      expect(await early(limited.deps)).toEqual({ used: 2, aborted: 0 });
    } finally {
      await server.close();
    }
  });
});

describe('an early request taken', () => {
  it('carries when the model was asked, so the first-token time counts from the request and not from its confirmation', async () => {
    const earlyModelRequests = new Counter({ name: 'early_test_total', help: '-', labelNames: ['outcome'] as const, registers: [new Registry()] });
    const requests = createEarlyRequests({
      llm: {
        systemPrompt: 'You help engineers.',
        async *streamChat() {
          yield 'piece';
        },
      },
      metrics: { earlyModelRequests },
      perMinute: 10,
      historyMessages: 10,
    });
    requests.remember({ chat_id: 'G-202611-000001', user_id: arash, chat_type: 'general', project_number: null, project_name: null, page_name: null }, [], 0);
    const request = await requests.start(arash, 'G-202611-000001', 'Hello', { maxMessages: 100, budgetChars: 10_000 });
    const sent = process.hrtime.bigint();
    const turns = buildModelTurns('You help engineers.', [{ role: 'user', content: 'Hello', status: 'complete' }], 10_000);
    const taken = request?.take(turns, new AbortController().signal, () => undefined);
    expect(taken?.askedAt).toBeTypeOf('bigint');
    expect((taken?.askedAt ?? sent + 1n) <= sent).toBe(true);
    expect(await taken?.first).toEqual({ value: 'piece', done: false });
  });
});
