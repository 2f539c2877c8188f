/**
 * `pnpm dev`: the whole app on one machine. Every service that is not configured through the
 * environment is started locally with its data under .data/ (git-ignored), so a second run
 * picks up the same chats, demo directory and sign-in secret:
 *
 *   REDIS_URL unset          -> redis-server on 127.0.0.1:6379 (or a free port), .data/redis
 *   MYSQL_HOST unset         -> mariadbd with the demo TPMS database, .data/mysql
 *   DATABASE_URL unset       -> PostgreSQL (the history) on a free loopback port, .data/postgres
 *   no OPENAI_API_KEY and
 *   no OPENAI_BASE_URL       -> the local demo model (canned replies)
 *   JWT_SECRET_KEY unset     -> a random secret kept in .data/jwt-secret
 *
 * then the API in watch mode on API_PORT (3000) and the Vite dev server on WEB_PORT (5173).
 * Ctrl-C stops the app processes first, then the local services.
 */
import { join, resolve } from 'node:path';
import { startFakeLlm, type FakeLlm } from '@simorgh/devstack/fake-llm';
import {
  freePort,
  startMariaDb,
  startPostgres,
  startRedisServer,
  type MariaDbServer,
  type PostgresServer,
  type RedisServer,
} from '@simorgh/devstack';
import { startAppProcess, stopAppProcess, type AppProcess } from './dev/child-processes.js';
import { DEMO_DATABASE, demoSignIns, prepareDemoTpms, READ_ONLY_USER } from './dev/demo-tpms.js';
import { isPortFree, parsePort, waitForHttp } from './dev/ports.js';
import { readOrCreateSecret } from './dev/secrets.js';
import { claimDataDir } from './dev/single-instance.js';

const ROOT = resolve(import.meta.dirname, '..');
const DATA = join(ROOT, '.data');
const DEMO_MODEL = 'simorgh-demo';
const REDIS_DEFAULT_PORT = 6379;
const HISTORY_DATABASE = 'simorgh';

const env = process.env;
const isSet = (name: string) => (env[name] ?? '').trim() !== '';
const say = (line = '') => process.stdout.write(`${line}\n`);

// Everything started so far, stopped in reverse order on the way out.
type Stoppable = { name: string; stop: () => Promise<void> };
const services: Stoppable[] = [];
const apps: AppProcess[] = [];
const starting = new Set<Promise<unknown>>();
let stopping: Promise<void> | undefined;

function shutdown(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    say('\nStopping Simorgh Chat...');
    // A service still starting must finish starting, or its process would be left behind.
    await Promise.allSettled([...starting]);
    await Promise.all(apps.map((app) => stopAppProcess(app)));
    for (const service of [...services].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        say(`  could not stop ${service.name} cleanly: ${(error as Error).message}`);
      }
    }
    say('Stopped.');
    process.exit(exitCode);
  })();
  return stopping;
}

class StopRequested extends Error {}

function checkNotStopping(): void {
  if (stopping) throw new StopRequested('stop requested');
}

/** Starts a local service and registers it for shutdown before anything else can happen. */
async function startService<T extends { stop(): Promise<void> }>(name: string, start: () => Promise<T>): Promise<T> {
  checkNotStopping();
  const pending = start().then((service) => {
    services.push({ name, stop: () => service.stop() });
    return service;
  });
  starting.add(pending);
  try {
    return await pending;
  } finally {
    starting.delete(pending);
  }
}

async function startRedis(): Promise<RedisServer> {
  const port = (await isPortFree(REDIS_DEFAULT_PORT)) ? REDIS_DEFAULT_PORT : await freePort();
  return startService('redis-server', () => startRedisServer({ dataDir: join(DATA, 'redis'), port }));
}

async function startDemoTpms(): Promise<{ mariadb: MariaDbServer; password: string; created: boolean }> {
  const password = readOrCreateSecret(join(DATA, 'mysql-readonly-password'), 24);
  const mariadb = await startService('mariadbd', () => startMariaDb({ dataDir: join(DATA, 'mysql') }));
  checkNotStopping();
  const { created } = await prepareDemoTpms(mariadb, password);
  return { mariadb, password, created };
}

async function startHistory(): Promise<PostgresServer> {
  const postgres = await startService('postgres', () => startPostgres({ dataDir: join(DATA, 'postgres') }));
  checkNotStopping();
  await postgres.createDatabase(HISTORY_DATABASE);
  return postgres;
}

async function main(): Promise<void> {
  const apiPort = parsePort('API_PORT', 3000);
  const webPort = parsePort('WEB_PORT', 5173);
  for (const [name, port] of [['API_PORT', apiPort], ['WEB_PORT', webPort]] as const) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is in use: stop what runs there or set ${name} to another port`);
  }
  const releaseLock = claimDataDir(join(DATA, 'dev.pid'));
  services.push({ name: 'data dir lock', stop: async () => releaseLock() });

  const useLocalRedis = !isSet('REDIS_URL');
  const useLocalTpms = !isSet('MYSQL_HOST');
  const useLocalHistory = !isSet('DATABASE_URL');
  const useDemoModel = !isSet('OPENAI_API_KEY') && !isSet('OPENAI_BASE_URL');

  say('Starting Simorgh Chat for development...');
  const [redis, tpms, history] = await Promise.all([
    useLocalRedis ? startRedis() : undefined,
    useLocalTpms ? startDemoTpms() : undefined,
    useLocalHistory ? startHistory() : undefined,
  ]);
  let llm: FakeLlm | undefined;
  if (useDemoModel) llm = await startService('demo model', () => startFakeLlm({ model: DEMO_MODEL }));
  checkNotStopping();

  const apiEnv: NodeJS.ProcessEnv = {
    ...env,
    PORT: String(apiPort),
    HOST: env.HOST ?? '127.0.0.1',
    NODE_ENV: env.NODE_ENV ?? 'development',
    JWT_SECRET_KEY: isSet('JWT_SECRET_KEY') ? env.JWT_SECRET_KEY : readOrCreateSecret(join(DATA, 'jwt-secret')),
    ...(redis ? { REDIS_URL: `${redis.url}/0` } : {}),
    ...(history ? { DATABASE_URL: history.url(HISTORY_DATABASE) } : {}),
    ...(tpms
      ? {
          MYSQL_HOST: '127.0.0.1',
          MYSQL_PORT: String(tpms.mariadb.port),
          MYSQL_USER: READ_ONLY_USER,
          MYSQL_PASSWORD: tpms.password,
          MYSQL_DATABASE: DEMO_DATABASE,
        }
      : {}),
    ...(llm ? { OPENAI_BASE_URL: llm.url, OPENAI_MODEL: env.OPENAI_MODEL ?? DEMO_MODEL } : {}),
  };
  apps.push(startAppProcess('api', 'pnpm', ['--reporter=silent', '--filter', '@simorgh/api', 'run', 'dev'], { cwd: ROOT, env: apiEnv }));
  apps.push(
    startAppProcess('web', 'pnpm', ['--reporter=silent', '--filter', '@simorgh/web', 'run', 'dev'], {
      cwd: ROOT,
      env: { ...env, WEB_PORT: String(webPort), API_PORT: String(apiPort) },
    }),
  );
  for (const app of apps) {
    void app.exited.then((code) => {
      if (stopping) return;
      say(`\n${app.name} exited (code ${code}); stopping everything.`);
      void shutdown(1);
    });
  }

  const stillWaiting = setTimeout(() => say('Still waiting for the API and the web server; see the [api] and [web] lines above.'), 60_000);
  const [healthStatus] = await Promise.all([
    waitForHttp(`http://127.0.0.1:${apiPort}/api/health`, () => stopping !== undefined),
    waitForHttp(`http://localhost:${webPort}/`, () => stopping !== undefined),
  ]);
  clearTimeout(stillWaiting);
  if (stopping || healthStatus === null) return;

  const health = healthStatus === 200 ? 'up' : `answering ${healthStatus}, see /api/health`;
  const lines = [
    '',
    `Simorgh Chat is ready: open http://localhost:${webPort}`,
    '',
    `  API     http://127.0.0.1:${apiPort}/api (${health})`,
    redis ? `  Redis   ${redis.url}/0, data in .data/redis` : `  Redis   ${env.REDIS_URL}`,
    history ? `  History PostgreSQL on 127.0.0.1:${history.port}, database "${HISTORY_DATABASE}", data in .data/postgres` : '  History DATABASE_URL',
    tpms
      ? `  TPMS    demo database "${DEMO_DATABASE}" on 127.0.0.1:${tpms.mariadb.port}${tpms.created ? ' (just created)' : ''}, data in .data/mysql`
      : `  TPMS    ${env.MYSQL_HOST}:${env.MYSQL_PORT ?? 3306}`,
    ...(tpms
      ? ['', '  Sign in as one of the demo users:', ...demoSignIns().map((line) => `    ${line}`)]
      : ['', '  Sign in with a TPMS account.']),
    '',
    llm
      ? [
          `  Replies come from a local demo model (${llm.url}): canned text, not a real language model.`,
          '  To use a real one, set OPENAI_BASE_URL (any OpenAI-compatible server), OPENAI_API_KEY if it',
          '  needs one, and OPENAI_MODEL, then run pnpm dev again.',
        ].join('\n')
      : `  Model   ${env.OPENAI_MODEL ?? '(OPENAI_MODEL is not set: replies will fail until it is)'} at ${env.OPENAI_BASE_URL ?? 'api.openai.com'}`,
    '',
    'Press Ctrl-C to stop.',
  ];
  say(lines.join('\n'));
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(0));
}

main().catch((error: unknown) => {
  if (error instanceof StopRequested || stopping) return;
  // Missing binaries, busy ports and the like: one line that says what to do.
  say(`\n${error instanceof Error ? error.message : String(error)}`);
  void shutdown(1);
});
