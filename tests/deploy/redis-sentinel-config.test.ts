import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinary, startRedisServer, stopProcess, waitForPort, type RedisServer } from '@simorgh/devstack';
import { readRepoFile } from './repo.js';

/**
 * deploy/redis/sentinel.conf run by the real redis-server --sentinel, with only the master's
 * host and the port put on loopback (the compose names do not resolve here).
 */
let dir: string;
let redis: RedisServer;
let sentinel: ChildProcess;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'simorgh-sentinel-conf-'));
  redis = await startRedisServer({ dataDir: join(dir, 'redis') });
  port = await freePort();
  const config = readRepoFile('deploy/redis/sentinel.conf')
    .replace(/^port 26379$/m, `port ${port}`)
    .replace(/^(sentinel monitor \S+) redis 6379/m, `$1 127.0.0.1 ${redis.port}`);
  const path = join(dir, 'sentinel.conf');
  writeFileSync(path, config);
  sentinel = spawn(requireBinary('redis-server', 'redis-server'), [path, '--sentinel'], { stdio: 'ignore' });
  await waitForPort(port, 15_000, sentinel);
});

afterAll(async () => {
  if (sentinel) await stopProcess(sentinel);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/redis/sentinel.conf', () => {
  it('is accepted by the real sentinel, which monitors the master with quorum 2 and a 5 s down-after', () => {
    const answer = execFileSync(requireBinary('redis-cli', 'redis-tools'), ['-p', String(port), 'SENTINEL', 'MASTER', 'simorgh'], { encoding: 'utf8' });
    const fields = new Map<string, string>();
    const lines = answer.trim().split('\n');
    for (let index = 0; index + 1 < lines.length; index += 2) fields.set(lines[index] ?? '', lines[index + 1] ?? '');
    expect(fields.get('port')).toBe(String(redis.port));
    expect(fields.get('quorum')).toBe('2');
    expect(fields.get('down-after-milliseconds')).toBe('5000');
    expect(fields.get('failover-timeout')).toBe('30000');
    // The sentinel took the file as its own: it rewrites it as it learns the topology.
    expect(readFileSync(join(dir, 'sentinel.conf'), 'utf8')).toContain('sentinel myid');
  });
});
