import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import fc from 'fast-check';
import { ErrorBodySchema, MeResponseSchema } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { TEST_JWT_SECRET } from '../test/harness.js';
import { startServedStack, type ServedStack } from '../test/served-stack.js';
import { sampleRequest, tableRoutes } from '../test/route-samples.js';

/**
 * Attacks on the bearer token beyond the basic ones in features/auth/auth.test.ts (alg none,
 * wrong key, expired, missing exp/sub, tampered, oversized): algorithm confusion, header
 * tricks, malformed claims, and every attack against every protected endpoint.
 */
let stack: ServedStack;
const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const arash = USERS.arash.username;
const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

beforeAll(async () => {
  stack = await startServedStack();
});
afterAll(() => stack?.stop());

async function me(token: string) {
  const res = await fetch(`${stack.url}/api/auth/me`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as unknown };
}

async function expectRefused(token: string) {
  const res = await me(token);
  expect(res.status).toBe(401);
  expect(ErrorBodySchema.parse(res.body).code).toBe('unauthorized');
}

/** A correctly signed HS256 token with the claims given (header overrides allowed). */
async function hs256(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(secret);
}

/** Signs header.payload with the API's secret by hand, for claims jose would refuse to produce. */
async function rawHs256(header: unknown, payload: unknown) {
  const { createHmac } = await import('node:crypto');
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
}

const valid = () => ({ sub: arash, exp: nowS() + 600, iat: nowS() });

async function attackTokens(): Promise<Array<[string, string]>> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256');
  const publicPem = await exportSPKI(rsa.publicKey);
  const goodSignature = (await hs256(valid())).split('.')[2] as string;
  return [
    ['RS256 token signed with a fresh key pair', await new SignJWT(valid()).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)],
    ['ES256 token', await new SignJWT(valid()).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey)],
    ['HS256 token whose secret is an RSA public key PEM (HS/RS confusion)', await new SignJWT(valid()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(publicPem))],
    ['RS256 header on an HMAC signature made with the real secret', `${b64({ alg: 'RS256' })}.${b64(valid())}.${goodSignature}`],
    ['alg "None" (other casing) without signature', `${b64({ alg: 'None', typ: 'JWT' })}.${b64(valid())}.`],
    ['alg "NONE" with a valid-looking signature appended', `${b64({ alg: 'NONE' })}.${b64(valid())}.${goodSignature}`],
    ['alg none from jose', new UnsecuredJWT(valid()).encode()],
    ['embedded jwk naming an attacker key', await new SignJWT(valid()).setProtectedHeader({ alg: 'RS256', jwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }).sign(rsa.privateKey)],
    ['jku pointing elsewhere, signed with another secret', await new SignJWT(valid()).setProtectedHeader({ alg: 'HS256', jku: 'http://127.0.0.1:1/keys' }).sign(new TextEncoder().encode('attacker-secret-attacker-secret-123456'))],
    ['unknown critical header', await rawHs256({ alg: 'HS256', crit: ['x-simorgh'], 'x-simorgh': 1 }, valid())],
    ['unencoded payload (b64: false)', await rawHs256({ alg: 'HS256', b64: false, crit: ['b64'] }, valid())],
    ['nbf an hour in the future', await hs256({ ...valid(), nbf: nowS() + 3600 })],
    ['exp far in the past', await hs256({ ...valid(), exp: 1 })],
    ['exp as a string', await rawHs256({ alg: 'HS256' }, { ...valid(), exp: String(nowS() + 600) })],
    ['exp not a number', await rawHs256({ alg: 'HS256' }, { ...valid(), exp: 'never' })],
    ['sub empty', await hs256({ ...valid(), sub: '' })],
    ['sub a number', await rawHs256({ alg: 'HS256' }, { ...valid(), sub: 42 })],
    ['sub an array', await rawHs256({ alg: 'HS256' }, { ...valid(), sub: [arash] })],
    ['sub an object', await rawHs256({ alg: 'HS256' }, { ...valid(), sub: { $ne: null } })],
    ['sub over 150 characters', await hs256({ ...valid(), sub: 'u'.repeat(151) })],
    ['payload that is not JSON', await rawHs256({ alg: 'HS256' }, '{"sub":')],
    ['payload that is a JSON array', await rawHs256({ alg: 'HS256' }, [valid()])],
    ['header that is not JSON', `${b64('{alg')}.${b64(valid())}.${goodSignature}`],
    ['two parts', `${b64({ alg: 'HS256' })}.${b64(valid())}`],
    ['four parts', `${await hs256(valid())}.extra`],
    ['signature stripped', `${(await hs256(valid())).split('.').slice(0, 2).join('.')}.`],
    ['payload swapped to another user under the same signature', `${b64({ alg: 'HS256' })}.${b64({ ...valid(), sub: USERS.sara.username })}.${goodSignature}`],
    ['oversized token (just over the 4 KB limit, correctly signed)', await hs256({ ...valid(), pad: 'p'.repeat(4200) })],
    ['oversized token (12 KB)', await hs256({ ...valid(), pad: 'p'.repeat(12_000) })],
  ];
}

let tokens: Array<[string, string]>;
beforeAll(async () => {
  tokens = await attackTokens();
});

describe('forged and malformed bearer tokens', () => {
  it('accepts the control: a correct HS256 token with exp and sub', async () => {
    const res = await me(await hs256(valid()));
    expect(res.status).toBe(200);
    expect(MeResponseSchema.parse(res.body).user.user_id).toBe(arash);
  });

  it('refuses every attack token on /api/auth/me with 401 and the error body', async () => {
    for (const [name, token] of tokens) {
      const res = await me(token);
      expect(res.status, name).toBe(401);
      expect(ErrorBodySchema.parse(res.body).code, name).toBe('unauthorized');
    }
  });

  it('refuses every attack token on every protected endpoint (401, never 5xx)', async () => {
    // Every route of the table that needs a token, with a real chat ID and project number.
    const endpoints = tableRoutes((route) => route.access !== 'public').map((route) =>
      sampleRequest(route, { id: 'G-202601-000001', project_number: '10234' }),
    );
    expect(endpoints.length).toBeGreaterThanOrEqual(14);
    const results = await Promise.all(
      endpoints.flatMap(({ method, path, body }) =>
        tokens.map(async ([name, token]) => {
          const res = await fetch(`${stack.url}${path}`, {
            method,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            ...(body ? { body } : {}),
          });
          return { label: `${method} ${path} with ${name}`, status: res.status, body: (await res.json()) as unknown };
        }),
      ),
    );
    for (const result of results) {
      expect(result.status, result.label).toBe(401);
      expect(ErrorBodySchema.parse(result.body).code, result.label).toBe('unauthorized');
    }
  });

  it('accepts nbf and exp within the small clock tolerance, refuses them beyond it', async () => {
    expect((await me(await hs256({ ...valid(), nbf: nowS() + 10 }))).status).toBe(200);
    await expectRefused(await hs256({ ...valid(), nbf: nowS() + 120 }));
  });

  it('refuses any change to the signed header or payload (property: 200 random edits)', async () => {
    const token = await hs256(valid());
    const [header = '', payload = '', signature = ''] = token.split('.');
    const signed = `${header}.${payload}`;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: signed.length - 1 }),
        fc.constantFrom(...alphabet.split('')),
        async (position, replacement) => {
          fc.pre(signed[position] !== '.' && signed[position] !== replacement);
          const edited = `${signed.slice(0, position)}${replacement}${signed.slice(position + 1)}`;
          const res = await me(`${edited}.${signature}`);
          expect(res.status).toBe(401);
          ErrorBodySchema.parse(res.body);
        },
      ),
      { numRuns: 200 },
    );
  });
});
