import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv, replicaAcksOf } from './env.js';

const DATABASE_URL = 'postgres://simorgh@127.0.0.1:5432/simorgh';
const minimal = { JWT_SECRET_KEY: 'dev-secret', DATABASE_URL };

function errorOf(source: Record<string, string>): string {
  try {
    loadEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvError);
    return (error as Error).message;
  }
  throw new Error('expected loadEnv to fail');
}

describe('loadEnv', () => {
  it('applies the documented defaults', () => {
    const env = loadEnv(minimal);
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      REDIS_CHAT_DB: 1,
      REDIS_CACHE_DB: 2,
      MYSQL_PORT: 3306,
      MYSQL_DATABASE: 'tpms',
      JWT_EXPIRES_IN: 8 * 3600,
      TPMS_CACHE_TTL_S: 3600,
      TPMS_NEGATIVE_CACHE_TTL_S: 60,
      ADMIN_USERS: [],
      LOGIN_CONCURRENCY: 4,
      LOGIN_QUEUE: 50,
      LOGIN_MAX_FAILURES_PER_USER_ADDRESS: 5,
      LOGIN_MAX_FAILURES_PER_ADDRESS: 30,
      LOGIN_FAILURE_WINDOW_S: 900,
      LOGIN_USER_FAILURES_BEFORE_DELAY: 10,
      LOGIN_USER_MAX_DELAY_S: 5,
    });
    expect(env.MYSQL_HOST).toBeUndefined();
    expect(env.ARCHIVE_AFTER_DAYS).toBe(30);
    expect(env.RETENTION_DAYS).toBeUndefined();
  });

  it('trusts only a proxy on loopback unless told otherwise; a whole number is a count of hops', () => {
    expect(loadEnv(minimal).TRUST_PROXY).toBe('loopback');
    expect(loadEnv({ ...minimal, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadEnv({ ...minimal, TRUST_PROXY: 'loopback, 10.0.0.5' }).TRUST_PROXY).toBe('loopback, 10.0.0.5');
  });

  it('parses durations and admin lists', () => {
    const env = loadEnv({ ...minimal, JWT_EXPIRES_IN: '30m', ADMIN_USERS: ' ops.admin, it.lead ,' });
    expect(env.JWT_EXPIRES_IN).toBe(1800);
    expect(env.ADMIN_USERS).toEqual(['ops.admin', 'it.lead']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://127.0.0.1:6379/zero' }, 'REDIS_URL'],
    [{ REDIS_CHAT_DB: '0' }, 'REDIS_CHAT_DB'],
    [{ JWT_EXPIRES_IN: 'forever' }, 'JWT_EXPIRES_IN'],
    [{ TPMS_CACHE_TTL_S: '-1' }, 'TPMS_CACHE_TTL_S'],
    [{ MYSQL_DATABASE: 'tpms; DROP' }, 'MYSQL_DATABASE'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DATABASE_URL: 'simorgh' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://u@db/simorgh' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://' }, 'DATABASE_URL'],
    [{ ARCHIVE_AFTER_DAYS: '0' }, 'ARCHIVE_AFTER_DAYS'],
    [{ RETENTION_DAYS: 'forever' }, 'RETENTION_DAYS'],
    [{ RETENTION_DAYS: '7' }, 'RETENTION_DAYS'],
    [{ REDIS_SENTINELS: 'sentinel-1', REDIS_SENTINEL_MASTER: 'simorgh' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379,s2:port', REDIS_SENTINEL_MASTER: 'simorgh' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:70000', REDIS_SENTINEL_MASTER: 'simorgh' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_SENTINEL_MASTER: 'simorgh' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'two words' }, 'REDIS_SENTINEL_MASTER'],
    [{ REDIS_MIN_REPLICA_ACKS: 'one' }, 'REDIS_MIN_REPLICA_ACKS'],
    [{ REDIS_MIN_REPLICA_ACKS: '17' }, 'REDIS_MIN_REPLICA_ACKS'],
    [{ REDIS_WAIT_TIMEOUT_MS: '5' }, 'REDIS_WAIT_TIMEOUT_MS'],
  ])('fails on %j with one line naming %s', (override, name) => {
    const message = errorOf({ ...minimal, ...override });
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(new RegExp(`^Invalid configuration: ${name} `));
  });

  it('requires JWT_SECRET_KEY', () => {
    expect(errorOf({ DATABASE_URL })).toBe('Invalid configuration: JWT_SECRET_KEY is required');
  });

  it('requires DATABASE_URL, with one line naming it', () => {
    expect(errorOf({ JWT_SECRET_KEY: 'dev-secret' })).toMatch(/^Invalid configuration: DATABASE_URL is required[^\n]*$/);
    expect(errorOf({ JWT_SECRET_KEY: 'dev-secret', DATABASE_URL: ' ' })).toMatch(/^Invalid configuration: DATABASE_URL is required[^\n]*$/);
  });

  it('keeps chats forever unless RETENTION_DAYS is set', () => {
    expect(loadEnv({ ...minimal, RETENTION_DAYS: '' }).RETENTION_DAYS).toBeUndefined();
    expect(loadEnv({ ...minimal, RETENTION_DAYS: '365', ARCHIVE_AFTER_DAYS: '14' })).toMatchObject({ RETENTION_DAYS: 365, ARCHIVE_AFTER_DAYS: 14 });
  });

  it('refuses a short JWT_SECRET_KEY in production only', () => {
    expect(errorOf({ NODE_ENV: 'production', JWT_SECRET_KEY: 'short', DATABASE_URL })).toMatch(/JWT_SECRET_KEY must be at least 32 bytes/);
    expect(loadEnv({ NODE_ENV: 'production', JWT_SECRET_KEY: 'x'.repeat(32), DATABASE_URL }).NODE_ENV).toBe('production');
  });

  it('finds Redis through sentinels when REDIS_SENTINELS is set, waiting for one replica by default', () => {
    const single = loadEnv(minimal);
    expect(single.REDIS_SENTINELS).toEqual([]);
    expect(replicaAcksOf(single)).toBe(0);
    const ha = loadEnv({ ...minimal, REDIS_SENTINELS: ' sentinel-1:26379, 10.0.0.7:26380 ,', REDIS_SENTINEL_MASTER: 'simorgh', REDIS_PASSWORD: 'pw' });
    expect(ha.REDIS_SENTINELS).toEqual([{ host: 'sentinel-1', port: 26379 }, { host: '10.0.0.7', port: 26380 }]);
    expect(ha).toMatchObject({ REDIS_SENTINEL_MASTER: 'simorgh', REDIS_PASSWORD: 'pw', REDIS_WAIT_TIMEOUT_MS: 500 });
    expect(replicaAcksOf(ha)).toBe(1);
    expect(replicaAcksOf(loadEnv({ ...minimal, REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_MASTER: 'simorgh', REDIS_MIN_REPLICA_ACKS: '0' }))).toBe(0);
    expect(replicaAcksOf(loadEnv({ ...minimal, REDIS_MIN_REPLICA_ACKS: '2' }))).toBe(2);
  });

  it('reports every bad variable, one per line', () => {
    expect(errorOf({ PORT: 'x', LOG_LEVEL: 'loud' }).split('\n')).toHaveLength(4);
  });
});
