import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { requireBinary, spawnService, stopProcess, waitForPort } from './processes.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);

export type RedisSentinelSet = {
  /** The name the sentinels monitor (REDIS_SENTINEL_MASTER). */
  masterName: string;
  /** `127.0.0.1:p1,127.0.0.1:p2,...` (REDIS_SENTINELS). */
  sentinels: string;
  /** Every data server, the first one the master at start. */
  servers: RedisServer[];
  /** The server the sentinels currently name as master (asks a live sentinel). */
  master(): Promise<RedisServer>;
  /** Runs a redis-cli command against a data server, returns its raw output. */
  cli(server: RedisServer, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
};

/**
 * One master, `replicas` replicas and `sentinelCount` sentinels (`redis-server --sentinel`) on
 * loopback; resolves once every replica is in sync and every sentinel knows the others and
 * the replicas, so a failover can start at once. Short `downAfterMs` / `failoverTimeoutMs`
 * make failover tests quick.
 */
export async function startRedisSentinelSet(options: {
  dataDir: string;
  masterName?: string;
  replicas?: number;
  sentinelCount?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}): Promise<RedisSentinelSet> {
  const binary = requireBinary('redis-server', 'redis-server');
  const cliBinary = requireBinary('redis-cli', 'redis-tools');
  const masterName = options.masterName ?? 'simorgh';
  const replicaCount = options.replicas ?? 2;
  const sentinelCount = options.sentinelCount ?? 3;
  const cli = async (port: number, ...args: string[]) => (await run(cliBinary, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 })).stdout;

  const servers: RedisServer[] = [];
  const sentinelProcesses: ChildProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(sentinelProcesses.map((child) => stopProcess(child)));
    await Promise.allSettled(servers.map((server) => server.stop()));
  };
  try {
    const master = await startRedisServer({ dataDir: join(options.dataDir, 'redis-0') });
    servers.push(master);
    // The replicas start together, each syncing from the master.
    servers.push(
      ...(await Promise.all(
        Array.from({ length: replicaCount }, (_, index) =>
          startRedisServer({ dataDir: join(options.dataDir, `redis-${index + 1}`), extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] }),
        ),
      )),
    );
    const sentinelPorts = await Promise.all(Array.from({ length: sentinelCount }, () => freePort()));
    for (const [index, port] of sentinelPorts.entries()) {
      const dir = join(options.dataDir, `sentinel-${index}`);
      mkdirSync(dir, { recursive: true });
      const config = join(dir, 'sentinel.conf');
      // The sentinel rewrites this file as it learns the topology.
      writeFileSync(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${master.port} ${Math.floor(sentinelCount / 2) + 1}`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 3000}`,
          `sentinel parallel-syncs ${masterName} 1`,
          '',
        ].join('\n'),
      );
      const log: string[] = [];
      const child = spawnService(binary, [config, '--sentinel'], log);
      sentinelProcesses.push(child);
      try {
        await waitForPort(port, 15_000, child);
      } catch (error) {
        throw new Error(`redis sentinel did not start: ${(error as Error).message}\n${log.join('\n')}`);
      }
    }

    // Ready: the replicas are in sync, and each sentinel sees them and the other sentinels.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const replication = await cli(master.port, 'INFO', 'replication');
      const synced = (replication.match(/^slave\d+:.*state=online/gm) ?? []).length === replicaCount;
      const views = await Promise.all(sentinelPorts.map((port) => cli(port, 'SENTINEL', 'MASTER', masterName).catch(() => '')));
      const field = (view: string, name: string) => Number(new RegExp(`^${name}\\n(\\d+)$`, 'm').exec(view)?.[1] ?? -1);
      const known = views.every((view) => field(view, 'num-slaves') === replicaCount && field(view, 'num-other-sentinels') === sentinelCount - 1);
      if (synced && known) break;
      if (Date.now() > deadline) throw new Error(`the sentinel set did not settle within 30 s:\n${replication}\n${views.join('\n')}`);
      await sleep(100);
    }

    return {
      masterName,
      sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      servers,
      async master() {
        for (const port of sentinelPorts) {
          const answer = await cli(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName).catch(() => '');
          const masterPort = Number(answer.trim().split('\n')[1]);
          const server = servers.find((candidate) => candidate.port === masterPort);
          if (server) return server;
        }
        throw new Error('no sentinel named a master');
      },
      cli: (server, ...args) => cli(server.port, ...args),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
