import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_TPMS, loadTpms, requireBinary, startMariaDb, TPMS_SCHEMA_SQL, type MariaDbServer } from '@simorgh/devstack';
import bcrypt from 'bcryptjs';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_FILE, dataSql, DEMO_INIT_DIR, SCHEMA_FILE, schemaSql } from '../../deploy/generate-tpms-demo.js';

const REGENERATE = 'regenerate with: pnpm exec tsx deploy/generate-tpms-demo.ts';
const BCRYPT_HASH = /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/g;

const initFile = (name: string) => readFileSync(join(DEMO_INIT_DIR, name), 'utf8');

describe('demo TPMS init SQL (deploy/tpms-demo)', () => {
  it('creates exactly the schema of packages/devstack/src/tpms-schema.ts', () => {
    expect(initFile(SCHEMA_FILE), REGENERATE).toBe(schemaSql());
    expect(initFile(SCHEMA_FILE)).toContain(TPMS_SCHEMA_SQL.trim());
  });

  it('inserts the demo projects, users and permissions (hashes aside)', async () => {
    const mask = (sql: string) => sql.replace(BCRYPT_HASH, '<bcrypt>');
    expect(mask(initFile(DATA_FILE)), REGENERATE).toBe(mask(await dataSql()));
  });

  it('stores a bcrypt hash of each demo user’s password', async () => {
    const sql = initFile(DATA_FILE);
    for (const user of DEMO_TPMS.users) {
      const line = sql.split('\n').find((candidate) => candidate.includes(`VALUES ('${user.username}'`));
      const hash = line?.match(BCRYPT_HASH)?.[0];
      expect(hash, user.username).toBeDefined();
      expect(await bcrypt.compare(user.password, hash ?? '')).toBe(true);
      expect(await bcrypt.compare(`${user.password}x`, hash ?? '')).toBe(false);
    }
  });
});

describe('demo TPMS init files loaded into a real MariaDB', () => {
  let dataDir: string;
  let mariadb: MariaDbServer;
  const readOnlyUser = 'simorgh_ro';
  const readOnlyPassword = `it's a \\ test "password"`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'simorgh-tpms-demo-'));
    mariadb = await startMariaDb({ dataDir });
    const client = requireBinary('mariadb', 'mariadb-client');
    // Run the files the way the mariadb image's entrypoint does: SQL through the client,
    // the .sh sourced by bash with docker_process_sql defined.
    const clientArgs = ['--no-defaults', `--socket=${mariadb.socketPath}`, '-uroot'];
    for (const file of [SCHEMA_FILE, DATA_FILE]) {
      execFileSync(client, clientArgs, { input: initFile(file) });
    }
    execFileSync(
      'bash',
      ['-c', `set -e; docker_process_sql() { "${client}" ${clientArgs.join(' ')} "$@"; }; source "$1"`, 'init', join(DEMO_INIT_DIR, '03-readonly-user.sh')],
      { env: { ...process.env, TPMS_READONLY_USER: readOnlyUser, TPMS_READONLY_PASSWORD: readOnlyPassword } },
    );
    const admin = await mariadb.adminConnection();
    await loadTpms(admin, 'tpms_reference', DEMO_TPMS);
    await admin.end();
  });

  afterAll(async () => {
    await mariadb?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('has the same tables, view and columns as a database loaded by loadTpms', async () => {
    const admin = await mariadb.adminConnection();
    try {
      const describeDb = async (schema: string) => {
        const [rows] = await admin.query(
          `SELECT c.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, c.COLUMN_DEFAULT, c.COLUMN_KEY
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
               ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
            WHERE c.TABLE_SCHEMA = ? ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
          [schema],
        );
        return rows;
      };
      const demo = await describeDb('tpms');
      expect((demo as unknown[]).length).toBeGreaterThan(0);
      expect(demo).toEqual(await describeDb('tpms_reference'));
    } finally {
      await admin.end();
    }
  });

  it('lets the read-only user read the project view but not write', async () => {
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      port: mariadb.port,
      user: readOnlyUser,
      password: readOnlyPassword,
      database: 'tpms',
    });
    try {
      const [projects] = await connection.query('SELECT IDProjectMain, Project_Name FROM View_Project_Main ORDER BY IDProjectMain');
      expect((projects as Array<{ IDProjectMain: number }>).map((row) => Number(row.IDProjectMain))).toEqual(
        DEMO_TPMS.projects.map((project) => project.id).sort((a, b) => a - b),
      );
      await expect(connection.query("INSERT INTO projects (IDProjectMain, Project_Name) VALUES (1, 'x')")).rejects.toMatchObject({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
    } finally {
      await connection.end();
    }
  });

  it('refuses to create a read-only user with an unsafe name', () => {
    expect(() =>
      execFileSync('bash', ['-c', 'docker_process_sql() { cat >/dev/null; }; source "$1"', 'init', join(DEMO_INIT_DIR, '03-readonly-user.sh')], {
        env: { ...process.env, TPMS_READONLY_USER: "ro'; DROP DATABASE tpms; --", TPMS_READONLY_PASSWORD: 'x' },
        stdio: 'pipe',
      }),
    ).toThrow(/TPMS_READONLY_USER must be/);
  });
});
