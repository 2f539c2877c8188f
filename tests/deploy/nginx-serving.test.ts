import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { startNginx, type NginxServer } from '@simorgh/devstack';
import { send } from './raw-http.js';

const INDEX_HTML = '<!doctype html><html><head><title>Simorgh Chat</title><script type="module" src="/assets/index-B7x9kQ2a.js"></script></head><body><div id="root"></div></body></html>\n';
const ASSET_JS = `export const greeting = ${JSON.stringify('Simorgh Chat '.repeat(200))};\n`;


/** Upstream stand-in for the API: one slow event stream, one header echo, one 503. */
function startUpstream() {
  let releaseStream: () => void = () => {};
  const streamReleased = new Promise<void>((resolve) => {
    releaseStream = resolve;
  });
  const state = { streamFinished: false };
  const server = createServer((req, res) => {
    if (req.method === 'POST' && /^\/api\/chats\/[^/]+\/messages$/.test(req.url ?? '')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: delta\ndata: ${JSON.stringify({ type: 'delta', text: 'first words' })}\n\n`);
      // The rest of the reply waits until the client has seen the first frame through nginx:
      // a buffering proxy would hold that frame back and the test would time out.
      void streamReleased.then(() => {
        res.write(`event: done\ndata: ${JSON.stringify({ type: 'done' })}\n\n`);
        state.streamFinished = true;
        res.end();
      });
      return;
    }
    if (req.url === '/api/echo') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'private, no-store' });
      res.end(JSON.stringify({ headers: req.headers, httpVersion: req.httpVersion }));
      return;
    }
    if (req.url === '/api/health') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'unhealthy' }));
      return;
    }
    res.writeHead(404).end();
  });
  return { server, state, releaseStream };
}

describe('nginx serving the web app and proxying the API', () => {
  let webRoot: string;
  let nginx: NginxServer;
  let upstream: ReturnType<typeof startUpstream>;
  let port: number;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'simorgh-web-'));
    chmodSync(webRoot, 0o755);
    mkdirSync(join(webRoot, 'assets'), { mode: 0o755 });
    writeFileSync(join(webRoot, 'index.html'), INDEX_HTML, { mode: 0o644 });
    writeFileSync(join(webRoot, 'assets', 'index-B7x9kQ2a.js'), ASSET_JS, { mode: 0o644 });
    upstream = startUpstream();
    await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.server.address() as AddressInfo).port;
    // With the per-address limits as shipped: a browser's traffic must pass them untouched.
    nginx = await startNginx({ upstreamPorts: [upstreamPort], webRoot, perAddressLimits: true });
    port = nginx.port;
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream?.server.closeAllConnections();
    await new Promise<void>((resolve) => (upstream ? upstream.server.close(() => resolve()) : resolve()));
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  it('serves index.html for client-side routes like /c/<chat id> (history fallback)', async () => {
    const response = await send(port, '/c/G-202611-000001');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body.toString()).toBe(INDEX_HTML);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('serves index.html at / and always revalidates it', async () => {
    const response = await send(port, '/');
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe(INDEX_HTML);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('caches fingerprinted assets for a year as immutable', async () => {
    const response = await send(port, '/assets/index-B7x9kQ2a.js');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing asset with 404 instead of the SPA page, and does not cache it', async () => {
    const response = await send(port, '/assets/index-gone1234.js');
    expect(response.status).toBe(404);
    expect(response.body.toString()).not.toContain('<div id="root">');
    expect(response.headers['cache-control'] ?? '').not.toContain('immutable');
  });

  it('compresses static text with gzip when the browser accepts it', async () => {
    const response = await send(port, '/assets/index-B7x9kQ2a.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers.vary).toMatch(/Accept-Encoding/i);
    expect(response.body.length).toBeLessThan(Buffer.byteLength(ASSET_JS));
  });

  it('sends the security headers on pages and on errors', async () => {
    for (const path of ['/', '/assets/index-gone1234.js']) {
      const { headers } = await send(port, path);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      const csp = String(headers['content-security-policy']);
      for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"]) {
        expect(csp).toContain(directive);
      }
      expect(headers.server).toBe('nginx');
    }
  });

  it('refuses a body over 1 MB with 413 and the one error body', async () => {
    const response = await send(port, '/api/chats', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(1024 * 1024 + 1, 'a'),
    });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toBe('application/json');
    const body = ErrorBodySchema.parse(JSON.parse(response.body.toString()));
    expect(body.code).toBe('payload_too_large');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('forwards client address, scheme and a request id over a kept-alive HTTP/1.1 connection', async () => {
    const response = await send(port, '/api/echo');
    expect(response.status).toBe(200);
    const echoed = JSON.parse(response.body.toString()) as { headers: Record<string, string>; httpVersion: string };
    expect(echoed.httpVersion).toBe('1.1');
    expect(echoed.headers.connection).toBeUndefined();
    expect(echoed.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echoed.headers['x-forwarded-proto']).toBe('http');
    expect(echoed.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    // The API's own caching policy is left alone.
    expect(response.headers['cache-control']).toBe('private, no-store');
  });

  it('forwards the connecting address whatever X-Forwarded-For or X-Real-IP the client claims', async () => {
    const response = await send(port, '/api/echo', {
      headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.1', 'x-real-ip': '203.0.113.7', 'x-forwarded-host': 'evil.example' },
    });
    const { headers } = JSON.parse(response.body.toString()) as { headers: Record<string, string> };
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-real-ip']).toBe('127.0.0.1');
    expect(headers['x-forwarded-host']).toBe('127.0.0.1');
  });

  it('keeps a well-formed request id from the client and replaces a malformed one', async () => {
    const kept = await send(port, '/api/echo', { headers: { 'x-request-id': 'web-4f2a.9' } });
    expect((JSON.parse(kept.body.toString()) as { headers: Record<string, string> }).headers['x-request-id']).toBe('web-4f2a.9');
    const replaced = await send(port, '/api/echo', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect((JSON.parse(replaced.body.toString()) as { headers: Record<string, string> }).headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('passes the API’s own 503 (unhealthy health check) through unchanged', async () => {
    const response = await send(port, '/api/health');
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body.toString())).toEqual({ status: 'unhealthy' });
  });

  it('delivers event-stream frames before the upstream has finished (no buffering, no gzip)', async () => {
    const frames = await new Promise<{ first: string; firstWhileUpstreamOpen: boolean; rest: string; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the first event-stream frame did not arrive while the upstream was still streaming')), 5_000);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/chats/G-202611-000001/messages',
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'accept-encoding': 'gzip' },
        },
        (res) => {
          let first = '';
          let rest = '';
          let firstWhileUpstreamOpen = false;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (!first) {
              first = chunk;
              firstWhileUpstreamOpen = !upstream.state.streamFinished;
              clearTimeout(timer);
              upstream.releaseStream();
            } else {
              rest += chunk;
            }
          });
          res.on('end', () => resolve({ first, firstWhileUpstreamOpen, rest, headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ content: 'What is the design pressure?' }));
    });
    expect(frames.headers['content-type']).toBe('text/event-stream');
    expect(frames.headers['content-encoding']).toBeUndefined();
    expect(frames.firstWhileUpstreamOpen).toBe(true);
    expect(frames.first).toContain('event: delta');
    expect(frames.rest).toContain('event: done');
  });

  it('answers with the one error body (503 upstream_unavailable) when the API is down', async () => {
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    const response = await send(port, '/api/chats');
    expect(response.status).toBe(503);
    const body = ErrorBodySchema.parse(JSON.parse(response.body.toString()));
    expect(body.code).toBe('upstream_unavailable');
  });
});
