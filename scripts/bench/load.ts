import autocannon, { type Options, type Result } from 'autocannon';

export type LoadResult = { rps: number; p50: number; p99: number; total: number; failures: number };

export type LoadSettings = { connections: number; durationS: number };

/** A short warm-up (JIT, connection pools, caches), then the measured autocannon run. */
export async function measureLoad(options: Omit<Options, 'connections' | 'duration'>, settings: LoadSettings): Promise<LoadResult> {
  await autocannon({ ...options, connections: settings.connections, duration: 1 });
  const result: Result = await autocannon({ ...options, connections: settings.connections, duration: settings.durationS });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}
