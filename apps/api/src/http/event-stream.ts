import type { Response } from 'express';
import { StreamEventSchema, type EventFrame } from '@simorgh/contracts';

export const HEARTBEAT_MS = 15_000;

/** One SSE frame: `id: <event ID>` (when stored), `event: <type>` and the event as JSON (which repeats the type). */
export function formatEvent({ id, event }: EventFrame): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event.type}\ndata: ${JSON.stringify(StreamEventSchema.parse(event))}\n\n`;
}

/**
 * The one way the API answers with a stream: starts a text/event-stream response, flushes the
 * headers at once (so the browser, and nginx, told by X-Accel-Buffering not to buffer, see the
 * stream open before the model says anything), then writes every event of `events` as it comes.
 * A comment line every `heartbeatMs` keeps idle proxies from cutting a slow reply. When the client
 * has gone, the events are still drained (the producer decides what a lost client means for it),
 * only not written.
 */
export async function writeEventStream(res: Response, events: AsyncIterable<EventFrame>, heartbeatMs = HEARTBEAT_MS): Promise<void> {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const isOpen = () => !res.destroyed && !res.writableEnded;
  const heartbeat = setInterval(() => {
    if (isOpen()) res.write(': ping\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  try {
    for await (const event of events) {
      if (isOpen()) res.write(formatEvent(event));
    }
  } finally {
    clearInterval(heartbeat);
    if (isOpen()) res.end();
  }
}
