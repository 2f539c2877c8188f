import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_TPMS, startMariaDb, type MariaDbServer } from '@simorgh/devstack';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATABASE, demoSignIns, prepareDemoTpms, READ_ONLY_USER } from '../../scripts/dev/demo-tpms.js';
import { readOrCreateSecret } from '../../scripts/dev/secrets.js';
import { claimDataDir } from '../../scripts/dev/single-instance.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'simorgh-dev-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('pnpm dev helpers', () => {
  it('creates a secret once, readable only by its owner, and returns the same one afterwards', () => {
    const path = join(tempDir(), 'nested', 'jwt-secret');
    const first = readOrCreateSecret(path);
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readOrCreateSecret(path)).toBe(first);
    expect(readOrCreateSecret(join(tempDir(), 'other'))).not.toBe(first);
  });

  it('refuses a second pnpm dev on the same data dir while the first is alive', () => {
    const lock = join(tempDir(), 'dev.pid');
    // The parent of this test process is alive and is not us.
    writeFileSync(lock, String(process.ppid));
    expect(() => claimDataDir(lock)).toThrow(`pnpm dev is already running (pid ${process.ppid})`);
  });

  it('takes over a lock left behind by a process that is gone', () => {
    const lock = join(tempDir(), 'dev.pid');
    writeFileSync(lock, '2147483646');
    const release = claimDataDir(lock);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
    release();
    expect(() => readFileSync(lock)).toThrow();
  });

  it('prints only active demo users as sign-ins', () => {
    const lines = demoSignIns().join('\n');
    for (const user of DEMO_TPMS.users) {
      if (user.active === false) expect(lines).not.toContain(user.username);
      else expect(lines).toContain(user.username);
    }
    expect(lines).toContain('password: simorgh-demo');
  });
});

describe('demo TPMS preparation for pnpm dev', () => {
  let mariadb: MariaDbServer;

  beforeAll(async () => {
    mariadb = await startMariaDb({ dataDir: tempDir() });
  });
  afterAll(async () => {
    await mariadb?.stop();
  });

  const readOnly = (password: string) =>
    mysql.createConnection({ host: '127.0.0.1', port: mariadb.port, user: READ_ONLY_USER, password, database: DEMO_DATABASE });

  it('loads the demo directory on first start only and keeps later edits', async () => {
    expect(await prepareDemoTpms(mariadb, 'first-password')).toEqual({ created: true });
    const admin = await mariadb.adminConnection(DEMO_DATABASE);
    await admin.query("UPDATE projects SET Project_Name = 'Renamed by hand' WHERE IDProjectMain = 10234");
    await admin.end();

    expect(await prepareDemoTpms(mariadb, 'first-password')).toEqual({ created: false });
    const connection = await readOnly('first-password');
    const [rows] = await connection.query('SELECT Project_Name FROM View_Project_Main WHERE IDProjectMain = 10234');
    await connection.end();
    expect(rows).toEqual([{ Project_Name: 'Renamed by hand' }]);
  });

  it('gives the read-only user the password kept in .data, even after it changed', async () => {
    await prepareDemoTpms(mariadb, 'second-password');
    await expect(readOnly('first-password')).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    const connection = await readOnly('second-password');
    await expect(connection.query('DELETE FROM users')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    await connection.end();
  });
});
