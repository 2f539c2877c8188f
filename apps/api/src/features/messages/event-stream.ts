import type { Response } from 'express';
import { StreamEventSchema, type StreamEvent } from '@simorgh/contracts';

export const HEARTBEAT_MS = 15_000;

export type EventStream = {
  /** False once the client has gone or the stream was ended. */
  readonly open: boolean;
  send(event: StreamEvent): void;
  end(): void;
};

/** One SSE frame: `event: <type>` and the event as JSON (which repeats the type). */
export function formatEvent(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(StreamEventSchema.parse(event))}\n\n`;
}

/**
 * Starts a text/event-stream response and flushes the headers at once, so the browser (and
 * nginx, told by X-Accel-Buffering not to buffer) sees the stream open before the model says
 * anything. A comment line every `heartbeatMs` keeps idle proxies from cutting a slow reply.
 */
export function openEventStream(res: Response, heartbeatMs = HEARTBEAT_MS): EventStream {
  res.status(200);
  res.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  let ended = false;
  const heartbeat = setInterval(() => {
    if (isOpen()) res.write(': ping\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  res.on('close', () => clearInterval(heartbeat));
  const isOpen = () => !ended && !res.destroyed && !res.writableEnded;
  return {
    get open() {
      return isOpen();
    },
    send(event) {
      if (isOpen()) res.write(formatEvent(event));
    },
    end() {
      clearInterval(heartbeat);
      if (isOpen()) res.end();
      ended = true;
    },
  };
}
