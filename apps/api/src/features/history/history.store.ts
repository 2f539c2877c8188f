/**
 * Writes outbox entries (history.scripts.ts) to PostgreSQL. Every write is idempotent: rows are
 * upserted by chat_id / message_id and only by an entry newer than the one that last wrote them
 * (`mirror_version`), a deleted chat leaves a tombstone that older entries cannot get past, and
 * each entry takes a per-chat advisory lock so a delete and a late upsert of the same chat
 * applied by two processes at once cannot interleave.
 */
import { sql, type Kysely } from 'kysely';

export type OutboxEntry = { id: string; fields: Record<string, string> };

/** The entry ID `<ms>-<seq>` as one orderable number (a decimal string; seq < 1e10). */
export function entryVersion(id: string): string {
  const [ms, seq] = id.split('-');
  return (BigInt(ms ?? '0') * 10_000_000_000n + BigInt(seq ?? '0')).toString();
}

type Row = Record<string, unknown>;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);
const time = (value: unknown, fallback: string): string => {
  if (typeof value === 'number') return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
  return fallback;
};

/** Stored metadata as columns; legacy chats may lack fields (the list fills the same defaults). */
function chatColumns(chatId: string, meta: Row) {
  const epoch = new Date(0).toISOString();
  const createdAt = time(meta.created_at, epoch);
  const updatedAt = time(meta.updated_at, createdAt);
  return {
    chat_id: chatId,
    user_id: text(meta.user_id) ?? '',
    chat_type: meta.chat_type === 'project' ? 'project' : 'general',
    project_number: text(meta.project_number),
    project_name: text(meta.project_name),
    page_name: text(meta.page_name),
    chat_name: text(meta.chat_name) ?? text(meta.title) ?? 'New conversation',
    status: text(meta.status) ?? 'active',
    pinned: meta.pinned === true,
    created_at: createdAt,
    updated_at: updatedAt,
    message_count: typeof meta.message_count === 'number' ? Math.trunc(meta.message_count) : 0,
    last_activity_at: updatedAt,
    visibility: meta.visibility === 'project' && meta.chat_type === 'project' ? 'project' : 'private',
    allowed_users: Array.isArray(meta.allowed_users) ? meta.allowed_users.filter((user): user is string => typeof user === 'string') : [],
  };
}

const tokens = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 2 ** 31 - 1 ? value : null;

/** A message's `usage` as columns; all null without one (user messages, older replies). */
function usageColumns(usage: unknown) {
  const u = typeof usage === 'object' && usage !== null ? (usage as Row) : null;
  return {
    prompt_tokens: u ? tokens(u.prompt_tokens) : null,
    completion_tokens: u ? tokens(u.completion_tokens) : null,
    usage_model: u ? text(u.model) : null,
    usage_estimated: u ? u.estimated === true : null,
  };
}

const MESSAGE_NUMBER = /-M-(\d+)$/;
/** Message fields kept in columns; every other field (`usage` too) is kept whole in `extra`. */
const MESSAGE_COLUMNS: ReadonlySet<string> = new Set(['message_id', 'role', 'content', 'status', 'model', 'error', 'created_at']);

function parse(json: string | undefined): Row | null {
  if (json === undefined) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Row) : null;
  } catch {
    return null;
  }
}

export function createHistoryStore(db: Kysely<unknown>) {
  async function upsertChat(trx: Kysely<unknown>, chatId: string, meta: Row, version: string): Promise<void> {
    const c = chatColumns(chatId, meta);
    await sql`
      INSERT INTO chats (chat_id, user_id, chat_type, project_number, project_name, page_name, chat_name, status, pinned,
                         created_at, updated_at, message_count, last_activity_at, visibility, allowed_users, metadata, mirror_version)
      VALUES (${c.chat_id}, ${c.user_id}, ${c.chat_type}, ${c.project_number}, ${c.project_name}, ${c.page_name}, ${c.chat_name},
              ${c.status}, ${c.pinned}, ${c.created_at}, ${c.updated_at}, ${c.message_count}, ${c.last_activity_at},
              ${c.visibility}, ${c.allowed_users}::text[], ${JSON.stringify(meta)}::jsonb, ${version})
      ON CONFLICT (chat_id) DO UPDATE SET
        user_id = EXCLUDED.user_id, chat_type = EXCLUDED.chat_type, project_number = EXCLUDED.project_number,
        project_name = EXCLUDED.project_name, page_name = EXCLUDED.page_name, chat_name = EXCLUDED.chat_name,
        status = EXCLUDED.status, pinned = EXCLUDED.pinned, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
        message_count = EXCLUDED.message_count, last_activity_at = EXCLUDED.last_activity_at, visibility = EXCLUDED.visibility,
        allowed_users = EXCLUDED.allowed_users, metadata = EXCLUDED.metadata,
        mirror_version = EXCLUDED.mirror_version, archived_from_redis = false
      WHERE chats.mirror_version < EXCLUDED.mirror_version`.execute(trx);
  }

  async function upsertMessage(trx: Kysely<unknown>, chatId: string, message: Row, version: string): Promise<void> {
    const messageId = text(message.message_id);
    if (messageId === null) return;
    const seq = Number(MESSAGE_NUMBER.exec(messageId)?.[1] ?? 0);
    const u = usageColumns(message.usage);
    const extra = Object.fromEntries(Object.entries(message).filter(([field]) => !MESSAGE_COLUMNS.has(field)));
    await sql`
      INSERT INTO messages (message_id, chat_id, seq, role, content, status, model, error, created_at, extra, mirror_version,
                            prompt_tokens, completion_tokens, usage_model, usage_estimated)
      VALUES (${messageId}, ${chatId}, ${seq}, ${text(message.role) ?? 'user'}, ${text(message.content) ?? ''},
              ${text(message.status) ?? 'complete'}, ${text(message.model)}, ${text(message.error)},
              ${time(message.created_at ?? message.timestamp, new Date(0).toISOString())}, ${JSON.stringify(extra)}::jsonb, ${version},
              ${u.prompt_tokens}, ${u.completion_tokens}, ${u.usage_model}, ${u.usage_estimated})
      ON CONFLICT (message_id) DO UPDATE SET
        role = EXCLUDED.role, content = EXCLUDED.content, status = EXCLUDED.status, model = EXCLUDED.model,
        error = EXCLUDED.error, created_at = EXCLUDED.created_at, extra = EXCLUDED.extra, mirror_version = EXCLUDED.mirror_version,
        prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
        usage_model = EXCLUDED.usage_model, usage_estimated = EXCLUDED.usage_estimated
      WHERE messages.mirror_version < EXCLUDED.mirror_version`.execute(trx);
  }

  return {
    /** Applies one entry in its own transaction; an unreadable entry is skipped (logged by the caller). */
    async apply(entry: OutboxEntry): Promise<'applied' | 'unreadable'> {
      const { kind, chat_id: chatId } = entry.fields;
      if (!chatId || (kind !== 'chat' && kind !== 'message' && kind !== 'delete')) return 'unreadable';
      const version = entryVersion(entry.id);
      const meta = parse(entry.fields.meta);
      const message = parse(entry.fields.data);
      if (kind !== 'delete' && meta === null) return 'unreadable';
      if (kind === 'message' && message === null) return 'unreadable';
      await db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext(${chatId}))`.execute(trx);
        if (kind === 'delete') {
          await sql`
            INSERT INTO deleted_chats (chat_id, mirror_version) VALUES (${chatId}, ${version})
            ON CONFLICT (chat_id) DO UPDATE SET mirror_version = GREATEST(deleted_chats.mirror_version, EXCLUDED.mirror_version)`.execute(trx);
          await sql`DELETE FROM chats WHERE chat_id = ${chatId}`.execute(trx);
          return;
        }
        const tombstone = await sql`SELECT 1 FROM deleted_chats WHERE chat_id = ${chatId} AND mirror_version > ${version}`.execute(trx);
        if (tombstone.rows.length > 0) return;
        if (meta) await upsertChat(trx, chatId, meta, version);
        if (kind === 'message' && message) await upsertMessage(trx, chatId, message, version);
      });
      return 'applied';
    },

    async ping(): Promise<void> {
      await sql`SELECT 1`.execute(db);
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;
