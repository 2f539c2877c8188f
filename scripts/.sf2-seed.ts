import { startPostgres } from '@simorgh/devstack';
import { createHistoryDb } from '@simorgh/api/postgres';
import { migrateHistory } from '@simorgh/api/history-migrations';
import { seedSearchCorpus } from './bench/search-corpus.js';
import { existsSync } from 'node:fs';

const fresh = !existsSync('/tmp/sf2/pg/PG_VERSION');
const pg = await startPostgres({ dataDir: '/tmp/sf2/pg', port: 55432 });
console.log('url', pg.url());
if (fresh || process.env.SEED === '1') {
  const h = createHistoryDb({ DATABASE_URL: pg.url(), DATABASE_POOL_SIZE: 1 });
  console.log(await migrateHistory(h.db));
  await h.db.destroy();
  console.log(await seedSearchCorpus(pg.url(), Number(process.env.N ?? 1_000_000)));
}
console.log('ready');
process.on('SIGTERM', async () => { await pg.stop(); process.exit(0); });
process.on('SIGINT', async () => { await pg.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
