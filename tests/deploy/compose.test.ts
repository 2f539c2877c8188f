import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema } from '@simorgh/api/env';
import { parseEnvExample } from './env-file.js';
import { readRepoFile, repoFileExists } from './repo.js';

type Service = {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[] | string;
  env_file?: string | string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string; required?: boolean }> | string[];
  healthcheck?: { test?: string[] | string };
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

const composeText = readRepoFile('docker-compose.yml');
const compose = parse(composeText) as Compose;
const envExample = parseEnvExample(readRepoFile('.env.example'));

const HA_SERVICES = ['redis-replica-1', 'redis-replica-2', 'sentinel-1', 'sentinel-2', 'sentinel-3'];
const commandOf = (name: string) => {
  const { command } = service(name);
  return Array.isArray(command) ? command.join(' ') : String(command);
};

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The variables the API reads, as listed for operators. */
const API_VARIABLES = [
  'PORT', 'HOST', 'NODE_ENV', 'LOG_LEVEL', 'TRUST_PROXY', 'REDIS_URL', 'REDIS_CHAT_DB', 'REDIS_CACHE_DB',
  'MYSQL_HOST', 'MYSQL_PORT', 'MYSQL_USER', 'MYSQL_PASSWORD', 'MYSQL_DATABASE', 'MYSQL_CONNECTION_LIMIT',
  'JWT_SECRET_KEY', 'JWT_EXPIRES_IN', 'TPMS_CACHE_TTL_S', 'TPMS_NEGATIVE_CACHE_TTL_S', 'ADMIN_USERS',
  'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'OPENAI_TITLE_MODEL', 'LLM_TIMEOUT_MS', 'SYSTEM_PROMPT',
  'MESSAGES_PER_MINUTE', 'CONCURRENT_STREAMS',
];
const apiVariables = [...new Set([...API_VARIABLES, ...Object.keys(EnvSchema.shape)])].sort();

describe('docker-compose.yml', () => {
  it('defines redis, postgres, api and nginx, plus a demo TPMS under the demo profile and Redis HA under ha', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api', 'nginx', 'postgres', 'redis', 'redis-replica-1', 'redis-replica-2', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'tpms-demo',
    ]);
    for (const name of ['redis', 'postgres', 'api', 'nginx']) expect(service(name).profiles).toBeUndefined();
    expect(service('tpms-demo').profiles).toEqual(['demo']);
    for (const name of HA_SERVICES) expect(service(name).profiles, name).toEqual(['ha']);
    expect(service('tpms-demo').image).toMatch(/^mariadb:10\.11/);
  });

  it.each(['redis', 'redis-replica-1', 'redis-replica-2'])('runs %s with AOF fsync on every write, RDB snapshots, noeviction, a healthcheck and a volume of its own', (name) => {
    const redis = service(name);
    expect(redis.image).toMatch(/^redis:7[\w.-]*-alpine$/);
    const command = commandOf(name);
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync always');
    expect(command).toMatch(/--save \d+ \d+/);
    expect(command).toContain('--maxmemory-policy noeviction');
    // Known to the sentinels by service name, as a replica now or after a failover.
    expect(command).toContain(`--replica-announce-ip ${name}`);
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    const volume = redis.volumes?.find((entry) => entry.endsWith(':/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume?.split(':')[0]);
    const volumes = ['redis', 'redis-replica-1', 'redis-replica-2'].map((other) => service(other).volumes?.find((entry) => entry.endsWith(':/data')));
    expect(new Set(volumes).size).toBe(3);
  });

  it('profile ha: two replicas of redis and three sentinels monitoring it from deploy/redis/sentinel.conf, matching .env.example', () => {
    expect(commandOf('redis')).not.toContain('--replicaof');
    for (const name of ['redis-replica-1', 'redis-replica-2']) expect(commandOf(name)).toContain('--replicaof redis 6379');
    const sentinelConf = readRepoFile('deploy/redis/sentinel.conf');
    const monitor = /^sentinel monitor (\S+) redis 6379 (\d+)$/m.exec(sentinelConf);
    expect(monitor?.[2]).toBe('2');
    expect(sentinelConf).toMatch(/^port 26379$/m);
    expect(sentinelConf).toMatch(/^sentinel resolve-hostnames yes$/m);
    for (const name of ['sentinel-1', 'sentinel-2', 'sentinel-3']) {
      const sentinel = service(name);
      expect(sentinel.image).toMatch(/^redis:7[\w.-]*-alpine$/);
      expect(sentinel.volumes).toEqual(['./deploy/redis/sentinel.conf:/etc/redis/sentinel.conf:ro']);
      // Sentinels rewrite their config: each runs a writable copy.
      expect(commandOf(name)).toContain('cp /etc/redis/sentinel.conf /data/sentinel.conf && exec redis-server /data/sentinel.conf --sentinel');
      expect(sentinel.healthcheck?.test).toEqual(['CMD', 'redis-cli', '-p', '26379', 'ping']);
    }
    // The API's settings for the profile, as .env.example shows them.
    const example = readRepoFile('.env.example');
    expect(example).toContain('# REDIS_SENTINELS=sentinel-1:26379,sentinel-2:26379,sentinel-3:26379');
    expect(example).toContain(`# REDIS_SENTINEL_MASTER=${monitor?.[1]}`);
    const parsed = EnvSchema.safeParse({
      ...Object.fromEntries(envExample.set),
      ...service('api').environment,
      JWT_SECRET_KEY: 'x'.repeat(48),
      REDIS_SENTINELS: 'sentinel-1:26379,sentinel-2:26379,sentinel-3:26379',
      REDIS_SENTINEL_MASTER: monitor?.[1],
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('runs postgres with a volume and a pg_isready healthcheck, its password from .env', () => {
    const postgres = service('postgres');
    expect(postgres.image).toMatch(/^postgres:1[5-9]/);
    expect(postgres.healthcheck?.test).toEqual(['CMD', 'pg_isready', '-U', 'simorgh', '-d', 'simorgh']);
    const volume = postgres.volumes?.find((entry) => entry.endsWith(':/var/lib/postgresql/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume?.split(':')[0]);
    expect(postgres.environment?.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD}');
    expect(service('api').environment?.DATABASE_URL).toBe('postgres://simorgh:${POSTGRES_PASSWORD}@postgres:5432/simorgh');
  });

  it('builds the api from its Dockerfile with .env and waits for a healthy redis and postgres', () => {
    const api = service('api');
    expect(api.build).toEqual({ context: '.', dockerfile: 'apps/api/Dockerfile' });
    expect(repoFileExists('apps/api/Dockerfile')).toBe(true);
    expect(api.env_file).toBe('.env');
    expect(api.environment?.REDIS_URL).toMatch(/^redis:\/\/redis:6379\/\d+$/);
    expect(api.environment?.NODE_ENV).toBe('production');
    const dependsOn = api.depends_on as Record<string, { condition?: string; required?: boolean }>;
    expect(dependsOn.redis).toEqual({ condition: 'service_healthy' });
    expect(dependsOn.postgres).toEqual({ condition: 'service_healthy' });
    // Optional so that the api starts without the demo profile.
    expect(dependsOn['tpms-demo']).toEqual({ condition: 'service_healthy', required: false });
  });

  it('publishes nginx built from the web Dockerfile, which carries nginx.conf', () => {
    const nginx = service('nginx');
    expect(nginx.build).toEqual({ context: '.', dockerfile: 'apps/web/Dockerfile' });
    expect(nginx.ports).toEqual(['8080:80']);
    expect(nginx.depends_on).toEqual(['api']);
    expect(readRepoFile('apps/web/Dockerfile')).toMatch(/^COPY nginx\.conf \/etc\/nginx\/nginx\.conf$/m);
    // The upstream name in nginx.conf must be the compose service name.
    expect(readRepoFile('nginx.conf')).toContain('server api:3000;');
  });

  it('adds HTTPS through deploy/nginx/compose.tls.yml: tls.conf and the certificates mounted where nginx reads them', () => {
    const tls = parse(readRepoFile('deploy/nginx/compose.tls.yml')) as Compose;
    expect(Object.keys(tls.services)).toEqual(['nginx']);
    const nginx = tls.services.nginx as Service;
    expect(nginx.ports).toEqual(['80:80', '443:443']);
    expect(nginx.volumes).toEqual(['./deploy/nginx/tls.conf:/etc/nginx/server.d/tls.conf:ro', './certs:/etc/nginx/certs:ro']);
    expect(repoFileExists('deploy/nginx/tls.conf')).toBe(true);
    expect(readRepoFile('nginx.conf')).toContain('include /etc/nginx/server.d/*.conf;');
    const tlsConf = readRepoFile('deploy/nginx/tls.conf');
    expect(tlsConf).toContain('ssl_certificate /etc/nginx/certs/fullchain.pem;');
    expect(tlsConf).toContain('ssl_certificate_key /etc/nginx/certs/privkey.pem;');
    // Keys stay out of git and out of the build context.
    expect(readRepoFile('.gitignore')).toMatch(/^\/certs\/$/m);
    expect(readRepoFile('.dockerignore')).toMatch(/^certs$/m);
  });

  it('initialises the demo TPMS from deploy/tpms-demo with a read-only user taken from .env', () => {
    const demo = service('tpms-demo');
    expect(demo.volumes).toContain('./deploy/tpms-demo:/docker-entrypoint-initdb.d:ro');
    expect(demo.environment?.MARIADB_DATABASE).toBe('tpms');
    expect(demo.environment?.TPMS_READONLY_USER).toBe('${MYSQL_USER}');
    expect(demo.environment?.TPMS_READONLY_PASSWORD).toBe('${MYSQL_PASSWORD}');
    // MYSQL_USER / MYSQL_PASSWORD would make the image grant that user everything.
    expect(Object.keys(demo.environment ?? {})).not.toContain('MYSQL_USER');
    expect(Object.keys(demo.environment ?? {})).not.toContain('MARIADB_USER');
    expect(demo.healthcheck?.test).toEqual(['CMD', 'healthcheck.sh', '--connect', '--innodb_initialized']);
    expect(envExample.set.get('MYSQL_HOST')).toBe('tpms-demo');
    expect(envExample.set.get('MYSQL_DATABASE')).toBe('tpms');
  });

  it('sets in .env.example every ${VAR} it interpolates', () => {
    const referenced = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] ?? '');
    expect(referenced.length).toBeGreaterThan(0);
    for (const name of referenced) expect(envExample.set.has(name), `${name} in .env.example`).toBe(true);
  });
});

describe('.env.example', () => {
  it('documents every variable the API reads', () => {
    const missing = apiVariables.filter((name) => !envExample.documented.has(name));
    expect(missing).toEqual([]);
  });

  it('holds no secret: the JWT key is left empty for the operator to generate', () => {
    expect(envExample.set.get('JWT_SECRET_KEY')).toBe('');
    for (const name of ['OPENAI_API_KEY', 'MYSQL_PASSWORD', 'POSTGRES_PASSWORD']) {
      const value = envExample.set.get(name) ?? '';
      expect(value === '' || /change-me|replace/i.test(value), name).toBe(true);
    }
  });

  it('is accepted by the API once a JWT secret is filled in, as compose runs it', () => {
    const env = {
      ...Object.fromEntries(envExample.set),
      ...service('api').environment,
      JWT_SECRET_KEY: 'x'.repeat(48),
    };
    const parsed = EnvSchema.safeParse(env);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(EnvSchema.safeParse({ ...env, JWT_SECRET_KEY: '' }).success).toBe(false);
  });
});

describe('README.md', () => {
  it('lists every API variable and the dev-only ports in its configuration table', () => {
    const readme = readRepoFile('README.md');
    const missing = [...apiVariables, 'API_PORT', 'WEB_PORT'].filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});
