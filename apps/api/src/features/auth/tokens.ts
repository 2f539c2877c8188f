import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

export const MAX_TOKEN_LENGTH = 4096;
const CLOCK_TOLERANCE_S = 30;

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
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          requiredClaims: ['exp', 'sub'],
          clockTolerance: CLOCK_TOLERANCE_S,
          currentDate: now(),
        });
        const subject = payload.sub;
        return typeof subject === 'string' && subject.length > 0 && subject.length <= 150 ? subject : null;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
        throw error;
      }
    },
  };
}
