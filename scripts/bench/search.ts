import { createHistoryDb } from '@simorgh/api/postgres';
import { createSearchStore } from '@simorgh/api/search-store';
import { chatsUserMayOpen } from '@simorgh/api/search-visibility';
import { percentile } from './stats.js';

export const SEARCH_USER = 'search.bench';

/** What the bench searches for: a word in a third of the messages, one in 1 of 5 000, a prefix. */
export const SEARCH_QUERIES = [
  { name: 'common word', q: 'pressure' },
  { name: 'rare word', q: 'deaerator' },
  { name: 'prefix', q: 'valve compr' },
] as const;

/**
 * Writes the corpus straight into the history tables (as the mirror would have): `chats` chats of
 * which the first `userChats` are SEARCH_USER's, `messages` messages spread over them, ~20 words
 * each from a fixed vocabulary, pressure in every third, deaerator in every 5 000th.
 */
export async function seedSearchCorpus(databaseUrl: string, { chats, userChats, messages }: { chats: number; userChats: number; messages: number }): Promise<void> {
  const history = createHistoryDb({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 1 });
  // One connection, so the session setting holds: a slice of the corpus takes longer than the API's bound.
  const client = await history.pool.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query(
      `INSERT INTO chats (chat_id, user_id, chat_type, chat_name, status, created_at, updated_at, last_activity_at, metadata, mirror_version)
       SELECT 'B-' || i, CASE WHEN i <= $2 THEN $3 ELSE 'search.other' || (i % 1000) END, 'general',
              (ARRAY['Pump sizing', 'Compressor trip', 'Valve list', 'Heat exchanger', 'Flare study', 'Cooling water'])[1 + i % 6] || ' ' || i,
              'active', now() - i * interval '1 minute', now(), now(), '{}', 1
       FROM generate_series(1, $1) AS i`,
      [chats, userChats, SEARCH_USER],
    );
    const vocabulary = `{${[
      'pump', 'valve', 'relief', 'flow', 'line', 'header', 'design', 'basis', 'seal', 'flush', 'impeller', 'curve', 'npsh', 'margin',
      'stress', 'piping', 'compressor', 'compression', 'surge', 'trip', 'heat', 'exchanger', 'duty', 'tube', 'shell', 'fouling',
      'flare', 'tip', 'velocity', 'noise', 'cooling', 'water', 'tower', 'fan', 'vibration', 'limit', 'the', 'of', 'and', 'to', 'for',
      'in', 'at', 'with', 'check', 'size', 'case', 'load', 'گزارش', 'فشار', 'پمپ', 'شیر', 'طراحی', 'کتاب', 'مهندس',
    ].join(',')}}`;
    // In slices, so one statement never holds the whole corpus in memory.
    const slice = 100_000;
    for (let from = 1; from <= messages; from += slice) {
      await client.query(
        `INSERT INTO messages (message_id, chat_id, seq, role, content, status, created_at, mirror_version)
         SELECT 'BM-' || m, 'B-' || (1 + m % $2), m / $2 + 1, CASE WHEN m % 2 = 0 THEN 'user' ELSE 'assistant' END,
                concat_ws(' ',
                  CASE WHEN m % 3 = 0 THEN 'pressure' END,
                  CASE WHEN m % 5000 = 0 THEN 'deaerator' END,
                  (SELECT string_agg(($3::text[])[1 + (m * 7 + k * 13 + k * k * 31 + m / 7) % cardinality($3::text[])], ' ')
                   FROM generate_series(1, 14 + m % 12) AS k)),
                'complete', now() - m * interval '1 second', 1
         FROM generate_series($1::int, $4::int) AS m`,
        [from, chats, vocabulary, Math.min(messages, from + slice - 1)],
      );
    }
    await client.query('VACUUM ANALYZE chats');
    await client.query('VACUUM ANALYZE messages');
  } finally {
    client.release();
    await history.db.destroy();
  }
}

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
  const visible = await chatsUserMayOpen(SEARCH_USER, 'c', async () => []);
  try {
    const figures: SearchFigures[] = [];
    for (const query of SEARCH_QUERIES) {
      const url = `${apiUrl}/api/search?${new URLSearchParams({ q: query.q })}`;
      const first = (await (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json()) as { results?: unknown[] };
      const api: number[] = [];
      const direct: number[] = [];
      let failures = 0;
      for (let round = 0; round < options.rounds; round += 1) {
        const viaApi = await closedLoop(options.connections, options.durationS * 1000, async () => {
          const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(String(response.status));
        });
        api.push(...viaApi.latencies);
        failures += viaApi.failures;
        const viaSql = await closedLoop(options.connections, options.durationS * 1000, async () => {
          const terms = await store.terms(query.q);
          await store.hits({ terms, visible, after: null, limit: 20 });
        });
        direct.push(...viaSql.latencies);
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
