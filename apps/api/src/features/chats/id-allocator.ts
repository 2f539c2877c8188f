import type { Logger } from '../../logger.js';
import type { RedisClient } from '../../redis.js';

/** Give up after this many taken IDs in a row; start-up reconciliation should prevent it. */
const MAX_COLLISIONS = 10_000;

/**
 * Draws numbers from an INCR counter until `tryWrite` claims one (SET NX). A taken ID means
 * the counter was lost (crash, flush): it is skipped with a warning, never issued twice.
 */
export async function allocateId(options: {
  counters: RedisClient;
  counterKey: string;
  format: (seq: number) => string;
  tryWrite: (id: string) => Promise<boolean>;
  logger: Logger;
}): Promise<string> {
  for (let collisions = 0; collisions <= MAX_COLLISIONS; collisions += 1) {
    const seq = await options.counters.incr(options.counterKey);
    const id = options.format(seq);
    if (await options.tryWrite(id)) return id;
    options.logger.warn({ chat_id: id, counter: options.counterKey }, 'session ID already taken; counter was behind, skipping');
  }
  throw new Error(`No free session ID after ${MAX_COLLISIONS} attempts on ${options.counterKey}`);
}
