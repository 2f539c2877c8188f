import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  GenerateTitleResponseSchema,
  PLACEHOLDER_TITLE,
} from '@simorgh/contracts';
import type { FakeLlm } from '@simorgh/devstack/fake-llm';
import { eventually, listen, postStream, type StreamReply } from '../../test/event-stream-client.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../../test/served-stack.js';

const arash: string = USERS.arash.username;
const SLOW_TITLE_MS = 1500;

let stack: ServedStackWithModel;
let llm: FakeLlm;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 2 },
    env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '10' },
    appOptions: { messages: { titleWaitMs: 3000 } },
  });
  llm = stack.llm;
});

afterAll(() => stack?.stop());

beforeEach(() => {
  llm.setMode('normal');
  llm.configure({ tokenDelayMs: 2, slowDelayMs: SLOW_TITLE_MS, reply: undefined, titleReply: undefined });
});

const newChat = (body?: Record<string, unknown>) => stack.createChat(arash, body);

const send = (chatId: string, content: string, url = stack.url) => stack.sendMessage(arash, chatId, content, { url });

async function nameOf(chatId: string) {
  return (await stack.chatOf(arash, chatId)).chat_name;
}

describe('automatic titles', () => {
  it('titles a new general chat from its first message and sends the title on the stream', async () => {
    llm.configure({ titleReply: 'Title: "Relief Valve Sizing."' });
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'How do I size a relief valve for a blocked outlet?');

    expect(reply.of('title')).toEqual([{ type: 'title', chat_id: chat.chat_id, title: 'Relief Valve Sizing' }]);
    expect(reply.events.at(-1)?.event.type).toBe('done');
    expect(await nameOf(chat.chat_id)).toBe('Relief Valve Sizing');
    const request = llm.requests.filter((item) => item.kind === 'title').at(-1);
    expect(request).toMatchObject({ stream: false, model: 'fake-model' });
    expect(request?.messages.at(-1)?.content).toBe('How do I size a relief valve for a blocked outlet?');
  });

  it('never delays the first reply token, even when the title is slow', async () => {
    llm.setTitleMode('slow');
    const chat = await newChat();
    const content = 'Compare gate and globe valves';
    const titleRequest = () => llm.requests.find((item) => item.kind === 'title' && item.messages.at(-1)?.content === content);
    // What the model server had done with the title when the first token reached the client.
    let titleAtFirstDelta: 'not asked' | 'pending' | 'answered' | undefined;
    const reply = await stack.sendMessage(arash, chat.chat_id, content, {
      onEvent: (event) => {
        if (event.type !== 'delta' || titleAtFirstDelta !== undefined) return;
        const request = titleRequest();
        titleAtFirstDelta = !request ? 'not asked' : request.finishedAt === null ? 'pending' : 'answered';
      },
    });

    expect(titleAtFirstDelta).toBeDefined();
    expect(titleAtFirstDelta).not.toBe('answered');
    const types = reply.events.map((item) => item.event.type);
    expect(types.indexOf('title')).toBeGreaterThan(types.indexOf('delta'));
    // Both model requests were in flight at the same time (one clock: the model server's).
    const chatRequest = llm.requests.filter((item) => item.kind === 'chat').at(-1);
    expect(titleRequest()!.startedAt).toBeLessThanOrEqual(chatRequest!.finishedAt!);
    expect(await nameOf(chat.chat_id)).toBe('Compare gate and globe valves');
  });

  it('asks for the title only once the reply has started, so the two never compete for the first token', async () => {
    const firstTokenMs = 300;
    llm.setMode('slow');
    llm.setTitleMode('normal');
    llm.configure({ slowDelayMs: firstTokenMs });
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'Which gasket suits a steam line?');

    expect(reply.firstAt('delta')).toBeDefined();
    expect(reply.of('title')).toEqual([{ type: 'title', chat_id: chat.chat_id, title: expect.any(String) }]);
    const chatRequest = llm.requests.filter((item) => item.kind === 'chat').at(-1);
    const titleRequest = llm.requests.filter((item) => item.kind === 'title').at(-1);
    // The model server holds the first token for firstTokenMs after the chat request arrives, so
    // a title asked after that token arrives at least that late on the server's clock. A busy
    // machine only makes it later; 1 ms is Date.now()'s rounding. Asked beside the reply, the
    // title would arrive within a few ms of the chat request.
    expect(titleRequest!.startedAt - chatRequest!.startedAt).toBeGreaterThanOrEqual(firstTokenMs - 1);
  });

  it('keeps a name the user chose while the title was being generated', async () => {
    llm.setTitleMode('slow');
    const chat = await newChat();
    const streaming = send(chat.chat_id, 'Cathodic protection for buried pipelines');
    await llm.waitForRequest((item) => item.kind === 'title' && item.messages.at(-1)?.content === 'Cathodic protection for buried pipelines');
    const rename = await stack.http()
      .patch(`/api/chats/${chat.chat_id}`)
      .set('Authorization', await stack.bearer(arash))
      .send({ chat_name: 'CP design notes' });
    expect(rename.status).toBe(200);

    const reply = await streaming;
    const titleRequest = await llm.waitForRequest(
      (item) => item.kind === 'title' && item.finishedAt !== null && item.messages.at(-1)?.content === 'Cathodic protection for buried pipelines',
    );
    expect(titleRequest.finishedAt).not.toBeNull();
    expect(reply.of('title')).toEqual([]);
    expect(await nameOf(chat.chat_id)).toBe('CP design notes');
  });

  it('falls back to the first words of the message when the title request fails', async () => {
    llm.setTitleMode('failing');
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'why does my centrifugal pump cavitate at low flow?');
    expect(reply.of('title')[0]?.title).toBe('Why does my centrifugal pump cavitate');
    expect(reply.of('assistant_message')[0]?.message.status).toBe('complete');
    expect(await nameOf(chat.chat_id)).toBe('Why does my centrifugal pump cavitate');
  });

  it('falls back when the model answers nothing usable', async () => {
    llm.configure({ titleReply: '<think>The user wants a title about transformers' });
    const chat = await newChat();
    const reply = await send(chat.chat_id, 'Transformer oil breakdown voltage limits');
    expect(reply.of('title')[0]?.title).toBe('Transformer oil breakdown voltage limits');
  });

  it('saves a title that arrives after the reply stream ended; the next fetch shows it', async () => {
    const quick = await stack.build({ llmBaseUrl: llm.url, appOptions: { messages: { titleWaitMs: 50 } } });
    const quickServer = await listen(quick.app);
    try {
      llm.setTitleMode('slow');
      llm.configure({ titleReply: 'Late Arriving Title' });
      const chat = await newChat();
      const reply = await send(chat.chat_id, 'Earthing grid resistance targets', quickServer.url);
      expect(reply.of('title')).toEqual([]);
      expect(reply.events.at(-1)?.event.type).toBe('done');
      expect(await nameOf(chat.chat_id)).toBe(PLACEHOLDER_TITLE);
      await eventually(async () => (await nameOf(chat.chat_id)) === 'Late Arriving Title', 5000);
    } finally {
      await quickServer.close();
    }
  });

  it('accepts the next message as soon as the reply is saved, while the title is still on its way', async () => {
    // One stream slot: the first stream must hand back its slot as well as the chat's lock.
    const strict = await stack.build({
      llmBaseUrl: llm.url,
      env: { MESSAGES_PER_MINUTE: '1000', CONCURRENT_STREAMS: '1' },
      appOptions: { messages: { titleWaitMs: 3000 } },
    });
    const strictServer = await listen(strict.app);
    try {
      llm.setTitleMode('slow');
      llm.configure({ titleReply: 'Pump Seal Flush Plans' });
      const chat = await newChat();
      const token = await stack.tokenFor(arash);
      const url = `${strictServer.url}/api/chats/${chat.chat_id}/messages`;
      const next: Array<{ sentAt: number; reply: Promise<StreamReply> }> = [];
      const first = await postStream(url, token, { content: 'Which seal flush plan for hot water?' }, {
        onEvent: (event) => {
          if (event.type !== 'assistant_message') return;
          next.push({ sentAt: performance.now(), reply: postStream(url, token, { content: 'And for light hydrocarbons?' }) });
        },
      });
      expect(next).toHaveLength(1);
      const second = await next[0]!.reply;

      expect(next[0]!.sentAt).toBeLessThan(first.firstAt('done')!);
      expect(first.of('title')).toEqual([{ type: 'title', chat_id: chat.chat_id, title: 'Pump Seal Flush Plans' }]);
      expect(second.status).toBe(200);
      expect(second.json).toBeNull();
      expect(second.of('user_message')[0]?.message.content).toBe('And for light hydrocarbons?');
      expect(second.of('assistant_message')[0]?.message.status).toBe('complete');
      expect(second.events.at(-1)?.event.type).toBe('done');
      expect(await nameOf(chat.chat_id)).toBe('Pump Seal Flush Plans');
      const stored = await stack.messagesOf(arash, chat.chat_id);
      expect(stored.map((message) => message.role)).toEqual([
        'user',
        'assistant',
        'user',
        'assistant',
      ]);
    } finally {
      await strictServer.close();
    }
  });

  it('does not retitle a chat that already has a title', async () => {
    const chat = await newChat();
    await send(chat.chat_id, 'First question about flanges');
    const titled = await nameOf(chat.chat_id);
    const titleRequests = llm.requests.filter((item) => item.kind === 'title').length;
    const reply = await send(chat.chat_id, 'Second question about gaskets');
    expect(reply.of('title')).toEqual([]);
    expect(llm.requests.filter((item) => item.kind === 'title').length).toBe(titleRequests);
    expect(await nameOf(chat.chat_id)).toBe(titled);
  });
});

describe('POST /api/chats/:id/generate-title', () => {
  let auth = '';
  beforeAll(async () => {
    auth = await stack.bearer(arash);
  });
  const call = (chatId: string) => stack.http().post(`/api/chats/${chatId}/generate-title`).set('Authorization', auth);

  it('accepts first_message as multipart form data', async () => {
    llm.configure({ titleReply: 'Heat Exchanger Fouling' });
    const chat = await newChat();
    const response = await call(chat.chat_id).field('first_message', 'Our heat exchanger fouls every month');
    expect(response.status).toBe(200);
    expect(GenerateTitleResponseSchema.parse(response.body)).toEqual({
      status: 'success',
      chat_id: chat.chat_id,
      title: 'Heat Exchanger Fouling',
    });
    expect(llm.requests.filter((item) => item.kind === 'title').at(-1)?.messages.at(-1)?.content).toBe(
      'Our heat exchanger fouls every month',
    );
    expect(await nameOf(chat.chat_id)).toBe('Heat Exchanger Fouling');
  });

  it('accepts first_message as a URL-encoded form', async () => {
    llm.configure({ titleReply: 'Cable Sizing' });
    const chat = await newChat();
    const response = await call(chat.chat_id).type('form').send('first_message=How+do+I+size+a+cable%3F');
    expect(GenerateTitleResponseSchema.parse(response.body).title).toBe('Cable Sizing');
    expect(llm.requests.filter((item) => item.kind === 'title').at(-1)?.messages.at(-1)?.content).toBe('How do I size a cable?');
  });

  it('accepts first_message as JSON and overwrites a title the chat already had', async () => {
    llm.configure({ titleReply: 'Seismic Anchor Bolts' });
    const chat = await newChat();
    await stack.http().patch(`/api/chats/${chat.chat_id}`).set('Authorization', await stack.bearer(arash)).send({ chat_name: 'Old name' });
    const response = await call(chat.chat_id).send({ first_message: 'Anchor bolts for seismic zone 4' });
    expect(GenerateTitleResponseSchema.parse(response.body).title).toBe('Seismic Anchor Bolts');
    expect(await nameOf(chat.chat_id)).toBe('Seismic Anchor Bolts');
  });

  it("uses the chat's first user message when first_message is absent", async () => {
    const chat = await newChat();
    await send(chat.chat_id, 'Grounding of instrument cable shields');
    await send(chat.chat_id, 'And for thermocouples?');
    llm.configure({ titleReply: 'Shield Grounding' });
    const response = await call(chat.chat_id);
    expect(GenerateTitleResponseSchema.parse(response.body).title).toBe('Shield Grounding');
    expect(llm.requests.filter((item) => item.kind === 'title').at(-1)?.messages.at(-1)?.content).toBe(
      'Grounding of instrument cable shields',
    );
  });

  it('falls back to the first words when the model fails', async () => {
    llm.setTitleMode('failing');
    const chat = await newChat();
    const response = await call(chat.chat_id).send({ first_message: 'Bolt torque for 600# flanges please' });
    expect(GenerateTitleResponseSchema.parse(response.body).title).toBe('Bolt torque for 600 flanges please');
  });

  it('refuses a chat without messages and without first_message (400)', async () => {
    const chat = await newChat();
    const response = await call(chat.chat_id).send({ first_message: '   ' });
    expect(response.status).toBe(400);
    expect(ErrorBodySchema.parse(response.body).code).toBe('validation');
  });

  it('refuses malformed multipart data (400)', async () => {
    const chat = await newChat();
    const response = await call(chat.chat_id)
      .set('Content-Type', 'multipart/form-data')
      .send('--x\r\nContent-Disposition: form-data; name="first_message"\r\n\r\nhi\r\n--x--');
    expect(response.status).toBe(400);
    expect(ErrorBodySchema.parse(response.body).code).toBe('validation');
  });

  it('keeps the page name of a project chat', async () => {
    const chat = await newChat({ chat_type: 'project', project_number: String(PROJECTS.refinery.id), page_name: 'Tank gauging' });
    const response = await call(chat.chat_id).send({ first_message: 'Radar gauge accuracy' });
    expect(GenerateTitleResponseSchema.parse(response.body).title).toBe('Tank gauging');
    expect(await nameOf(chat.chat_id)).toBe('Tank gauging');
  });
});
