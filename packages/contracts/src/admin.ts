import { z } from 'zod';
import { ProjectNumberSchema } from './projects.js';

export const InvalidateTpmsCacheRequestSchema = z
  .object({ project_number: ProjectNumberSchema.optional(), user_id: z.string().trim().min(1).max(150).optional() })
  .refine((body) => body.project_number !== undefined || body.user_id !== undefined, {
    message: 'Send project_number, user_id or both',
  });
export type InvalidateTpmsCacheRequest = z.input<typeof InvalidateTpmsCacheRequestSchema>;

export const InvalidateTpmsCacheResponseSchema = z.object({
  status: z.literal('success'),
  removed: z.number().int().nonnegative(),
});
export type InvalidateTpmsCacheResponse = z.infer<typeof InvalidateTpmsCacheResponseSchema>;

/** The longest range GET /api/admin/usage sums over, in days (a leap year). */
export const USAGE_MAX_DAYS = 366;
export const USAGE_ROWS_DEFAULT = 100;
export const USAGE_ROWS_MAX = 1000;

const DAY_MS = 86_400_000;

/** A calendar date `YYYY-MM-DD` that exists (UTC). */
export const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date as YYYY-MM-DD')
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
  }, 'No such date');

/** Days from `from` to `to`, both counted (UTC dates). */
export const daysInRange = (from: string, to: string): number => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;

export const UsageGroupBySchema = z.enum(['user', 'project', 'day']);
export type UsageGroupBy = z.infer<typeof UsageGroupBySchema>;

/**
 * Token usage of the replies written from `from` to `to` (both included, UTC days), by user,
 * project or day. `limit` bounds the user and project rows (the largest first); day rows are one
 * per day of the range.
 */
export const UsageQuerySchema = z
  .object({
    from: IsoDateSchema,
    to: IsoDateSchema,
    group_by: UsageGroupBySchema,
    limit: z.coerce.number().int().min(1).max(USAGE_ROWS_MAX).default(USAGE_ROWS_DEFAULT),
  })
  .refine((query) => query.from <= query.to, { message: 'from must be on or before to', path: ['from'] })
  .refine((query) => query.from > query.to || daysInRange(query.from, query.to) <= USAGE_MAX_DAYS, {
    message: `The range may span at most ${USAGE_MAX_DAYS} days`,
    path: ['to'],
  });
export type UsageQuery = z.input<typeof UsageQuerySchema>;

/**
 * `key`: the user ID, the project number or the day (YYYY-MM-DD). `chats`: chats with a reply
 * in the range; `messages`: replies (assistant messages) in the range; tokens summed over them.
 */
export const UsageRowSchema = z.object({
  key: z.string(),
  chats: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

export const UsageResponseSchema = z.object({ rows: z.array(UsageRowSchema) });
export type UsageResponse = z.infer<typeof UsageResponseSchema>;

/** `idle_days`: move chats idle longer than this many days (default ARCHIVE_AFTER_DAYS; 0: every chat without a reply being written). */
export const ArchiveRunRequestSchema = z.object({ idle_days: z.number().int().min(0).max(36_500).optional() }).strict();
export type ArchiveRunRequest = z.input<typeof ArchiveRunRequestSchema>;

/** Chats moved out of Redis, and chats deleted by RETENTION_DAYS, by the pass. */
export const ArchiveRunResponseSchema = z.object({
  archived: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
});
export type ArchiveRunResponse = z.infer<typeof ArchiveRunResponseSchema>;
