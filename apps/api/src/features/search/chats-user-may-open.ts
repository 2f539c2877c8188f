import { sql, type RawBuilder } from 'kysely';

/**
 * THE definition of the chats a user may open at this moment, as a condition on a row of
 * `chats` named `alias`: every search query is filtered by it, so nothing outside it can be
 * found by any query. Today that is the user's own chats (a deleted chat has no row once its
 * deletion is mirrored). Sharing extends this one function: chats shared with the user under
 * their current TPMS permission (hence async, for that check).
 */
export async function chatsUserMayOpen(userId: string, alias: string): Promise<RawBuilder<boolean>> {
  return sql<boolean>`${sql.ref(`${alias}.user_id`)} = ${userId}`;
}
