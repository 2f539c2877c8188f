/**
 * What the archive reads from and writes to PostgreSQL: the chats a pass may move or delete,
 * the rows a moved chat is served and brought back from, and the highest session number ever
 * issued per counter (start-up reconciliation). The rows themselves are written by the mirror
 * (history.store.ts) only; the archive changes nothing but the `archived_from_redis` flag.
 */
import { sql, type Kysely } from 'kysely';

/** A chat PostgreSQL holds, as the move script checks it against Redis. */
export type MoveCandidate = { chatId: string; userId: string; version: string; messages: number; lastActivity: Date };
export type RetentionCandidate = { chatId: string; userId: string; lastActivity: Date; createdMs: number };
/** Where a walk in (last activity, chat ID) order stopped. */
export type WalkPosition = { lastActivity: Date; chatId: string };

/** A message row, as the API shows it: columns first, then the fields kept in `extra`. */
export type StoredMessage = Record<string, unknown> & { message_id: string };

type MessageRow = {
  message_id: string;
  role: string;
  content: string;
  created_at: Date;
  status: string;
  model: string | null;
  error: string | null;
  extra: Record<string, unknown> | null;
};

const MESSAGE_FIELDS = sql`message_id, role, content, created_at, status, model, error, extra`;

function toMessage(row: MessageRow): StoredMessage {
  return {
    message_id: row.message_id,
    role: row.role,
    content: row.content,
    created_at: row.created_at.toISOString(),
    status: row.status,
    ...(row.model === null ? {} : { model: row.model }),
    ...(row.error === null ? {} : { error: row.error }),
    ...row.extra,
  };
}

const EPOCH = new Date(0);

export function createArchiveStore(db: Kysely<unknown>) {
  return {
    /** Chats still in Redis idle since before `cutoff`, idlest first, after `after`. */
    async moveCandidates(cutoff: Date, after: WalkPosition | null, limit: number): Promise<MoveCandidate[]> {
      const from = after ?? { lastActivity: EPOCH, chatId: '' };
      const { rows } = await sql<{ chat_id: string; user_id: string; version: string; messages: number; last_activity_at: Date }>`
        SELECT c.chat_id, c.user_id, c.mirror_version::text AS version, c.last_activity_at,
               (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id)::int AS messages
        FROM chats c
        WHERE NOT c.archived_from_redis AND c.last_activity_at < ${cutoff}
          AND (c.last_activity_at, c.chat_id) > (${from.lastActivity}, ${from.chatId})
        ORDER BY c.last_activity_at, c.chat_id
        LIMIT ${limit}`.execute(db);
      return rows.map((row) => ({ chatId: row.chat_id, userId: row.user_id, version: row.version, messages: row.messages, lastActivity: row.last_activity_at }));
    },

    /** Flags chats as moved, each only while its row is still at the version that was moved. */
    async markMoved(moved: Array<{ chatId: string; version: string }>): Promise<void> {
      if (moved.length === 0) return;
      await sql`
        UPDATE chats SET archived_from_redis = true
        FROM (SELECT unnest(${moved.map((chat) => chat.chatId)}::text[]) AS chat_id, unnest(${moved.map((chat) => chat.version)}::numeric[]) AS version) AS done
        WHERE chats.chat_id = done.chat_id AND chats.mirror_version = done.version`.execute(db);
    },

    /** Chats idle since before `cutoff` (in Redis or moved), idlest first, after `after`. */
    async retentionCandidates(cutoff: Date, after: WalkPosition | null, limit: number): Promise<RetentionCandidate[]> {
      const from = after ?? { lastActivity: EPOCH, chatId: '' };
      const { rows } = await sql<{ chat_id: string; user_id: string; last_activity_at: Date; created_at: Date }>`
        SELECT chat_id, user_id, last_activity_at, created_at FROM chats
        WHERE last_activity_at < ${cutoff} AND (last_activity_at, chat_id) > (${from.lastActivity}, ${from.chatId})
        ORDER BY last_activity_at, chat_id
        LIMIT ${limit}`.execute(db);
      return rows.map((row) => ({ chatId: row.chat_id, userId: row.user_id, lastActivity: row.last_activity_at, createdMs: row.created_at.getTime() }));
    },

    /** Chats moved out of Redis, in chat ID order after `afterId`, with their owners. */
    async movedChats(afterId: string, limit: number): Promise<Array<{ chatId: string; userId: string }>> {
      const { rows } = await sql<{ chat_id: string; user_id: string }>`
        SELECT chat_id, user_id FROM chats WHERE archived_from_redis AND chat_id > ${afterId} ORDER BY chat_id LIMIT ${limit}`.execute(db);
      return rows.map((row) => ({ chatId: row.chat_id, userId: row.user_id }));
    },

    /** How many messages PostgreSQL holds per chat (absent: not mirrored at all). */
    async mirroredMessageCounts(chatIds: string[]): Promise<Map<string, number>> {
      if (chatIds.length === 0) return new Map();
      const { rows } = await sql<{ chat_id: string; messages: number }>`
        SELECT c.chat_id, (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id)::int AS messages
        FROM chats c WHERE c.chat_id = ANY(${chatIds}::text[])`.execute(db);
      return new Map(rows.map((row) => [row.chat_id, row.messages]));
    },

    /** The stored metadata texts of the chats PostgreSQL holds among `chatIds`, each with its row's version. */
    async metadataTexts(chatIds: string[]): Promise<Map<string, { metadata: string; version: string }>> {
      if (chatIds.length === 0) return new Map();
      const { rows } = await sql<{ chat_id: string; metadata: string; version: string }>`
        SELECT chat_id, metadata::text AS metadata, mirror_version::text AS version FROM chats WHERE chat_id = ANY(${chatIds}::text[])`.execute(db);
      return new Map(rows.map((row) => [row.chat_id, { metadata: row.metadata, version: row.version }]));
    },

    /**
     * Everything a chat is brought back from, read in one snapshot: its metadata, owner and
     * creation time, the version of its last mirrored change, and all its messages oldest
     * first. Null when not held.
     */
    async wholeChat(chatId: string): Promise<{ metadata: string; version: string; userId: string; createdMs: number; messages: StoredMessage[] } | null> {
      return db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const chat = await sql<{ metadata: string; version: string; user_id: string; created_at: Date }>`
            SELECT metadata::text AS metadata, mirror_version::text AS version, user_id, created_at FROM chats WHERE chat_id = ${chatId}`.execute(trx);
          const row = chat.rows[0];
          if (!row) return null;
          const messages = await sql<MessageRow>`SELECT ${MESSAGE_FIELDS} FROM messages WHERE chat_id = ${chatId} ORDER BY seq, message_id`.execute(trx);
          return { metadata: row.metadata, version: row.version, userId: row.user_id, createdMs: row.created_at.getTime(), messages: messages.rows.map(toMessage) };
        });
    },

    /**
     * The newest `limit` messages numbered below `beforeSeq` (all when null), oldest first, and
     * whether older ones remain; 'unknown' when `before` is not a message of the chat.
     */
    async messagesPage(
      chatId: string,
      limit: number,
      before: { id: string; seq: number } | null,
    ): Promise<{ messages: StoredMessage[]; more: boolean } | 'unknown'> {
      if (before) {
        const known = await sql`SELECT 1 FROM messages WHERE chat_id = ${chatId} AND message_id = ${before.id}`.execute(db);
        if (known.rows.length === 0) return 'unknown';
      }
      const { rows } = await sql<MessageRow>`
        SELECT ${MESSAGE_FIELDS} FROM messages
        WHERE chat_id = ${chatId} AND (${before?.seq ?? null}::int IS NULL OR seq < ${before?.seq ?? null}::int)
        ORDER BY seq DESC, message_id DESC
        LIMIT ${limit + 1}`.execute(db);
      const more = rows.length > limit;
      return { messages: rows.slice(0, limit).reverse().map(toMessage), more };
    },

    /**
     * Every session ID PostgreSQL knows (chats it holds and chats deleted), as its highest
     * number per ID prefix (`G-202611`, `P-10234`). Legacy UUIDs have no counter.
     */
    async highestSessionNumbers(): Promise<Array<{ prefix: string; seq: number }>> {
      const { rows } = await sql<{ prefix: string; seq: string }>`
        SELECT substring(chat_id FROM '^(.*)-[0-9]+$') AS prefix, max(substring(chat_id FROM '-([0-9]+)$')::bigint)::text AS seq
        FROM (SELECT chat_id FROM chats UNION ALL SELECT chat_id FROM deleted_chats) AS ids
        WHERE chat_id ~ '^[GP]-.*-[0-9]+$'
        GROUP BY 1`.execute(db);
      return rows.map((row) => ({ prefix: row.prefix, seq: Number(row.seq) }));
    },
  };
}

export type ArchiveStore = ReturnType<typeof createArchiveStore>;
