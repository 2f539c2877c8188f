import { USER_SEARCH_LIMIT, type User } from '@simorgh/contracts';
import { tpmsRows, type TpmsPool } from '../../tpms.js';

type UserRow = { username: string; display_name: string };

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');
/** A LIKE pattern matching values that start with `prefix` taken literally (`\` is MariaDB's default escape). */
const startsWith = (prefix: string) => `${prefix.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
const asUser = (row: UserRow): User => ({ user_id: row.username, display_name: row.display_name });

/** Read-only TPMS queries on `users`; every value travels as a bound parameter. */
export function createUsersStore(pool: TpmsPool | null) {
  return {
    /**
     * Up to USER_SEARCH_LIMIT active users whose ID or display name starts with `prefix`, by ID;
     * with `projectNumber`, only those with a draft_permission row for it.
     */
    async search(prefix: string, projectNumber: string | null): Promise<User[]> {
      const pattern = startsWith(prefix);
      const onProject = projectNumber === null ? '' : ' AND EXISTS (SELECT 1 FROM draft_permission p WHERE p.project_ID = ? AND p.user = u.username)';
      const rows = await tpmsRows<UserRow>(
        pool,
        `SELECT u.username, u.display_name FROM users u WHERE u.is_active = 1 AND (u.username LIKE ? OR u.display_name LIKE ?)${onProject} ORDER BY u.username LIMIT ${USER_SEARCH_LIMIT}`,
        projectNumber === null ? [pattern, pattern] : [pattern, pattern, projectNumber],
      );
      return rows.map(asUser);
    },

    /** The active users among `userIds`, as TPMS spells them. */
    async active(userIds: string[]): Promise<User[]> {
      if (userIds.length === 0) return [];
      const rows = await tpmsRows<UserRow>(
        pool,
        `SELECT username, display_name FROM users WHERE is_active = 1 AND username IN (${placeholders(userIds.length)})`,
        userIds,
      );
      return rows.map(asUser);
    },

    /** The user's display name, or null when TPMS has no such user. */
    async displayName(userId: string): Promise<string | null> {
      const rows = await tpmsRows<UserRow>(pool, 'SELECT username, display_name FROM users WHERE username = ?', [userId]);
      return rows[0]?.display_name ?? null;
    },
  };
}

export type UsersStore = ReturnType<typeof createUsersStore>;
