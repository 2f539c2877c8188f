import { sql, type RawBuilder } from 'kysely';

/** Where the chats shared with a user stand: the projects on which they may open them now. */
export type SharedProjectsOf = (userId: string) => Promise<string[]>;

/**
 * THE definition of the chats a user may open at this moment, as a condition on a row of
 * `chats` named `alias`: every search query is filtered by it, so nothing outside it can be
 * found by any query. The user's own chats (a deleted chat has no row once its deletion is
 * mirrored), the chats naming them in allowed_users, and the chats visible to a whole project;
 * a project chat of someone else only on a project the user has permission on now (asked of
 * the TPMS cache through `sharedProjectsOf`, so as GET /api/chats/:id would answer).
 */
export async function chatsUserMayOpen(userId: string, alias: string, sharedProjectsOf: SharedProjectsOf): Promise<RawBuilder<boolean>> {
  const projects = await sharedProjectsOf(userId);
  const column = (name: string) => sql.ref(`${alias}.${name}`);
  const onPermittedProject = sql`${column('chat_type')} = 'project' AND ${column('project_number')} = ANY(${projects}::text[])`;
  return sql<boolean>`(${column('user_id')} = ${userId}
    OR (${column('allowed_users')} @> ARRAY[${userId}]::text[] AND (${column('chat_type')} <> 'project' OR (${onPermittedProject})))
    OR (${column('visibility')} = 'project' AND ${onPermittedProject}))`;
}
