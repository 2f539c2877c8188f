import type { Request, RequestHandler, Response } from 'express';
import type { Level } from 'pino';
import type { Logger } from '../logger.js';

/** 503 means a dependency is down: expected during an outage, not a bug in this service. */
export function levelForStatus(status: number): Level {
  if (status === 503) return 'warn';
  if (status >= 500) return 'error';
  if (status >= 400) return 'info';
  return 'debug';
}

/** What a log line says about a request: ID, method and path; never headers (tokens), query or body. */
export function requestFields(req: Request, res: Response): { id: string | undefined; method: string; path: string } {
  return { id: res.locals.requestId, method: req.method, path: req.originalUrl.split('?', 1)[0] ?? '' };
}

/**
 * One line per request (status and time), for LOG_LEVEL=debug: createApp mounts it only then.
 * Error responses are logged by the error handler at any level; listening for the end of every
 * request only to drop the line was a measurable cost under load.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      logger.debug(
        {
          req: requestFields(req, res),
          res: { status: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        res.writableFinished ? 'request completed' : 'request aborted',
      );
    });
    next();
  };
}
