import { routes, type StreamEvent } from '@simorgh/contracts';
import { describe, expect, it } from 'vitest';
import { errorResponse, onRoute, recordedRequests } from '../test/route-handlers';
import { openSseStream, sseBody, sseFrame, sseResponse } from '../test/sse';
import { signIn } from './auth-store';
import { ApiError } from './api-error';
import { callStreamRoute } from './stream';

const CHAT_ID = 'G-202611-000001';

const reply: StreamEvent[] = [
  { type: 'delta', message_id: 'S-G-202611-000001-M-002', content: 'Hel' },
  { type: 'delta', message_id: 'S-G-202611-000001-M-002', content: 'lo' },
  { type: 'done' },
];

/** Regenerates the reply of CHAT_ID and collects the events it streams. */
function regenerate(signal = new AbortController().signal) {
  const events: StreamEvent[] = [];
  const done = callStreamRoute(routes.regenerateReply, { params: { id: CHAT_ID }, signal }, (e) => events.push(e));
  return { events, done };
}

/** A stream body that delivers `text` in chunks of `size` bytes. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.slice(i, i + size));
      controller.close();
    },
  });
}

describe('callStreamRoute', () => {
  it('posts with the bearer token and delivers each event in order, skipping heartbeats', async () => {
    signIn('tok-1', { user_id: 'u', display_name: 'U' });
    onRoute(routes.sendMessage, () => sseResponse(reply));
    const events: StreamEvent[] = [];
    const signal = new AbortController().signal;
    await callStreamRoute(routes.sendMessage, { params: { id: CHAT_ID }, body: { content: 'hi' }, signal }, (e) => events.push(e));
    expect(events).toEqual(reply);
    const [call] = recordedRequests('POST');
    expect(call?.path).toBe(`/api/chats/${CHAT_ID}/messages`);
    expect(call?.headers.get('Authorization')).toBe('Bearer tok-1');
    expect(call?.headers.get('Accept')).toBe('text/event-stream');
    expect(call?.body).toEqual({ content: 'hi' });
  });

  it('reassembles frames split across network chunks and CRLF line endings', async () => {
    onRoute(routes.regenerateReply, () => sseBody(chunked(reply.map((event) => sseFrame(event)).join('').replace(/\n/g, '\r\n'), 7)));
    const { events, done } = regenerate();
    await done;
    expect(events).toEqual(reply);
  });

  it('delivers a last event the server did not end with a blank line', async () => {
    onRoute(routes.regenerateReply, () => sseBody(chunked(sseFrame({ type: 'done' }).trimEnd(), 5)));
    const { events, done } = regenerate();
    await done;
    expect(events).toEqual([{ type: 'done' }]);
  });

  it('ignores comments and frames that are not contract events', async () => {
    const text = ': ping\n\nevent: future\ndata: {"type":"future"}\n\ndata: not json\n\nevent: done\ndata: {"type":"done"}\n\n';
    onRoute(routes.regenerateReply, () => sseBody(chunked(text, 64)));
    const { events, done } = regenerate();
    await done;
    expect(events).toEqual([{ type: 'done' }]);
  });

  it('rejects with an AbortError when aborted mid-stream', async () => {
    let stream: ReturnType<typeof openSseStream> | undefined;
    onRoute(routes.regenerateReply, ({ signal }) => {
      stream = openSseStream(signal);
      return stream.response;
    });
    const controller = new AbortController();
    const { events, done } = regenerate(controller.signal);
    await expect.poll(() => stream).toBeDefined();
    stream?.send({ type: 'delta', message_id: 'm', content: 'partial' });
    await expect.poll(() => events).toHaveLength(1);
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(events).toEqual([{ type: 'delta', message_id: 'm', content: 'partial' }]);
  });

  it('turns an error response into an ApiError with the API detail', async () => {
    onRoute(routes.regenerateReply, () => errorResponse(429, 'rate_limited', 'Slow down: 20 messages a minute'));
    const { done } = regenerate();
    await expect(done).rejects.toBeInstanceOf(ApiError);
    await expect(done).rejects.toMatchObject({ status: 429, code: 'rate_limited', detail: 'Slow down: 20 messages a minute' });
  });
});
