import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import { ErrorBodySchema, LoginResponseSchema } from '@simorgh/contracts';
import { FIXTURE_PASSWORD, USERS } from '@simorgh/devstack/fixtures';
import { createApp } from '../../app.js';
import { createLogger } from '../../logger.js';
import { listen } from '../../test/event-stream-client.js';
import { startServedStack, type ServedStack } from '../../test/served-stack.js';
import { createAuthStore } from './auth.store.js';
import { nativeBcrypt, type PasswordVerifier } from './passwords.js';

/** The real bcrypt comparison, counted: a guess refused before it gets here cost no bcrypt work. */
const passwords = {
  calls: 0,
  verify(password: string, hash: string) {
    passwords.calls += 1;
    return nativeBcrypt.verify(password, hash);
  },
} satisfies PasswordVerifier & { calls: number };

let stack: ServedStack;
const sara = USERS.sara.username;

beforeAll(async () => {
  // Production limits, except 12 (not 30) per address and delays after 8 failures (not 10), to 4 s (not 5).
  stack = await startServedStack({
    env: { LOGIN_MAX_FAILURES_PER_ADDRESS: '12', LOGIN_USER_FAILURES_BEFORE_DELAY: '8', LOGIN_USER_MAX_DELAY_S: '4' },
    appOptions: { passwords },
  });
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  await stack.deps.redis.cache.flushDb();
  passwords.calls = 0;
});

/** Sign-in from `address` (the API trusts X-Forwarded-For from loopback, where the test runs). */
async function login(username: string, password: string, address: string) {
  const res = await fetch(`${stack.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': address },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as unknown };
}

function expectRefused(res: Awaited<ReturnType<typeof login>>, maxRetryAfterS = 900) {
  expect(res.status).toBe(429);
  expect(ErrorBodySchema.parse(res.body).code).toBe('rate_limited');
  expect(Number(res.retryAfter)).toBeGreaterThan(0);
  expect(Number(res.retryAfter)).toBeLessThanOrEqual(maxRetryAfterS);
}

describe('sign-in throttling', () => {
  it('gives every spelling the directory matches one budget, refused before bcrypt once it is spent', async () => {
    // The directory's collation takes each of these for the same user, as in the report.
    const matchedByDirectory = ['ś.karimi', 'S.KARIMI', 'Ṡ.Karimi', 's.karimi ', 'š.kárimi', 's.karımi'];
    const store = createAuthStore(stack.deps.tpms);
    for (const variant of matchedByDirectory) expect((await store.findUser(variant))?.username, variant).toBe(sara);
    // Not a name the directory knows, but folded to the same key all the same.
    const variants = [...matchedByDirectory, 'ｓ.karimi'];

    const address = '203.0.113.10';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await login(variants[attempt % variants.length] ?? sara, 'guess', address)).status).toBe(401);
    }
    expect(passwords.calls).toBe(5);
    for (const variant of [...variants, sara]) expectRefused(await login(variant, 'guess', address));
    expectRefused(await login(sara, FIXTURE_PASSWORD, address));
    expect(passwords.calls).toBe(5);
  });

  it.each([50, 200])('lets at most 5 of %i parallel wrong guesses for one user from one address reach bcrypt, answering only 401 or 429', async (count) => {
    const answers = await Promise.all(Array.from({ length: count }, () => login(USERS.arash.username, 'guess', '198.51.100.7')));
    const statuses = answers.map((answer) => answer.status);
    expect(new Set(statuses)).toEqual(new Set([401, 429]));
    expect(statuses.filter((status) => status === 401).length).toBe(5);
    expect(passwords.calls).toBe(5);
    for (const answer of answers) expect(ErrorBodySchema.safeParse(answer.body).success).toBe(true);
  });

  it('lets the victim sign in from another address while the attacker is refused for that user', async () => {
    const attacker = '192.0.2.66';
    for (let attempt = 0; attempt < 5; attempt += 1) expect((await login(sara, 'guess', attacker)).status).toBe(401);
    expectRefused(await login(sara, FIXTURE_PASSWORD, attacker));
    const victim = await login(sara, FIXTURE_PASSWORD, '198.51.100.20');
    expect(victim.status).toBe(200);
    expect(LoginResponseSchema.parse(victim.body).user.user_id).toBe(sara);
    // The victim's success does not lift the attacker's refusal.
    expectRefused(await login(sara, FIXTURE_PASSWORD, attacker));
  });

  it('refuses an address that tries many names, whatever names it tries', async () => {
    const address = '203.0.113.99';
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, index) => login(`guess.${index}`, 'guess', address)));
    expect(guesses.map((guess) => guess.status)).toEqual(Array.from({ length: 12 }, () => 401));
    expectRefused(await login(USERS.admin.username, FIXTURE_PASSWORD, address));
    expect(passwords.calls).toBe(12);
  });

  it('slows a user attacked from many addresses with doubling delays of a few seconds, never a lock', async () => {
    const gate = `auth:login:user-gate:${sara}`;
    /** The wait the gate imposes runs out (the test does not sleep through it). */
    const waitOut = () => stack.deps.redis.cache.del(gate);
    let address = 0;
    const guess = () => login(sara, 'guess', `100.64.0.${++address}`);
    for (let attempt = 0; attempt < 8; attempt += 1) expect((await guess()).status).toBe(401);

    const delays: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      expect((await guess()).status).toBe(401);
      const refused = await guess();
      expectRefused(refused, 4);
      delays.push(Number(refused.retryAfter));
      await waitOut();
    }
    expect(delays).toEqual([1, 2, 4, 4]);
    // Waiting never reached bcrypt.
    expect(passwords.calls).toBe(12);

    // The victim, from a new address, waits a few seconds at most, then signs in.
    expect((await guess()).status).toBe(401);
    const victimAddress = '198.51.100.30';
    expectRefused(await login(sara, FIXTURE_PASSWORD, victimAddress), 4);
    await waitOut();
    expect((await login(sara, FIXTURE_PASSWORD, victimAddress)).status).toBe(200);
    // From then on that address is known for this user: the attack does not slow it.
    await waitOut();
    expect((await guess()).status).toBe(401);
    expectRefused(await guess(), 4);
    expect((await login(sara, FIXTURE_PASSWORD, victimAddress)).status).toBe(200);
  });

  it('gives every throttle key an expiry', async () => {
    expect((await login(sara, FIXTURE_PASSWORD, '100.65.1.1')).status).toBe(200);
    await Promise.all(Array.from({ length: 8 }, (_, index) => login(sara, 'guess', `100.65.0.${index}`)));
    await login(sara, 'guess', '100.65.0.99');
    await login('nobody.here', 'guess', '100.65.1.2');
    const keys = await stack.deps.redis.cache.keys('auth:*');
    for (const prefix of ['addr', 'user-addr', 'user', 'user-gate', 'known']) {
      expect(keys.some((key) => key.startsWith(`auth:login:${prefix}:`)), prefix).toBe(true);
    }
    // -1 is a key without expiry (-2 one that expired meanwhile).
    for (const key of keys) expect(await stack.deps.redis.cache.pTTL(key), key).not.toBe(-1);
  });
});

describe('sign-in queue', () => {
  it('checks a bounded number of sign-ins at once and refuses the overflow with 503 and Retry-After', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const slow: PasswordVerifier = {
      async verify(password, hash) {
        started += 1;
        await held;
        return nativeBcrypt.verify(password, hash);
      },
    };
    const { app } = await stack.build({ env: { LOGIN_CONCURRENCY: '2', LOGIN_QUEUE: '3' }, appOptions: { passwords: slow } });
    const busy = await listen(app);
    try {
      const answers: number[] = [];
      const attempts = Array.from({ length: 8 }, async (_, index) => {
        const res = await fetch(`${busy.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': `100.66.0.${index}` },
          body: JSON.stringify({ username: USERS.arash.username, password: FIXTURE_PASSWORD }),
        });
        answers.push(res.status);
        if (res.status === 503) {
          expect(res.headers.get('retry-after')).toBe('1');
          expect(ErrorBodySchema.parse(await res.json()).code).toBe('upstream_unavailable');
        }
        return res.status;
      });
      // Two checking, three waiting: the other three are refused at once, while the two still hang.
      await expect.poll(() => answers.length).toBe(3);
      expect(answers).toEqual([503, 503, 503]);
      expect(started).toBe(2);
      release();
      const statuses = await Promise.all(attempts);
      expect(statuses.filter((status) => status === 200).length).toBe(5);
      expect(started).toBe(5);
    } finally {
      release();
      await busy.close();
    }
  });
});

describe('sign-in log', () => {
  it('logs a refused sign-in with a hash of the typed name, never the name or the password', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ LOG_LEVEL: 'info', NODE_ENV: 'test' }, sink);
    const app = createApp({ ...stack.deps, logger }, { passwords });
    const typed = 'MySecretPassw0rd!';
    const res = await request(app).post('/api/auth/login').send({ username: typed, password: 'hunter2-password' });
    expect(res.status).toBe(401);
    const refusal = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'sign-in refused');
    const hash = createHash('sha256').update(typed).digest('hex').slice(0, 12);
    expect(refusal).toMatchObject({ level: 30, username_sha256: hash });
    const all = lines.join('\n');
    expect(all).not.toContain(typed);
    expect(all).not.toContain('hunter2-password');
  });
});
