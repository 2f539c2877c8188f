import type { Server } from 'node:http';
import { createApp } from './app.js';
import { buildDeps, closeDeps } from './deps.js';
import { EnvError, loadEnv, type Env } from './env.js';
import { reconcileChats } from './features/chats/chats-startup.js';
import { startArchiveJob } from './features/history/archive-job.js';
import { startMirrorWorker } from './features/history/mirror-worker.js';
import { createHistoryService } from './features/history/history.service.js';

/** How long in-flight requests (and reply streams) get to finish on SIGTERM. */
const SHUTDOWN_GRACE_MS = 10_000;
/** Start-up waits this long for the history schema, then serves anyway (the mirror keeps retrying). */
const MIGRATION_WAIT_MS = 10_000;

async function main(): Promise<void> {
  let env: Env;
  try {
    env = loadEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const deps = await buildDeps(env);
  const { logger } = deps;
  // Migrates the PostgreSQL schema (under an advisory lock), then mirrors the outbox, in a thread
  // of its own. Serving does not wait for it: with PostgreSQL down the API still serves chats and retries.
  const mirror = startMirrorWorker(logger);
  deps.background.push(mirror);
  await Promise.race([mirror.migrated, new Promise((resolve) => setTimeout(resolve, MIGRATION_WAIT_MS).unref())]);
  const history = createHistoryService({
    chat: deps.redis.chat,
    db: deps.history.db,
    clock: deps.clock,
    logger,
    archive: { afterDays: env.ARCHIVE_AFTER_DAYS, retentionDays: env.RETENTION_DAYS },
  });
  // Counters also above every ID PostgreSQL knows (chats moved out of Redis, deleted ones).
  await reconcileChats(deps, history.highestSessionNumbers);
  deps.background.push(startArchiveJob(history, logger));
  const app = createApp(deps);

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(env.PORT, env.HOST, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : env.PORT, host: env.HOST }, 'Simorgh Chat API listening');

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      void closeDeps(deps).finally(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`Simorgh Chat API failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
