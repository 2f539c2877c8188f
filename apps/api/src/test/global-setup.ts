import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMariaDb } from '@simorgh/devstack';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The one MariaDB shared by every API test file; each file makes its own database. */
    mariadb: { port: number; socketPath: string };
  }
}

/** Starts ONE mariadbd for the whole run (it takes seconds); test files share it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'simorgh-test-mariadb-'));
  const server = await startMariaDb({ dataDir });
  project.provide('mariadb', { port: server.port, socketPath: server.socketPath });
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
