import type { RedisClient } from '@simorgh/api/redis';

/**
 * Figures of the sharing indexes (docs/decisions/sharing-indexes.md): what GET /api/chats?scope=shared
 * costs as `shared:projects` grows. Project chats visible to their whole project are written
 * straight into the chat DB in the layout of apps/api/src/features/chats/chats.scripts.ts
 * (metadata, the owner's index, `project:<n>:shared`, `shared:projects` and its version, which
 * tells each reader's remembered permissions that the set grew), pipelined.
 */

export const SHARE_OWNER = 'share.owner';

/** Writes `perProject` chats visible to the project for each project, numbered from `firstSeq`. */
export async function seedProjectSharedChats(chat: RedisClient, projects: number[], perProject: number, firstSeq: number): Promise<void> {
  const start = Date.UTC(2025, 0, 1);
  let seq = firstSeq;
  for (let first = 0; first < projects.length; first += 500) {
    const writes: Array<Promise<unknown>> = [];
    for (const project of projects.slice(first, first + 500)) {
      for (let index = 0; index < perProject; index += 1) {
        seq += 1;
        const createdMs = start + seq * 1000;
        const iso = new Date(createdMs).toISOString();
        const id = `P-${project}-${String(seq).padStart(6, '0')}`;
        const metadata = {
          chat_id: id,
          chat_name: `Shared page ${seq}`,
          user_id: SHARE_OWNER,
          chat_type: 'project',
          project_number: String(project),
          project_name: `Bench project ${project}`,
          page_name: `Page ${seq}`,
          created_at: iso,
          updated_at: iso,
          message_count: 0,
          status: 'active',
          pinned: false,
          visibility: 'project',
          allowed_users: [],
        };
        writes.push(chat.set(`chat:${id}:metadata`, JSON.stringify(metadata)));
        writes.push(chat.zAdd(`user:${SHARE_OWNER}:chats`, { score: createdMs, value: id }));
        writes.push(chat.zAdd(`project:${project}:shared`, { score: createdMs, value: id }));
      }
      writes.push(chat.sAdd('shared:projects', String(project)));
    }
    await Promise.all(writes);
    await chat.incr('shared:projects:version');
  }
}
