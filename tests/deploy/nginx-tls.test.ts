import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareNginx, requireBinary, startNginx, testNginxConfig, TLS_SUBSTITUTED_LINES, type NginxServer } from '@simorgh/devstack';
import { send } from './raw-http.js';
import { readRepoFile } from './repo.js';

const INDEX_HTML = '<!doctype html><title>Simorgh Chat</title><div id="root"></div>\n';
const TWO_YEARS_S = 63_072_000;

/** A throwaway self-signed certificate for 127.0.0.1, as an operator's fullchain.pem / privkey.pem. */
function selfSignedCertificate(dir: string): { certificate: string; key: string } {
  const certificate = join(dir, 'fullchain.pem');
  const key = join(dir, 'privkey.pem');
  const result = spawnSync(
    requireBinary('openssl', 'openssl'),
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', certificate],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`openssl req failed: ${result.stderr}`);
  return { certificate, key };
}

describe('deploy/nginx/tls.conf', () => {
  let dir: string;
  let pem: { certificate: string; key: string };
  let nginx: NginxServer;
  let tlsPort: number;
  const seen: Array<{ url: string; headers: Record<string, string | string[] | undefined> }> = [];
  const upstream = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simorgh-tls-'));
    chmodSync(dir, 0o755);
    pem = selfSignedCertificate(dir);
    writeFileSync(join(dir, 'index.html'), INDEX_HTML, { mode: 0o644 });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    nginx = await startNginx({ upstreamPorts: [upstreamPort], webRoot: dir, perAddressLimits: true, tls: pem });
    tlsPort = nginx.tlsPort ?? 0;
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the production port and certificate paths on one line each, and only modern protocols', () => {
    const tls = readRepoFile('deploy/nginx/tls.conf');
    for (const line of Object.values(TLS_SUBSTITUTED_LINES)) expect(tls.split(line).length - 1, line).toBe(1);
    expect(tls).toMatch(/^ssl_protocols TLSv1\.2 TLSv1\.3;$/m);
    expect(readRepoFile('nginx.conf')).toContain('include /etc/nginx/server.d/*.conf;');
  });

  it('passes nginx -t when mounted into nginx.conf with certificates', () => {
    const run = prepareNginx({ upstreamPorts: [3000], listenPort: 18080, perAddressLimits: true, tls: { port: 18443, ...pem } });
    try {
      const result = testNginxConfig(run);
      expect(result.output).toContain('syntax is ok');
      expect(result.status).toBe(0);
    } finally {
      rmSync(run.prefix, { recursive: true, force: true });
    }
  });

  it('redirects plain HTTP to the same path and query on HTTPS, without reaching the API', async () => {
    const proxiedBefore = seen.length;
    const page = await send(nginx.port, '/c/G-202611-000001?draft=1');
    expect(page.status).toBe(301);
    expect(page.headers.location).toBe('https://127.0.0.1/c/G-202611-000001?draft=1');
    const api = await send(nginx.port, '/api/chats', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(api.status).toBe(301);
    expect(api.headers.location).toBe('https://127.0.0.1/api/chats');
    expect(seen).toHaveLength(proxiedBefore);
  });

  it('serves the app over TLS 1.2 and 1.3 with HSTS beside the other security headers', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const response = await send(tlsPort, '/', { tls: { version } });
      expect(response.status, version).toBe(200);
      expect(response.body.toString()).toBe(INDEX_HTML);
      expect(response.headers['strict-transport-security']).toBe(`max-age=${TWO_YEARS_S}`);
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });

  it('proxies /api over HTTPS with the scheme and the connecting address', async () => {
    const response = await send(tlsPort, '/api/chats', { tls: {}, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(response.status).toBe(200);
    expect(response.headers['strict-transport-security']).toBe(`max-age=${TWO_YEARS_S}`);
    const forwarded = seen.at(-1)?.headers;
    expect(forwarded?.['x-forwarded-proto']).toBe('https');
    expect(forwarded?.['x-forwarded-for']).toBe('127.0.0.1');
  });
});
