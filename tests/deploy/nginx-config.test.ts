import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareNginx, SUBSTITUTED_LINES, testNginxConfig } from '@simorgh/devstack';
import { readRepoFile } from './repo.js';

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

describe('nginx.conf', () => {
  it('is a complete main config that the real nginx accepts (nginx -t)', () => {
    const webRoot = mkdtempSync(join(tmpdir(), 'simorgh-web-'));
    const run = prepareNginx({ upstreamPorts: [3000], listenPort: 18080, webRoot });
    cleanup.push(webRoot, run.prefix);
    const result = testNginxConfig(run);
    expect(result.output).toContain('syntax is ok');
    expect(result.status).toBe(0);
  });

  it('names the production upstream, port and web root on exactly one line each', () => {
    const config = readRepoFile('nginx.conf');
    for (const line of Object.values(SUBSTITUTED_LINES)) {
      expect(config.split(line).length - 1, line).toBe(1);
    }
    expect(config).toMatch(/upstream simorgh_api \{\s*server api:3000;\s*keepalive \d+;\s*\}/);
  });

  it('proxies /api over HTTP/1.1 without buffering and outlasts the 15 s stream heartbeat', () => {
    const config = readRepoFile('nginx.conf');
    const api = /location \/api\/ \{([\s\S]*?)\n {4}\}/.exec(config)?.[1] ?? '';
    expect(api).toContain('proxy_pass http://simorgh_api;');
    expect(api).toContain('proxy_http_version 1.1;');
    expect(api).toContain('proxy_set_header Connection "";');
    expect(api).toContain('proxy_buffering off;');
    expect(api).not.toMatch(/proxy_ignore_headers[^;]*X-Accel-Buffering/);
    const readTimeout = /proxy_read_timeout (\d+)s;/.exec(api)?.[1];
    expect(Number(readTimeout)).toBeGreaterThan(15);
  });

  it('replaces the client\'s X-Forwarded-For and X-Real-IP with the connecting address, never appends to them', () => {
    const config = readRepoFile('nginx.conf');
    const api = /location \/api\/ \{([\s\S]*?)\n {4}\}/.exec(config)?.[1] ?? '';
    expect(api).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(api).toContain('proxy_set_header X-Real-IP $remote_addr;');
    expect(config).not.toContain('$proxy_add_x_forwarded_for');
    // realip belongs to deployments with a proxy in front (README), never to the shipped edge.
    expect(config).not.toMatch(/^\s*(set_real_ip_from|real_ip_header)\s/m);
  });

  it('limits /api per address (sign-in strictest) and answers 429 with the one error body', () => {
    const config = readRepoFile('nginx.conf');
    expect(config).toContain('limit_req_zone $binary_remote_addr zone=simorgh_api:10m rate=20r/s;');
    expect(config).toContain('limit_req_zone $binary_remote_addr zone=simorgh_login:10m rate=10r/m;');
    expect(config).toContain('limit_conn_zone $binary_remote_addr zone=simorgh_api_conn:10m;');
    expect(config).toContain('limit_req_status 429;');
    expect(config).toContain('limit_conn_status 429;');
    expect(config).toContain('error_page 429 @rate_limited;');
    const api = /location \/api\/ \{([\s\S]*?)\n {4}\}/.exec(config)?.[1] ?? '';
    expect(api).toContain('limit_req zone=simorgh_api burst=40 nodelay;');
    // Each open reply stream holds a connection: room for many (tests/deploy/nginx-limits.test.ts).
    expect(api).toContain('limit_conn simorgh_api_conn 30;');
    const login = /location = \/api\/auth\/login \{([\s\S]*?)\}/.exec(api)?.[1] ?? '';
    expect(login).toContain('proxy_pass http://simorgh_api;');
    expect(login).toContain('limit_req zone=simorgh_login burst=5 nodelay;');
  });

  it('cuts off slow clients quickly and has room for thousands of connections', () => {
    const config = readRepoFile('nginx.conf');
    const seconds = (directive: string) => Number(new RegExp(`^\\s*${directive} (\\d+)s;`, 'm').exec(config)?.[1]);
    expect(seconds('client_header_timeout')).toBe(10);
    expect(seconds('client_body_timeout')).toBe(10);
    expect(seconds('send_timeout')).toBeLessThanOrEqual(60);
    expect(seconds('keepalive_timeout')).toBeLessThanOrEqual(60);
    expect(config).toMatch(/^\s*reset_timedout_connection on;/m);
    const connections = Number(/worker_connections (\d+);/.exec(config)?.[1]);
    const files = Number(/worker_rlimit_nofile (\d+);/.exec(config)?.[1]);
    expect(connections).toBeGreaterThanOrEqual(4096);
    expect(files).toBeGreaterThanOrEqual(2 * connections);
  });

  it('leaves pid, error_log and user to the command line so they can be overridden', () => {
    const config = readRepoFile('nginx.conf');
    expect(config).not.toMatch(/^\s*(pid|error_log|user|daemon)\s/m);
  });
});
