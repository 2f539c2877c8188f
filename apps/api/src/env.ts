import { z } from 'zod';

const DEFAULT_SYSTEM_PROMPT = [
  'You are Simorgh, an assistant for engineers at an industrial engineering company.',
  'Answer precisely and practically: cite units, standards (ASME, API, IEC, ISO) and assumptions,',
  'show calculations step by step, and say plainly when information is missing or uncertain.',
  'Safety comes first: flag hazards and never guess at safety-critical values.',
  'Use Markdown; put code, tables and formulas in proper blocks.',
].join(' ');

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A duration like 8h, 30m, 45s, 7d or a number of seconds. */
const DurationSchema = z
  .string()
  .regex(/^\d+\s*[smhd]?$/, 'use a number of seconds or a value like 30m, 8h, 7d')
  .transform((value) => {
    const amount = Number.parseInt(value, 10);
    const unit = value.trim().slice(-1);
    const factor = unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86_400 : 1;
    return amount * factor;
  })
  .refine((seconds) => seconds >= 60 && seconds <= 30 * 86_400, 'must be between 1 minute and 30 days');

const RedisUrlSchema = z
  .string()
  .url()
  .refine((value) => /^rediss?:$/.test(new URL(value).protocol), 'must start with redis:// or rediss://')
  .refine((value) => /^\/?(\d{1,2})?$/.test(new URL(value).pathname), 'the path may only be a DB number, e.g. /0');

/** `host:port,host:port`: the sentinels to ask for the master; empty means a single Redis (REDIS_URL). */
const SentinelsSchema = z
  .string()
  .default('')
  .superRefine((value, ctx) => {
    const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
    const bad = entries.find((entry) => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(entry) || Number(entry.split(':')[1]) < 1 || Number(entry.split(':')[1]) > 65_535);
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `has ${JSON.stringify(bad)}: use comma-separated host:port pairs, e.g. sentinel-1:26379,sentinel-2:26379` });
  })
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => ({ host: entry.slice(0, entry.lastIndexOf(':')), port: Number(entry.slice(entry.lastIndexOf(':') + 1)) })),
  );

const DATABASE_URL_EXAMPLE = 'postgres://user:password@host:5432/database';
const DatabaseUrlSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    // One message per bad value: the start-up error is one line.
    if (value === '') ctx.addIssue({ code: 'custom', message: `is required (e.g. ${DATABASE_URL_EXAMPLE})` });
    else if (!URL.canParse(value) || !/^postgres(ql)?:$/.test(new URL(value).protocol) || new URL(value).hostname === '') {
      ctx.addIssue({ code: 'custom', message: `must be a URL like ${DATABASE_URL_EXAMPLE}` });
    }
  });

const optionalDays = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
  .pipe(z.string().regex(/^\d{1,5}$/, 'must be a whole number of days').transform(Number).pipe(z.number().int().min(1).max(36_500)).optional());

export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(3000, 0, 65_535),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * Express "trust proxy": which hops may set X-Forwarded-For (nginx in front). Addresses or
     * subnets (`loopback`, `10.0.0.5`), or a whole number of hops when nothing but the proxy can
     * reach the API. Trusting whole private ranges let any client on them pick its own address.
     */
    TRUST_PROXY: z
      .string()
      .default('loopback')
      .transform((value) => (/^\s*\d+\s*$/.test(value) ? Number(value) : value)),
    REDIS_URL: RedisUrlSchema.default('redis://127.0.0.1:6379/0'),
    REDIS_CHAT_DB: int(1, 0, 255),
    REDIS_CACHE_DB: int(2, 0, 255),
    /** Set: the master is found through these sentinels (REDIS_URL then gives only the counters DB). */
    REDIS_SENTINELS: SentinelsSchema,
    REDIS_SENTINEL_MASTER: optionalText.pipe(z.string().regex(/^[\w.-]{1,64}$/, 'must be the master name the sentinels monitor, e.g. simorgh').optional()),
    REDIS_SENTINEL_PASSWORD: optionalText,
    /** The Redis servers' password (requirepass); REDIS_URL's own password is used when unset. */
    REDIS_PASSWORD: optionalText,
    /** Replicas that must confirm a new chat or a saved message before it is acknowledged (WAIT); default 1 with sentinels, 0 without. */
    REDIS_MIN_REPLICA_ACKS: optionalText.pipe(z.string().regex(/^\d{1,2}$/, 'must be a whole number of replicas, 0 to 16').transform(Number).pipe(z.number().max(16, 'must be a whole number of replicas, 0 to 16')).optional()),
    /** How long an acknowledgement waits for the replicas before the answer is 503. */
    REDIS_WAIT_TIMEOUT_MS: int(500, 10, 4000),
    /** PostgreSQL: the durable history every chat is mirrored to. */
    DATABASE_URL: DatabaseUrlSchema,
    DATABASE_POOL_SIZE: int(10, 1, 200),
    /** Chats idle this long leave Redis for PostgreSQL (used by the archive job). */
    ARCHIVE_AFTER_DAYS: int(30, 1, 36_500),
    /** Chats idle this long are deleted from both stores; unset keeps them forever. */
    RETENTION_DAYS: optionalDays,
    /** How long an outbox entry may sit with a consumer that stopped answering before another takes it. */
    HISTORY_CLAIM_IDLE_MS: int(30_000, 100, 3_600_000),
    MYSQL_HOST: optionalText,
    MYSQL_PORT: int(3306, 1, 65_535),
    MYSQL_USER: z.string().default('simorgh_ro'),
    MYSQL_PASSWORD: z.string().default(''),
    MYSQL_DATABASE: z.string().regex(/^\w{1,64}$/, 'must be a plain database name').default('tpms'),
    MYSQL_CONNECTION_LIMIT: int(10, 1, 200),
    /** Sign-ins checked at once (TPMS lookup + bcrypt), and how many may wait for a turn. */
    LOGIN_CONCURRENCY: int(4, 1, 64),
    LOGIN_QUEUE: int(50, 0, 10_000),
    /** Failed sign-ins per user name from one address, and per address, within the window. */
    LOGIN_MAX_FAILURES_PER_USER_ADDRESS: int(5, 1, 1000),
    LOGIN_MAX_FAILURES_PER_ADDRESS: int(30, 1, 100_000),
    LOGIN_FAILURE_WINDOW_S: int(900, 10, 86_400),
    /** Failures of one user name from all addresses before each attempt waits a growing delay. */
    LOGIN_USER_FAILURES_BEFORE_DELAY: int(10, 1, 100_000),
    LOGIN_USER_MAX_DELAY_S: int(5, 1, 60),
    JWT_SECRET_KEY: z.string().min(1, 'is required (a random string of at least 32 bytes)'),
    JWT_EXPIRES_IN: DurationSchema.default(8 * 3600),
    TPMS_CACHE_TTL_S: int(3600, 1, 86_400),
    TPMS_NEGATIVE_CACHE_TTL_S: int(60, 1, 3600),
    ADMIN_USERS: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((user) => user.trim()).filter(Boolean)),
    /** Unset: GET /metrics answers 404. Set: Prometheus scrapes it with this bearer token. */
    METRICS_TOKEN: optionalText.pipe(z.string().min(16, 'must be at least 16 characters (a random string)').optional()),
    OPENAI_API_KEY: optionalText,
    OPENAI_BASE_URL: optionalText.pipe(z.string().url('must be a URL like http://host:port/v1').optional()),
    OPENAI_MODEL: optionalText,
    OPENAI_TITLE_MODEL: optionalText,
    LLM_TIMEOUT_MS: int(60_000, 1000, 600_000),
    SYSTEM_PROMPT: optionalText.transform((value) => value ?? DEFAULT_SYSTEM_PROMPT),
    MESSAGES_PER_MINUTE: int(20, 1, 10_000),
    CONCURRENT_STREAMS: int(2, 1, 100),
    CHATS_PER_MINUTE: int(30, 1, 100_000),
    MAX_CHATS_PER_USER: int(10_000, 1, 10_000_000),
    MAX_MESSAGES_PER_CHAT: int(2000, 2, 1_000_000),
    /** A reply's lease: a reply whose API process died is marked interrupted within this plus a third of it. */
    REPLY_LEASE_MS: int(15_000, 300, 60_000),
    /** Events kept per chat (approximately: Redis trims whole nodes of about 100). */
    CHAT_EVENTS_MAX: int(5000, 100, 1_000_000),
    /** How long a chat's events are kept after its last one. */
    CHAT_EVENTS_RETENTION_S: int(900, 600, 86_400),
    /** Event streams (GET /api/chats/:id/events) one user may keep open, per API process. */
    EVENT_STREAMS_PER_USER: int(20, 1, 1000),
  })
  .superRefine((env, ctx) => {
    if (env.REDIS_SENTINELS.length > 0 && env.REDIS_SENTINEL_MASTER === undefined) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_MASTER'], message: 'is required with REDIS_SENTINELS (the master name the sentinels monitor)' });
    }
    if (env.REDIS_SENTINELS.length === 0 && env.REDIS_SENTINEL_MASTER !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINELS'], message: 'is required with REDIS_SENTINEL_MASTER (comma-separated host:port pairs)' });
    }
    if (env.NODE_ENV === 'production' && Buffer.byteLength(env.JWT_SECRET_KEY) < 32) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET_KEY'], message: 'must be at least 32 bytes in production' });
    }
    if (env.RETENTION_DAYS !== undefined && env.RETENTION_DAYS < env.ARCHIVE_AFTER_DAYS) {
      ctx.addIssue({ code: 'custom', path: ['RETENTION_DAYS'], message: 'must not be shorter than ARCHIVE_AFTER_DAYS' });
    }
    if (new Set([redisDbOf(env.REDIS_URL), env.REDIS_CHAT_DB, env.REDIS_CACHE_DB]).size !== 3) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_CHAT_DB'], message: 'counters, chat and cache must use three different Redis DBs' });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

/** Replicas each acknowledged write waits for: REDIS_MIN_REPLICA_ACKS, else 1 with sentinels and 0 without. */
export function replicaAcksOf(env: Env): number {
  return env.REDIS_MIN_REPLICA_ACKS ?? (env.REDIS_SENTINELS.length > 0 ? 1 : 0);
}

/** The DB number in a redis:// URL (the counters DB), 0 when absent. */
export function redisDbOf(url: string): number {
  const path = new URL(url).pathname.replace('/', '');
  return path === '' ? 0 : Number(path);
}

export class EnvError extends Error {}

/** Parses the environment; the error message is one line per bad variable, naming it. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const message = issue.code === 'invalid_type' && source[name] === undefined ? 'is required' : issue.message;
    return `Invalid configuration: ${name} ${message}`;
  });
  throw new EnvError(lines.join('\n'));
}
