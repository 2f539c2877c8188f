import {
  formatGeneralId,
  formatProjectId,
  generalCounterKey,
  parseSessionId,
  PLACEHOLDER_TITLE,
  SESSION_SEQ_WIDTH,
  projectCounterKey,
  type ChatMetadata,
  type Project,
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
import { decodeCursor, encodeCursor } from './chat-cursor.js';
import { readListPage } from './chat-list.js';
import { createChatRenderer } from './chat-render.js';
import { needsMessageCount, normalizeMetadata } from './chat-metadata.js';
import type { ChatsStore, MetadataPatch } from './chats.store.js';

type CreateInput = z.output<typeof CreateChatRequestSchema>;
type ListInput = z.output<typeof ListChatsQuerySchema>;
type UpdateInput = z.output<typeof UpdateChatRequestSchema>;

/** Per-user bounds on creation: CHATS_PER_MINUTE and MAX_CHATS_PER_USER. */
export type ChatLimits = { chatsPerMinute: number; maxChatsPerUser: number };

/**
 * A chat lives in Redis (hot) or, idle long enough, in PostgreSQL only (moved by the history's
 * archive pass; its member in the owner's index stays). Reads serve a moved chat from
 * PostgreSQL; every write goes through `writeMetadata` (or the messages feature's scripts),
 * which brings a moved chat back into Redis first.
 */
export function createChatsService(
  deps: Pick<Deps, 'clock' | 'logger' | 'metrics'>,
  store: ChatsStore,
  projects: ProjectsService,
  limits: ChatLimits,
  history: Pick<HistoryService, 'movedChat' | 'movedMetadata' | 'bringBackChat'>,
  events: Pick<ChatEvents, 'publishChatEvent'>,
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

  async function withCount(chatId: string, raw: unknown): Promise<ChatMetadata | null> {
    const counted = needsMessageCount(raw) ? await store.countMessages(chatId) : null;
    return normalizeMetadata(chatId, raw, counted);
  }

  /**
   * The chat if `userId` owns it, else 404 — for someone else's, a missing or a malformed
   * ID alike, so nothing leaks about which chats exist. Project chats re-check the
   * user's TPMS permission (cached), so revoked access ends within the cache TTL.
   */
  async function getOwnedChat(userId: string, chatId: string): Promise<ChatMetadata> {
    if (parseSessionId(chatId) === null) throw new AppError('not_found', 'Chat not found');
    // Moved: from PostgreSQL. Neither: read Redis again, in case it was brought back meanwhile.
    const raw = (await store.getRaw(chatId)) ?? (await history.movedChat(chatId)) ?? (await store.getRaw(chatId));
    const chat = raw === null ? null : await withCount(chatId, raw);
    if (!chat || chat.user_id !== userId) throw chatNotFound(chatId);
    if (chat.chat_type === 'project' && chat.project_number) {
      await projects.requireAccess(userId, chat.project_number);
    }
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
    const template: Omit<ChatMetadata, 'chat_id'> = {
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
    const chat: ChatMetadata = { chat_id: created.chatId, ...template };
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
      return { status: 'success', chat: written(await createChat(userId, now, null, null)), message: 'General session created' };
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

  /**
   * One page of the user's chats, encoded for the wire from what the renderer remembers of
   * each (see chat-render.ts). Only legacy chats without a stored message_count are counted
   * (one call each); the rest are ready as they are, without a promise per item.
   */
  async function list(userId: string, query: ListInput): Promise<EncodedJson<ListChatsResponse>> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    const page = await readListPage(store, render, userId, query, after, history.movedMetadata);
    const encoded = page.items.map((item) => item.json);
    const counting: Array<Promise<void>> = [];
    for (const [index, { chat, json }] of page.items.entries()) {
      if (json !== null) continue;
      counting.push(
        store.countMessages(chat.chat_id).then((count) => {
          encoded[index] = JSON.stringify({ ...chat, message_count: count });
        }),
      );
    }
    await Promise.all(counting);
    const cursor = page.next ? encodeCursor(page.next) : null;
    return new EncodedJson(`{"chats":[${encoded.join(',')}],"next_cursor":${JSON.stringify(cursor)}}`);
  }

  async function update(userId: string, chatId: string, changes: UpdateInput): Promise<ChatMetadata> {
    await getOwnedChat(userId, chatId);
    const patch = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const raw = await writeMetadata(chatId, { ...patch, updated_at: nowIso() }, { owner: userId });
    const chat = raw === null ? null : await withCount(chatId, raw);
    if (!chat) throw chatNotFound(chatId);
    await announce(chatId, { type: 'chat_updated', chat });
    return chat;
  }

  /** Tells the chat's followers; the change is saved whether or not this succeeds. */
  async function announce(chatId: string, event: Parameters<ChatEvents['publishChatEvent']>[1]): Promise<void> {
    await events.publishChatEvent(chatId, event).catch((error: unknown) => {
      deps.logger.warn({ err: error, chat_id: chatId }, 'could not publish a chat event');
    });
  }

  return {
    getOwnedChat,
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
      await getOwnedChat(userId, chatId);
      await store.delete(chatId, userId);
      await announce(chatId, { type: 'chat_deleted', chat_id: chatId });
      deps.logger.info({ chat_id: chatId, user_id: userId }, 'chat deleted');
    },
  };
}

export type ChatsService = ReturnType<typeof createChatsService>;
