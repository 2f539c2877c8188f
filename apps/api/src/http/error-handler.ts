import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { HTTP_STATUS_BY_CODE, type ErrorBody, type ErrorCode } from '@simorgh/contracts';
import { ZodError } from 'zod';
import type { Logger } from '../logger.js';
import { isRedisUnavailable, REPLICA_ACK_DETAIL, ReplicaAckError } from '../redis.js';
import { AppError } from './app-error.js';
import { levelForStatus, requestFields } from './access-log.js';
import { sendJson } from './send-json.js';

type BodyParserError = Error & { type?: string; status?: number; expose?: boolean };

/**
 * The one error body for every failure, each logged once: client errors at info, outages
 * (503) at warn, anything unexpected at error with its stack.
 */
export function createErrorHandlers(logger: Logger): { notFound: RequestHandler; errorHandler: ErrorRequestHandler } {
  function send(req: Request, res: Response, code: ErrorCode, detail: string, extra: Partial<ErrorBody> = {}, err?: unknown) {
    const status = HTTP_STATUS_BY_CODE[code];
    const body: ErrorBody = { detail, code, ...extra };
    const requestId = res.locals.requestId;
    if (requestId) body.request_id = requestId;
    logger[levelForStatus(status)]({ req: requestFields(req, res), res: { status }, code, ...(err ? { err } : {}) }, detail);
    sendJson(res, status, body);
  }

  /** Unknown routes under /api answer with the one error body, not Express's HTML page. */
  const notFound: RequestHandler = (req, res) => {
    send(req, res, 'not_found', `No endpoint ${req.method} ${requestFields(req, res).path}`);
  };

  /**
   * Registered last. Maps AppError to its status, zod errors to 400 with the issues,
   * body-parser errors to 400/413, Redis outages to 503, and anything else to a logged 500 with a generic detail.
   */
  const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      logger.warn({ req: requestFields(req, res), err: error }, 'error after the response started');
      res.end();
      return;
    }
    if (error instanceof AppError) {
      res.set(error.headers);
      send(req, res, error.code, error.detail);
      return;
    }
    if (error instanceof ZodError) {
      const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      const first = issues[0];
      const detail = first ? (first.path ? `${first.path}: ${first.message}` : first.message) : 'Invalid request';
      send(req, res, 'validation', detail, { issues });
      return;
    }
    const parserError = error as BodyParserError;
    if (parserError.type === 'entity.too.large') {
      send(req, res, 'payload_too_large', 'Request body is too large');
      return;
    }
    if (parserError.type === 'entity.parse.failed') {
      send(req, res, 'validation', 'Request body is not valid JSON');
      return;
    }
    if (parserError.expose && parserError.status && parserError.status >= 400 && parserError.status < 500) {
      send(req, res, 'validation', parserError.message || 'Invalid request');
      return;
    }
    // The router marks an undecodable path (e.g. a lone "%") as 400 without exposing it.
    if (error instanceof URIError && parserError.status === 400) {
      send(req, res, 'validation', 'The request path is not validly encoded');
      return;
    }
    if (error instanceof ReplicaAckError) {
      send(req, res, 'upstream_unavailable', REPLICA_ACK_DETAIL, {}, { name: error.name, message: error.message });
      return;
    }
    if (isRedisUnavailable(error)) {
      const { name, message } = error as Error;
      send(req, res, 'upstream_unavailable', 'Storage is unavailable right now, try again shortly', {}, { name, message });
      return;
    }
    send(req, res, 'internal', 'Something went wrong on our side; please try again', {}, error);
  };

  return { notFound, errorHandler };
}
