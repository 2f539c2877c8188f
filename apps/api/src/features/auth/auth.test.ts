import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import { ErrorBodySchema, LoginResponseSchema, MeResponseSchema } from '@simorgh/contracts';
import request from 'supertest';
import { startTestStack, TEST_JWT_SECRET, type TestStack } from '../../test/harness.js';
import { FIXTURE_PASSWORD, USERS } from '@simorgh/devstack/fixtures';
import { startTcpProxy, type TcpProxy } from '@simorgh/devstack/tcp-proxy';

let stack: TestStack;
const key = new TextEncoder().encode(TEST_JWT_SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  // Low limits keep the throttling tests short; the defaults are 5 per user and address, 30 per address.
  stack = await startTestStack({ env: { LOGIN_MAX_FAILURES_PER_USER_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ADDRESS: '6' } });
});
afterAll(() => stack?.stop());

/** Each call comes from its own address, unless one is given, so limits do not interfere. */
let address = 0;
const login = (body: unknown, ip = `10.0.0.${++address}`) =>
  stack.http().post('/api/auth/login').set('X-Forwarded-For', ip).send(body as object);

const me = (authorization?: string) => {
  const call = stack.http().get('/api/auth/me');
  return authorization === undefined ? call : call.set('Authorization', authorization);
};

function expectUnauthorized(res: request.Response) {
  expect(res.status).toBe(401);
  expect(ErrorBodySchema.parse(res.body).code).toBe('unauthorized');
}

describe('POST /api/auth/login', () => {
  it('signs in an active TPMS user and the token works for /api/auth/me', async () => {
    const res = await login({ username: USERS.arash.username, password: FIXTURE_PASSWORD });
    expect(res.status).toBe(200);
    const body = LoginResponseSchema.parse(res.body);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 8 * 3600, user: { user_id: USERS.arash.username, display_name: USERS.arash.displayName } });
    const who = await me(`Bearer ${body.access_token}`);
    expect(MeResponseSchema.parse(who.body)).toEqual({
      user: { user_id: USERS.arash.username, display_name: USERS.arash.displayName },
      is_admin: false,
    });
  });

  it('answers the same 401 for a wrong password, an unknown user and an inactive user', async () => {
    const attempts = [
      { username: USERS.arash.username, password: 'wrong password' },
      { username: 'nobody.here', password: FIXTURE_PASSWORD },
      { username: USERS.inactive.username, password: FIXTURE_PASSWORD },
    ];
    for (const attempt of attempts) {
      const res = await login(attempt);
      expect(res.status).toBe(401);
      expect(ErrorBodySchema.parse(res.body)).toMatchObject({ detail: 'Invalid username or password', code: 'unauthorized' });
    }
  });

  it('rejects a missing username or password with 400', async () => {
    for (const body of [{}, { username: 'x' }, { password: 'y' }, { username: '  ', password: 'y' }]) {
      const res = await login(body);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });

  it('refuses a user name from an address after repeated failures there (429 with Retry-After), even with the right password', async () => {
    const username = USERS.sara.username;
    const ip = '10.8.8.8';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await login({ username, password: 'guess' }, ip)).status).toBe(401);
    }
    const locked = await login({ username, password: FIXTURE_PASSWORD }, ip);
    expect(locked.status).toBe(429);
    expect(ErrorBodySchema.parse(locked.body).code).toBe('rate_limited');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);
    // Another address is not affected.
    expect((await login({ username, password: FIXTURE_PASSWORD })).status).toBe(200);
  });

  it('locks an address that tries many names (429)', async () => {
    const ip = '10.9.9.9';
    for (let attempt = 0; attempt < 6; attempt += 1) {
      expect((await login({ username: `guess.${attempt}`, password: 'guess' }, ip)).status).toBe(401);
    }
    const res = await login({ username: USERS.admin.username, password: FIXTURE_PASSWORD }, ip);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('answers 503, not 401, while TPMS is unreachable', async () => {
    const proxy: TcpProxy = await startTcpProxy(Number(stack.env.MYSQL_PORT));
    try {
      const { app } = await stack.build({ env: { MYSQL_PORT: String(proxy.port) } });
      await proxy.cut();
      const res = await request(app).post('/api/auth/login').send({ username: USERS.arash.username, password: FIXTURE_PASSWORD });
      expect(res.status).toBe(503);
      expect(ErrorBodySchema.parse(res.body).code).toBe('upstream_unavailable');
    } finally {
      await proxy.close();
    }
  });
});

describe('bearer token checks', () => {
  const valid = () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('a.rahimi').setIssuedAt();

  it('accepts a token from another system signed with the same secret', async () => {
    const token = await valid().setExpirationTime(nowS() + 600).sign(key);
    const res = await me(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(MeResponseSchema.parse(res.body).user.user_id).toBe('a.rahimi');
  });

  it('refuses a missing header, another scheme and garbage', async () => {
    expectUnauthorized(await me());
    expectUnauthorized(await me('Basic YTpi'));
    expectUnauthorized(await me('Bearer not.a.jwt'));
    expectUnauthorized(await me('Bearer '));
  });

  it('refuses alg "none"', async () => {
    const token = new UnsecuredJWT({ sub: 'a.rahimi' }).setExpirationTime(nowS() + 600).encode();
    expectUnauthorized(await me(`Bearer ${token}`));
  });

  it('refuses a token signed with another key', async () => {
    const token = await valid().setExpirationTime(nowS() + 600).sign(new TextEncoder().encode('some-other-secret-of-enough-length-000000'));
    expectUnauthorized(await me(`Bearer ${token}`));
  });

  it('refuses another HMAC algorithm with the same secret', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('a.rahimi').setExpirationTime(nowS() + 600).sign(key);
    expectUnauthorized(await me(`Bearer ${token}`));
  });

  it('refuses an expired token beyond the small tolerance, accepts one just inside it', async () => {
    expectUnauthorized(await me(`Bearer ${await valid().setExpirationTime(nowS() - 120).sign(key)}`));
    expect((await me(`Bearer ${await valid().setExpirationTime(nowS() - 5).sign(key)}`)).status).toBe(200);
  });

  it('refuses a token without exp or without sub', async () => {
    expectUnauthorized(await me(`Bearer ${await valid().sign(key)}`));
    const noSub = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(nowS() + 600).sign(key);
    expectUnauthorized(await me(`Bearer ${noSub}`));
  });

  it('refuses a tampered payload', async () => {
    const token = await valid().setExpirationTime(nowS() + 600).sign(key);
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 's.karimi', exp: nowS() + 600 })).toString('base64url');
    expectUnauthorized(await me(`Bearer ${header}.${forged}.${signature}`));
  });

  it('refuses an oversized token without trying to verify it', async () => {
    const token = await valid().setExpirationTime(nowS() + 600).setAudience('x'.repeat(5000)).sign(key);
    expectUnauthorized(await me(`Bearer ${token}`));
  });

  it('protects every non-public endpoint', async () => {
    const calls = [
      stack.http().get('/api/chats'),
      stack.http().post('/api/chats').send({ chat_type: 'general' }),
      stack.http().get('/api/chats/G-202601-000001'),
      stack.http().patch('/api/chats/G-202601-000001').send({ pinned: true }),
      stack.http().delete('/api/chats/G-202601-000001'),
      stack.http().get('/api/projects/10234'),
      stack.http().post('/api/admin/tpms-cache/invalidate').send({ user_id: 'x' }),
    ];
    for (const call of calls) expectUnauthorized(await call);
  });
});
