import { createHash, randomBytes } from 'node:crypto';
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

/**
 * A valid token: who it is for, and what revoking it needs. `tokenId` is its `jti`; a token
 * without one (another system's, signed with the same secret) is named by a hash of its text.
 * `expiresS` is the last second (epoch) at which it is still accepted.
 */
export type SignIn = { userId: string; tokenId: string; expiresS: number };

/** Seconds bounds mirror jose's checks: valid while nbf - tolerance <= now < exp + tolerance. */
type Verified = SignIn & { notBeforeS: number };

export type TokenService = {
  sign(userId: string, displayName: string): Promise<{ token: string; expiresIn: number }>;
  /**
   * The sign-in of a validly signed, unexpired token, or null for anything else. Signature and
   * time only: whether it was revoked is `SignInChecks`' question.
   */
  verify(token: string): Promise<SignIn | null>;
};

const JTI_MAX = 64;
const tokenIdOf = (token: string, jti: unknown) =>
  typeof jti === 'string' && jti.length > 0 && jti.length <= JTI_MAX ? jti : `sha256:${createHash('sha256').update(token).digest('base64url')}`;

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
        .setJti(randomBytes(16).toString('base64url'))
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
        if (nowS >= hit.notBeforeS && nowS < hit.expiresS) return { userId: hit.userId, tokenId: hit.tokenId, expiresS: hit.expiresS };
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
        // requiredClaims makes jose refuse a token without a numeric exp.
        const signIn: SignIn = { userId: subject, tokenId: tokenIdOf(token, payload.jti), expiresS: Number(payload.exp) + CLOCK_TOLERANCE_S };
        verified.set(token, {
          ...signIn,
          notBeforeS: typeof payload.nbf === 'number' ? payload.nbf - CLOCK_TOLERANCE_S : Number.NEGATIVE_INFINITY,
        });
        return signIn;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
        throw error;
      }
    },
  };
}
