import { hashSync, verify } from '@node-rs/bcrypt';

/** Compares a password with a stored bcrypt hash ($2a$, $2b$ or $2y$). */
export type PasswordVerifier = { verify(password: string, hash: string): Promise<boolean> };

/**
 * Native bcrypt: each comparison runs on libuv's thread pool, so a flood of sign-ins no longer
 * stalls every other request the way bcryptjs on the event loop did
 * (docs/decisions/sign-in-throttling.md).
 */
export const nativeBcrypt: PasswordVerifier = {
  verify: (password, hash) => verify(password, hash),
};

/**
 * Compared against when the user does not exist, so an unknown name costs the same bcrypt
 * work as a wrong password and response times do not reveal which names exist.
 */
export const DUMMY_HASH = hashSync('simorgh-no-such-user', { cost: 10 });
