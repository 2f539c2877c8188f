/**
 * What the hand-written JSON body reader and security headers save per request against the
 * libraries they replaced (docs/decisions/json-body-reader.md, security-headers.md).
 *
 *   pnpm --filter @simorgh/api exec tsx src/test/middleware-cost.ts
 *
 * Two measures, rounds alternating the variants so drift hits all alike:
 * - direct: the middleware alone, called on a request stream built here (headers, one chunk of
 *   body) until it calls next; CPU µs per call, the cost of building the stream included.
 * - over HTTP: an Express app with only that middleware and a route answering 204, driven over
 *   loopback by keep-alive requests from this process; CPU µs per request, client included. On
 *   a busy machine the difference drowns in the noise of the rest; the direct figure is the one
 *   to quote.
 */
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { BODY_LIMIT } from '../http/body-limit.js';
import { jsonBody } from '../http/json-body.js';
import { securityHeaders } from '../http/security-headers.js';

const CALLS_PER_ROUND = Number(process.env.CALLS ?? 20_000);
const REQUESTS_PER_ROUND = Number(process.env.REQUESTS ?? 4000);
const ROUNDS = Number(process.env.ROUNDS ?? 6);
/** A message as the web app sends it: a few hundred bytes of JSON. */
const BODY = JSON.stringify({ content: 'What flange rating do I need for 300 °C and 20 bar in carbon steel? '.repeat(4), attachments: [] });

const BODY_BYTES = Buffer.from(BODY);

/** A request as Node hands it to Express: a readable stream with its headers. */
function fakeRequest(): IncomingMessage {
  const stream = new Readable({ read() {} }) as unknown as IncomingMessage;
  Object.assign(stream, {
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/json', 'content-length': String(BODY_BYTES.length) },
  });
  (stream as unknown as Readable).push(BODY_BYTES);
  (stream as unknown as Readable).push(null);
  return stream;
}

const fakeResponse = () => {
  const headers = new Map<string, unknown>();
  return {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    getHeader: (name: string) => headers.get(name.toLowerCase()),
  } as unknown as ServerResponse;
};

/**
 * CPU µs per call of `middleware` (null: the request read by a bare listener), on a fresh request
 * with a body, or on one shared request for middleware that only sets headers.
 */
async function directRound(middleware: RequestHandler | null, withBody: boolean): Promise<number> {
  const shared = fakeRequest();
  const start = process.cpuUsage();
  for (let i = 0; i < CALLS_PER_ROUND; i += 1) {
    const req = withBody ? fakeRequest() : shared;
    await new Promise<void>((resolve, reject) => {
      if (!middleware) {
        req.on('data', () => undefined);
        req.on('end', resolve);
        return;
      }
      middleware(req as never, fakeResponse() as never, (error?: unknown) => (error ? reject(error as Error) : resolve()));
    });
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / CALLS_PER_ROUND;
}

async function serve(middleware: RequestHandler | null): Promise<number> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (middleware) app.use(middleware);
  app.post('/', (_req, res) => {
    res.status(204).end();
  });
  const server = app.listen(0, '127.0.0.1');
  server.unref();
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(BODY) } },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

/** CPU µs per request of this process (client and server). */
async function round(port: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < REQUESTS_PER_ROUND; i += 1) await post(port);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / REQUESTS_PER_ROUND;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function compare(title: string, variants: Record<string, RequestHandler | null>, measure: (name: string) => Promise<number>) {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  const names = Object.keys(variants);
  for (const name of names) await measure(name); // warm-up
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) samples[name]?.push(await measure(name));
  }
  console.log(title);
  for (const name of names) {
    const values = samples[name] ?? [];
    console.log(`  ${name.padEnd(22)} median ${median(values).toFixed(1)} µs CPU/request  (rounds: ${values.map((v) => v.toFixed(0)).join(' ')})`);
  }
}

const bodies: Record<string, RequestHandler | null> = { none: null, 'express.json()': express.json({ limit: BODY_LIMIT }), jsonBody: jsonBody(BODY_LIMIT) };
const headers: Record<string, RequestHandler | null> = { 'helmet()': helmet(), securityHeaders };

async function overHttp(variants: Record<string, RequestHandler | null>) {
  const ports = new Map(await Promise.all(Object.entries(variants).map(async ([name, mw]) => [name, await serve(mw)] as const)));
  return (name: string) => round(ports.get(name) as number);
}

await compare('JSON body, direct', bodies, (name) => directRound(bodies[name] ?? null, true));
await compare('Security headers, direct', headers, (name) => directRound(headers[name] ?? null, false));
await compare('JSON body, over HTTP', bodies, await overHttp(bodies));
await compare('Security headers, over HTTP', { none: null, ...headers }, await overHttp({ none: null, ...headers }));
agent.destroy();
