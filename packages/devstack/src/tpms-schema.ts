import bcrypt from 'bcryptjs';
import type mysql from 'mysql2/promise';

/**
 * The slice of the company project directory (TPMS) that Simorgh Chat reads. The real TPMS
 * has many more columns; the app only relies on the ones named in the view and tables here.
 */
export const TPMS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS projects (
  IDProjectMain BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  Project_Name VARCHAR(255) NOT NULL,
  Client_Name VARCHAR(255) NULL,
  Site_Location VARCHAR(255) NULL,
  Project_Status VARCHAR(32) NOT NULL DEFAULT 'Active'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE OR REPLACE VIEW View_Project_Main AS
  SELECT IDProjectMain, Project_Name, Client_Name, Site_Location, Project_Status FROM projects;

CREATE TABLE IF NOT EXISTS draft_permission (
  project_ID BIGINT UNSIGNED NOT NULL,
  user VARCHAR(150) NOT NULL,
  PRIMARY KEY (project_ID, user)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS users (
  username VARCHAR(150) NOT NULL PRIMARY KEY,
  password_hash VARCHAR(100) NOT NULL,
  display_name VARCHAR(200) NOT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`;

export type TpmsProject = { id: number; name: string; client?: string; site?: string };
export type TpmsUser = { username: string; password: string; displayName: string; active?: boolean };
export type TpmsData = {
  projects: TpmsProject[];
  users: TpmsUser[];
  /** [project id, username] pairs. */
  permissions: Array<[number, string]>;
};

export const DEMO_TPMS: TpmsData = {
  projects: [
    { id: 10234, name: 'Bandar Abbas Refinery Expansion', client: 'Persian Gulf Refining Co.', site: 'Bandar Abbas' },
    { id: 10571, name: 'Asaluyeh Gas Compression Station 4', client: 'South Pars Gas Co.', site: 'Asaluyeh' },
    { id: 11002, name: 'Isfahan Steel Mill Cooling Water Upgrade', client: 'Isfahan Steel', site: 'Isfahan' },
    { id: 11348, name: 'Tabriz Substation 400 kV Retrofit', client: 'Azarbaijan Regional Electric', site: 'Tabriz' },
    { id: 12090, name: 'Kharg Island Crude Tank Farm Inspection', client: 'Iranian Oil Terminals', site: 'Kharg Island' },
  ],
  users: [
    { username: 'a.rahimi', password: 'simorgh-demo', displayName: 'Arash Rahimi' },
    { username: 's.karimi', password: 'simorgh-demo', displayName: 'Sara Karimi' },
    { username: 'r.hosseini', password: 'simorgh-demo', displayName: 'Reza Hosseini' },
    { username: 'm.tehrani', password: 'simorgh-demo', displayName: 'Mina Tehrani (inactive)', active: false },
  ],
  permissions: [
    [10234, 'a.rahimi'],
    [10571, 'a.rahimi'],
    [11002, 'a.rahimi'],
    [10234, 's.karimi'],
    [11348, 's.karimi'],
    [10234, 'r.hosseini'],
    [10571, 'r.hosseini'],
  ],
};

/** Creates the TPMS tables in `database` and fills them; safe to run on an existing database. */
export async function loadTpms(admin: mysql.Connection, database: string, data: TpmsData): Promise<void> {
  await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
  await admin.query(`USE \`${database}\``);
  await admin.query(TPMS_SCHEMA_SQL);
  for (const project of data.projects) {
    await admin.execute(
      'INSERT IGNORE INTO projects (IDProjectMain, Project_Name, Client_Name, Site_Location) VALUES (?, ?, ?, ?)',
      [project.id, project.name, project.client ?? null, project.site ?? null],
    );
  }
  for (const user of data.users) {
    const hash = await bcrypt.hash(user.password, 10);
    await admin.execute(
      'INSERT IGNORE INTO users (username, password_hash, display_name, is_active) VALUES (?, ?, ?, ?)',
      [user.username, hash, user.displayName, user.active === false ? 0 : 1],
    );
  }
  for (const [projectId, username] of data.permissions) {
    await admin.execute('INSERT IGNORE INTO draft_permission (project_ID, user) VALUES (?, ?)', [projectId, username]);
  }
}

/** A SQL user that can only read `database`: the app never writes to TPMS. */
export async function createReadOnlyUser(
  admin: mysql.Connection,
  database: string,
  user: string,
  password: string,
): Promise<void> {
  await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password.replace(/'/g, "''")}'`);
  await admin.query(`GRANT SELECT ON \`${database}\`.* TO '${user}'@'%'`);
}
