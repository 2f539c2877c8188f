import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HTTP_STATUS_BY_CODE, type ErrorBody, type ErrorCode } from '@simorgh/contracts';
import { ZodError } from 'zod';
import { isRedisUnavailable } from '../redis.js';
import { AppError } from './app-error.js';

function send(res: Parameters<RequestHandler>[1], code: ErrorCode, detail: string, extra: Partial<ErrorBody> = {}) {
  const body: ErrorBody = { detail, code, ...extra };
  const requestId = res.locals.requestId as string | undefined;
  if (requestId) body.request_id = requestId;
  res.status(HTTP_STATUS_BY_CODE[code]).json(body);
}

/** Unknown routes under /api answer with the one error body, not Express's HTML page. */
export const notFoundHandler: RequestHandler = (req, res) => {
  send(res, 'not_found', `No endpoint ${req.method} ${req.path}`);
};

type BodyParserError = Error & { type?: string; status?: number; expose?: boolean };

/**
 * Registered last. Maps AppError to its status, zod errors to 400 with the issues,
 * body-parser errors to 400/413, Redis outages to 503, and anything else to a logged 500 with a generic detail.
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  if (res.headersSent) {
    req.log?.warn({ err: error }, 'error after the response started');
    res.end();
    return;
  }
  if (error instanceof AppError) {
    res.set(error.headers);
    send(res, error.code, error.detail);
    return;
  }
  if (error instanceof ZodError) {
    const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    const first = issues[0];
    const detail = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'Invalid request';
    send(res, 'validation', detail, { issues });
    return;
  }
  const parserError = error as BodyParserError;
  if (parserError.type === 'entity.too.large') {
    send(res, 'payload_too_large', 'Request body is too large');
    return;
  }
  if (parserError.type === 'entity.parse.failed') {
    send(res, 'validation', 'Request body is not valid JSON');
    return;
  }
  if (parserError.expose && parserError.status && parserError.status >= 400 && parserError.status < 500) {
    send(res, 'validation', parserError.message || 'Invalid request');
    return;
  }
  // The router marks an undecodable path (e.g. a lone "%") as 400 without exposing it.
  if (error instanceof URIError && parserError.status === 400) {
    send(res, 'validation', 'The request path is not validly encoded');
    return;
  }
  if (isRedisUnavailable(error)) {
    req.log?.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'redis unavailable');
    send(res, 'upstream_unavailable', 'Storage is unavailable right now, try again shortly');
    return;
  }
  req.log?.error({ err: error }, 'unhandled error');
  send(res, 'internal', 'Something went wrong on our side; please try again');
};
