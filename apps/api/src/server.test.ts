import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, formatGeneralId, HealthResponseSchema, LoginResponseSchema } from '@simorgh/contracts';
import { freePort } from '@simorgh/devstack';
import { startTestStack, TEST_JWT_SECRET, type TestStack } from './test/harness.js';
import { FIXTURE_PASSWORD, USERS } from '@simorgh/devstack/fixtures';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const serverEntry = fileURLToPath(new URL('./server.ts', import.meta.url));

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

type Running = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function launch(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [tsxCli, '--conditions=@simorgh/source', serverEntry], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('server.ts start-up wiring', () => {
  it('starts from environment variables, raises counters, serves the API and stops on SIGTERM', async () => {
    const port = await freePort();
    // Separate DB numbers on the file's Redis, with one session already stored this month.
    const redisUrl = `${stack.redis.url}/10`;
    const existing = formatGeneralId(new Date(), 9);
    const { createClient } = await import('redis');
    const seed = createClient({ url: stack.redis.url, database: 11 });
    await seed.connect();
    await seed.set(`chat:${existing}:metadata`, JSON.stringify({ chat_id: existing, user_id: 'x', created_at: new Date().toISOString() }));
    seed.destroy();

    const server = launch({
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      REDIS_URL: redisUrl,
      REDIS_CHAT_DB: '11',
      REDIS_CACHE_DB: '12',
      MYSQL_HOST: '127.0.0.1',
      MYSQL_PORT: String(stack.env.MYSQL_PORT),
      MYSQL_USER: stack.env.MYSQL_USER,
      MYSQL_PASSWORD: stack.env.MYSQL_PASSWORD,
      MYSQL_DATABASE: stack.env.MYSQL_DATABASE,
      JWT_SECRET_KEY: TEST_JWT_SECRET,
      DATABASE_URL: stack.postgresUrl,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      let health: Response | null = null;
      for (let attempt = 0; attempt < 100 && !health; attempt += 1) {
        health = await fetch(`${base}/api/health`).catch(() => null);
        if (!health) await sleep(200);
      }
      if (!health) throw new Error(`server did not answer:\n${server.output()}`);
      expect(health.status).toBe(200);
      expect(HealthResponseSchema.parse(await health.json()).services.redis.status).toBe('healthy');

      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: USERS.arash.username, password: FIXTURE_PASSWORD }),
      });
      const { access_token } = LoginResponseSchema.parse(await login.json());
      const created = await fetch(`${base}/api/chats`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${access_token}` },
        body: JSON.stringify({ chat_type: 'general' }),
      });
      expect(created.status).toBe(201);
      expect(CreateChatResponseSchema.parse(await created.json()).chat.chat_id).toBe(formatGeneralId(new Date(), 10));

      // Logs are JSON lines and never carry the password or the token.
      expect(server.output()).toContain('"msg":"Simorgh Chat API listening"');
      expect(server.output()).not.toContain(FIXTURE_PASSWORD);
      expect(server.output()).not.toContain(access_token);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on a bad environment with one line naming the variable', async () => {
    const badPort = launch({ JWT_SECRET_KEY: TEST_JWT_SECRET, DATABASE_URL: stack.postgresUrl, PORT: 'abc' });
    const shortKey = launch({ JWT_SECRET_KEY: 'short', DATABASE_URL: stack.postgresUrl, NODE_ENV: 'production' });
    const noDatabase = launch({ JWT_SECRET_KEY: TEST_JWT_SECRET });
    expect(await badPort.exited).toBe(1);
    expect(badPort.output().trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: PORT /)]);
    expect(await shortKey.exited).toBe(1);
    expect(shortKey.output().trim()).toBe('Invalid configuration: JWT_SECRET_KEY must be at least 32 bytes in production');
    expect(await noDatabase.exited).toBe(1);
    expect(noDatabase.output().trim().split('\n')).toEqual([expect.stringMatching(/^Invalid configuration: DATABASE_URL is required/)]);
  });
});
