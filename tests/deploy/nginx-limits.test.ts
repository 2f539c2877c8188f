import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { startNginx, type NginxServer } from '@simorgh/devstack';
import { send, stall, type RawResponse } from './raw-http.js';
import { readRepoFile } from './repo.js';

// The shipped timeouts are 10 s; the tests shorten them to keep each test to a few seconds.
const TIMEOUT_S = 2;
const SHORT_TIMEOUTS = {
  'client_header_timeout 10s;': `client_header_timeout ${TIMEOUT_S}s;`,
  'client_body_timeout 10s;': `client_body_timeout ${TIMEOUT_S}s;`,
};
// What nginx.conf ships (its config test checks the same numbers).
const STREAMS_PER_ADDRESS = 30;
const LOGIN_BURST = 5;

/** API stand-in: JSON answers, and event streams held open until the test lets them go. */
function startUpstream() {
  const held = new Set<ServerResponse>();
  const seen: string[] = [];
  const forwardedFor: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    forwardedFor.push(req.headers['x-forwarded-for']?.toString());
    req.resume();
    if (req.url === '/api/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': ping\n\n');
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  const releaseAll = () => {
    for (const res of held) res.end();
  };
  return { server, seen, forwardedFor, held, releaseAll };
}

/** Opens an event stream on its own connection; resolves with its status once headers arrive. */
function openStream(port: number): Promise<{ status: number; body: Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/stream', method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      const ended = new Promise<string>((done) => res.on('close', () => done(body)));
      resolve({ status: res.statusCode ?? 0, body: ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end('{}');
  });
}

function statuses(responses: RawResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of responses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function expectRateLimitedBody(response: RawResponse) {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toBe('application/json');
  expect(ErrorBodySchema.parse(JSON.parse(response.body.toString())).code).toBe('rate_limited');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
}

describe('nginx per-address limits and slow clients', () => {
  let upstream: ReturnType<typeof startUpstream>;
  let upstreamPort: number;
  // A fresh nginx per test: the limit zones start empty.
  let nginx: NginxServer;
  let port: number;

  beforeAll(async () => {
    upstream = startUpstream();
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  beforeEach(async () => {
    upstream.seen.length = 0;
    nginx = await startNginx({ upstreamPorts: [upstreamPort], perAddressLimits: true, replace: SHORT_TIMEOUTS });
    port = nginx.port;
  });

  afterEach(async () => {
    upstream.releaseAll();
    await nginx.stop();
  });

  it('lets a burst of sign-ins through, then answers 429 with the one error body (10 a minute)', async () => {
    const responses: RawResponse[] = [];
    for (let attempt = 0; attempt < LOGIN_BURST + 6; attempt += 1) {
      responses.push(await send(port, '/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    }
    expect(responses.slice(0, LOGIN_BURST + 1).map((r) => r.status)).toEqual(Array(LOGIN_BURST + 1).fill(200));
    for (const refused of responses.slice(LOGIN_BURST + 1)) expectRateLimitedBody(refused);
    expect(upstream.seen.filter((line) => line === 'POST /api/auth/login')).toHaveLength(LOGIN_BURST + 1);
    // The rest of the API keeps its own, looser limit.
    expect((await send(port, '/api/chats')).status).toBe(200);
  });

  it('leaves a normal page load and steady use of the API alone', async () => {
    // A page load: a dozen requests at once, then 20 more at 10 a second.
    const page = await Promise.all(Array.from({ length: 12 }, () => send(port, '/api/chats')));
    const steady: RawResponse[] = [];
    for (let index = 0; index < 20; index += 1) {
      steady.push(await send(port, '/api/chats'));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(statuses([...page, ...steady])).toEqual({ 200: 32 });
  });

  it('refuses a flood of API requests from one address with 429 (20 a second, burst 40)', async () => {
    // Ten at a time, so only the request rate (not the connection limit) is in play.
    const responses: RawResponse[] = [];
    for (let wave = 0; wave < 10; wave += 1) {
      responses.push(...(await Promise.all(Array.from({ length: 10 }, () => send(port, '/api/chats')))));
    }
    const counts = statuses(responses);
    expect(counts[200]).toBeGreaterThanOrEqual(41);
    expect(counts[429]).toBeGreaterThanOrEqual(30);
    expectRateLimitedBody(responses.find((r) => r.status === 429) as RawResponse);
  });

  it(`holds ${STREAMS_PER_ADDRESS} open reply streams per address and refuses more with 429`, async () => {
    const streams = await Promise.all(Array.from({ length: STREAMS_PER_ADDRESS + 5 }, () => openStream(port)));
    const open = streams.filter((stream) => stream.status === 200);
    const refused = streams.filter((stream) => stream.status === 429);
    expect(open).toHaveLength(STREAMS_PER_ADDRESS);
    expect(refused).toHaveLength(5);
    expect(ErrorBodySchema.parse(JSON.parse(await (refused[0] as (typeof refused)[number]).body)).code).toBe('rate_limited');
    // A closed stream frees its place.
    for (const stream of open.slice(0, 3)) stream.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await Promise.all(Array.from({ length: 3 }, () => openStream(port)));
    expect(again.map((stream) => stream.status)).toEqual([200, 200, 200]);
    for (const stream of [...open, ...again]) stream.close();
  });

  it(`closes a connection whose request line or headers stall, after client_header_timeout (${TIMEOUT_S} s here)`, async () => {
    const idle = await stall(port, '');
    const halfLine = await stall(port, 'GET /api/cha');
    const halfHeaders = await stall(port, 'GET /api/chats HTTP/1.1\r\nHost: chat.example\r\n');
    const closedAfter = await Promise.all([idle.closed, halfLine.closed, halfHeaders.closed]);
    for (const ms of closedAfter) {
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 300);
      expect(ms).toBeLessThan(TIMEOUT_S * 1000 + 2500);
    }
    expect(upstream.seen).toEqual([]);
  });

  it(`closes a request whose body stalls after client_body_timeout (${TIMEOUT_S} s here), before the API sees it`, async () => {
    const stalled = await stall(port, 'POST /api/chats HTTP/1.1\r\nHost: chat.example\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":');
    const ms = await stalled.closed;
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 300);
    expect(ms).toBeLessThan(TIMEOUT_S * 1000 + 2500);
    expect(upstream.seen).toEqual([]);
  });

  it('serves normal requests while 300 half-sent requests are open, and drops those after the timeout', async () => {
    const stalled = await Promise.all(Array.from({ length: 300 }, (_, index) => stall(port, `GET /api/chats?n=${index} HTTP/1.1\r\nHost: chat.example\r\n`)));
    const started = Date.now();
    expect((await send(port, '/api/chats')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    const closedAfter = await Promise.all(stalled.map((connection) => connection.closed));
    expect(Math.max(...closedAfter)).toBeLessThan(TIMEOUT_S * 1000 + 3000);
    expect(upstream.seen).toEqual(['GET /api/chats']);
  });
});

describe('nginx behind another proxy, with the README\'s realip lines', () => {
  let upstream: ReturnType<typeof startUpstream>;
  let nginx: NginxServer;

  beforeAll(async () => {
    upstream = startUpstream();
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.server.address() as AddressInfo).port;
    // The README's snippet, with the test's "load balancer" (this process) as the trusted hop.
    const snippet = /```nginx\n([\s\S]*?)```/.exec(readRepoFile('README.md'))?.[1] ?? '';
    expect(snippet).toContain('real_ip_header X-Forwarded-For;');
    const realIp = snippet.replace(/^set_real_ip_from .*;$/m, 'set_real_ip_from 127.0.0.1;');
    nginx = await startNginx({ upstreamPorts: [upstreamPort], perAddressLimits: true, serverSnippets: { 'real-ip.conf': realIp } });
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  it('limits each client named by the trusted hop separately and passes only that client on', async () => {
    for (const client of ['203.0.113.7', '198.51.100.20']) {
      const responses: RawResponse[] = [];
      for (let attempt = 0; attempt < LOGIN_BURST + 2; attempt += 1) {
        // The client's own forged entry comes first; the load balancer appends the address it saw.
        const headers = { 'x-forwarded-for': `10.9.9.9, ${client}` };
        responses.push(await send(nginx.port, '/api/auth/login', { method: 'POST', headers, body: '{}' }));
      }
      expect(statuses(responses), client).toEqual({ 200: LOGIN_BURST + 1, 429: 1 });
    }
    expect(new Set(upstream.forwardedFor)).toEqual(new Set(['203.0.113.7', '198.51.100.20']));
  });
});
