import { createRequire } from 'node:module';
import { repoPath } from './repo.js';

// These tests check files against the API's own libraries, which are dependencies of
// @simorgh/api rather than of the repository root.
const requireFromApi = createRequire(repoPath('apps/api/package.json'));

export const bcrypt = requireFromApi('bcryptjs') as typeof import('bcryptjs');
export const mysql = requireFromApi('mysql2/promise') as typeof import('mysql2/promise');
