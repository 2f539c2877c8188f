import { createHistoryDb } from '@simorgh/api/postgres';
import { createSearchStore } from '@simorgh/api/search-store';
import { chatsUserMayOpen } from '@simorgh/api/search-visibility';
import { SEARCH_USER } from './search-corpus.js';
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

export type SearchFigures = { name: string; api: { p50: number; p95: number; failures: number; count: number }; direct: { p50: number; p95: number; count: number }; results: number };

/**
 * Each query through the API (GET /api/search, first page) and the same SQL run directly with
 * the search store on a pool of its own, alternating in rounds so both see the same machine.
 */
export async function measureSearch(apiUrl: string, token: string, databaseUrl: string, options: { connections: number; durationS: number; rounds: number }): Promise<SearchFigures[]> {
  const history = createHistoryDb({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: options.connections });
  const store = createSearchStore(history.db);
  // Nothing is shared in the bench's data: no projects to add.
  const visible = await chatsUserMayOpen(SEARCH_USER, async () => []);
  try {
    const figures: SearchFigures[] = [];
    for (const query of SEARCH_QUERIES) {
      const url = `${apiUrl}/api/search?${new URLSearchParams({ q: query.q })}`;
      const first = (await (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json()) as { results?: unknown[] };
      const viaApi = async () => {
        const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(String(response.status));
      };
      const viaSql = async () => {
        const words = await store.words(query.q);
        await store.hits({ words, visible, after: null, limit: 20 });
      };
      // A warm-up of each path first, as every load of the bench gets: not measured.
      await closedLoop(options.connections, WARM_UP_MS, viaApi);
      await closedLoop(options.connections, WARM_UP_MS, viaSql);
      const api: number[] = [];
      const direct: number[] = [];
      let failures = 0;
      for (let round = 0; round < options.rounds; round += 1) {
        const apiRound = await closedLoop(options.connections, options.durationS * 1000, viaApi);
        api.push(...apiRound.latencies);
        failures += apiRound.failures;
        const sqlRound = await closedLoop(options.connections, options.durationS * 1000, viaSql);
        direct.push(...sqlRound.latencies);
      }
      figures.push({
        name: query.name,
        api: { p50: percentile(api, 50), p95: percentile(api, 95), failures, count: api.length },
        direct: { p50: percentile(direct, 50), p95: percentile(direct, 95), count: direct.length },
        results: first.results?.length ?? 0,
      });
    }
    return figures;
  } finally {
    await history.db.destroy();
  }
}
