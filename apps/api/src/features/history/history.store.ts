/**
 * Writes outbox entries (history.scripts.ts) to PostgreSQL, a batch of them per transaction.
 * Every write is idempotent: rows are upserted by chat_id / message_id and only by an entry newer
 * than the one that last wrote them (`mirror_version`), a deleted chat leaves a tombstone that
 * older entries cannot get past, and a batch takes a per-chat advisory lock on each of its chats
 * so a delete and a late upsert of the same chat applied by two processes at once cannot
 * interleave.
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

type EntryKind = 'chat' | 'message' | 'delete';

/** An outbox entry parsed and checked, ready to be written. */
export type ReadableEntry = { id: string; version: string; kind: EntryKind; chatId: string; meta: Row | null; message: Row | null };

/** The entry parsed, or null when it cannot be written (no chat, unknown kind, broken JSON). */
export function readEntry(entry: OutboxEntry): ReadableEntry | null {
  const { kind, chat_id: chatId } = entry.fields;
  if (!chatId || (kind !== 'chat' && kind !== 'message' && kind !== 'delete')) return null;
  const meta = parse(entry.fields.meta);
  const message = parse(entry.fields.data);
  if (kind !== 'delete' && meta === null) return null;
  if (kind === 'message' && message === null) return null;
  return { id: entry.id, version: entryVersion(entry.id), kind, chatId, meta, message };
}

const isNewer = (version: string, than: string | undefined) => than === undefined || BigInt(version) > BigInt(than);

/**
 * What a batch leaves behind, as if its entries were applied one by one in ID order: per chat
 * the newest delete, the newest metadata and per message the newest text, each with its entry's
 * version. Entries of a chat not newer than its delete in the same batch are dropped (the delete
 * would remove what they wrote). The tombstone check against earlier batches happens in SQL.
 */
function planBatch(entries: ReadableEntry[]) {
  const deletes = new Map<string, string>();
  for (const entry of entries) {
    if (entry.kind === 'delete' && isNewer(entry.version, deletes.get(entry.chatId))) deletes.set(entry.chatId, entry.version);
  }
  const chats = new Map<string, { meta: Row; version: string }>();
  const messages = new Map<string, { chatId: string; message: Row; version: string }>();
  for (const entry of entries) {
    if (entry.kind === 'delete' || entry.meta === null || !isNewer(entry.version, deletes.get(entry.chatId))) continue;
    if (isNewer(entry.version, chats.get(entry.chatId)?.version)) chats.set(entry.chatId, { meta: entry.meta, version: entry.version });
    const messageId = entry.kind === 'message' && entry.message ? text(entry.message.message_id) : null;
    if (entry.message && messageId !== null && isNewer(entry.version, messages.get(messageId)?.version)) {
      messages.set(messageId, { chatId: entry.chatId, message: entry.message, version: entry.version });
    }
  }
  return { deletes, chats, messages };
}

function messageColumns(messageId: string, chatId: string, message: Row, version: string) {
  return {
    message_id: messageId,
    chat_id: chatId,
    seq: Number(MESSAGE_NUMBER.exec(messageId)?.[1] ?? 0),
    role: text(message.role) ?? 'user',
    content: text(message.content) ?? '',
    status: text(message.status) ?? 'complete',
    model: text(message.model),
    error: text(message.error),
    created_at: time(message.created_at ?? message.timestamp, new Date(0).toISOString()),
    extra: Object.fromEntries(Object.entries(message).filter(([field]) => !MESSAGE_COLUMNS.has(field))),
    mirror_version: version,
    ...usageColumns(message.usage),
  };
}

/** `\u0000` in JSON text, unless its backslash is itself escaped (an even run of backslashes before it). */
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * Rows travel as one JSON parameter (jsonb_to_recordset): one statement for the whole batch.
 * PostgreSQL text cannot hold U+0000, which Redis and the API take (a pasted binary, a model's
 * stray byte): it is written as U+FFFD, so such a message is mirrored (and its chat can leave
 * Redis) rather than set aside. JSON.stringify escapes it as `\u0000`, so it is replaced in the
 * encoded text, and only when there is one: a replacer function would take JSON.stringify off its
 * fast path for every batch.
 */
function rowsParameter(rows: object[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\u0000') ? json.replace(ESCAPED_NUL, '$1\\ufffd') : json;
}

export function createHistoryStore(db: Kysely<unknown>) {
  /**
   * Writes entries in one transaction, with one statement per table: the same end state as
   * applying them one by one in ID order, and replaying any of them changes nothing. Every chat
   * of the batch is locked (advisory, in one order, so two processes' batches cannot deadlock).
   */
  async function applyBatch(entries: ReadableEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { deletes, chats, messages } = planBatch(entries);
    const chatIds = [...new Set(entries.map((entry) => entry.chatId))];
    await db.transaction().execute(async (trx) => {
      await sql`
        SELECT pg_advisory_xact_lock(lock_key)
        FROM (SELECT DISTINCT hashtext(chat_id) AS lock_key FROM unnest(${chatIds}::text[]) AS chat_id ORDER BY lock_key) AS locks`.execute(trx);
      if (deletes.size > 0) {
        await sql`
          INSERT INTO deleted_chats (chat_id, mirror_version)
          SELECT chat_id, mirror_version FROM unnest(${[...deletes.keys()]}::text[], ${[...deletes.values()]}::numeric[]) AS d(chat_id, mirror_version)
          ON CONFLICT (chat_id) DO UPDATE SET mirror_version = GREATEST(deleted_chats.mirror_version, EXCLUDED.mirror_version)`.execute(trx);
        await sql`DELETE FROM chats WHERE chat_id = ANY(${[...deletes.keys()]}::text[])`.execute(trx);
      }
      if (chats.size > 0) {
        const rows = [...chats].map(([chatId, { meta, version }]) => ({ ...chatColumns(chatId, meta), metadata: meta, mirror_version: version }));
        await sql`
          INSERT INTO chats (chat_id, user_id, chat_type, project_number, project_name, page_name, chat_name, status, pinned,
                             created_at, updated_at, message_count, last_activity_at, visibility, allowed_users, metadata, mirror_version)
          SELECT v.chat_id, v.user_id, v.chat_type, v.project_number, v.project_name, v.page_name, v.chat_name, v.status, v.pinned,
                 v.created_at, v.updated_at, v.message_count, v.last_activity_at, v.visibility,
                 ARRAY(SELECT jsonb_array_elements_text(v.allowed_users)), v.metadata, v.mirror_version
          FROM jsonb_to_recordset(${rowsParameter(rows)}::jsonb) AS v(
            chat_id text, user_id text, chat_type text, project_number text, project_name text, page_name text, chat_name text,
            status text, pinned boolean, created_at timestamptz, updated_at timestamptz, message_count integer,
            last_activity_at timestamptz, visibility text, allowed_users jsonb, metadata jsonb, mirror_version numeric)
          WHERE NOT EXISTS (SELECT 1 FROM deleted_chats d WHERE d.chat_id = v.chat_id AND d.mirror_version > v.mirror_version)
          ORDER BY v.chat_id
          ON CONFLICT (chat_id) DO UPDATE SET
            user_id = EXCLUDED.user_id, chat_type = EXCLUDED.chat_type, project_number = EXCLUDED.project_number,
            project_name = EXCLUDED.project_name, page_name = EXCLUDED.page_name, chat_name = EXCLUDED.chat_name,
            status = EXCLUDED.status, pinned = EXCLUDED.pinned, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
            message_count = EXCLUDED.message_count, last_activity_at = EXCLUDED.last_activity_at, visibility = EXCLUDED.visibility,
            allowed_users = EXCLUDED.allowed_users, metadata = EXCLUDED.metadata,
            mirror_version = EXCLUDED.mirror_version, archived_from_redis = false
          WHERE chats.mirror_version < EXCLUDED.mirror_version`.execute(trx);
      }
      if (messages.size > 0) {
        const rows = [...messages].map(([messageId, { chatId, message, version }]) => messageColumns(messageId, chatId, message, version));
        await sql`
          INSERT INTO messages (message_id, chat_id, seq, role, content, status, model, error, created_at, extra, mirror_version,
                                prompt_tokens, completion_tokens, usage_model, usage_estimated)
          SELECT v.message_id, v.chat_id, v.seq, v.role, v.content, v.status, v.model, v.error, v.created_at, v.extra, v.mirror_version,
                 v.prompt_tokens, v.completion_tokens, v.usage_model, v.usage_estimated
          FROM jsonb_to_recordset(${rowsParameter(rows)}::jsonb) AS v(
            message_id text, chat_id text, seq integer, role text, content text, status text, model text, error text,
            created_at timestamptz, extra jsonb, mirror_version numeric, prompt_tokens integer, completion_tokens integer,
            usage_model text, usage_estimated boolean)
          WHERE NOT EXISTS (SELECT 1 FROM deleted_chats d WHERE d.chat_id = v.chat_id AND d.mirror_version > v.mirror_version)
          ORDER BY v.message_id
          ON CONFLICT (message_id) DO UPDATE SET
            role = EXCLUDED.role, content = EXCLUDED.content, status = EXCLUDED.status, model = EXCLUDED.model,
            error = EXCLUDED.error, created_at = EXCLUDED.created_at, extra = EXCLUDED.extra, mirror_version = EXCLUDED.mirror_version,
            prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
            usage_model = EXCLUDED.usage_model, usage_estimated = EXCLUDED.usage_estimated
          WHERE messages.mirror_version < EXCLUDED.mirror_version`.execute(trx);
      }
    });
  }

  return {
    applyBatch,

    /** Applies one entry in its own transaction; an unreadable entry is skipped (logged by the caller). */
    async apply(entry: OutboxEntry): Promise<'applied' | 'unreadable'> {
      const readable = readEntry(entry);
      if (readable === null) return 'unreadable';
      await applyBatch([readable]);
      return 'applied';
    },

    async ping(): Promise<void> {
      await sql`SELECT 1`.execute(db);
    },
  };
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;
