/**
 * `pnpm bench`: measures Simorgh Chat beside baselines measured in the same run on the same
 * machine (absolute numbers drift on shared machines; ratios hold) and prints one table.
 * See docs/performance.md.
 *
 *   BENCH_TARGET=https://host BENCH_TOKEN=<jwt>   run the HTTP figures against a deployed instance
 *   BENCH_PROJECT=<n>                             (target mode) a project the token's user may use
 *   BENCH_DURATION_S (2)  BENCH_ROUNDS (5)  BENCH_CONNECTIONS (50)  BENCH_STREAMS (50)
 *   BENCH_REDIS_APPENDFSYNC (always)              local Redis fsync policy, to see what durability costs
 *   BENCH_TOKEN_DELAY_MS (5)                      local model server's pause between tokens (0: one burst)
 *   BENCH_SEARCH_MESSAGES (1000000)               search corpus: messages, over a twentieth as many chats
 *   BENCH_POSTGRES_DIR (none)                     keep PostgreSQL's data there and reuse its search corpus
 *   BENCH_ONLY (all)                              comma-separated sections to run: creations, lists, shared,
 *                                                 archive, search, streams
 *   BENCH_COMPARE_API (none)                      another build's server.js under apps/api (e.g. apps/api/dist-before/
 *                                                 server.js): run beside on the same services, its first token and
 *                                                 searches interleaved
 */
import { resolve } from 'node:path';
import { createTokenService } from '@simorgh/api/tokens';
import { initialBundle } from './bench/bundle.js';
import { describeLag, openChatDb, openHistoryPool, sampleMirrorLag, seedMirroredChats, usedMemory } from './bench/archive.js';
import { BENCH_ADMIN, BENCH_FEW_USERS, BENCH_GENERAL_USER, BENCH_USER, COLD_PROJECT_BASE, COLD_PROJECT_COUNT, startLocalStack, WARM_PROJECT, type LocalStack } from './bench/local-stack.js';
import { measureRounds, medianRatio, run as runLoad, summarize, type Load, type LoadResult, type LoadSettings } from './bench/load.js';
import { describeMachine } from './bench/machine.js';
import { waitForRedisIdle } from './bench/redis-idle.js';
import { benchClientCpuMs, postmasterPid, processCpuMs, processTreeCpuMs, redisServerPid } from './bench/process-cpu.js';
import { measureSearch, type PathFigures } from './bench/search.js';
import { hasSearchCorpus, SEARCH_USER, seedSearchCorpus } from './bench/search-corpus.js';
import { seedSessions } from './bench/seed.js';
import { seedProjectSharedChats } from './bench/sharing.js';
import { percentile } from './bench/stats.js';
import { firstMessageThroughApi, firstTokenDirect, firstTokenFollowing, titleDirect } from './bench/streams.js';

const ROOT = resolve(import.meta.dirname, '..');
const say = (line: string) => process.stderr.write(`${line}\n`);
const intEnv = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const settings: LoadSettings = {
  connections: intEnv('BENCH_CONNECTIONS', 50),
  durationS: intEnv('BENCH_DURATION_S', 2),
  rounds: intEnv('BENCH_ROUNDS', 5),
};
const STREAMS = intEnv('BENCH_STREAMS', 50);
const SECTIONS = ['creations', 'lists', 'shared', 'archive', 'search', 'streams'] as const;
const only = (process.env.BENCH_ONLY ?? '').split(',').map((name) => name.trim()).filter(Boolean);
for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown section ${name} (${SECTIONS.join(', ')})`);
const wants = (section: (typeof SECTIONS)[number]) => only.length === 0 || only.includes(section);
const FEW_CONNECTIONS = 10;

type Row = { measure: string; value: string; baseline: string; ratio: string; goal: string; result: '' | 'PASS' | 'MISS' };
const rows: Row[] = [];
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : `${value.toFixed(value < 10 ? 2 : 1)} ms`);
const rps = (value: number) => `${Math.round(value)} req/s`;
const verdict = (ok: boolean): Row['result'] => (ok ? 'PASS' : 'MISS');
const failuresNote = (result: LoadResult) => (result.failures > 0 ? ` (${result.failures} failed)` : '');

/** Rows for one load measured in rounds; ratios are medians of same-round ratios to the baseline. */
function loadRows(name: string, rounds: LoadResult[], baseline: LoadResult[] | null, goals: boolean) {
  const result = summarize(rounds);
  const base = baseline ? summarize(baseline) : null;
  const ratio = baseline ? medianRatio(rounds, baseline, (round) => round.rps) : Number.NaN;
  rows.push({
    measure: `${name}: throughput`,
    value: `${rps(result.rps)}${failuresNote(result)}`,
    baseline: base ? rps(base.rps) : '-',
    ratio: base ? `${ratio.toFixed(2)}x` : '-',
    goal: goals ? '>= 0.8x' : '-',
    result: goals && base ? verdict(ratio >= 0.8 && result.failures === 0 && result.total > 0) : '',
  });
  latencyRow(name, rounds, baseline, goals);
}

/** p50 and p99 of a load, its p99 beside the baseline's (median of same-round ratios). */
function latencyRow(name: string, rounds: LoadResult[], baseline: LoadResult[] | null, goal: boolean) {
  const result = summarize(rounds);
  const base = baseline ? summarize(baseline) : null;
  rows.push({
    measure: `${name}: p50 / p99`,
    value: `${ms(result.p50)} / ${ms(result.p99)}`,
    baseline: base ? `${ms(base.p50)} / ${ms(base.p99)}` : '-',
    ratio: baseline ? `${medianRatio(rounds, baseline, (round) => Math.max(round.p99, 1)).toFixed(2)}x` : '-',
    goal: goal ? 'p99 < 20 ms' : '-',
    result: goal ? verdict(result.p99 < 20) : '',
  });
}

/**
 * A list load against the small user's, compared by mean latency: autocannon's percentiles are
 * whole ms, which at 9–15 ms moves a ratio by up to a sixth.
 */
function listRow(measure: string, rounds: LoadResult[], smallRounds: LoadResult[], goal: boolean) {
  const [large, small] = [summarize(rounds), summarize(smallRounds)];
  const ratio = large.total > 0 ? medianRatio(rounds, smallRounds, (round) => round.mean) : Number.POSITIVE_INFINITY;
  const figures = (result: LoadResult) => `${ms(result.mean)} mean (p50 ${result.p50} ms), ${rps(result.rps)}${failuresNote(result)}`;
  rows.push({
    measure,
    value: large.total > 0 ? figures(large) : 'no answer within 10 s',
    baseline: figures(small),
    ratio: Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '-',
    goal: goal ? '<= 1.5x' : '-',
    result: goal ? verdict(ratio <= 1.5 && large.failures === 0 && small.total > 0) : '',
  });
}

function printTable(title: string) {
  const header: Row = { measure: 'Measure', value: 'Simorgh Chat', baseline: 'Baseline', ratio: 'Ratio', goal: 'Goal', result: '' };
  const all = [header, ...rows];
  const keys = ['measure', 'value', 'baseline', 'ratio', 'goal', 'result'] as const;
  const widths = keys.map((key) => Math.max(...all.map((row) => (key === 'result' && row === header ? 6 : row[key].length))));
  const line = (row: Row) => `| ${keys.map((key, index) => (row === header && key === 'result' ? 'Result' : row[key]).padEnd(widths[index] as number)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n\n${line(header)}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${rows.map(line).join('\n')}\n`);
}

/**
 * First token through each target beside the model's own (direct), and, for `follower`, as a
 * second tab following the chat's events sees it.
 */
async function streamFigures(
  targets: Array<{ name: string; url: string }>,
  token: string,
  llmUrl: string | null,
  follower?: { name: string; url: string },
) {
  const direct: number[] = [];
  const titlesDirect: number[] = [];
  const following: number[] = [];
  const byTarget = new Map(targets.map((target) => [target.name, { firstToken: [] as number[], title: [] as number[] }]));
  // Interleaved, so a slow moment of the machine hits every column alike.
  for (let index = 0; index < STREAMS; index += 1) {
    if (llmUrl) direct.push(await firstTokenDirect(llmUrl));
    if (llmUrl && index % 2 === 0) titlesDirect.push(await titleDirect(llmUrl));
    // In turn first and last, so what one reply leaves running (its title, the mirror) does not always slow the same one.
    for (const target of index % 2 === 0 ? targets : [...targets].reverse()) {
      const figures = await firstMessageThroughApi(target.url, token);
      byTarget.get(target.name)?.firstToken.push(figures.firstToken);
      byTarget.get(target.name)?.title.push(figures.title);
    }
    if (follower) following.push(await firstTokenFollowing(follower.url, token));
  }
  const directP50 = llmUrl ? percentile(direct, 50) : Number.NaN;
  for (const target of targets) {
    const figures = byTarget.get(target.name);
    if (!figures) continue;
    const p50 = percentile(figures.firstToken, 50);
    const added = p50 - directP50;
    rows.push({
      measure: `First token, p50 of ${STREAMS} (${target.name})`,
      value: ms(p50),
      baseline: llmUrl ? `${ms(directP50)} direct` : '-',
      ratio: llmUrl ? `+${ms(added)}` : '-',
      goal: llmUrl ? '<= +5 ms' : '-',
      result: llmUrl ? verdict(added <= 5) : '',
    });
  }
  if (follower) {
    const p50 = percentile(following, 50);
    rows.push({
      measure: `First token in a second tab (GET …/events), p50 of ${STREAMS} (${follower.name})`,
      value: ms(p50),
      baseline: llmUrl ? `${ms(directP50)} direct` : '-',
      ratio: llmUrl ? `+${ms(p50 - directP50)}` : '-',
      goal: '-',
      result: '',
    });
  }
  const first = targets[0];
  const titles = first ? (byTarget.get(first.name)?.title ?? []) : [];
  const titleBaseline = llmUrl ? percentile(titlesDirect, 50) : Number.NaN;
  rows.push({
    measure: `First message -> stored title, p50 (${first?.name ?? '-'})`,
    value: ms(percentile(titles, 50)),
    baseline: llmUrl ? `${ms(titleBaseline)} title call` : '-',
    ratio: llmUrl ? `+${ms(percentile(titles, 50) - titleBaseline)}` : '-',
    goal: '-',
    result: '',
  });
}

async function runLocal(): Promise<void> {
  const machine = describeMachine();
  say(`Simorgh Chat bench on ${machine}`);
  const bundle = initialBundle(ROOT);
  let stack: LocalStack | undefined;
  const stopStack = () => stack?.stop();
  process.once('SIGINT', () => void stopStack()?.finally(() => process.exit(130)));
  try {
    const appendfsync = process.env.BENCH_REDIS_APPENDFSYNC;
    if (appendfsync && !['always', 'everysec', 'no'].includes(appendfsync)) throw new Error('BENCH_REDIS_APPENDFSYNC must be always, everysec or no');
    const tokenDelay = process.env.BENCH_TOKEN_DELAY_MS ?? '5';
    if (!/^\d{1,4}$/.test(tokenDelay)) throw new Error('BENCH_TOKEN_DELAY_MS must be a whole number of ms (0 for one burst)');
    const postgresDir = process.env.BENCH_POSTGRES_DIR;
    const compareServer = process.env.BENCH_COMPARE_API;
    stack = await startLocalStack(say, {
      ...(appendfsync ? { appendfsync } : {}),
      ...(postgresDir ? { postgresDir: resolve(postgresDir) } : {}),
      ...(compareServer ? { compareServer: resolve(compareServer) } : {}),
    });
    say(`Redis appendfsync ${appendfsync ?? 'always'}; the model server pauses ${tokenDelay} ms between tokens`);
    say(`API running ${stack.api.compiled ? 'compiled (apps/api/dist)' : 'from TypeScript sources (tsx; apps/api/dist is missing or stale)'}`);
    if (compareServer) say(`compared with the API from ${compareServer} on the same services`);
    const tokens = createTokenService(stack.jwtSecret, 8 * 3600, () => new Date());
    const tokenFor = async (user: string) => (await tokens.sign(user, user)).token;
    const auth = (token: string) => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' });

    // First: the memory row compares used_memory readings taken a minute apart, which any other
    // section's leftovers (outbox entries trimmed, buffers freed) would move.
    if (wants('archive')) {
      const archive = await archiveFigures(stack, auth, await tokenFor(BENCH_ADMIN), tokenFor);
      rows.push({ measure: 'Archive pass: chats moved out of Redis per second', value: `${archive.movedPerSecond.toFixed(0)} /s (${archive.moved} chats × 20 messages)`, baseline: '-', ratio: '-', goal: '-', result: '' });
      listRow('GET /api/chats page 1: 90 % moved vs all in Redis', roundsOf(archive.lists, 'moved'), roundsOf(archive.lists, 'hot'), true);
      const saved = 1 - archive.memoryAfter / archive.memoryBefore;
      rows.push({
        measure: 'Redis memory, 10 000 chats × 20 messages, before → after moving',
        value: `${(archive.memoryBefore / 1e6).toFixed(1)} MB → ${(archive.memoryAfter / 1e6).toFixed(2)} MB (${(archive.memoryAfter / archive.moved).toFixed(0)} B per moved chat)`,
        baseline: '-',
        ratio: `${(saved * 100).toFixed(1)} % less`,
        goal: '>= 90 % less',
        result: verdict(saved >= 0.9),
      });
    }
    if (wants('creations')) await creationFigures(stack, auth, tokenFor);
    if (wants('lists')) await listFigures(stack, auth, tokenFor);
    if (wants('shared')) {
      const shared = await sharedListFigures(stack, auth, tokenFor);
      const projectsAfter = `${SHARED_PROJECTS + 1} projects`;
      listRow(`GET /api/chats?scope=shared, 1 conn, reader on 1 of ${projectsAfter} with shared chats vs 1 of 1`, roundsOf(shared.after, 'one'), roundsOf(shared.before, 'one'), false);
      listRow(`GET /api/chats?scope=shared, 1 conn, reader on all ${projectsAfter} with shared chats vs 1 of 1`, roundsOf(shared.after, 'all'), roundsOf(shared.before, 'all'), false);
      if (stack.compared) {
        for (const [reader, who] of [['one', 'on 1 of'], ['all', 'on all']] as const) {
          listRow(`GET /api/chats?scope=shared, 1 conn, reader ${who} ${projectsAfter}: this build vs the compared build`, roundsOf(shared.after, reader), roundsOf(shared.after, `${reader}, compared`), false);
        }
      }
    }
    if (wants('search')) await searchFigures(stack, tokenFor);
    if (wants('streams')) {
      say(`  ${STREAMS} sequential first messages, directly to the model server, through the API, through nginx...`);
      await waitForRedisIdle(stack.redisUrl);
      await streamFigures(
        [
          { name: 'API', url: stack.api.url },
          { name: 'nginx + API', url: stack.nginx.url },
          ...(stack.compared ? [{ name: 'API, compared build', url: stack.compared.url }] : []),
        ],
        await tokenFor('bench.streams'),
        stack.llm.url,
        { name: 'nginx + API', url: stack.nginx.url },
      );
    }
    rows.push({
      measure: 'Initial web bundle, gzip (JS + CSS)',
      value: `${bundle.jsKb.toFixed(1)} KB JS + ${bundle.cssKb.toFixed(1)} KB CSS`,
      baseline: '-',
      ratio: '-',
      goal: 'JS <= 150 KB',
      result: verdict(bundle.jsKb <= 150),
    });
    printTable(`Simorgh Chat bench, ${new Date().toISOString().slice(0, 10)}, ${machine}`);
  } finally {
    await stopStack();
  }
}

const roundsOf = (results: Map<string, LoadResult[]>, name: string) => results.get(name) ?? [];

/** Creations at 50 and at 10 connections beside the bare Express baseline, and the mirror's lag meanwhile. */
async function creationFigures(stack: LocalStack, auth: (token: string) => Record<string, string>, tokenFor: (user: string) => Promise<string>) {
  say(`load runs: ${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationS} s each (after 1 s warm-up)`);
  const chatsUrl = `${stack.api.url}/api/chats`;
  const headers = auth(await tokenFor(BENCH_USER));
  const post = (body: unknown, as = headers) => ({ method: 'POST' as const, headers: as, body: JSON.stringify(body) });
  const general = { chat_type: 'general' };
  const warm = { chat_type: 'project', project_number: String(WARM_PROJECT), page_name: 'Bench page' };
  let coldIndex = 0;
  say('  bare Express baseline, POST /api/chats general, project with a warm cache, project with a cold cache...');
  const creationLoads: Load[] = [
    { name: 'baseline', options: { url: `${stack.baselineUrl}/baseline`, ...post(general) } },
    { name: 'general', options: { url: chatsUrl, ...post(general, auth(await tokenFor(BENCH_GENERAL_USER))) } },
    { name: 'warm', options: { url: chatsUrl, ...post(warm) } },
    {
      // A new project for every request, so each one makes both TPMS queries.
      name: 'cold',
      options: {
        url: chatsUrl,
        headers,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ chat_type: 'project', project_number: String(COLD_PROJECT_BASE + (coldIndex++ % COLD_PROJECT_COUNT)), page_name: 'Cold page' }),
            }),
          },
        ],
      },
    },
  ];
  const lagClient = await openChatDb(stack.redisUrl);
  const lagSampler = sampleMirrorLag(lagClient);
  const creations = await measureRounds(creationLoads, settings, say);
  const mirrorLag = await lagSampler.stop();
  lagClient.destroy();
  say(`  history mirror lag during those loads: ${describeLag(mirrorLag)}`);
  if (coldIndex > COLD_PROJECT_COUNT) say(`  note: ${coldIndex} cold requests for ${COLD_PROJECT_COUNT} projects; some hit the cache`);
  // 50 closed-loop connections on a machine whose cores the load generator shares make latency
  // about connections / throughput for any server; at a few connections the tail is the API's.
  say(`  the same baseline, general and warm creations at ${FEW_CONNECTIONS} connections...`);
  const fewLoads: Load[] = [
    ...creationLoads.slice(0, 1),
    { name: 'general', options: { url: chatsUrl, ...post(general, auth(await tokenFor(BENCH_FEW_USERS.general))) } },
    { name: 'warm', options: { url: chatsUrl, ...post(warm, auth(await tokenFor(BENCH_FEW_USERS.warm))) } },
  ];
  const fewCreations = await measureRounds(fewLoads, { ...settings, connections: FEW_CONNECTIONS }, say);
  const baselineRounds = roundsOf(creations, 'baseline');
  loadRows('POST /api/chats general', roundsOf(creations, 'general'), baselineRounds, true);
  loadRows('POST /api/chats project, warm cache', roundsOf(creations, 'warm'), baselineRounds, true);
  loadRows('POST /api/chats project, cold cache', roundsOf(creations, 'cold'), baselineRounds, false);
  const fewBaseline = roundsOf(fewCreations, 'baseline');
  latencyRow(`POST /api/chats general, ${FEW_CONNECTIONS} connections`, roundsOf(fewCreations, 'general'), fewBaseline, true);
  latencyRow(`POST /api/chats project, warm, ${FEW_CONNECTIONS} connections`, roundsOf(fewCreations, 'warm'), fewBaseline, true);
  rows.push({ measure: 'History mirror lag during the creation load', value: describeLag(mirrorLag), baseline: '-', ratio: '-', goal: 'p99 < 1000 ms', result: verdict(mirrorLag.p99 < 1000) });
}

/** GET /api/chats for users with 10 and 10 000 sessions seeded straight into Redis. */
async function listFigures(stack: LocalStack, auth: (token: string) => Record<string, string>, tokenFor: (user: string) => Promise<string>) {
  say('  GET /api/chats for users with 10 and 10 000 sessions...');
  const chatsUrl = `${stack.api.url}/api/chats`;
  await seedSessions(stack.redisUrl, 1, 'list.small', 10, 900_000);
  await seedSessions(stack.redisUrl, 1, 'list.large', 10_000);
  const smallToken = await tokenFor('list.small');
  const largeToken = await tokenFor('list.large');
  // Both first pages must be full: 10 sessions, and a whole page of the 10 000.
  const pageLength = async (token: string) =>
    ((await (await fetch(chatsUrl, { headers: auth(token) })).json()) as { chats: unknown[] }).chats.length;
  const [smallPage, largePage] = [await pageLength(smallToken), await pageLength(largeToken)];
  if (smallPage !== 10 || largePage <= 10) throw new Error(`seeded users list ${smallPage} and ${largePage} sessions on page 1`);
  await waitForRedisIdle(stack.redisUrl);
  const lists = await measureRounds(
    [
      { name: 'small', options: { url: chatsUrl, headers: auth(smallToken) } },
      { name: 'large', options: { url: chatsUrl, headers: auth(largeToken) } },
      { name: 'large10', options: { url: `${chatsUrl}?limit=10`, headers: auth(largeToken) } },
    ],
    settings,
    say,
  );
  const small = roundsOf(lists, 'small');
  listRow('GET /api/chats page 1: 10 000 vs 10 sessions', roundsOf(lists, 'large'), small, true);
  listRow('GET /api/chats 10 per page: 10 000 vs 10 sessions', roundsOf(lists, 'large10'), small, false);
}

/** The search corpus written straight into PostgreSQL, then each query through the API beside the same SQL. */
async function searchFigures(stack: LocalStack, tokenFor: (user: string) => Promise<string>) {
  const searchMessages = intEnv('BENCH_SEARCH_MESSAGES', 1_000_000);
  const seeded = await hasSearchCorpus(stack.postgres.url(), searchMessages);
  if (!seeded) say(`  search: seeding ${searchMessages} messages over ${Math.ceil(searchMessages / 20)} chats, a fifth of them one user's (takes minutes)...`);
  const corpus = seeded ? { messages: searchMessages, chats: Math.ceil(searchMessages / 20), seconds: Number.NaN } : await seedSearchCorpus(stack.postgres.url(), searchMessages);
  say(seeded ? `  search: the corpus of ${searchMessages} messages is already in BENCH_POSTGRES_DIR` : `  seeded ${corpus.messages} messages over ${corpus.chats} chats in ${corpus.seconds.toFixed(0)} s`);
  say(`  GET /api/search beside the same SQL run directly, at ${FEW_CONNECTIONS} connections...`);
  const postgres = postmasterPid(stack.postgres.dataDir);
  const redis = await redisServerPid(stack.redisUrl);
  const compared = stack.compared;
  const cpu = () => ({
    API: processCpuMs(stack.api.pid),
    ...(compared ? { 'compared API': processCpuMs(compared.pid) } : {}),
    Redis: processCpuMs(redis),
    PostgreSQL: processTreeCpuMs(postgres),
    'bench client': benchClientCpuMs(),
  });
  const searches = await measureSearch(
    { apiUrl: stack.api.url, comparedUrl: compared?.url, token: await tokenFor(SEARCH_USER), databaseUrl: stack.postgres.url(), cpu },
    { ...settings, connections: FEW_CONNECTIONS },
  );
  rows.push({ measure: 'Search corpus seeded straight into PostgreSQL', value: `${corpus.messages} messages, ${corpus.chats} chats ${seeded ? 'kept from an earlier run' : `in ${corpus.seconds.toFixed(0)} s`}`, baseline: '-', ratio: '-', goal: '-', result: '' });
  const cpuOf = (figures: PathFigures) => Object.values(figures.cpu).map((used) => used.toFixed(2)).join(' / ');
  for (const search of searches) {
    const ratio = search.api.p95 / search.direct.p95;
    rows.push({
      measure: `GET /api/search ${search.name}, ${searchMessages} messages, ${FEW_CONNECTIONS} conn: p50 / p95`,
      value: `${ms(search.api.p50)} / ${ms(search.api.p95)}${search.api.failures > 0 ? ` (${search.api.failures} failed)` : ''}`,
      baseline: `${ms(search.direct.p50)} / ${ms(search.direct.p95)} SQL`,
      ratio: `${ratio.toFixed(2)}x`,
      goal: 'p95 <= 50 ms, <= 1.5x',
      result: verdict(search.api.p95 <= 50 && ratio <= 1.5 && search.api.failures === 0 && search.results > 0),
    });
    const comparedCpu = search.compared ? `; the compared build ${cpuOf(search.compared)}` : '';
    say(`    ${search.name}, CPU ms per search (${Object.keys(search.api.cpu).join(', ')}): through the API ${cpuOf(search.api)}${comparedCpu}; the same SQL ${cpuOf(search.direct)}`);
    if (search.compared) {
      const { compared: other } = search;
      rows.push({
        measure: `GET /api/search ${search.name}, compared build, same run: p50 / p95`,
        value: `${ms(other.p50)} / ${ms(other.p95)}${other.failures > 0 ? ` (${other.failures} failed)` : ''}`,
        baseline: `${ms(search.direct.p50)} / ${ms(search.direct.p95)} SQL`,
        ratio: `${(other.p95 / search.direct.p95).toFixed(2)}x`,
        goal: '-',
        result: '',
      });
    }
  }
}

/**
 * The history archive's figures: 10 000 chats × 20 messages (idle two years) and two list users
 * of 1 000 chats each, one with 9 in 10 idle a year and one all active, seeded into Redis and
 * PostgreSQL as if mirrored. A pass moves the bulk first (memory and rate), then the list
 * user's idle chats; then both users' first pages are loaded.
 */
async function archiveFigures(
  stack: LocalStack,
  auth: (token: string) => Record<string, string>,
  adminToken: string,
  tokenFor: (user: string) => Promise<string>,
) {
  const chat = await openChatDb(stack.redisUrl);
  const history = openHistoryPool(stack.postgres.url());
  const database = history.pool;
  const run = async (idleDays: number) => {
    const response = await fetch(`${stack.api.url}/api/admin/archive/run`, { method: 'POST', headers: auth(adminToken), body: JSON.stringify({ idle_days: idleDays }) });
    if (response.status !== 200) throw new Error(`archive run answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { archived: number; deleted: number };
  };
  try {
    say('  history archive: seeding 10 000 chats × 20 messages and two list users into Redis and PostgreSQL...');
    // What the bench seeds straight into Redis is seeded as if mirrored, or is never to be mirrored
    // (the list sections' users, seeded later): no backfill pass over any of it.
    await chat.hSet('history:backfill', 'done', '1');
    const mostly = { userId: 'archive.mostly', count: 1000, messages: 2, firstSeq: 200_000, idleDays: (index: number) => (index % 10 === 0 ? 0 : 365) };
    await seedMirroredChats(chat, database, mostly);
    await seedMirroredChats(chat, database, { ...mostly, userId: 'archive.hot', firstSeq: 300_000, idleDays: () => 0 });
    // The 10 000 are seeded last, so that what they add (keyspace table growth included) is
    // all that lies between m0 and m1, and what their moved selves keep all between m0 and m2.
    const m0 = await usedMemory(chat);
    await seedMirroredChats(chat, database, { userId: 'archive.bulk', count: 10_000, messages: 20, firstSeq: 100_000, idleDays: () => 730 });
    const m1 = await usedMemory(chat);
    say('  moving the 10 000 (idle over 500 days), then the list user\'s idle ones...');
    const started = performance.now();
    const bulk = await run(500);
    const seconds = (performance.now() - started) / 1000;
    const m2 = await usedMemory(chat);
    await run(30);
    const chatsUrl = `${stack.api.url}/api/chats`;
    const lists = await measureRounds(
      [
        { name: 'hot', options: { url: chatsUrl, headers: auth(await tokenFor('archive.hot')) } },
        { name: 'moved', options: { url: chatsUrl, headers: auth(await tokenFor('archive.mostly')) } },
      ],
      settings,
      say,
    );
    return { moved: bulk.archived, movedPerSecond: bulk.archived / seconds, memoryBefore: m1 - m0, memoryAfter: Math.max(0, m2 - m0), lists };
  } finally {
    chat.destroy();
    await history.db.destroy();
  }
}

/** Projects with chats visible to the whole project that the shared-list figures add. */
const SHARED_PROJECTS = 2000;

/**
 * GET /api/chats?scope=shared before and after `shared:projects` grows from 1 project to
 * SHARED_PROJECTS + 1 (docs/decisions/sharing-indexes.md). Every page asks the TPMS cache about
 * each of those projects (one MGET); a reader with permission on all of them (bench.user, on the
 * bench's cold projects) also walks each one's index, a reader on one (s.karimi, on the
 * refinery project) only that one. 40 shared chats on the refinery project, 1 on each other.
 */
async function sharedListFigures(stack: LocalStack, auth: (token: string) => Record<string, string>, tokenFor: (user: string) => Promise<string>) {
  const chat = await openChatDb(stack.redisUrl);
  try {
    say(`  GET /api/chats?scope=shared with 1, then ${SHARED_PROJECTS + 1} projects with chats shared with the project...`);
    await seedProjectSharedChats(chat, [WARM_PROJECT], 40, 0);
    const url = `${stack.api.url}/api/chats?scope=shared`;
    const readers = [
      { name: 'one', headers: auth(await tokenFor('s.karimi')) },
      { name: 'all', headers: auth(await tokenFor(BENCH_USER)) },
    ];
    // Each reader through this build and, given BENCH_COMPARE_API, through the compared one (same services).
    const servers = [{ suffix: '', url: stack.api.url, pid: stack.api.pid }, ...(stack.compared ? [{ suffix: ', compared', url: stack.compared.url, pid: stack.compared.pid }] : [])];
    const loads: Array<Load & { pid: number }> = servers.flatMap((server) =>
      readers.map((reader) => ({ name: `${reader.name}${server.suffix}`, pid: server.pid, options: { url: `${server.url}/api/chats?scope=shared`, headers: reader.headers } })),
    );
    // One connection: what one page costs. At 50, the reader on every project saturates the
    // machine (a ZRANGE per project per page) and its backlog would be charged to the other reader.
    const oneAtATime = { ...settings, connections: 1 };
    const listed = ((await (await fetch(url, { headers: auth(await tokenFor('s.karimi')) })).json()) as { chats: unknown[] }).chats.length;
    if (listed !== 30) throw new Error(`the shared list's first page has ${listed} chats, not 30`);
    const before = await measureRounds(loads, oneAtATime, say);
    const cold = Array.from({ length: SHARED_PROJECTS }, (_, index) => COLD_PROJECT_BASE + index);
    await seedProjectSharedChats(chat, cold, 1, 1000);
    await waitForRedisIdle(stack.redisUrl);
    const after = await measureRounds(loads, oneAtATime, say);
    await sharedListCpu(loads, await redisServerPid(stack.redisUrl), oneAtATime);
    return { before, after };
  } finally {
    chat.destroy();
  }
}

/** CPU ms per request of the API serving each load and of Redis (from /proc), over one more run of each. */
async function sharedListCpu(loads: Array<Load & { pid: number }>, redis: number, load: LoadSettings) {
  for (const { name, pid, options } of loads) {
    const [api0, redis0] = [processCpuMs(pid), processCpuMs(redis)];
    const result = await runLoad(options, load.connections, load.durationS);
    const per = (used: number) => (used / Math.max(result.total, 1)).toFixed(2);
    say(`    ${name}: CPU ms per request, API ${per(processCpuMs(pid) - api0)}, Redis ${per(processCpuMs(redis) - redis0)} (${result.total} requests, mean ${ms(result.mean)})`);
  }
}

/** Against a deployed instance: HTTP figures only, no baselines (they need the machine). */
async function runTarget(target: string): Promise<void> {
  const token = process.env.BENCH_TOKEN;
  if (!token) throw new Error('BENCH_TARGET needs BENCH_TOKEN (an access token of a dedicated bench user)');
  const url = target.replace(/\/+$/, '');
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  say(`Simorgh Chat bench against ${url} (creates sessions for the token's user)`);
  const once = async (options: Load['options']) => (await measureRounds([{ name: 'target', options }], settings)).get('target') ?? [];
  loadRows('POST /api/chats general', await once({ url: `${url}/api/chats`, method: 'POST', headers: auth, body: JSON.stringify({ chat_type: 'general' }) }), null, false);
  const project = process.env.BENCH_PROJECT;
  if (project) {
    const body = JSON.stringify({ chat_type: 'project', project_number: project, page_name: 'Bench page' });
    loadRows('POST /api/chats project, warm cache', await once({ url: `${url}/api/chats`, method: 'POST', headers: auth, body }), null, false);
  }
  loadRows("GET /api/chats page 1 (token's user)", await once({ url: `${url}/api/chats`, headers: auth }), null, false);
  await streamFigures([{ name: url, url }], token, null);
  printTable(`Simorgh Chat bench against ${url}, ${new Date().toISOString()}`);
}

const target = process.env.BENCH_TARGET;
(target ? runTarget(target) : runLocal()).then(
  () => process.exit(0),
  (error: unknown) => {
    say(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
