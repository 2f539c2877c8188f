import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { secondsSince, UNMATCHED_ROUTE, type Metrics } from '../metrics.js';
import { AppError } from './app-error.js';

declare module 'express-serve-static-core' {
  interface Locals {
    /** The route table's path template of the route that took the request (a metrics label). */
    route?: string;
  }
}

/**
 * Counts and times every request once its response is over ('close': after the last byte, or
 * when the client went away), so a streamed reply counts until its stream ends. The route label
 * is the template the route set (`/api/chats/:id/messages`), never the raw path.
 */
export function httpMetrics(metrics: Metrics): RequestHandler {
  const { httpRequests, httpDuration } = metrics;
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('close', () => {
      const labels = { method: req.method, route: res.locals.route ?? UNMATCHED_ROUTE, status: String(res.statusCode) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, secondsSince(start));
    });
    next();
  };
}

/** Sets the route label; mount-routes puts it first in each route's chain. */
export const routeLabel =
  (template: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.route = template;
    next();
  };

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics for Prometheus, with `Authorization: Bearer <METRICS_TOKEN>`. Compared in
 * constant time over SHA-256 digests, so neither the content nor the length of the token leaks.
 */
export function metricsEndpoint(metrics: Metrics, token: string): RequestHandler {
  const expected = digest(`Bearer ${token}`);
  return async (req, res) => {
    if (!timingSafeEqual(digest(req.get('authorization') ?? ''), expected)) {
      throw new AppError('unauthorized', 'The metrics need the bearer token set in METRICS_TOKEN', { 'WWW-Authenticate': 'Bearer' });
    }
    const text = await metrics.registry.metrics();
    res.set('Content-Type', metrics.registry.contentType).set('Cache-Control', 'no-store').send(text);
  };
}
