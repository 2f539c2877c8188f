import type { RequestHandler } from 'express';
import type { SignIn } from '../features/auth/tokens.js';
import { AppError } from './app-error.js';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId?: string;
    /** The signed-in user: the token's `sub`, never anything from the request body. */
    userId?: string;
    /** The token the request came with, as sign-out needs it. */
    signIn?: SignIn;
  }
}

/** A bearer token's sign-in if the token is valid and still allowed, else null. */
export type Authenticate = (token: string) => Promise<SignIn | null>;

const BEARER = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/i;

const bearerToken = (header: string | undefined) => BEARER.exec(header ?? '')?.[1] ?? null;

export function requireAuth(authenticate: Authenticate): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    const signIn = token ? await authenticate(token) : null;
    if (!signIn) {
      throw new AppError('unauthorized', 'Sign in again: the access token is missing, invalid or expired', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    res.locals.userId = signIn.userId;
    res.locals.signIn = signIn;
    next();
  };
}

/**
 * For public routes: sets the user when the request carries a valid token, and otherwise (no
 * token, a bad one, or Redis unable to say) lets the request through anonymously.
 */
export function optionalAuth(authenticate: Authenticate): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    const signIn = token ? await authenticate(token).catch(() => null) : null;
    if (signIn) {
      res.locals.userId = signIn.userId;
      res.locals.signIn = signIn;
    }
    next();
  };
}

/** The user set by requireAuth; throws if a route forgot to require auth. */
export function currentUser(res: { locals: { userId?: string } }): string {
  const userId = res.locals.userId;
  if (!userId) throw new AppError('unauthorized', 'Sign in first');
  return userId;
}

/** The sign-in set by requireAuth; throws if a route forgot to require auth. */
export function currentSignIn(res: { locals: { signIn?: SignIn } }): SignIn {
  const signIn = res.locals.signIn;
  if (!signIn) throw new AppError('unauthorized', 'Sign in first');
  return signIn;
}
