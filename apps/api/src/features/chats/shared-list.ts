import type { ChatAccess, ListChatsQuerySchema, StoredChat } from '@simorgh/contracts';
import type { z } from 'zod';
import type { ListPosition } from './chat-cursor.js';
import { MAX_SCANNED_PER_PAGE, mergeNewestFirst, metadataOf, newestFirst, type MovedMetadata } from './chat-list.js';
import type { ChatRenderer, RenderedChat } from './chat-render.js';
import { projectSharedKey, userSharedKey } from './chats.scripts.js';
import type { ChatsStore, IndexEntry } from './chats.store.js';

type ListInput = z.output<typeof ListChatsQuerySchema>;

export type SharedChat = RenderedChat & { access: Exclude<ChatAccess, 'owner'>; position: ListPosition };
export type SharedPage = { items: SharedChat[]; next: ListPosition | null };

/**
 * The projects on which chats shared with a user may be opened now (the chats service's
 * `sharedProjectsOf`): `visibleToProject`, those with chats shared with everyone on them; `all`,
 * those and the projects of project chats shared with the user by name.
 */
export type SharedProjects = { all: string[]; visibleToProject: string[] };

/** Which of the projects the caller has a draft_permission row for now (through the TPMS cache). */
export type PermittedProjects = (projectNumbers: string[]) => Promise<Set<string>>;

const MAX_CHUNK = 200;

/**
 * One page of the chats shared with `userId`, newest first (then ID descending), strictly after
 * `after`. The candidates come from the user's own index of chats shared with them by name and
 * from the index of every project with chats visible to the whole project on which the user
 * has permission now (`shared`, the chats service's `sharedProjectsOf`, which search asks too);
 * those indexes are walked newest first together (a merge: every project index's newest entry
 * read in a few script calls, then a chunk at a time of the indexes the page reaches on), and
 * each candidate is checked against its metadata as GET /api/chats/:id would: still named or
 * still visible to the project, and permission on a project chat's project. Cost follows the
 * page size and the number of those projects the user is on, not the number of chats shared.
 */
export async function readSharedPage(
  store: ChatsStore,
  render: ChatRenderer,
  userId: string,
  query: ListInput,
  after: ListPosition | null,
  shared: SharedProjects,
  permittedProjects: PermittedProjects,
  moved: MovedMetadata,
): Promise<SharedPage> {
  const wanted = query.limit + 1;
  const permitted = new Set(shared.all);
  const chunk = Math.min(MAX_CHUNK, wanted);
  // Every project index's newest entry in a few calls, then only the indexes the page reaches on.
  const heads = await store.projectHeadsNewestFirst(shared.visibleToProject, after && { score: after.createdMs, id: after.id });
  const projectWalks = shared.visibleToProject.flatMap((project) => {
    const head = heads.get(project);
    return head ? [fromHead(store, projectSharedKey(project), head, () => chunk)] : [];
  });
  const candidates = mergeNewestFirst([newestFirst(store, userSharedKey(userId), after, () => chunk), ...projectWalks]);
  const items: SharedChat[] = [];
  let budget = MAX_SCANNED_PER_PAGE;
  let lastScanned: ListPosition | null = null;

  for (;;) {
    const batch: IndexEntry[] = [];
    while (batch.length < Math.min(chunk, budget)) {
      const next = await candidates.next();
      if (next.done) break;
      batch.push(next.value);
    }
    if (batch.length === 0) return { items, next: null };
    // Chats moved to PostgreSQL stay shared: their metadata comes from there.
    const texts = await metadataOf(store, batch, moved);
    const rendered = batch.map((entry) => {
      const text = texts.get(entry.id);
      return text === undefined ? null : render(entry.id, text);
    });
    // Chats shared by name beyond the newest sharedProjectsOf reads are not in `permitted` yet.
    const unknown = rendered.flatMap((item) => {
      const project = item?.chat.chat_type === 'project' ? item.chat.project_number : null;
      return project !== null && project !== undefined && !permitted.has(project) ? [project] : [];
    });
    if (unknown.length > 0) for (const project of await permittedProjects([...new Set(unknown)])) permitted.add(project);
    for (const [index, entry] of batch.entries()) {
      const position: ListPosition = { pinned: false, createdMs: entry.score, id: entry.id };
      lastScanned = position;
      budget -= 1;
      const item = rendered[index];
      const access = item ? sharedAccess(item.chat, userId, permitted) : null;
      if (!item || !access || !matches(item.chat, query)) continue;
      items.push({ ...item, access, position });
      if (items.length === wanted) {
        const page = items.slice(0, query.limit);
        return { items: page, next: page.at(-1)?.position ?? null };
      }
    }
    if (budget <= 0) return { items, next: lastScanned };
  }
}

/** An index walked newest first from its newest entry `head` (already read) on. */
async function* fromHead(store: ChatsStore, key: string, head: IndexEntry, chunkSize: () => number): AsyncGenerator<IndexEntry[]> {
  yield [head];
  yield* newestFirst(store, key, { pinned: false, createdMs: head.score, id: head.id }, chunkSize);
}

/** How `userId` may open someone else's chat, given the projects they have permission on; null: not at all. */
function sharedAccess(chat: StoredChat, userId: string, permitted: Set<string>): SharedChat['access'] | null {
  if (chat.user_id === userId) return null;
  const project = chat.chat_type === 'project' ? chat.project_number : null;
  if (project !== null && !permitted.has(project)) return null;
  if (chat.allowed_users.includes(userId)) return 'allowed';
  return project !== null && chat.visibility === 'project' ? 'project' : null;
}

function matches(chat: StoredChat, query: ListInput): boolean {
  if (query.status !== 'all' && chat.status !== query.status) return false;
  if (query.chat_type && chat.chat_type !== query.chat_type) return false;
  if (query.project_number && chat.project_number !== query.project_number) return false;
  return true;
}
