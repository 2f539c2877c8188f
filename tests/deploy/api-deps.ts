import { createRequire } from 'node:module';
import type { MariaDbServer } from '../../apps/api/src/local-stack/index.js';
import { repoPath } from './repo.js';

// These tests check files against the API's own libraries, which are dependencies of
// @simorgh/api rather than of the repository root; only the calls used here are typed.
const requireFromApi = createRequire(repoPath('apps/api/package.json'));

type SqlConnection = Awaited<ReturnType<MariaDbServer['adminConnection']>>;

export const bcrypt = requireFromApi('bcryptjs') as {
  compare(password: string, hash: string): Promise<boolean>;
};

export const mysql = requireFromApi('mysql2/promise') as {
  createConnection(options: { host: string; port: number; user: string; password: string; database: string }): Promise<SqlConnection>;
};
