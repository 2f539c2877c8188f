import { StreamEventSchema, type StreamEvent } from '@simorgh/contracts';
import { HttpResponse } from 'msw';

const encoder = new TextEncoder();

/** One event as the API writes it (with its ID when given), checked against the contract. */
export function sseFrame(event: StreamEvent, id?: string): string {
  const parsed = StreamEventSchema.parse(event);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${parsed.type}\ndata: ${JSON.stringify(parsed)}\n\n`;
}

/** A reply stream whose body is `body`, as the API sends one. */
export function sseBody(body: ReadableStream<Uint8Array>): Response {
  return new HttpResponse(body, { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
}

/** A complete reply stream, after a heartbeat. */
export function sseResponse(events: StreamEvent[]): Response {
  const text = `: ping\n\n${events.map((event) => sseFrame(event)).join('')}`;
  return sseBody(
    new ReadableStream({
      start(controller) {
        controller.enqueue(encoder.encode(text));
        controller.close();
      },
    }),
  );
}

/**
 * A reply stream the test feeds event by event and closes when it likes; it errors with an
 * AbortError when the request is aborted, as a real fetch body does.
 */
export function openSseStream(signal: AbortSignal) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      closed = true;
    },
  });
  signal.addEventListener('abort', () => {
    if (closed) return;
    closed = true;
    controller.error(new DOMException('The operation was aborted.', 'AbortError'));
  });
  return {
    response: sseBody(stream),
    send(event: StreamEvent, id?: string) {
      if (!closed) controller.enqueue(encoder.encode(sseFrame(event, id)));
    },
    /** Drops the connection as a network failure does. */
    fail() {
      if (closed) return;
      closed = true;
      controller.error(new TypeError('network error'));
    },
    close() {
      if (closed) return;
      closed = true;
      controller.close();
    },
    get closed() {
      return closed;
    },
  };
}
