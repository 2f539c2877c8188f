import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { StreamEventSchema, type StreamEvent } from '@simorgh/contracts';
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';

/** Listens on a free loopback port: reply streams need a real socket (and a real disconnect). */
export async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One frame's event, checked against StreamEventSchema and its `event:` line. */
function streamEvent(message: EventSourceMessage): StreamEvent {
  const event = StreamEventSchema.parse(JSON.parse(message.data));
  if (message.event !== event.type) throw new Error(`frame "event: ${message.event}" carries a ${event.type} event`);
  return event;
}

function failOnMalformed(error: ParseError): never {
  throw error;
}

/** The events of a complete event-stream body (heartbeat comments skipped). */
export function parseEventStream(text: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  createParser({ onEvent: (message) => events.push(streamEvent(message)), onError: failOnMalformed }).feed(text);
  return events;
}

export type ReceivedEvent = { event: StreamEvent; id: string | null; at: number };

export type StreamReply = {
  status: number;
  headers: Headers;
  /** Parsed events (each checked against StreamEventSchema and its `event:` line), with arrival times. */
  events: ReceivedEvent[];
  /** `: ping` heartbeat comments seen. */
  pings: number;
  /** The JSON body of a refused request (not an event stream). */
  json: unknown;
  startedAt: number;
  of<T extends StreamEvent['type']>(type: T): Array<Extract<StreamEvent, { type: T }>>;
  firstAt(type: StreamEvent['type']): number | undefined;
};

export type StreamOptions = { signal?: AbortSignal; onEvent?: (event: StreamEvent, id: string | null) => void };

/**
 * POSTs and reads the server-sent events until the stream ends. `onEvent` may abort the
 * request (via `signal`) to act like a browser closing the tab.
 */
export function postStream(url: string, token: string, body?: unknown, options: StreamOptions = {}): Promise<StreamReply> {
  return readStream(url, token, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) }, options);
}

/**
 * Follows a chat's events (GET …/events) until `options.signal` aborts or the stream ends;
 * `lastEventId` goes in the Last-Event-ID header.
 */
export function followEvents(url: string, token: string, options: StreamOptions & { lastEventId?: string } = {}): Promise<StreamReply> {
  return readStream(url, token, { method: 'GET', headers: options.lastEventId === undefined ? {} : { 'Last-Event-ID': options.lastEventId } }, options);
}

async function readStream(
  url: string,
  token: string,
  init: { method: string; body?: string | undefined; headers?: Record<string, string> },
  options: StreamOptions,
): Promise<StreamReply> {
  const startedAt = performance.now();
  const response = await fetch(url, {
    method: init.method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'text/event-stream', ...init.headers },
    body: init.body,
    signal: options.signal ?? null,
  });
  const events: ReceivedEvent[] = [];
  let pings = 0;
  let json: unknown = null;
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    json = await response.json();
  } else if (response.body) {
    const parser = createParser({
      onComment: () => {
        pings += 1;
      },
      onEvent: (message) => {
        const event = streamEvent(message);
        const id = message.id ?? null;
        events.push({ event, id, at: performance.now() });
        options.onEvent?.(event, id);
      },
      onError: failOnMalformed,
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (options.signal?.aborted) break;
      }
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    }
  }
  return {
    status: response.status,
    headers: response.headers,
    events,
    pings,
    json,
    startedAt,
    of: (type) => events.map((item) => item.event).filter((event) => event.type === type) as never,
    firstAt: (type) => events.find((item) => item.event.type === type)?.at,
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
