import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@simorgh/api/logger';
import { createRedisClient, redisTargetAt } from '@simorgh/api/redis';

/** /proc/<pid>/stat counts CPU time in clock ticks of 1/100 s on Linux. */
const TICK_MS = 10;

/** A process's fields after its name (which may hold spaces): state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const ownMs = (fields: string[]) => (Number(fields[11]) + Number(fields[12])) * TICK_MS;

/** CPU time (user + system, every thread) a process has used so far, in ms; NaN without /proc. */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  return fields ? ownMs(fields) : Number.NaN;
}

/**
 * The same for a process and its children (PostgreSQL: the postmaster and its backends), those
 * that have exited included (the parent's cutime and cstime, [13] and [14], once it reaped them).
 */
export function processTreeCpuMs(pid: number): number {
  const root = statFields(pid);
  if (!root) return Number.NaN;
  let total = ownMs(root) + (Number(root[13]) + Number(root[14])) * TICK_MS;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return Number.NaN;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields && Number(fields[1]) === pid) total += ownMs(fields);
  }
  return total;
}

/** The postmaster's pid, from its data directory. */
export const postmasterPid = (dataDir: string) => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n', 1)[0]);

/** redis-server's pid, as it reports it. */
export async function redisServerPid(redisUrl: string): Promise<number> {
  const client = createRedisClient(redisTargetAt(redisUrl), 0, createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }), 'bench-pid');
  await client.connect();
  try {
    return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
  } finally {
    client.destroy();
  }
}

/** CPU ms used so far by each named process; the bench's own process is `bench client`. */
export type CpuReading = () => Record<string, number>;

/** What each process used between two readings. */
export function cpuUsedBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(before).map((name) => [name, (after[name] ?? Number.NaN) - (before[name] ?? Number.NaN)]));
}

export const benchClientCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
