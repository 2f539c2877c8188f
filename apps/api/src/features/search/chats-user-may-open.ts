import { sql, type RawBuilder } from 'kysely';

/** Where the chats shared with a user stand: `all`, the projects on which they may open them now (the chats service's `sharedProjectsOf`, which the shared list reads too). */
export type SharedProjectsOf = (userId: string) => Promise<{ all: string[] }>;

/**
 * THE definition of the chats a user may open at this moment, as conditions on a row of `chats`
 * (or `messages`) named by its alias: every search query is filtered by them, so nothing outside
 * them can be found by any query. The user's own chats (a deleted chat has no row once its
 * deletion is mirrored), the chats naming them in allowed_users, and the chats visible to a whole
 * project; a project chat of someone else only on a project the user has permission on now
 * (asked of the TPMS cache through `sharedProjectsOf`, so as GET /api/chats/:id would answer).
 * Search reads the two halves apart (docs/decisions/search.md): the user's own messages by their
 * owner column and index, the few chats shared with them through `chats`.
 */
export type ChatsUserMayOpen = {
  /** The user: the owner whose own words search reads (search_owner_words). */
  userId: string;
  /** The user's own chats: on `chats` by `user_id`, on `messages` by `owner_id` (the chat's owner, kept by the mirror). */
  owned(alias: string, table: 'chats' | 'messages'): RawBuilder<boolean>;
  /** Chats of others shared with the user, on a row of `chats`. */
  sharedWith(alias: string): RawBuilder<boolean>;
};

export async function chatsUserMayOpen(userId: string, sharedProjectsOf: SharedProjectsOf): Promise<ChatsUserMayOpen> {
  const projects = (await sharedProjectsOf(userId)).all;
  const owned = (alias: string, table: 'chats' | 'messages') => sql<boolean>`${sql.ref(`${alias}.${table === 'chats' ? 'user_id' : 'owner_id'}`)} = ${userId}`;
  const sharedWith = (alias: string) => {
    const column = (name: string) => sql.ref(`${alias}.${name}`);
    const onPermittedProject = sql`${column('chat_type')} = 'project' AND ${column('project_number')} = ANY(${projects}::text[])`;
    return sql<boolean>`(${column('user_id')} <> ${userId}
      AND ((${column('allowed_users')} @> ARRAY[${userId}]::text[] AND (${column('chat_type')} <> 'project' OR (${onPermittedProject})))
        OR (${column('visibility')} = 'project' AND ${onPermittedProject})))`;
  };
  return { userId, owned, sharedWith };
}
