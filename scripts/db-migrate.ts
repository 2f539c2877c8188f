/**
 * `pnpm db:migrate`: brings the history schema in DATABASE_URL up to date, as the API does at
 * start-up (both under the migrator's advisory lock, so running it beside live API processes
 * is safe).
 */
import { EnvSchema } from '@simorgh/api/env';
import { migrateHistory } from '@simorgh/api/history-migrations';
import { createHistoryDb } from '@simorgh/api/postgres';

const parsed = EnvSchema.shape.DATABASE_URL.safeParse(process.env.DATABASE_URL ?? '');
if (!parsed.success) {
  process.stderr.write(`Invalid configuration: DATABASE_URL ${parsed.error.issues[0]?.message ?? 'is invalid'}\n`);
  process.exit(1);
}
const { db } = createHistoryDb({ DATABASE_URL: parsed.data, DATABASE_POOL_SIZE: 1 });
try {
  const applied = await migrateHistory(db);
  process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'the history schema is up to date\n');
} catch (error) {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
