import type { StreamEvent } from '@simorgh/contracts';
import { describe, expect, it } from 'vitest';
import { installFetchMock } from '../test/fetch-mock';
import { openSseStream, sseFrame, sseResponse } from '../test/sse';
import { signIn } from './auth-store';
import { ApiError } from './api-error';
import { parseFrame, postEventStream } from './stream';

const reply: StreamEvent[] = [
  { type: 'delta', message_id: 'S-G-202611-000001-M-002', content: 'Hel' },
  { type: 'delta', message_id: 'S-G-202611-000001-M-002', content: 'lo' },
  { type: 'done' },
];

describe('postEventStream', () => {
  it('posts with the bearer token and delivers each event in order, skipping heartbeats', async () => {
    signIn('tok-1', { user_id: 'u', display_name: 'U' });
    const mock = installFetchMock();
    mock.on('POST', '/api/chats/:id/messages', () => sseResponse(reply));
    const events: StreamEvent[] = [];
    await postEventStream('/api/chats/G-202611-000001/messages', { content: 'hi' }, (e) => events.push(e), new AbortController().signal);
    expect(events).toEqual(reply);
    const [call] = mock.calls('POST');
    expect(call?.headers.get('Authorization')).toBe('Bearer tok-1');
    expect(call?.body).toEqual({ content: 'hi' });
  });

  it('reassembles frames split across network chunks and CRLF line endings', async () => {
    const mock = installFetchMock();
    const text = reply.map(sseFrame).join('').replace(/\n/g, '\r\n');
    const bytes = new TextEncoder().encode(text);
    mock.on('POST', '/api/x', () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
          controller.close();
        },
      });
      return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
    });
    const events: StreamEvent[] = [];
    await postEventStream('/api/x', undefined, (e) => events.push(e), new AbortController().signal);
    expect(events).toEqual(reply);
  });

  it('rejects with an AbortError when aborted mid-stream', async () => {
    const mock = installFetchMock();
    let stream: ReturnType<typeof openSseStream> | undefined;
    mock.on('POST', '/api/x', ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    const done = postEventStream('/api/x', undefined, (e) => events.push(e), controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 0));
    stream?.send({ type: 'delta', message_id: 'm', content: 'partial' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(events).toEqual([{ type: 'delta', message_id: 'm', content: 'partial' }]);
  });

  it('turns an error response into an ApiError with the API detail', async () => {
    const mock = installFetchMock();
    mock.on('POST', '/api/x', () =>
      new Response(JSON.stringify({ detail: 'Slow down: 20 messages a minute', code: 'rate_limited' }), { status: 429 }),
    );
    const result = postEventStream('/api/x', undefined, () => undefined, new AbortController().signal);
    await expect(result).rejects.toBeInstanceOf(ApiError);
    await expect(result).rejects.toMatchObject({ status: 429, code: 'rate_limited', detail: 'Slow down: 20 messages a minute' });
  });
});

describe('parseFrame', () => {
  it('ignores comments and frames that are not contract events', () => {
    expect(parseFrame(': ping')).toBeNull();
    expect(parseFrame('event: future\ndata: {"type":"future"}')).toBeNull();
    expect(parseFrame('data: not json')).toBeNull();
    expect(parseFrame('event: done\ndata: {"type":"done"}')).toEqual({ type: 'done' });
  });
});
