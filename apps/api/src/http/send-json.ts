import type { Response } from 'express';

/**
 * JSON text encoded ahead of time from a `T`, sent as it is (the chat list assembles its
 * answer from pieces it remembers; see features/chats/chat-render.ts).
 */
export class EncodedJson<T> {
  declare readonly encodes?: T;
  constructor(readonly text: string) {}
}

/**
 * Writes a JSON answer; the one way this API answers with JSON. Unlike Express's `res.json`,
 * it does not re-parse its own Content-Type to add a charset or look up app settings per
 * response: on the hot paths that was a measurable share of a request's CPU.
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  const json = body instanceof EncodedJson ? body.text : JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
