import { StreamEventSchema, type RouteDefinition, type StreamEvent } from '@simorgh/contracts';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { sendRouteRequest, type RouteInput } from './client';

/** The routes that answer with a reply stream. */
type StreamRoute = RouteDefinition & { stream: true };

/** Receives each event with its ID (the SSE `id:`, null when the server sent none). */
export type StreamEventHandler = (event: StreamEvent, id: string | null) => void;

/** `onOpen`: the stream was accepted. `onActivity`: bytes arrived (an event or a heartbeat). */
export type StreamWatchers = { onOpen?: () => void; onActivity?: () => void };

/**
 * Calls a streaming route and delivers each event with its ID. EventSource cannot POST or send an
 * Authorization header, so the `text/event-stream` body is read from fetch's ReadableStream.
 * Resolves when the server closes the stream; rejects with an AbortError when `signal` aborts.
 */
export async function callStreamRoute<R extends StreamRoute>(
  route: R,
  input: RouteInput<R> & { signal: AbortSignal },
  onEvent: StreamEventHandler,
  { onOpen, onActivity }: StreamWatchers = {},
): Promise<void> {
  const { signal } = input;
  const response = await sendRouteRequest(route, input, 'text/event-stream');
  onOpen?.();
  if (response.body === null) return;

  const parser = createParser({
    onEvent: (message) => {
      const event = toStreamEvent(message);
      if (event !== null) onEvent(event, message.id ?? null);
    },
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const abort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (signal.aborted) throw new DOMException('The stream was stopped.', 'AbortError');
      if (done) break;
      onActivity?.();
      parser.feed(decoder.decode(value, { stream: true }));
    }
    // A last event the server did not end with a blank line still counts.
    parser.feed(`${decoder.decode()}\n\n`);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/**
 * One SSE message → one event. A message the contract does not know is skipped rather than
 * fatal, so a newer server can add event types without breaking open tabs.
 */
function toStreamEvent(message: EventSourceMessage): StreamEvent | null {
  try {
    const parsed = StreamEventSchema.safeParse(JSON.parse(message.data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
