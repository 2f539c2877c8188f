import { tpmsRows, type TpmsPool } from '../../tpms.js';

export type TpmsUserRow = { username: string; password_hash: string; display_name: string; is_active: number | string };

/** Reads TPMS users with a parameterized read-only query. */
export function createAuthStore(pool: TpmsPool | null) {
  return {
    async findUser(username: string): Promise<TpmsUserRow | null> {
      const rows = await tpmsRows<TpmsUserRow>(
        pool,
        'SELECT username, password_hash, display_name, is_active FROM users WHERE username = ?',
        [username],
      );
      return rows[0] ?? null;
    },
  };
}

export type AuthStore = ReturnType<typeof createAuthStore>;
