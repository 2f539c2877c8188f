/**
 * The PostgreSQL schema of the history, as Kysely migrations kept in code (they ship inside the
 * compiled API, no migration folder to copy). Kysely's Migrator runs them in one transaction
 * under a PostgreSQL advisory lock, so API replicas starting at once apply each one once.
 * Never edit a migration that has shipped: add the next one.
 */
import { Migrator, sql, type Kysely, type Migration } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_history': {
    async up(db) {
      // `mirror_version`: the outbox entry ID (ms * 1e10 + seq) that last wrote the row; an older
      // entry replayed or applied late never overwrites a newer one.
      await sql`
        CREATE TABLE chats (
          chat_id text PRIMARY KEY,
          user_id text NOT NULL,
          chat_type text NOT NULL,
          project_number text,
          project_name text,
          page_name text,
          chat_name text NOT NULL,
          status text NOT NULL,
          pinned boolean NOT NULL DEFAULT false,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          message_count integer NOT NULL DEFAULT 0,
          last_activity_at timestamptz NOT NULL,
          archived_from_redis boolean NOT NULL DEFAULT false,
          visibility text NOT NULL DEFAULT 'private',
          metadata jsonb NOT NULL,
          mirror_version numeric(30, 0) NOT NULL
        )`.execute(db);
      // A user's list: pinned first, newest first (the order of GET /api/chats).
      await sql`CREATE INDEX chats_user_list ON chats (user_id, pinned DESC, created_at DESC, chat_id DESC)`.execute(db);
      // The archive job: chats idle longest first.
      await sql`CREATE INDEX chats_last_activity ON chats (last_activity_at)`.execute(db);
      await sql`
        CREATE TABLE messages (
          message_id text PRIMARY KEY,
          chat_id text NOT NULL REFERENCES chats (chat_id) ON DELETE CASCADE,
          seq integer NOT NULL,
          role text NOT NULL,
          content text NOT NULL,
          status text NOT NULL,
          model text,
          error text,
          created_at timestamptz NOT NULL,
          mirror_version numeric(30, 0) NOT NULL
        )`.execute(db);
      await sql`CREATE INDEX messages_chat_seq ON messages (chat_id, seq)`.execute(db);
      // A deleted chat stays deleted: an entry about it replayed later must not bring it back.
      await sql`
        CREATE TABLE deleted_chats (
          chat_id text PRIMARY KEY,
          mirror_version numeric(30, 0) NOT NULL,
          deleted_at timestamptz NOT NULL DEFAULT now()
        )`.execute(db);
    },
    async down(db) {
      await sql`DROP TABLE deleted_chats, messages, chats`.execute(db);
    },
  },
  '0004_usage': {
    async up(db) {
      // A reply's token usage (null on user messages and on replies saved before usage was kept).
      await sql`
        ALTER TABLE messages
          ADD COLUMN prompt_tokens integer,
          ADD COLUMN completion_tokens integer,
          ADD COLUMN usage_model text,
          ADD COLUMN usage_estimated boolean`.execute(db);
      // GET /api/admin/usage: the replies of a date range, read from the index alone but for the
      // chat's owner and project (joined by primary key).
      await sql`
        CREATE INDEX messages_usage_created ON messages (created_at)
          INCLUDE (chat_id, prompt_tokens, completion_tokens) WHERE role = 'assistant'`.execute(db);
    },
    async down(db) {
      await sql`DROP INDEX messages_usage_created`.execute(db);
      await sql`
        ALTER TABLE messages DROP COLUMN prompt_tokens, DROP COLUMN completion_tokens, DROP COLUMN usage_model,
          DROP COLUMN usage_estimated`.execute(db);
    },
  },
};

/** Every migration's name, sorted. */
export const HISTORY_MIGRATIONS: readonly string[] = Object.keys(migrations).sort();

/** Brings the schema up to date; safe to call from several processes at once. */
export async function migrateHistory(db: Kysely<unknown>): Promise<string[]> {
  // Unordered: migrations written side by side may land in either order; each still runs once.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
