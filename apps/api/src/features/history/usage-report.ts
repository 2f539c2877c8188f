/**
 * GET /api/admin/usage from PostgreSQL: the replies (assistant messages) written in a range of
 * UTC days, summed by the chat's owner, its project or the day. It reads the mirror, so it lags
 * Redis by the mirror's lag, and a deleted chat's replies are no longer counted (their rows go
 * with the chat).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { UsageGroupBy, UsageRow } from '@simorgh/contracts';

const DAY_MS = 86_400_000;

export type UsageReportQuery = { from: string; to: string; groupBy: UsageGroupBy; limit: number };

type Counts = { key: string; chats: number | string; messages: number | string; prompt_tokens: number | string; completion_tokens: number | string };

/** Sums come back as bigint (a decimal string in node-postgres). */
const toRow = (row: Counts): UsageRow => ({
  key: row.key,
  chats: Number(row.chats),
  messages: Number(row.messages),
  prompt_tokens: Number(row.prompt_tokens),
  completion_tokens: Number(row.completion_tokens),
});

export async function queryUsage(db: Kysely<unknown>, query: UsageReportQuery): Promise<UsageRow[]> {
  const start = new Date(`${query.from}T00:00:00Z`);
  const end = new Date(Date.parse(`${query.to}T00:00:00Z`) + DAY_MS);
  const replies = sql`m.role = 'assistant' AND m.created_at >= ${start} AND m.created_at < ${end}`;
  const sums = sql`count(DISTINCT m.chat_id) AS chats, count(*) AS messages,
    coalesce(sum(m.prompt_tokens), 0) AS prompt_tokens, coalesce(sum(m.completion_tokens), 0) AS completion_tokens`;
  let statement: RawBuilder<Counts>;
  if (query.groupBy === 'day') {
    // Every day of the range, with zeros where nothing was written (a chart's x axis).
    statement = sql<Counts>`
      SELECT to_char(d.day, 'YYYY-MM-DD') AS key, coalesce(u.chats, 0) AS chats, coalesce(u.messages, 0) AS messages,
             coalesce(u.prompt_tokens, 0) AS prompt_tokens, coalesce(u.completion_tokens, 0) AS completion_tokens
      FROM generate_series(${query.from}::date, ${query.to}::date, interval '1 day') AS d(day)
      LEFT JOIN (
        SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, ${sums}
        FROM messages m WHERE ${replies} GROUP BY 1
      ) u ON u.day = d.day::date
      ORDER BY d.day`;
  } else {
    const key = query.groupBy === 'user' ? sql`c.user_id` : sql`c.project_number`;
    // General chats belong to no project: the project view leaves them out.
    const scope = query.groupBy === 'project' ? sql`AND c.project_number IS NOT NULL` : sql``;
    statement = sql<Counts>`
      SELECT ${key} AS key, ${sums}
      FROM messages m JOIN chats c ON c.chat_id = m.chat_id
      WHERE ${replies} ${scope}
      GROUP BY 1
      ORDER BY sum(coalesce(m.prompt_tokens, 0) + coalesce(m.completion_tokens, 0)) DESC, count(*) DESC, 1
      LIMIT ${query.limit}`;
  }
  return (await statement.execute(db)).rows.map(toRow);
}

/**
 * True when PostgreSQL could not answer (down, unreachable, out of connections, shutting down or
 * too slow), as opposed to a statement it refused: errors without an SQLSTATE come from the
 * connection, and classes 08, 53 and 57 are connection, resources and operator intervention.
 */
export function isHistoryUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof TypeError || error instanceof RangeError) return false;
  const code = (error as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
  return sqlState === null || /^(08|53|57)/.test(sqlState);
}
