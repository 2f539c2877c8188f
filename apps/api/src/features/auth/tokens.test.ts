import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenService } from './tokens.js';

const SECRET = 'token-test-secret-that-is-long-enough-0123456789';

describe('token verification with remembered results', () => {
  it('refuses a remembered token once it expires, as a fresh verification would', async () => {
    let current = new Date('2026-03-01T08:00:00Z');
    const tokens = createTokenService(SECRET, 600, () => current);
    const { token } = await tokens.sign('arash', 'Arash');
    expect((await tokens.verify(token))?.userId).toBe('arash');
    current = new Date(current.getTime() + 10_000);
    expect((await tokens.verify(token))?.userId).toBe('arash');
    // 600 s lifetime + 30 s tolerance.
    current = new Date(Date.parse('2026-03-01T08:00:00Z') + 629_000);
    expect((await tokens.verify(token))?.userId).toBe('arash');
    current = new Date(Date.parse('2026-03-01T08:00:00Z') + 630_000);
    expect(await tokens.verify(token)).toBeNull();
  });

  it('never lets a remembered token vouch for a tampered copy or another key', async () => {
    const now = () => new Date('2026-03-01T08:00:00Z');
    const tokens = createTokenService(SECRET, 600, now);
    const { token } = await tokens.sign('arash', 'Arash');
    expect((await tokens.verify(token))?.userId).toBe('arash');
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'sara', exp: 1_900_000_000 })).toString('base64url')}.${signature}`;
    expect(await tokens.verify(forged)).toBeNull();
    const otherKey = createTokenService(`${SECRET}-rotated`, 600, now);
    expect(await otherKey.verify(token)).toBeNull();
  });
});

describe('token identity (what sign-out revokes)', () => {
  it('gives every signed token its own random jti, and names a token without one by its hash', async () => {
    const now = () => new Date('2026-03-01T08:00:00Z');
    const tokens = createTokenService(SECRET, 600, now);
    const first = await tokens.verify((await tokens.sign('arash', 'Arash')).token);
    const second = await tokens.verify((await tokens.sign('arash', 'Arash')).token);
    expect(first?.tokenId).toMatch(/^[\w-]{22}$/);
    expect(second?.tokenId).not.toBe(first?.tokenId);
    expect(first?.expiresS).toBe(Date.parse('2026-03-01T08:10:30Z') / 1000);

    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('arash')
      .setExpirationTime(Date.parse('2026-03-01T09:00:00Z') / 1000)
      .sign(new TextEncoder().encode(SECRET));
    const named = await tokens.verify(foreign);
    expect(named?.tokenId).toMatch(/^sha256:[\w-]{43}$/);
    // Remembered or verified afresh, the same token has the same name.
    expect((await createTokenService(SECRET, 600, now).verify(foreign))?.tokenId).toBe(named?.tokenId);
  });
});
