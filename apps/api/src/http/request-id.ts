import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

const INCOMING_ID = /^[\w.:-]{1,128}$/;

/** Reuses a well-formed X-Request-ID from nginx, or makes one; echoes it on the response. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-ID', id);
  next();
};
