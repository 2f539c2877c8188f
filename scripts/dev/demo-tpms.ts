import type { MariaDbServer } from '@simorgh/devstack';
import { createReadOnlyUser, DEMO_TPMS, loadTpms } from '@simorgh/devstack';

export const DEMO_DATABASE = 'tpms';
export const READ_ONLY_USER = 'simorgh_ro';

/**
 * Loads the demo project directory the first time (later runs keep whatever is in it) and makes
 * sure the app's read-only SQL user exists with the password kept in .data/.
 */
export async function prepareDemoTpms(mariadb: MariaDbServer, readOnlyPassword: string): Promise<{ created: boolean }> {
  const admin = await mariadb.adminConnection();
  try {
    const [rows] = await admin.query(
      'SELECT COUNT(*) AS found FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
      [DEMO_DATABASE, 'users'],
    );
    const created = Number((rows as Array<{ found: number }>)[0]?.found ?? 0) === 0;
    if (created) await loadTpms(admin, DEMO_DATABASE, DEMO_TPMS);
    await createReadOnlyUser(admin, DEMO_DATABASE, READ_ONLY_USER, readOnlyPassword);
    // CREATE USER IF NOT EXISTS keeps an old password; the kept file is the source of truth.
    await admin.query(`ALTER USER '${READ_ONLY_USER}'@'%' IDENTIFIED BY ?`, [readOnlyPassword]);
    return { created };
  } finally {
    await admin.end();
  }
}

/** "a.rahimi, s.karimi (password: simorgh-demo)" for every active demo user. */
export function demoSignIns(): string[] {
  const byPassword = new Map<string, string[]>();
  for (const user of DEMO_TPMS.users) {
    if (user.active === false) continue;
    byPassword.set(user.password, [...(byPassword.get(user.password) ?? []), user.username]);
  }
  return [...byPassword].map(([password, users]) => `${users.join(', ')} (password: ${password})`);
}
