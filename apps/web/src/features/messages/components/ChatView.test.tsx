import { routes, type StreamEvent } from '@simorgh/contracts';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { installFakeApi } from '../../../test/fake-api';
import { makeChat, makeMessage } from '../../../test/factories';
import { renderApp } from '../../../test/render-app';
import { deferred, errorResponse } from '../../../test/route-handlers';
import { openSseStream, sseResponse } from '../../../test/sse';

const CHAT_ID = 'G-202611-000001';
const USER_MSG = `S-${CHAT_ID}-M-001`;
const REPLY_MSG = `S-${CHAT_ID}-M-002`;

const userMessage = (content: string) => makeMessage({ message_id: USER_MSG, role: 'user', content });
const replyMessage = (content: string, status: 'complete' | 'stopped' = 'complete') =>
  makeMessage({ message_id: REPLY_MSG, role: 'assistant', content, status });

function setup(options: Parameters<typeof installFakeApi>[0] = {}) {
  const api = installFakeApi({ chats: [makeChat({ chat_id: CHAT_ID, chat_name: 'New conversation' })], ...options });
  const app = renderApp(`/c/${CHAT_ID}`);
  return { api, ...app };
}

const conversation = () => within(screen.getByRole('region', { name: 'Conversation' }));
const messageBox = () => screen.getByRole('textbox', { name: 'Message' });

describe('sending a message', () => {
  it('streams the reply token by token and updates the title live in header and sidebar', async () => {
    const app = setup();
    let stream: ReturnType<typeof openSseStream> | undefined;
    app.api.on(routes.sendMessage, ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    await screen.findByText('Send a message to start. Shift+Enter adds a new line.');

    await app.user.type(messageBox(), 'What is NPSH?{Enter}');
    expect(conversation().getByText('What is NPSH?')).toBeInTheDocument();
    expect(messageBox()).toHaveValue('');
    expect(app.api.calls('POST', `/api/chats/${CHAT_ID}/messages`)[0]?.body).toEqual({ content: 'What is NPSH?' });

    stream?.send({ type: 'user_message', message: userMessage('What is NPSH?') });
    stream?.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive ' });
    expect(await conversation().findByText(/^Net positive/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument();

    stream?.send({ type: 'delta', message_id: REPLY_MSG, content: 'suction head.' });
    expect(await conversation().findByText('Net positive suction head.')).toBeInTheDocument();

    stream?.send({ type: 'title', chat_id: CHAT_ID, title: 'NPSH basics' });
    expect(await screen.findByRole('heading', { level: 1, name: 'NPSH basics' })).toBeInTheDocument();
    const nav = within(screen.getByRole('navigation', { name: 'Chats' }));
    expect(nav.getByRole('link', { name: 'NPSH basics' })).toBeInTheDocument();

    app.api.state.chats[0] = { ...app.api.state.chats[0]!, chat_name: 'NPSH basics', message_count: 2 };
    stream?.send({ type: 'assistant_message', message: replyMessage('Net positive suction head.') });
    stream?.send({ type: 'done' });
    stream?.close();

    expect(await screen.findByRole('button', { name: 'Regenerate' })).toBeInTheDocument();
    expect(conversation().getByText('What is NPSH?')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Send' })).toBeInTheDocument();
  });

  it('ends the reply when it is final, while the stream still waits for a late title', async () => {
    const app = setup();
    let stream: ReturnType<typeof openSseStream> | undefined;
    app.api.on(routes.sendMessage, ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'What is NPSH?{Enter}');
    stream?.send({ type: 'user_message', message: userMessage('What is NPSH?') });
    stream?.send({ type: 'delta', message_id: REPLY_MSG, content: 'Net positive suction head.' });
    expect(await screen.findByRole('button', { name: 'Stop' })).toBeInTheDocument();

    stream?.send({ type: 'assistant_message', message: replyMessage('Net positive suction head.') });
    expect(await screen.findByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Stop' })).not.toBeInTheDocument();
    expect(stream?.closed).toBe(false);

    stream?.send({ type: 'title', chat_id: CHAT_ID, title: 'NPSH basics' });
    expect(await screen.findByRole('heading', { level: 1, name: 'NPSH basics' })).toBeInTheDocument();
    stream?.send({ type: 'done' });
    stream?.close();
  });

  it('falls back to a refetch for the title when the stream carried none', async () => {
    const app = setup();
    app.api.on(routes.sendMessage, () => {
      app.api.state.chats[0] = { ...app.api.state.chats[0]!, chat_name: 'Titled by the server' };
      return sseResponse([
        { type: 'user_message', message: userMessage('hello') },
        { type: 'delta', message_id: REPLY_MSG, content: 'Hi!' },
        { type: 'assistant_message', message: replyMessage('Hi!') },
        { type: 'done' },
      ]);
    });
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'hello{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'Titled by the server' })).toBeInTheDocument();
  });

  it('Enter sends while Shift+Enter adds a new line', async () => {
    const app = setup();
    app.api.on(routes.sendMessage, () =>
      sseResponse([
        { type: 'user_message', message: userMessage('line one\nline two') },
        { type: 'assistant_message', message: replyMessage('ok') },
        { type: 'done' },
      ]),
    );
    const box = await screen.findByRole('textbox', { name: 'Message' });
    await app.user.type(box, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(box).toHaveValue('line one\nline two');
    expect(app.api.calls('POST')).toHaveLength(0);

    await app.user.keyboard('{Enter}');
    await waitFor(() => expect(app.api.calls('POST')).toHaveLength(1));
    expect(app.api.calls('POST')[0]?.body).toEqual({ content: 'line one\nline two' });
    expect(await conversation().findByText('ok')).toBeInTheDocument();
  });

  it('does not send an empty message', async () => {
    const app = setup();
    const box = await screen.findByRole('textbox', { name: 'Message' });
    await app.user.type(box, '   {Enter}');
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
    expect(app.api.calls('POST')).toHaveLength(0);
  });

  it('Stop ends the reply, keeps what arrived and tells the server', async () => {
    const app = setup();
    let stream: ReturnType<typeof openSseStream> | undefined;
    app.api.on(routes.sendMessage, ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    app.api.on(routes.stopReply, () => ({ status: 200, body: { status: 'success', chat_id: CHAT_ID, stopped: true } }));
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'Write a long essay{Enter}');
    stream?.send({ type: 'user_message', message: userMessage('Write a long essay') });
    stream?.send({ type: 'delta', message_id: REPLY_MSG, content: 'Once upon a time' });
    await conversation().findByText('Once upon a time');

    await app.user.click(screen.getByRole('button', { name: 'Stop' }));

    expect(await screen.findByRole('button', { name: 'Send' })).toBeInTheDocument();
    expect(stream?.closed).toBe(true);
    expect(app.api.calls('POST', `/api/chats/${CHAT_ID}/stop`)).toHaveLength(1);
    expect(conversation().getByText('Once upon a time')).toBeInTheDocument();
    expect(conversation().getByText('Stopped')).toBeInTheDocument();
    expect(conversation().getByText('Write a long essay')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('Regenerate replaces the last reply with a new one', async () => {
    const app = setup({ messages: { [CHAT_ID]: [userMessage('Name a pump type'), replyMessage('Centrifugal.')] } });
    const events: StreamEvent[] = [
      { type: 'delta', message_id: `S-${CHAT_ID}-M-003`, content: 'Positive displacement.' },
      { type: 'assistant_message', message: makeMessage({ message_id: `S-${CHAT_ID}-M-003`, role: 'assistant', content: 'Positive displacement.' }) },
      { type: 'done' },
    ];
    app.api.on(routes.regenerateReply, () => sseResponse(events));
    await conversation().findByText('Centrifugal.');

    await app.user.click(screen.getByRole('button', { name: 'Regenerate' }));

    expect(await conversation().findByText('Positive displacement.')).toBeInTheDocument();
    expect(conversation().queryByText('Centrifugal.')).not.toBeInTheDocument();
    expect(conversation().getByText('Name a pump type')).toBeInTheDocument();
    expect(app.api.calls('POST', `/api/chats/${CHAT_ID}/regenerate`)).toHaveLength(1);
  });

  it('shows a failed send inline with Retry, never losing the message', async () => {
    const app = setup();
    let attempts = 0;
    app.api.on(routes.sendMessage, () => {
      attempts += 1;
      if (attempts === 1) return errorResponse(429, 'rate_limited', 'Too many messages; wait a minute and try again');
      return sseResponse([
        { type: 'user_message', message: userMessage('Is 316L OK for chlorides?') },
        { type: 'delta', message_id: REPLY_MSG, content: 'It depends on temperature.' },
        { type: 'assistant_message', message: replyMessage('It depends on temperature.') },
        { type: 'done' },
      ]);
    });
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'Is 316L OK for chlorides?{Enter}');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Too many messages; wait a minute and try again');
    expect(conversation().getByText('Is 316L OK for chlorides?')).toBeInTheDocument();

    await app.user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await conversation().findByText('It depends on temperature.')).toBeInTheDocument();
    expect(conversation().getAllByText('Is 316L OK for chlorides?')).toHaveLength(1);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(app.api.calls('POST', `/api/chats/${CHAT_ID}/messages`).map((c) => c.body)).toEqual([
      { content: 'Is 316L OK for chlorides?' },
      { content: 'Is 316L OK for chlorides?' },
    ]);
  });

  it('shows an error event from the model inline and retries by regenerating', async () => {
    const app = setup();
    app.api.on(routes.sendMessage, () => {
      // As the real API does: the user's message is saved before the model is asked.
      app.api.state.messages[CHAT_ID] = [userMessage('hello')];
      return sseResponse([
        { type: 'user_message', message: userMessage('hello') },
        { type: 'error', detail: 'The language model did not answer in time', code: 'upstream_unavailable' },
        { type: 'done' },
      ]);
    });
    app.api.on(routes.regenerateReply, () =>
      sseResponse([{ type: 'assistant_message', message: replyMessage('Hello again.') }, { type: 'done' }]),
    );
    await app.user.type(await screen.findByRole('textbox', { name: 'Message' }), 'hello{Enter}');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The language model did not answer in time');
    expect(conversation().getByText('hello')).toBeInTheDocument();
    await app.user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await conversation().findByText('Hello again.')).toBeInTheDocument();
    expect(app.api.calls('POST', `/api/chats/${CHAT_ID}/regenerate`)).toHaveLength(1);
  });
});

// Hundreds of messages take jsdom seconds to render and query by role.
describe('a long conversation', () => {
  /** 250 messages, numbered from 1; the API sends the newest 100 first. Plain text (the user's) renders fastest. */
  const long = Array.from({ length: 250 }, (_, index) =>
    makeMessage({ message_id: `S-${CHAT_ID}-M-${String(index + 1).padStart(3, '0')}`, role: 'user', content: `Message number ${index + 1}` }),
  );

  /** jsdom lays nothing out: give each rendered message 100 px, so scroll positions mean something. */
  function fakeLayout(scroller: HTMLElement) {
    Object.defineProperty(scroller, 'clientHeight', { configurable: true, get: () => 500 });
    Object.defineProperty(scroller, 'scrollHeight', {
      configurable: true,
      get: () => scroller.querySelectorAll('article').length * 100,
    });
  }

  it('loads earlier messages as the user scrolls up, keeping the message being read in place', async () => {
    const app = setup({ messages: { [CHAT_ID]: long } });
    expect(await conversation().findByText('Message number 250')).toBeInTheDocument();
    expect(conversation().getByText('Message number 151')).toBeInTheDocument();
    expect(conversation().queryByText('Message number 150')).not.toBeInTheDocument();
    const scroller = screen.getByRole('region', { name: 'Conversation' }).parentElement as HTMLElement;
    fakeLayout(scroller);

    // Reading near the top of the newest page: 100 messages, 10 000 px, 150 px from the top.
    let earlier: ReturnType<typeof deferred<void>> | null = deferred<void>();
    const gate = earlier;
    app.api.on(routes.listMessages, async (request) => {
      await gate.promise;
      const before = request.url.searchParams.get('before');
      const end = long.findIndex((m) => m.message_id === before);
      const messages = long.slice(Math.max(0, end - 100), end);
      return { status: 200, body: { messages, next_before: end - 100 > 0 ? (messages[0]?.message_id ?? null) : null, last_event_id: '0-0' } };
    });
    scroller.scrollTop = 150;
    fireEvent.scroll(scroller);
    expect(await screen.findByRole('status')).toHaveTextContent('Loading earlier messages…');
    expect(app.api.calls('GET', `/api/chats/${CHAT_ID}/messages`).at(-1)?.url.searchParams.get('before')).toBe(long[150]?.message_id);
    earlier.resolve();
    earlier = null;

    expect(await conversation().findByText('Message number 51')).toBeInTheDocument();
    expect(screen.queryByText('Loading earlier messages…')).not.toBeInTheDocument();
    // 100 messages (10 000 px) were put above: the view moved down by as much.
    expect(scroller.scrollTop).toBe(10_150);

    // The last page, from the button (a conversation that does not fill the screen cannot scroll).
    await app.user.click(screen.getByRole('button', { name: 'Show earlier messages' }));
    expect(await conversation().findByText('Message number 1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Show earlier messages' })).not.toBeInTheDocument();
    const shown = within(screen.getByRole('region', { name: 'Conversation' })).getAllByRole('article');
    expect(shown).toHaveLength(250);
    expect(shown[0]).toHaveTextContent('Message number 1');
    expect(shown.at(-1)).toHaveTextContent('Message number 250');
  }, 15_000);

  it('appends a streamed reply after the newest page, with earlier pages loaded', async () => {
    const app = setup({ messages: { [CHAT_ID]: long } });
    await conversation().findByText('Message number 250');
    await app.user.click(screen.getByRole('button', { name: 'Show earlier messages' }));
    await conversation().findByText('Message number 51');
    let stream: ReturnType<typeof openSseStream> | undefined;
    app.api.on(routes.sendMessage, ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    await app.user.type(messageBox(), 'One more question{Enter}');
    const next = (n: number) => `S-${CHAT_ID}-M-${n}`;
    stream?.send({ type: 'user_message', message: makeMessage({ message_id: next(251), role: 'user', content: 'One more question' }) });
    stream?.send({ type: 'delta', message_id: next(252), content: 'One more answer' });
    stream?.send({ type: 'assistant_message', message: makeMessage({ message_id: next(252), role: 'assistant', content: 'One more answer' }) });
    stream?.send({ type: 'done' });
    stream?.close();
    expect(await screen.findByRole('button', { name: 'Regenerate' })).toBeInTheDocument();
    const shown = within(screen.getByRole('region', { name: 'Conversation' })).getAllByRole('article');
    expect(shown).toHaveLength(202);
    expect(shown[0]).toHaveTextContent('Message number 51');
    expect(shown.at(-2)).toHaveTextContent('One more question');
    expect(shown.at(-1)).toHaveTextContent('One more answer');
  }, 15_000);
});

describe('rendering untrusted text', () => {
  it('shows HTML in a reply as text and creates no script or img element', async () => {
    const reply = 'Try this: <script>window.pwned = true</script> and <img src=x onerror="window.pwned = true"> done';
    setup({ messages: { [CHAT_ID]: [userMessage('show html'), replyMessage(reply)] } });
    const view = screen.getByRole('region', { name: 'Conversation' });

    await waitFor(() => expect(view.querySelector('.markdown')).not.toBeNull());
    expect(view).toHaveTextContent('<script>window.pwned = true</script>');
    expect(view).toHaveTextContent('<img src=x onerror="window.pwned = true">');
    expect(document.querySelector('script, img')).toBeNull();
    expect((window as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('shows HTML in a title as text', async () => {
    installFakeApi({ chats: [makeChat({ chat_id: CHAT_ID, chat_name: '<img src=x onerror=alert(1)><script>x()</script>' })] });
    renderApp(`/c/${CHAT_ID}`);
    expect(await screen.findByRole('heading', { level: 1, name: '<img src=x onerror=alert(1)><script>x()</script>' })).toBeInTheDocument();
    expect(document.querySelector('script, img')).toBeNull();
  });

  it('renders markdown with highlighted code blocks that have a copy button', async () => {
    const reply = '**Bold** text\n\n```python\nprint("hi")\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |';
    setup({ messages: { [CHAT_ID]: [userMessage('code please'), replyMessage(reply)] } });
    const view = await screen.findByRole('region', { name: 'Conversation' });

    expect(await within(view).findByText('Bold')).toContainHTML('Bold');
    expect(within(view).getByText('Bold').tagName).toBe('STRONG');
    expect(within(view).getByRole('table')).toBeInTheDocument();
    expect(view.querySelector('pre code.hljs.language-python')).not.toBeNull();
    expect(within(view).getByText('python')).toBeInTheDocument();
    expect(within(view).getByRole('button', { name: 'Copy code' })).toBeInTheDocument();
  });

  it('copies a code block and the session ID to the clipboard', async () => {
    const app = setup({ messages: { [CHAT_ID]: [userMessage('code'), replyMessage('```sh\nls -la\n```')] } });
    await app.user.click(await screen.findByRole('button', { name: 'Copy code' }));
    expect(await navigator.clipboard.readText()).toBe('ls -la\n');
    expect(screen.getByRole('button', { name: 'Copied' })).toBeInTheDocument();

    await app.user.click(screen.getByRole('button', { name: 'Copy session ID' }));
    expect(await navigator.clipboard.readText()).toBe(CHAT_ID);
  });
});
