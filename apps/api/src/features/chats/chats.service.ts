import {
  formatGeneralId,
  formatProjectId,
  generalCounterKey,
  parseSessionId,
  PLACEHOLDER_TITLE,
  SESSION_SEQ_WIDTH,
  projectCounterKey,
  type ChatAccess,
  type ChatMetadata,
  type Project,
  type StoredChat,
  type CreateChatRequestSchema,
  type CreateChatResponse,
  type ListChatsQuerySchema,
  type ListChatsResponse,
  type UpdateChatRequestSchema,
} from '@simorgh/contracts';
import type { z } from 'zod';
import type { Deps } from '../../deps.js';
import { AppError, chatNotFound } from '../../http/app-error.js';
import { EncodedJson } from '../../http/send-json.js';
import { retryAfterSeconds } from '../../rate-log.js';
import type { HistoryService } from '../history/history.service.js';
import type { ChatEvents } from '../events/events.service.js';
import type { ProjectsService } from '../projects/projects.service.js';
import type { AccessCheck } from '../projects/projects.scripts.js';
import type { UsersService } from '../users/users.service.js';
import { decodeCursor, encodeCursor, type ListPosition } from './chat-cursor.js';
import { MAX_SCANNED_PER_PAGE, readListPage } from './chat-list.js';
import { createChatRenderer, type RenderedChat } from './chat-render.js';
import { createdMsOf, needsMessageCount, normalizeMetadata, withAccess } from './chat-metadata.js';
import type { ChatsStore, MetadataPatch, SharingChange } from './chats.store.js';
import { readSharedPage, type SharedProjects } from './shared-list.js';

type CreateInput = z.output<typeof CreateChatRequestSchema>;
type ListInput = z.output<typeof ListChatsQuerySchema>;
type UpdateInput = z.output<typeof UpdateChatRequestSchema>;

/** Per-user bounds on creation: CHATS_PER_MINUTE and MAX_CHATS_PER_USER. */
export type ChatLimits = { chatsPerMinute: number; maxChatsPerUser: number };

/**
 * A chat lives in Redis (hot) or, idle long enough, in PostgreSQL only (moved by the history's
 * archive pass; its member goes from the owner's index to the owner's moved-chats buckets, which
 * the list merges with the index). Reads serve a moved chat from
 * PostgreSQL; every write goes through `writeMetadata` (or the messages feature's scripts),
 * which brings a moved chat back into Redis first.
 */
/** A chat someone may open, and as what. */
export type OpenedChat = { chat: StoredChat; access: ChatAccess };

/** The chat as the caller sees it on the wire. */
export const asSeenBy = ({ chat, access }: OpenedChat): ChatMetadata => ({ ...chat, access });

export function createChatsService(
  deps: Pick<Deps, 'clock' | 'logger' | 'metrics'>,
  store: ChatsStore,
  projects: ProjectsService,
  users: Pick<UsersService, 'requireShareable'>,
  limits: ChatLimits,
  history: Pick<HistoryService, 'movedChat' | 'movedMetadata' | 'bringBackChat'>,
  events: Pick<ChatEvents, 'publishChatEvent'>,
  /** Told of each general chat created here (the messages feature then knows its history is empty). */
  onCreated: (chat: ChatMetadata) => void = () => undefined,
) {
  const render = createChatRenderer();
  const nowIso = () => deps.clock.now().toISOString();

  /**
   * The one way metadata is written: the patch script, and when it finds no metadata because
   * the chat was moved out of Redis, the chat is brought back and the patch tried again. Null
   * when the chat is gone (or the guard failed).
   */
  async function writeMetadata(chatId: string, changes: MetadataPatch, options: Parameters<ChatsStore['patch']>[2] = {}): Promise<unknown | null> {
    const written = await store.patch(chatId, changes, options);
    if (written !== null || !(await history.bringBackChat(chatId))) return written;
    return store.patch(chatId, changes, options);
  }

  async function withCount(chatId: string, raw: unknown): Promise<StoredChat | null> {
    const counted = needsMessageCount(raw) ? await store.countMessages(chatId) : null;
    return normalizeMetadata(chatId, raw, counted);
  }

  /** Whether `userId` has a draft_permission row for the project now (TPMS cache; 503 when TPMS cannot say). */
  async function hasPermission(userId: string, projectNumber: string): Promise<boolean> {
    const [allowed] = await projects.permitted([[projectNumber, userId]]);
    return allowed === true;
  }

  /**
   * The one answer to "may this user open this chat, and as what", for every chat route. Its
   * owner may (a project chat also needs the owner's TPMS permission: 403 without it, as
   * before sharing); so may the users it names in allowed_users and, when its visibility is
   * "project", everyone with a draft_permission row for its project. For a project chat every
   * access but the owner's re-checks that permission through the TPMS cache, so access ends at
   * most TPMS_CACHE_TTL_S after a revocation, and at once after an admin cache invalidation;
   * that holds for the named users too, since nobody sees a project chat without current
   * permission on its project. Anyone else gets 404, as for a missing or malformed ID, so
   * nothing leaks about which chats exist. TPMS unreachable: 503, never 403 or 404.
   */
  async function openChat(userId: string, chatId: string): Promise<OpenedChat> {
    if (parseSessionId(chatId) === null) throw new AppError('not_found', 'Chat not found');
    // Moved: from PostgreSQL. Neither: read Redis again, in case it was brought back meanwhile.
    const raw = (await store.getRaw(chatId)) ?? (await history.movedChat(chatId)) ?? (await store.getRaw(chatId));
    const chat = raw === null ? null : await withCount(chatId, raw);
    if (!chat) throw chatNotFound(chatId);
    const project = chat.chat_type === 'project' ? chat.project_number : null;
    if (chat.user_id === userId) {
      if (project) await projects.requireAccess(userId, project);
      return { chat, access: 'owner' };
    }
    const named = chat.allowed_users.includes(userId);
    if (!named && !(project && chat.visibility === 'project')) throw chatNotFound(chatId);
    if (project && !(await hasPermission(userId, project))) throw chatNotFound(chatId);
    return { chat, access: named ? 'allowed' : 'project' };
  }

  /**
   * The chat, for what only its owner may do (`action`, as in "Only the owner can <action>"):
   * 403 for the others who may open it, 404 for everyone else.
   */
  async function ownChat(userId: string, chatId: string, action: string): Promise<StoredChat> {
    const { chat, access } = await openChat(userId, chatId);
    if (access !== 'owner') throw new AppError('forbidden', `Only the owner can ${action}`);
    return chat;
  }

  /**
   * Numbers and stores one chat (the metadata, the ID, the owner's index). With `access`, the
   * creation script first confirms it against the cache; null when it did not (nothing written).
   */
  async function createChat(userId: string, now: Date, project: Project | null, pageName: string | null, access?: AccessCheck): Promise<ChatMetadata | null> {
    const createdAt = now.toISOString();
    // One literal, in the contract's field order: `{ ...base, more }` would build a slow
    // dictionary-mode object, which cost several microseconds per creation to build and encode.
    // An empty allowed_users is not stored (see chats.store.ts).
    const template: Omit<StoredChat, 'chat_id' | 'allowed_users'> = {
      chat_name: pageName ?? PLACEHOLDER_TITLE,
      user_id: userId,
      chat_type: project ? 'project' : 'general',
      project_number: project ? project.project_number : null,
      project_name: project ? project.project_name : null,
      page_name: pageName,
      created_at: createdAt,
      updated_at: createdAt,
      message_count: 0,
      status: 'active',
      pinned: false,
      visibility: 'private',
    };
    const counterKey = project ? projectCounterKey(project.project_number) : generalCounterKey(now);
    const format = project ? (seq: number) => formatProjectId(project.project_number, seq) : (seq: number) => formatGeneralId(now, seq);
    // ids.ts owns the format: the script appends the zero-padded number to this prefix, and
    // the result is checked against formatGeneralId/formatProjectId before anyone sees it.
    const created = await store.createWithNextId({
      counterKey,
      idPrefix: format(1).slice(0, -SESSION_SEQ_WIDTH),
      width: SESSION_SEQ_WIDTH,
      metadata: template,
      createdMs: now.getTime(),
      access,
      limits: { perMinute: limits.chatsPerMinute, maxChats: limits.maxChatsPerUser },
    });
    if (created === 'unverified') return null;
    if (created === 'quota') {
      throw new AppError('conflict', `You have ${limits.maxChatsPerUser} chats, the most one person can keep. Delete some to start new ones.`);
    }
    if ('limited' in created) {
      const seconds = retryAfterSeconds(created.limited.waitMs);
      throw new AppError('rate_limited', `You can start ${limits.chatsPerMinute} chats per minute. Try again in ${seconds} s.`, {
        'Retry-After': String(seconds),
      });
    }
    if (created.seq === 0) throw new Error(`No free session ID after ${created.skipped} attempts on ${counterKey}`);
    if (created.chatId !== format(created.seq)) throw new Error(`Session ID ${created.chatId} does not match number ${created.seq}`);
    if (created.skipped > 0) {
      deps.logger.warn({ chat_id: created.chatId, skipped: created.skipped, counter: counterKey }, 'session IDs already taken; counter was behind, skipped them');
    }
    const chat: ChatMetadata = { chat_id: created.chatId, ...template, allowed_users: [], access: 'owner' };
    deps.logger.debug({ chat_id: chat.chat_id, user_id: userId, chat_type: chat.chat_type }, 'chat created');
    deps.metrics.chatsCreated.inc({ type: chat.chat_type });
    return chat;
  }

  /** A chat created without an access check is always written (or the creation threw). */
  const written = (chat: ChatMetadata | null): ChatMetadata => {
    if (!chat) throw new Error('a chat without an access check was not written');
    return chat;
  };

  async function create(userId: string, body: CreateInput): Promise<CreateChatResponse> {
    if (body.user_id !== undefined && body.user_id !== userId) {
      throw new AppError('forbidden', 'user_id must be the signed-in user (or left out)');
    }
    const now = deps.clock.now();
    if (body.chat_type !== 'project') {
      const chat = written(await createChat(userId, now, null, null));
      onCreated(chat);
      return { status: 'success', chat, message: 'General session created' };
    }
    // The schema guarantees both for project chats. Access is settled before a number is spent:
    // for a project this process has opened before, by the creation script itself against the
    // cache (same round trip); otherwise, or when the cache says anything else, by requireAccess.
    const projectNumber = body.project_number as string;
    const pageName = body.page_name as string;
    const known = projects.cachedAccessCheck(userId, projectNumber);
    const chat =
      (known ? await createChat(userId, now, known.project, pageName, known.check) : null) ??
      written(await createChat(userId, now, await projects.requireAccess(userId, projectNumber), pageName));
    return { status: 'success', chat, message: `Project session created for ${chat.project_name}` };
  }

  /** Which of the projects `userId` has permission on now (TPMS cache), for the shared list. */
  async function permittedProjects(userId: string, projectNumbers: string[]): Promise<Set<string>> {
    const allowed = await projects.permitted(projectNumbers.map((projectNumber) => [projectNumber, userId]));
    return new Set(projectNumbers.filter((_, index) => allowed[index]));
  }

  /**
   * One page of the user's chats (or, with scope=shared, of the chats others share with them),
   * encoded for the wire from what the renderer remembers of each (see chat-render.ts). Only
   * legacy chats without a stored message_count are counted (one call each); the rest are ready
   * as they are, without a promise per item.
   */
  async function list(userId: string, query: ListInput): Promise<EncodedJson<ListChatsResponse>> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const page: { items: Array<RenderedChat & { access?: ChatAccess }>; next: ListPosition | null } =
      query.scope === 'shared'
        ? await readSharedPage(store, render, userId, query, after, await sharedProjectsOf(userId), (numbers) => permittedProjects(userId, numbers), history.movedMetadata)
        : await readListPage(store, render, userId, query, after, history.movedMetadata);
    const encoded = page.items.map((item) => (item.json === null ? '' : withAccess(item.json, item.access ?? 'owner')));
    const counting: Array<Promise<void>> = [];
    for (const [index, { chat, json, access }] of page.items.entries()) {
      if (json !== null) continue;
      counting.push(
        store.countMessages(chat.chat_id).then((count) => {
          encoded[index] = JSON.stringify({ ...chat, message_count: count, access: access ?? 'owner' });
        }),
      );
    }
    await Promise.all(counting);
    const cursor = page.next ? encodeCursor(page.next) : null;
    return new EncodedJson(`{"chats":[${encoded.join(',')}],"next_cursor":${JSON.stringify(cursor)}}`);
  }

  /**
   * The sharing part of a PATCH, checked: `visibility: "project"` only on a project chat; the
   * owner never in allowed_users; each user added must be active in TPMS and, on a project chat,
   * have permission on its project (400 naming the first who does not). Users already on the
   * list are kept as they are: whether they may still open the chat is asked at each access.
   */
  async function sharingChange(chat: StoredChat, visibility: UpdateInput['visibility'], allowedUsers: UpdateInput['allowed_users']): Promise<SharingChange | null> {
    if (visibility === undefined && allowedUsers === undefined) return null;
    const project = chat.chat_type === 'project' ? chat.project_number : null;
    if (visibility === 'project' && project === null) {
      throw new AppError('validation', 'Only a project chat can be shared with everyone on its project');
    }
    const change: SharingChange = { project, createdMs: createdMsOf(chat), ...(visibility === undefined ? {} : { visibility }) };
    if (allowedUsers === undefined) return change;
    const wanted = [...new Map(allowedUsers.map((user) => [user.toLowerCase(), user])).values()];
    const owner = wanted.find((user) => user.toLowerCase() === chat.user_id.toLowerCase());
    if (owner !== undefined) throw new AppError('validation', `User ${owner} owns this chat; list only the people to share it with`);
    const current = new Set(chat.allowed_users);
    const added = await users.requireShareable(wanted.filter((user) => !current.has(user)), project);
    return { ...change, users: [...wanted.filter((user) => current.has(user)), ...added] };
  }

  async function update(userId: string, chatId: string, changes: UpdateInput): Promise<ChatMetadata> {
    const current = await ownChat(userId, chatId, 'rename, pin, archive or share this chat');
    const { visibility, allowed_users: allowedUsers, ...fields } = changes;
    const sharing = await sharingChange(current, visibility, allowedUsers);
    const patch = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    const raw = await writeMetadata(chatId, { ...patch, updated_at: nowIso() }, { owner: userId, guard: { field: 'user_id', value: userId }, sharing });
    const chat = raw === null ? null : await withCount(chatId, raw);
    if (!chat) throw chatNotFound(chatId);
    const seen = { ...chat, access: 'owner' } as const;
    // Followers keep the access they opened the chat with; the event carries the owner's view.
    await announce(chatId, { type: 'chat_updated', chat: seen });
    return seen;
  }

  /**
   * THE answer to "on which projects may `userId` open chats others shared with them, now", for
   * every reader of shared chats: the shared list and search. The projects with chats visible to
   * the whole project and those of project chats shared with the user by name, where the user
   * has permission (TPMS cache, as GET /api/chats/:id asks it). The first are answered by the
   * user's memo on shared:projects (chats.store.ts) when it holds: the cost then follows the
   * user's own projects, not every project with shared chats. What nothing is cached for, and the
   * projects of chats shared by name, are asked as anywhere else (503 when TPMS cannot say).
   */
  async function sharedProjectsOf(userId: string): Promise<SharedProjects> {
    // Both reads at once: search waits for this before its statement.
    const [byName, shared] = await Promise.all([store.sharedByName(userId, MAX_SCANNED_PER_PAGE), store.sharedProjectsByPermission(projects.permissionsCheck(userId))]);
    const visible = new Set(shared.allowed);
    const named = new Set(
      byName.flatMap((chatId) => {
        const parts = parseSessionId(chatId);
        return parts?.kind === 'project' && !visible.has(parts.projectNumber) ? [parts.projectNumber] : [];
      }),
    );
    const unknown = new Set(shared.unknown);
    const all = new Set(visible);
    for (const project of await permittedProjects(userId, [...new Set([...unknown, ...named])])) {
      if (unknown.has(project)) visible.add(project);
      all.add(project);
    }
    return { all: [...all], visibleToProject: [...visible] };
  }

  /** Tells the chat's followers; the change is saved whether or not this succeeds. */
  async function announce(chatId: string, event: Parameters<ChatEvents['publishChatEvent']>[1]): Promise<void> {
    await events.publishChatEvent(chatId, event).catch((error: unknown) => {
      deps.logger.warn({ err: error, chat_id: chatId }, 'could not publish a chat event');
    });
  }

  return {
    openChat,
    ownChat,
    sharedProjectsOf,
    create,
    list,
    update,
    renameChat: (userId: string, chatId: string, chatName: string) => update(userId, chatId, { chat_name: chatName }),

    /**
     * Compare-and-set for automatic titles: renames only while the name is still the
     * placeholder, so a title the user chose meanwhile is never overwritten.
     */
    async setTitleIfPlaceholder(chatId: string, title: string): Promise<boolean> {
      const written = await writeMetadata(chatId, { chat_name: title, updated_at: nowIso() }, { guard: { field: 'chat_name', value: PLACEHOLDER_TITLE } });
      return written !== null;
    },

    async remove(userId: string, chatId: string): Promise<void> {
      const chat = await ownChat(userId, chatId, 'delete this chat');
      await store.delete(chatId, userId, { project: chat.chat_type === 'project' ? chat.project_number : null, users: chat.allowed_users, createdMs: createdMsOf(chat) });
      await announce(chatId, { type: 'chat_deleted', chat_id: chatId });
      deps.logger.info({ chat_id: chatId, user_id: userId }, 'chat deleted');
    },
  };
}

export type ChatsService = ReturnType<typeof createChatsService>;
