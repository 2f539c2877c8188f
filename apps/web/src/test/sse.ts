import { StreamEventSchema, type StreamEvent } from '@simorgh/contracts';

const encoder = new TextEncoder();

export function sseFrame(event: StreamEvent): string {
  const parsed = StreamEventSchema.parse(event);
  return `event: ${parsed.type}\ndata: ${JSON.stringify(parsed)}\n\n`;
}

function streamHeaders(): HeadersInit {
  return { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
}

/** A complete reply stream, every event checked against the contract. */
export function sseResponse(events: StreamEvent[]): Response {
  const body = `: ping\n\n${events.map(sseFrame).join('')}`;
  return new Response(encoder.encode(body), { status: 200, headers: streamHeaders() });
}

/**
 * A reply stream the test feeds event by event and closes when it likes; it errors with an
 * AbortError when the request is aborted, as a real fetch body does.
 */
export function openSseStream(signal: AbortSignal | undefined) {
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
  signal?.addEventListener('abort', () => {
    if (closed) return;
    closed = true;
    controller.error(new DOMException('The operation was aborted.', 'AbortError'));
  });
  return {
    response: new Response(stream, { status: 200, headers: streamHeaders() }),
    send(event: StreamEvent) {
      if (!closed) controller.enqueue(encoder.encode(sseFrame(event)));
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
