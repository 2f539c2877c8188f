import type { RequestHandler } from 'express';
import type { TokenService } from '../features/auth/tokens.js';
import { AppError } from './app-error.js';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId?: string;
    /** The signed-in user: the token's `sub`, never anything from the request body. */
    userId?: string;
  }
}

const BEARER = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/i;

export function requireAuth(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    const userId = match?.[1] ? await tokens.verify(match[1]) : null;
    if (!userId) {
      throw new AppError('unauthorized', 'Sign in again: the access token is missing, invalid or expired', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    res.locals.userId = userId;
    next();
  };
}

/** The user set by requireAuth; throws if a route forgot to require auth. */
export function currentUser(res: { locals: { userId?: string } }): string {
  const userId = res.locals.userId;
  if (!userId) throw new AppError('unauthorized', 'Sign in first');
  return userId;
}
