import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The route label of a request no route of the table matched: one value for every unknown
 * path, so a scan of random URLs cannot grow the label set.
 */
export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds. A Redis command or TPMS query: sub-millisecond to the 1 s / 4 s deadlines. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds. A request: milliseconds for JSON, up to minutes for a streamed reply. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Seconds. A model's first token and a whole reply. */
const MODEL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300];

/**
 * Every metric the API exports, on a registry of its own (not prom-client's global one), so
 * each deps (a process, or a test file that builds several apps) counts on its own. Label
 * values come from closed sets only: route templates of the table, statuses, error codes, chat
 * types, Redis client names. Never a user, chat or project.
 */
export type MetricsSources = {
  /** The history outbox: its length and the age of its oldest entry, read at each scrape. */
  historyBacklog?: () => Promise<{ backlog: number; lagMs: number }>;
};

export function createMetrics(sources: MetricsSources = {}) {
  const { historyBacklog } = sources;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'simorgh_http_requests_total',
      help: 'HTTP requests answered, by method, route template of the route table (or "unmatched") and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'simorgh_http_request_duration_seconds',
      help: 'From the request to the end of its response (the end of the stream for replies)',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    repliesRunning: new Gauge({ name: 'simorgh_replies_running', help: 'Replies this process is writing now', registers }),
    firstToken: new Histogram({
      name: 'simorgh_reply_first_token_seconds',
      help: 'From asking the model to the first piece of the reply',
      buckets: MODEL_BUCKETS,
      registers,
    }),
    replyDuration: new Histogram({
      name: 'simorgh_reply_duration_seconds',
      help: 'From asking the model to the reply saved, by how it ended (complete, stopped, error)',
      labelNames: ['status'] as const,
      buckets: MODEL_BUCKETS,
      registers,
    }),
    modelErrors: new Counter({
      name: 'simorgh_model_errors_total',
      help: 'Replies the model failed, by kind (the error code the user saw); title failures are simorgh_title_errors_total',
      labelNames: ['kind'] as const,
      registers,
    }),
    earlyModelRequests: new Counter({
      name: 'simorgh_early_model_requests_total',
      help: 'Model requests sent while a reply was being admitted, by outcome: used (the admitted history confirmed them) or aborted (refused, or the history differed)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    titleErrors: new Counter({
      name: 'simorgh_title_errors_total',
      help: 'Title requests the model failed (the chat got a title from its first words), by kind; never counted as model errors of replies',
      labelNames: ['kind'] as const,
      registers,
    }),
    tpmsQuery: new Histogram({
      name: 'simorgh_tpms_query_duration_seconds',
      help: 'TPMS (MariaDB) lookups, waiting for a pooled connection included, by outcome',
      labelNames: ['outcome'] as const,
      buckets: STORE_BUCKETS,
      registers,
    }),
    redisCommand: new Histogram({
      name: 'simorgh_redis_command_duration_seconds',
      help: 'Redis commands (scripts included), by client: counters, chat, cache',
      labelNames: ['client'] as const,
      buckets: STORE_BUCKETS,
      registers,
    }),
    postgresQuery: new Histogram({
      name: 'simorgh_postgres_query_duration_seconds',
      help: 'PostgreSQL statements of the history (the mirror, health checks), failures included',
      buckets: STORE_BUCKETS,
      registers,
    }),
    historyLag: new Gauge({
      name: 'simorgh_history_mirror_lag_seconds',
      help: 'Age of the oldest change not yet in PostgreSQL (0 when the mirror has caught up); unchanged while Redis does not answer',
      registers,
      async collect() {
        const read = await historyBacklog?.().catch(() => null);
        if (read) this.set(read.lagMs / 1000);
      },
    }),
    historyBacklog: new Gauge({
      name: 'simorgh_history_outbox_backlog',
      help: 'Changes waiting in the outbox for the mirror to PostgreSQL',
      registers,
      async collect() {
        const read = await historyBacklog?.().catch(() => null);
        if (read) this.set(read.backlog);
      },
    }),
    chatsCreated: new Counter({
      name: 'simorgh_chats_created_total',
      help: 'Chats created, by type (general, project)',
      labelNames: ['type'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Seconds since `start` (a `process.hrtime.bigint()`). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
