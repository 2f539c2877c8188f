import autocannon, { type Options, type Result } from 'autocannon';
import { percentile } from './stats.js';

/** Latencies in ms; autocannon records whole ms, so `mean` is the finer figure at low latencies. */
export type LoadResult = { rps: number; mean: number; p50: number; p99: number; total: number; failures: number };

export type LoadSettings = { connections: number; durationS: number; rounds: number };

export type Load = { name: string; options: Omit<Options, 'connections' | 'duration'> };

export async function run(options: Load['options'], connections: number, durationS: number): Promise<LoadResult> {
  const result: Result = await autocannon({ ...options, connections, duration: durationS });
  return {
    rps: result.requests.average,
    mean: result.latency.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Runs every load once per round for `settings.rounds` rounds, after a 1 s warm-up of each (JIT,
 * connection pools, caches), in the given order and in reverse order every other round. A slow
 * moment of a shared machine then hits every load alike, a machine that slows down or speeds up
 * over a run favours none, and comparisons are made within a round (see `medianRatio`). Each
 * round's figures go to `say`, to judge how steady the machine was.
 */
export async function measureRounds(
  loads: Load[],
  settings: LoadSettings,
  say: (line: string) => void = () => undefined,
): Promise<Map<string, LoadResult[]>> {
  for (const load of loads) await run(load.options, settings.connections, 1);
  const results = new Map<string, LoadResult[]>(loads.map((load) => [load.name, []]));
  for (let round = 0; round < settings.rounds; round += 1) {
    const line: string[] = [];
    for (const load of round % 2 === 0 ? loads : [...loads].reverse()) {
      const result = await run(load.options, settings.connections, settings.durationS);
      results.get(load.name)?.push(result);
      line.push(`${load.name} ${Math.round(result.rps)} req/s (p50 ${result.p50} ms)`);
    }
    say(`    round ${round + 1}: ${line.join(', ')}`);
  }
  return results;
}

/** One figure for several rounds: medians of rate and latencies, sums of counts. */
export function summarize(rounds: LoadResult[]): LoadResult {
  return {
    rps: percentile(rounds.map((round) => round.rps), 50),
    mean: percentile(rounds.map((round) => round.mean), 50),
    p50: percentile(rounds.map((round) => round.p50), 50),
    p99: percentile(rounds.map((round) => round.p99), 50),
    total: rounds.reduce((sum, round) => sum + round.total, 0),
    failures: rounds.reduce((sum, round) => sum + round.failures, 0),
  };
}

/** The median over rounds of `value(a) / value(b)`, each pair measured in the same round. */
export function medianRatio(a: LoadResult[], b: LoadResult[], value: (result: LoadResult) => number): number {
  const ratios = a.map((round, index) => {
    const other = b[index];
    return other ? value(round) / Math.max(value(other), 0.01) : Number.NaN;
  });
  return percentile(ratios.filter((ratio) => !Number.isNaN(ratio)), 50);
}
