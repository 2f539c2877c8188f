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

  it('leaves pid, error_log and user to the command line so they can be overridden', () => {
    const config = readRepoFile('nginx.conf');
    expect(config).not.toMatch(/^\s*(pid|error_log|user|daemon)\s/m);
  });
});
