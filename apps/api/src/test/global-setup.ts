import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMariaDb, startPostgres } from '@simorgh/devstack';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The one MariaDB shared by every API test file; each file makes its own database. */
    mariadb: { port: number; socketPath: string };
    /** The one PostgreSQL of the run: each file makes its own database. */
    postgres: { port: number };
  }
}

/**
 * Starts ONE mariadbd and ONE PostgreSQL for the whole run (they take seconds); test files
 * share them. PostgreSQL runs without fsync: its data is thrown away.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'simorgh-test-mariadb-'));
  const postgresDir = mkdtempSync(join(tmpdir(), 'simorgh-test-postgres-'));
  const [mariadb, postgres] = await Promise.allSettled([
    startMariaDb({ dataDir }),
    startPostgres({ dataDir: join(postgresDir, 'data'), durable: false }),
  ]);
  const stop = async () => {
    await Promise.allSettled([mariadb, postgres].map(async (started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(postgresDir, { recursive: true, force: true });
  };
  if (mariadb.status === 'rejected' || postgres.status === 'rejected') {
    await stop();
    throw mariadb.status === 'rejected' ? mariadb.reason : (postgres as PromiseRejectedResult).reason;
  }
  project.provide('mariadb', { port: mariadb.value.port, socketPath: mariadb.value.socketPath });
  project.provide('postgres', { port: postgres.value.port });
  return stop;
}
