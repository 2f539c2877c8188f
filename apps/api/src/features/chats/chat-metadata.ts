import {
  ChatStatusSchema,
  ChatTypeSchema,
  MAX_ALLOWED_USERS,
  normalizeProjectNumber,
  PLACEHOLDER_TITLE,
  type ChatAccess,
  type StoredChat,
} from '@simorgh/contracts';

type Stored = Record<string, unknown>;

// Plain lookups, not safeParse: this runs for every chat of every list page.
const CHAT_TYPES: ReadonlySet<unknown> = new Set(ChatTypeSchema.options);
const CHAT_STATUSES: ReadonlySet<unknown> = new Set(ChatStatusSchema.options);

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/** ISO text for a stored time that may be ISO text, epoch seconds or epoch ms (legacy). */
function isoTime(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  }
  const stored = text(value);
  if (stored === null) return null;
  return Number.isNaN(Date.parse(stored)) ? null : stored;
}

/** Creation time in ms for ordering, 0 when unknown. */
export function createdMsOf(metadata: Pick<StoredChat, 'created_at'>): number {
  const ms = Date.parse(metadata.created_at);
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * Turns stored metadata (current or written by the previous system) into the wire shape.
 * Missing fields get defaults: general, active, not pinned, counted messages. Returns null
 * when the record has no owner, because nobody could ever be allowed to read it.
 */
export function normalizeMetadata(chatId: string, raw: unknown, countedMessages: number | null): StoredChat | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const stored = raw as Stored;
  const userId = text(stored.user_id);
  if (userId === null) return null;
  const projectNumber = normalizeProjectNumber(stored.project_number);
  const createdAt = isoTime(stored.created_at) ?? new Date(0).toISOString();
  const count = stored.message_count;
  const chatType = CHAT_TYPES.has(stored.chat_type) ? (stored.chat_type as StoredChat['chat_type']) : 'general';
  return {
    chat_id: chatId,
    chat_name: text(stored.chat_name) ?? text(stored.title) ?? PLACEHOLDER_TITLE,
    user_id: userId,
    chat_type: chatType,
    project_number: projectNumber,
    project_name: text(stored.project_name),
    page_name: text(stored.page_name),
    created_at: createdAt,
    updated_at: isoTime(stored.updated_at) ?? createdAt,
    message_count:
      typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : (countedMessages ?? 0),
    status: CHAT_STATUSES.has(stored.status) ? (stored.status as StoredChat['status']) : 'active',
    pinned: stored.pinned === true,
    visibility: stored.visibility === 'project' && chatType === 'project' ? 'project' : 'private',
    allowed_users: Array.isArray(stored.allowed_users)
      ? stored.allowed_users.filter((user): user is string => typeof user === 'string').slice(0, MAX_ALLOWED_USERS)
      : [],
  };
}

/** A chat's JSON (from the renderer) with the caller's `access` added as its last field. */
export function withAccess(json: string, access: ChatAccess): string {
  return `${json.slice(0, -1)},"access":"${access}"}`;
}

/** True when the stored record lacks a usable message_count, so it must be counted. */
export function needsMessageCount(raw: unknown): boolean {
  const count = (raw as Stored | null)?.message_count;
  return !(typeof count === 'number' && Number.isInteger(count) && count >= 0);
}
