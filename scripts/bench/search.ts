import { Pool } from 'undici';
import { createHistoryDb } from '@simorgh/api/postgres';
import { createSearchStore } from '@simorgh/api/search-store';
import { chatsUserMayOpen } from '@simorgh/api/search-visibility';
import { SEARCH_USER } from './search-corpus.js';
import { cpuUsedBetween, type CpuReading } from './process-cpu.js';
import { percentile } from './stats.js';

/**
 * What the bench searches for (corpus: search-corpus.ts). Every query's last word is also a
 * prefix, as the user types: `pressure` (about 4 messages in 10), `deaerator` (about 1 in
 * 5 000), `valve compr` (compressor, compression, compressed…: about 1 in 70).
 */
export const SEARCH_QUERIES = [
  { name: 'common word', q: 'pressure' },
  { name: 'rare word', q: 'deaerator' },
  { name: 'prefix', q: 'valve compr' },
] as const;

/** How long each path runs before its rounds are measured (the bench's other loads get as long). */
const WARM_UP_MS = 1000;

/** Runs `once` from `connections` closed loops for `durationMs`; latencies in ms. */
async function closedLoop(connections: number, durationMs: number, once: () => Promise<void>): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        try {
          await once();
          latencies.push(performance.now() - started);
        } catch {
          failures += 1;
        }
      }
    }),
  );
  return { latencies, failures };
}

/** Latencies of one path; `cpu`: each process's CPU ms per request over the measured rounds. */
export type PathFigures = { p50: number; p95: number; failures: number; count: number; cpu: Record<string, number> };

export type SearchFigures = { name: string; api: PathFigures; compared: PathFigures | null; direct: PathFigures; results: number };

/**
 * Each query through the API (GET /api/search, first page), through a compared build's API when
 * given (`comparedUrl`, the same services), and the same SQL run directly with the search store
 * on a pool of its own, alternating in rounds so all see the same machine. The API is asked
 * through undici's Pool (one keep-alive connection per closed loop): the load generator runs on
 * the cores it measures, and `fetch()` cost its thread 1.6–1.8 ms per search against 0.6–0.8 ms
 * for the Pool (docs/performance.md). `cpu` reads each process's CPU time, to report it per search.
 */
export async function measureSearch(
  target: { apiUrl: string; comparedUrl?: string | undefined; token: string; databaseUrl: string; cpu: CpuReading },
  options: { connections: number; durationS: number; rounds: number },
): Promise<SearchFigures[]> {
  const history = createHistoryDb({ DATABASE_URL: target.databaseUrl, DATABASE_POOL_SIZE: options.connections });
  const store = createSearchStore(history.db);
  const clients = [target.apiUrl, ...(target.comparedUrl ? [target.comparedUrl] : [])].map((url) => new Pool(url, { connections: options.connections }));
  const headers = { authorization: `Bearer ${target.token}` };
  // Nothing is shared in the bench's data: no projects to add.
  const visible = await chatsUserMayOpen(SEARCH_USER, async () => ({ all: [] }));
  try {
    const figures: SearchFigures[] = [];
    for (const query of SEARCH_QUERIES) {
      const path = `/api/search?${new URLSearchParams({ q: query.q })}`;
      const results: number[] = [];
      for (const client of clients) {
        const first = await client.request({ path, method: 'GET', headers });
        if (first.statusCode !== 200) throw new Error(`GET ${path}: ${first.statusCode} ${await first.body.text()}`);
        results.push(((await first.body.json()) as { results?: unknown[] }).results?.length ?? 0);
      }
      const viaApi = (client: Pool) => async () => {
        const response = await client.request({ path, method: 'GET', headers });
        await response.body.arrayBuffer();
        if (response.statusCode !== 200) throw new Error(String(response.statusCode));
      };
      const viaSql = async () => {
        await store.page({ q: query.q, visible, after: null, limit: 20 });
      };
      const paths = [...clients.map(viaApi), viaSql];
      // A warm-up of each path first, as every load of the bench gets: not measured.
      for (const once of paths) await closedLoop(options.connections, WARM_UP_MS, once);
      const measured = paths.map(() => ({ latencies: [] as number[], failures: 0, cpu: {} as Record<string, number> }));
      for (let round = 0; round < options.rounds; round += 1) {
        for (const [index, once] of paths.entries()) {
          const before = target.cpu();
          const result = await closedLoop(options.connections, options.durationS * 1000, once);
          const used = cpuUsedBetween(before, target.cpu());
          const path = measured[index] as (typeof measured)[number];
          path.latencies.push(...result.latencies);
          path.failures += result.failures;
          for (const [name, ms] of Object.entries(used)) path.cpu[name] = (path.cpu[name] ?? 0) + ms;
        }
      }
      const [api, ...rest] = measured.map(
        (path): PathFigures => ({
          p50: percentile(path.latencies, 50),
          p95: percentile(path.latencies, 95),
          failures: path.failures,
          count: path.latencies.length,
          cpu: Object.fromEntries(Object.entries(path.cpu).map(([name, ms]) => [name, ms / Math.max(1, path.latencies.length + path.failures)])),
        }),
      );
      const direct = rest.pop();
      if (!api || !direct) throw new Error('no figures');
      figures.push({ name: query.name, api, compared: rest[0] ?? null, direct, results: Math.min(...results) });
    }
    return figures;
  } finally {
    await Promise.all([history.db.destroy(), ...clients.map((client) => client.close())]);
  }
}
