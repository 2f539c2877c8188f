/**
 * Copies the outbox (history.scripts.ts) to PostgreSQL. Every API process runs one mirror, in a
 * worker thread (mirror-worker.ts); all of them read the stream as one consumer group, so each entry goes to one process. Whatever one
 * read returns (up to 500 entries) is written in one transaction (history.store.ts), and deleted
 * from the stream only once PostgreSQL holds it (XACK and XDEL in one MULTI); until then it stays
 * pending with its consumer. A process that dies leaves its pending entries behind: any other
 * mirror claims those idle longer than `claimIdleMs` (XAUTOCLAIM) and finishes them. While
 * PostgreSQL is down nothing is acknowledged: the backlog waits in Redis and the mirror retries
 * with a growing pause, then drains it by itself. An entry PostgreSQL refuses for its data holds
 * nothing back: its batch is written again entry by entry and that one is set aside. With replica
 * acks required (REDIS_MIN_REPLICA_ACKS), entries are copied only once the replicas hold them.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { replicaAcksOf, type Env } from '../../env.js';
import type { Logger } from '../../logger.js';
import { createBlockingClient, redisTargetOf, requireReplicaAcks, waitForReplicas, type RedisClient } from '../../redis.js';
import { OUTBOX_KEY, SET_ASIDE_KEY, SET_ASIDE_MAX } from './history.scripts.js';
import { migrateHistory } from './history.migrations.js';
import { createHistoryStore, readEntry, type OutboxEntry, type ReadableEntry } from './history.store.js';

export const MIRROR_GROUP = 'history-mirror';
/** A blocking read waits this long for new entries; the outbox client's deadline must exceed it. */
export const MIRROR_BLOCK_MS = 1000;
/** Entries per read, and so per transaction: one commit (one fsync) for up to this many changes. */
const BATCH = 500;
/** A read holding more entry text than this is written in several transactions. */
const MAX_BATCH_CHARS = 8_000_000;
const MAX_BACKOFF_MS = 5000;
/**
 * After a read that was not full, the mirror waits this long before the next one, so under a
 * steady stream of changes it writes them in batches of a tenth of a second's worth rather than a
 * transaction for every few: far less CPU per change, taken from the same cores as the requests
 * (docs/decisions/history-store.md). It adds at most this much to the lag.
 */
export const MIRROR_PACE_MS = 100;

export type HistoryMirror = {
  /** This process's consumer name in the group. */
  consumer: string;
  /** Resolves once the schema is migrated (the mirror retries until it is). */
  migrated: Promise<void>;
  stop(): Promise<void>;
};

export type MirrorOptions = {
  /** A connection of its own: XREADGROUP blocks it. */
  redis: RedisClient;
  db: Kysely<unknown>;
  logger: Logger;
  /** Pending entries idle this long are taken over from their consumer. */
  claimIdleMs: number;
};

/**
 * The mirror's Redis connection (chat DB), of its own since its XREADGROUP blocks. With replica
 * acks required it copies to PostgreSQL only what the replicas hold: a chat lost in a failover must
 * not live on in the history, where its ID, handed out again, would meet another chat.
 */
export function createOutboxClient(env: Env, logger: Logger): RedisClient {
  const client = createBlockingClient(redisTargetOf(env), env.REDIS_CHAT_DB, logger, 'outbox', MIRROR_BLOCK_MS);
  requireReplicaAcks(client, { replicas: replicaAcksOf(env), timeoutMs: env.REDIS_WAIT_TIMEOUT_MS });
  return client;
}

type RawEntry = [string, string[] | null] | null;

/** An entry deleted meanwhile comes back without fields: it only needs acknowledging. */
type ReadEntry = OutboxEntry | { id: string; fields: null };

/** PostgreSQL refused the values themselves (SQLSTATE class 22 data, 23 integrity, 54 limits): no retry can help. */
function isRefusedData(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}

/** Consecutive runs of entries holding at most MAX_BATCH_CHARS of text each (at least one entry). */
function bySize(entries: Array<{ readable: ReadableEntry; chars: number }>): ReadableEntry[][] {
  const batches: ReadableEntry[][] = [];
  let current: ReadableEntry[] = [];
  let chars = 0;
  for (const entry of entries) {
    if (current.length > 0 && chars + entry.chars > MAX_BATCH_CHARS) {
      batches.push(current);
      current = [];
      chars = 0;
    }
    current.push(entry.readable);
    chars += entry.chars;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toEntries(raw: RawEntry[]): ReadEntry[] {
  return raw.flatMap((entry): ReadEntry[] => {
    if (!Array.isArray(entry)) return [];
    const [id, flat] = entry;
    if (!Array.isArray(flat)) return [{ id, fields: null }];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    return [{ id: String(id), fields }];
  });
}

export function startHistoryMirror(options: MirrorOptions): HistoryMirror {
  const { redis, logger } = options;
  const store = createHistoryStore(options.db);
  const consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  let groupReady = false;
  let nextClaimAt = 0;
  let lastWarning = 0;
  let markMigrated: () => void = () => undefined;
  const migrated = new Promise<void>((resolve) => {
    markMigrated = resolve;
  });
  let isMigrated = false;

  const read = async (id: '0' | '>', block: boolean): Promise<ReadEntry[]> => {
    const reply = (await redis.sendCommand([
      'XREADGROUP', 'GROUP', MIRROR_GROUP, consumer, 'COUNT', String(BATCH),
      ...(block ? ['BLOCK', String(MIRROR_BLOCK_MS)] : []),
      'STREAMS', OUTBOX_KEY, id,
    ])) as Array<[string, RawEntry[]]> | null;
    return reply?.[0] ? toEntries(reply[0][1]) : [];
  };

  const claim = async (): Promise<ReadEntry[]> => {
    const reply = (await redis.sendCommand([
      'XAUTOCLAIM', OUTBOX_KEY, MIRROR_GROUP, consumer, String(options.claimIdleMs), '0-0', 'COUNT', String(BATCH),
    ])) as [string, RawEntry[], string[]?];
    return toEntries(reply[1]);
  };

  const ensureGroup = async () => {
    try {
      // From the start of the stream: entries written before any mirror ran are mirrored too.
      await redis.sendCommand(['XGROUP', 'CREATE', OUTBOX_KEY, MIRROR_GROUP, '0', 'MKSTREAM']);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
    groupReady = true;
  };

  const warn = (error: unknown, what: string) => {
    const now = Date.now();
    if (now - lastWarning < 10_000) return;
    lastWarning = now;
    logger.warn({ err: { message: (error as Error)?.message ?? String(error), name: (error as Error)?.name } }, what);
  };

  /**
   * Writes the entries to PostgreSQL, then acknowledges and deletes them all. A batch PostgreSQL
   * refuses for its data is written again one entry at a time, and only the refused entries are
   * set aside; any other failure (PostgreSQL down) throws, leaving every entry pending.
   */
  const mirror = async (entries: ReadEntry[]) => {
    const setAside: Array<{ entry: OutboxEntry; reason: string }> = [];
    const readable: Array<{ readable: ReadableEntry; chars: number }> = [];
    const byId = new Map<string, OutboxEntry>();
    for (const entry of entries) {
      if (entry.fields === null) continue;
      const parsed = readEntry(entry);
      if (parsed === null) setAside.push({ entry, reason: 'unreadable' });
      else readable.push({ readable: parsed, chars: (entry.fields.meta?.length ?? 0) + (entry.fields.data?.length ?? 0) });
      byId.set(entry.id, entry);
    }
    for (const batch of bySize(readable)) {
      try {
        await store.applyBatch(batch);
      } catch (error) {
        if (!isRefusedData(error)) throw error;
        for (const entry of batch) {
          try {
            await store.applyBatch([entry]);
          } catch (entryError) {
            if (!isRefusedData(entryError)) throw entryError;
            const { code, message } = entryError as { code: string; message: string };
            setAside.push({ entry: byId.get(entry.id) ?? { id: entry.id, fields: {} }, reason: `${code}: ${message}`.slice(0, 300) });
          }
        }
      }
    }
    const ids = entries.map((entry) => entry.id);
    // Together: an entry acknowledged but left in the stream would never be read again yet count
    // as backlog forever. MULTI rather than a script: no EVALSHA for tests counting them.
    const multi = redis.multi();
    for (const { entry, reason } of setAside) {
      logger.error({ entry: entry.id, chat_id: entry.fields.chat_id, reason }, 'history outbox entry set aside: PostgreSQL cannot hold it');
      multi.xAdd(SET_ASIDE_KEY, '*', { ...entry.fields, entry_id: entry.id, reason }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: SET_ASIDE_MAX } });
    }
    await multi.xAck(OUTBOX_KEY, MIRROR_GROUP, ids).xDel(OUTBOX_KEY, ids).exec();
  };

  const loop = async () => {
    let backoff = 100;
    while (!stopped) {
      try {
        if (!isMigrated) {
          const applied = await migrateHistory(options.db);
          if (applied.length > 0) logger.info({ migrations: applied }, 'history schema migrated');
          isMigrated = true;
          markMigrated();
        }
        if (!groupReady) await ensureGroup();
        // Our own pending entries first (left by a failed attempt), then other consumers' idle ones, then new ones.
        let entries = await read('0', false);
        if (entries.length === 0 && Date.now() >= nextClaimAt) {
          entries = await claim();
          nextClaimAt = Date.now() + Math.max(100, Math.floor(options.claimIdleMs / 2));
        }
        if (entries.length === 0) entries = await read('>', true);
        // Reading the group propagates to the replicas after the entries themselves, so this
        // WAIT (when replica acks are required) means the replicas hold every entry read.
        if (entries.length > 0) await waitForReplicas(redis);
        if (stopped) return;
        // Nothing queued (a blocking read that timed out): read again at once, not as a failure.
        if (entries.length === 0) continue;
        await mirror(entries);
        backoff = 100;
        if (entries.length < BATCH && !stopped) await sleep(MIRROR_PACE_MS);
      } catch (error) {
        if (stopped) return;
        if (error instanceof Error && error.message.startsWith('NOGROUP')) groupReady = false;
        warn(error, 'history mirror: PostgreSQL or Redis unavailable; the outbox waits and is retried');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  };
  const running = loop();

  return {
    consumer,
    migrated,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
