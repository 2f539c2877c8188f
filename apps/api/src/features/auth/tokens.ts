import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';

export const MAX_TOKEN_LENGTH = 4096;
const CLOCK_TOLERANCE_S = 30;
/**
 * Verified tokens are remembered, by their exact text, for this long: a browser sends the same
 * token on every request, and an HMAC check through WebCrypto was the largest single cost of a
 * request under load. A hit still honours exp/nbf against the current time; anything else a
 * verification checks depends only on the token text and the key, so the answer cannot differ.
 */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

/** Seconds bounds mirror jose's checks: valid while nbf - tolerance <= now < exp + tolerance. */
type Verified = { userId: string; notBeforeS: number; expiresS: number };

export type TokenService = {
  sign(userId: string, displayName: string): Promise<{ token: string; expiresIn: number }>;
  /** The user (`sub`) of a valid token, or null for anything else. */
  verify(token: string): Promise<string | null>;
};

/**
 * HS256 only, `exp` and `sub` required. Tokens from another system signed with the same
 * secret are accepted the same way; nothing but `sub` is read from them.
 */
export function createTokenService(secret: string, expiresInSeconds: number, now: () => Date): TokenService {
  const key = new TextEncoder().encode(secret);
  // Entries age by the injected clock, like the token's own exp/nbf checks.
  const verified = new LRUCache<string, Verified>({
    max: VERIFIED_MAX,
    ttl: VERIFIED_TTL_MS,
    ttlResolution: 0,
    perf: { now: () => now().getTime() },
  });
  return {
    async sign(userId, displayName) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT({ name: displayName })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + expiresInSeconds)
        .sign(key);
      return { token, expiresIn: expiresInSeconds };
    },
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) return null;
      const currentDate = now();
      const nowMs = currentDate.getTime();
      const hit = verified.get(token);
      if (hit) {
        const nowS = Math.floor(nowMs / 1000);
        if (nowS >= hit.notBeforeS && nowS < hit.expiresS) return hit.userId;
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate,
        });
        const subject = payload.sub;
        if (!(typeof subject === 'string' && subject.length > 0 && subject.length <= 150)) return null;
        if (typeof payload.exp === 'number') {
          verified.set(token, {
            userId: subject,
            notBeforeS: typeof payload.nbf === 'number' ? payload.nbf - CLOCK_TOLERANCE_S : Number.NEGATIVE_INFINITY,
            expiresS: payload.exp + CLOCK_TOLERANCE_S,
          });
        }
        return subject;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
        throw error;
      }
    },
  };
}
