/**
 * The API process runs its history mirror (history-mirror.ts) in a worker thread: reading the
 * outbox, decoding its entries and writing them to PostgreSQL then never holds up the requests'
 * event loop, whose CPU under load is what creation throughput is made of
 * (docs/decisions/history-store.md, "A thread of its own"). The worker has connections of its
 * own (the outbox's blocking Redis connection, a small PostgreSQL pool) built from the same
 * environment; it is still this process's consumer in the group, and ends with it. Should the
 * thread end unasked (a crash), it is started again after a pause.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadEnv } from '../../env.js';
import { createLogger, type Logger } from '../../logger.js';
import { createHistoryDb } from '../../postgres.js';
import { createOutboxClient, startHistoryMirror } from './history-mirror.js';

const ROLE = 'simorgh-history-mirror';
/** The mirror writes one batch at a time: a second connection only serves a retry while one closes. */
const POOL_SIZE = 2;
/** A worker asked to stop gets this long to finish its batch, then is terminated. */
const STOP_GRACE_MS = 15_000;
const RESTART_PAUSE_MS = 1000;

type ToParent = 'migrated';

export type MirrorWorker = {
  /** Resolves once the worker's mirror has migrated the schema. */
  migrated: Promise<void>;
  stop(): Promise<void>;
};

/**
 * A worker running this module. From the TypeScript sources (`pnpm dev`, tests) tsx must be
 * registered inside the worker too: the process's `--import tsx` does not reach worker threads.
 */
function workerOf(url: URL, env: NodeJS.ProcessEnv | undefined): Worker {
  // Without `env` the worker shares the process's environment.
  const options = { workerData: { role: ROLE }, ...(env ? { env } : {}) };
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}

/** Starts the mirror in a worker thread, configured by the process's environment or `env` (tests). */
export function startMirrorWorker(logger: Logger, env?: NodeJS.ProcessEnv): MirrorWorker {
  let stopping = false;
  let current: Worker | null = null;
  let markMigrated: () => void = () => undefined;
  const migrated = new Promise<void>((resolve) => {
    markMigrated = resolve;
  });

  const spawn = () => {
    const worker = workerOf(new URL(import.meta.url), env);
    current = worker;
    worker.on('message', (message: ToParent) => {
      if (message === 'migrated') markMigrated();
    });
    worker.on('error', (error) => logger.error({ err: { message: error.message, name: error.name } }, 'history mirror worker failed'));
    worker.on('exit', (code) => {
      if (current === worker) current = null;
      if (stopping) return;
      logger.error({ code }, 'history mirror worker ended; starting it again');
      void sleep(RESTART_PAUSE_MS).then(() => {
        if (!stopping) spawn();
      });
    });
  };
  spawn();

  return {
    migrated,
    async stop() {
      stopping = true;
      const worker = current;
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The worker's side: the mirror on connections of its own, until the parent says stop. */
async function runInWorker(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const env = loadEnv();
  const logger = createLogger(env);
  const redis = createOutboxClient(env, logger);
  const history = createHistoryDb({ ...env, DATABASE_POOL_SIZE: Math.min(POOL_SIZE, env.DATABASE_POOL_SIZE) });
  let stop: () => Promise<void> = async () => undefined;
  port.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    void stop()
      .finally(async () => {
        redis.destroy();
        await history.db.destroy();
      })
      .finally(() => port.close());
  });
  await redis.connect();
  const mirror = startHistoryMirror({ redis, db: history.db, logger, claimIdleMs: env.HISTORY_CLAIM_IDLE_MS });
  stop = () => mirror.stop();
  await mirror.migrated;
  port.postMessage('migrated' satisfies ToParent);
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) await runInWorker();
