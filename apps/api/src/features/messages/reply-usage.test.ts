import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageUsageSchema, type Message } from '@simorgh/contracts';
import { fakeUsage, type FakeLlm } from '@simorgh/devstack/fake-llm';
import { USERS } from '@simorgh/devstack/fixtures';
import { eventually, postStream, type StreamOptions } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 2 }, env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' } });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
  llm.configure({ tokenDelayMs: 2, sendUsage: true });
});

const send = (chatId: string, content: string, options: StreamOptions = {}) => stack.sendMessage(arash, chatId, content, options);

const chatRequest = (content: string) => llm.waitForRequest((item) => item.kind === 'chat' && item.messages.at(-1)?.content === content);

/** The API's documented estimate: 4 characters a token, 4 tokens of framing per prompt turn. */
const estimate = (prompt: Array<{ content: string }>, completion: string) => ({
  prompt_tokens: prompt.reduce((sum, turn) => sum + 4 + Math.ceil(turn.content.length / 4), 0),
  completion_tokens: Math.ceil(completion.length / 4),
});

type UsageRow = { message_id: string; role: string; prompt_tokens: number | null; completion_tokens: number | null; usage_model: string | null; usage_estimated: boolean | null };
const usageRows = async (chatId: string) => {
  await stack.drained();
  return stack.sql<UsageRow>('SELECT message_id, role, prompt_tokens, completion_tokens, usage_model, usage_estimated FROM messages WHERE chat_id = $1 ORDER BY seq', [chatId]);
};

const expectRowMatches = (row: UsageRow | undefined, message: Message | undefined) => {
  expect(row?.message_id).toBe(message?.message_id);
  expect(row).toMatchObject({
    prompt_tokens: message?.usage?.prompt_tokens ?? null,
    completion_tokens: message?.usage?.completion_tokens ?? null,
    usage_model: message?.usage?.model ?? null,
    usage_estimated: message?.usage?.estimated ?? null,
  });
};

describe('token usage per reply', () => {
  it('asks the server for usage and keeps its counts with the reply, in Redis and PostgreSQL', async () => {
    const chat = await stack.createChat(arash);
    const reply = await send(chat.chat_id, 'How thick must a crude tank shell be?');
    const upstream = await chatRequest('How thick must a crude tank shell be?');
    expect(upstream.stream).toBe(true);
    expect(upstream.includeUsage).toBe(true);

    const streamed = reply.of('assistant_message')[0]?.message;
    const expected = fakeUsage(upstream.messages, streamed?.content ?? '');
    expect(streamed?.usage).toEqual({ prompt_tokens: expected.prompt_tokens, completion_tokens: expected.completion_tokens, model: 'fake-model', estimated: false });
    // The server's counts differ from the estimate, so this is not the fallback by chance.
    expect(streamed?.usage?.prompt_tokens).not.toBe(estimate(upstream.messages, '').prompt_tokens);

    const [user, assistant] = await stack.messagesOf(arash, chat.chat_id);
    expect(user?.usage ?? null).toBeNull();
    expect(assistant).toEqual(streamed);
    const rows = await usageRows(chat.chat_id);
    expectRowMatches(rows[0], user);
    expectRowMatches(rows[1], assistant);
    expect(rows[1]?.prompt_tokens).toBeGreaterThan(0);
  });

  it('estimates usage (4 characters a token) and marks it estimated when the server sends none', async () => {
    llm.configure({ sendUsage: false });
    const chat = await stack.createChat(arash);
    const reply = await send(chat.chat_id, 'Which flange rating for 40 bar at 300 °C?');
    const upstream = await chatRequest('Which flange rating for 40 bar at 300 °C?');
    const streamed = reply.of('assistant_message')[0]?.message;
    expect(streamed?.status).toBe('complete');
    expect(MessageUsageSchema.parse(streamed?.usage)).toEqual({ ...estimate(upstream.messages, streamed?.content ?? ''), model: 'fake-model', estimated: true });
    const [, assistant] = await stack.messagesOf(arash, chat.chat_id);
    expect(assistant?.usage).toEqual(streamed?.usage);
    expectRowMatches((await usageRows(chat.chat_id))[1], assistant);
  });

  it('estimates a stopped reply from the text written before the stop', async () => {
    llm.configure({ tokenDelayMs: 50 });
    const chat = await stack.createChat(arash);
    // Stopped from another request (closing the stream no longer stops a reply).
    const authorization = await stack.bearer(arash);
    let stopping: Promise<unknown> | null = null;
    await send(chat.chat_id, 'Explain water hammer at length', {
      onEvent: (event) => {
        if (event.type === 'delta' && !stopping) stopping = stack.http().post(`/api/chats/${chat.chat_id}/stop`).set('Authorization', authorization).then((r) => r);
      },
    });
    await stopping;
    const upstream = await chatRequest('Explain water hammer at length');
    const saved = await eventually(async () => (await stack.messagesOf(arash, chat.chat_id))[1], 5000);
    expect(saved.status).toBe('stopped');
    expect(saved.usage).toEqual({ ...estimate(upstream.messages, saved.content), model: 'fake-model', estimated: true });
    expect(saved.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('keeps no usage for a reply that failed before any text', async () => {
    llm.setMode('failing');
    const chat = await stack.createChat(arash);
    const reply = await send(chat.chat_id, 'This reply fails');
    const failed = reply.of('assistant_message')[0]?.message;
    expect(failed?.status).toBe('error');
    expect(failed?.usage).toBeNull();
    expectRowMatches((await usageRows(chat.chat_id))[1], failed);
  });

  it('gives a regenerated reply the usage of the new reply, in place of the old one', async () => {
    const chat = await stack.createChat(arash);
    await send(chat.chat_id, 'Pick a pump for 50 m3/h');
    llm.configure({ sendUsage: false });
    const regenerated = await postStream(`${stack.url}/api/chats/${chat.chat_id}/regenerate`, await stack.tokenFor(arash), undefined);
    const reply = regenerated.of('assistant_message')[0]?.message;
    expect(reply?.message_id).toBe(`S-${chat.chat_id}-M-002`);
    expect(reply?.usage?.estimated).toBe(true);
    const messages = await stack.messagesOf(arash, chat.chat_id);
    expect(messages).toHaveLength(2);
    expect(messages[1]?.usage).toEqual(reply?.usage);
    expectRowMatches((await usageRows(chat.chat_id))[1], reply);
  });
});
