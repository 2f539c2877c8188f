import { routes } from '@simorgh/contracts';
import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat, makeMessage } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { errorResponse } from '../../../test/route-handlers';
import { openSseStream } from '../../../test/sse';
import { reconnectDelayMs } from '../hooks/useChatEvents';

const CHAT_ID = 'G-202611-000001';
const USER_MSG = `S-${CHAT_ID}-M-001`;
const REPLY_MSG = `S-${CHAT_ID}-M-002`;
const EVENTS_PATH = `/api/chats/${CHAT_ID}/events`;

const question = makeMessage({ message_id: USER_MSG, role: 'user', content: 'What is NPSH?' });
const partial = (content: string) => makeMessage({ message_id: REPLY_MSG, role: 'assistant', content, status: 'streaming' });
const finalReply = (content: string) => makeMessage({ message_id: REPLY_MSG, role: 'assistant', content });

/** The chat open while its reply is being written: the page shows the reply so far, up to event 100-3. */
function openMidReply() {
  const api = installFakeApi({
    chats: [makeChat({ chat_id: CHAT_ID, chat_name: 'NPSH basics' })],
    messages: { [CHAT_ID]: [question, partial('Net positive ')] },
    lastEventIds: { [CHAT_ID]: '100-3' },
  });
  const app = renderApp(`/c/${CHAT_ID}`);
  return { api, ...app };
}

const conversation = () => within(screen.getByRole('region', { name: 'Conversation' }));
const replyText = () => conversation().getAllByRole('article').at(-1)?.textContent ?? '';

/** The newest events stream the page opened, once it has opened `count` of them. */
async function follower(api: ReturnType<typeof installFakeApi>, count = 1, timeout?: number) {
  await waitFor(() => expect(api.followers).toHaveLength(count), { timeout });
  const latest = api.followers.at(-1);
  if (latest === undefined) throw new Error('no events stream');
  return latest;
}

// Generous for a busy machine: passing tests take a second or two.
describe('re-attaching to a reply', { timeout: 15_000 }, () => {
  it('continues the reply from where the loaded page left it, applying each event once', async () => {
    const app = openMidReply();
    expect(await conversation().findByText(/^Net positive/)).toBeInTheDocument();
    // A reply is being written: Stop, not Send, even though this page did not ask for it.
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument();

    const events = await follower(app.api);
    expect(events.lastEventId).toBe('100-3');
    // A replay may repeat what the page already shows (at or below its ID) or what came already.
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive ' }, '100-3');
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction ' }, '100-4');
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction ' }, '100-4');
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'head.' }, '100-5');
    await waitFor(() => expect(replyText()).toContain('Net positive suction head.'));

    events.stream.send({ type: 'assistant_message', message: finalReply('Net positive suction head.') }, '100-6');
    events.stream.send({ type: 'done' }, '100-7');
    expect(await screen.findByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Regenerate' })).toBeInTheDocument();
    expect(conversation().getAllByRole('article')).toHaveLength(2);
    expect(conversation().getByText('Net positive suction head.')).toBeInTheDocument();
  });

  it("applies the events of this tab's own reply once, whether its request or the events stream brings them first", async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_id: CHAT_ID })], lastEventIds: { [CHAT_ID]: '5-0' } });
    const app = renderApp(`/c/${CHAT_ID}`);
    const events = await follower(api);
    let post: ReturnType<typeof openSseStream> | undefined;
    api.on(routes.sendMessage, ({ signal }) => {
      post = openSseStream(signal);
      return post.response;
    });
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'What is NPSH?{Enter}');

    events.stream.send({ type: 'user_message', message: question }, '5-1');
    post?.send({ type: 'user_message', message: question }, '5-1');
    post?.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive ' }, '5-2');
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive ' }, '5-2');
    // The events stream runs ahead of the request's stream here, and a rename comes only on it.
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction head.' }, '5-3');
    const renamed = makeChat({ chat_id: CHAT_ID, chat_name: 'Pumps' });
    api.state.chats = [renamed];
    events.stream.send({ type: 'chat_updated', chat: renamed }, '5-4');
    post?.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction head.' }, '5-3');
    // Before the final message (which carries the whole text) the streamed text is exact.
    await waitFor(() => expect(api.state.chats[0]?.chat_name).toBe('Pumps'));
    await waitFor(() => expect(screen.getByRole('heading', { level: 1, name: 'Pumps' })).toBeInTheDocument());
    expect(replyText()).toMatch(/Net positive suction head\.$/);
    expect(replyText()).not.toMatch(/(Net positive ){2}|(suction head\.){2}/);
    post?.send({ type: 'assistant_message', message: finalReply('Net positive suction head.') }, '5-5');
    post?.send({ type: 'done' }, '5-6');
    post?.close();
    events.stream.send({ type: 'assistant_message', message: finalReply('Net positive suction head.') }, '5-5');

    expect(await screen.findByRole('button', { name: 'Regenerate' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { level: 1, name: 'Pumps' })).toBeInTheDocument();
    const shown = conversation().getAllByRole('article');
    expect(shown.map((article) => article.textContent)).toEqual([
      expect.stringContaining('What is NPSH?'),
      expect.stringContaining('Net positive suction head.'),
    ]);
    expect(replyText()).not.toContain('Net positive Net positive');
  });

  it('reloads the messages and follows on from them when the server no longer keeps the events it needs (reset)', async () => {
    const app = openMidReply();
    const events = await follower(app.api);
    app.api.state.messages[CHAT_ID] = [question, finalReply('Net positive suction head, in full.')];
    app.api.state.lastEventIds[CHAT_ID] = '900-0';
    events.stream.send({ type: 'reset' });

    expect(await conversation().findByText('Net positive suction head, in full.')).toBeInTheDocument();
    const next = await follower(app.api, 2);
    expect(next.lastEventId).toBe('900-0');
    expect(app.api.calls('GET', `/api/chats/${CHAT_ID}/messages`)).toHaveLength(2);
    next.stream.send({ type: 'user_message', message: makeMessage({ message_id: `S-${CHAT_ID}-M-003`, role: 'user', content: 'And NPSHr?' }) }, '900-1');
    expect(await conversation().findByText('And NPSHr?')).toBeInTheDocument();
    expect(screen.queryByText('Reconnecting…')).not.toBeInTheDocument();
  });
});

describe('losing the connection', { timeout: 15_000 }, () => {
  it('says "Reconnecting…" while away, retries with growing waits and resumes from the last event it applied', async () => {
    const app = openMidReply();
    const first = await follower(app.api);
    first.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction ' }, '100-4');
    await waitFor(() => expect(replyText()).toContain('Net positive suction'));

    // The server is unreachable for two attempts, then answers again.
    let refusals = 0;
    const attempts: number[] = [];
    app.api.on(routes.chatEvents, ({ signal }) => {
      attempts.push(performance.now());
      if (refusals < 2) {
        refusals += 1;
        return errorResponse(503, 'upstream_unavailable', 'Simorgh Chat is temporarily unavailable. Try again shortly.');
      }
      const stream = openSseStream(signal);
      app.api.followers.push({ chatId: CHAT_ID, lastEventId: null, stream });
      return stream.response;
    });
    const dropped = performance.now();
    first.stream.fail();

    expect(await screen.findByText('Reconnecting…')).toBeInTheDocument();
    const resumed = await follower(app.api, 2, 10_000);
    await waitFor(() => expect(screen.queryByText('Reconnecting…')).not.toBeInTheDocument());
    expect(attempts).toHaveLength(3);
    const [a1 = 0, a2 = 0, a3 = 0] = attempts;
    // Waits of 0.5 s, 1 s and 2 s less up to a quarter: each longer than the one before.
    expect(a1 - dropped).toBeGreaterThanOrEqual(375);
    expect(a2 - a1).toBeGreaterThanOrEqual(750);
    expect(a3 - a2).toBeGreaterThanOrEqual(1500);
    const resumedFrom = app.api.calls('GET', EVENTS_PATH).at(-1)?.url.searchParams.get('last_event_id');
    expect(resumedFrom).toBe('100-4');

    resumed.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'head.' }, '100-5');
    resumed.stream.send({ type: 'assistant_message', message: finalReply('Net positive suction head.') }, '100-6');
    expect(await conversation().findByText('Net positive suction head.')).toBeInTheDocument();
  });

  it('says "Reconnecting…" as soon as the browser goes offline, and reconnects at once when the network comes back, without waiting out the backoff', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const app = openMidReply();
    const first = await follower(app.api);
    let online = false;
    app.api.on(routes.chatEvents, ({ signal }) => {
      if (!online) return errorResponse(503, 'upstream_unavailable', 'Simorgh Chat is temporarily unavailable. Try again shortly.');
      const stream = openSseStream(signal);
      app.api.followers.push({ chatId: CHAT_ID, lastEventId: null, stream });
      return stream.response;
    });
    act(() => {
      window.dispatchEvent(new Event('offline'));
    });
    expect(await screen.findByText('Reconnecting…')).toBeInTheDocument();
    expect(first.stream.closed).toBe(true);
    // Offline for a while: after five refused attempts the next wait is 7.5 s or more.
    await waitFor(
      async () => {
        await vi.advanceTimersByTimeAsync(1000);
        expect(app.api.calls('GET', EVENTS_PATH).length).toBeGreaterThanOrEqual(6);
      },
      // Fake time, which the callback moves on: the waits add up to 11.6–15.5 s.
      { timeout: 60_000 },
    );
    expect(reconnectDelayMs(5)).toBeGreaterThanOrEqual(7500);

    online = true;
    act(() => {
      window.dispatchEvent(new Event('online'));
    });
    await follower(app.api, 2);
    await waitFor(() => expect(screen.queryByText('Reconnecting…')).not.toBeInTheDocument());
  });

  it('gives up following a chat that is gone, without retrying', async () => {
    const app = openMidReply();
    const first = await follower(app.api);
    app.api.state.chats = [];
    app.api.on(routes.chatEvents, () => errorResponse(404, 'not_found', `Chat ${CHAT_ID} not found`));
    first.stream.fail();
    await waitFor(() => expect(app.api.calls('GET', EVENTS_PATH)).toHaveLength(2));
    expect(await screen.findByRole('heading', { level: 1, name: 'Chat not available' })).toBeInTheDocument();
    expect(screen.queryByText('Reconnecting…')).not.toBeInTheDocument();
    expect(app.api.calls('GET', EVENTS_PATH)).toHaveLength(2);
  });
});

describe('a reply waits before reconnecting', () => {
  it('0.5 s at first, doubling up to 10 s, less up to a quarter', () => {
    for (let failures = 0; failures < 8; failures += 1) {
      const base = Math.min(500 * 2 ** failures, 10_000);
      const wait = reconnectDelayMs(failures);
      expect(wait).toBeGreaterThanOrEqual(base * 0.75);
      expect(wait).toBeLessThanOrEqual(base);
    }
  });
});

describe('what another tab or person does', { timeout: 15_000 }, () => {
  it('shows their message, the live reply, the title, a rename, and lets Stop end a reply this tab did not start', async () => {
    const api = installFakeApi({ chats: [makeChat({ chat_id: CHAT_ID, chat_name: 'New conversation' })], lastEventIds: { [CHAT_ID]: '7-0' } });
    api.on(routes.stopReply, () => ({ status: 200, body: { status: 'success', chat_id: CHAT_ID, stopped: true } }));
    const app = renderApp(`/c/${CHAT_ID}`);
    const events = await follower(api);
    const nav = () => within(screen.getByRole('navigation', { name: 'Chats' }));

    events.stream.send({ type: 'user_message', message: question }, '7-1');
    expect(await conversation().findByText('What is NPSH?')).toBeInTheDocument();
    events.stream.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive ' }, '7-2');
    await waitFor(() => expect(replyText()).toContain('Net positive'));
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument();

    events.stream.send({ type: 'title', chat_id: CHAT_ID, title: 'NPSH basics' }, '7-3');
    expect(await screen.findByRole('heading', { level: 1, name: 'NPSH basics' })).toBeInTheDocument();
    events.stream.send({ type: 'chat_updated', chat: makeChat({ chat_id: CHAT_ID, chat_name: 'Pump suction' }) }, '7-4');
    expect(await screen.findByRole('heading', { level: 1, name: 'Pump suction' })).toBeInTheDocument();
    expect(nav().getByRole('link', { name: 'Pump suction' })).toBeInTheDocument();

    await app.user.click(screen.getByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(api.calls('POST', `/api/chats/${CHAT_ID}/stop`)).toHaveLength(1));
    events.stream.send(
      { type: 'assistant_message', message: makeMessage({ message_id: REPLY_MSG, role: 'assistant', content: 'Net positive ', status: 'stopped' }) },
      '7-5',
    );
    events.stream.send({ type: 'done' }, '7-6');
    expect(await screen.findByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(conversation().getByText('Stopped')).toBeInTheDocument();
  });

  it('shows a chat deleted elsewhere as gone and drops it from the sidebar', async () => {
    const app = openMidReply();
    const events = await follower(app.api);
    const nav = within(screen.getByRole('navigation', { name: 'Chats' }));
    expect(await nav.findByRole('link', { name: 'NPSH basics' })).toBeInTheDocument();

    app.api.state.chats = [];
    events.stream.send({ type: 'chat_deleted', chat_id: CHAT_ID }, '100-4');
    expect(await screen.findByRole('heading', { level: 1, name: 'Chat not available' })).toBeInTheDocument();
    expect(nav.queryByRole('link', { name: 'NPSH basics' })).not.toBeInTheDocument();
    expect(app.api.calls('GET', EVENTS_PATH)).toHaveLength(1);
  });
});
