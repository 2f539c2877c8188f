/**
 * Recovers replies whose API process died: every process looks, every `intervalMs`, for replies
 * whose lease ended (their writer renews it every third of it while alive) and claims them one
 * by one in an atomic script, so exactly one process saves each as an error ("The reply was
 * interrupted") and tells its followers. A reply is so recovered at most lease + interval after
 * its process died.
 */
import type { Clock } from '../../deps.js';
import type { Logger } from '../../logger.js';
import type { MessagesStore } from './messages.store.js';

const BATCH = 20;

export function startReplySweeper(options: { store: MessagesStore; clock: Clock; logger: Logger; intervalMs: number }): { stop(): Promise<void> } {
  const { store, clock, logger } = options;
  let sweeping: Promise<void> | null = null;
  let lastWarning = 0;
  const sweep = async () => {
    try {
      for (let claimed = BATCH; claimed >= BATCH; ) {
        const recovered = await store.claimExpired(clock.now().getTime(), BATCH);
        for (const chatId of recovered) logger.warn({ chat_id: chatId }, 'recovered a reply whose process stopped: marked interrupted');
        claimed = recovered.length;
      }
    } catch (error) {
      if (Date.now() - lastWarning > 10_000) {
        lastWarning = Date.now();
        logger.warn({ err: { message: (error as Error)?.message } }, 'could not look for interrupted replies');
      }
    }
  };
  const timer = setInterval(() => {
    sweeping ??= sweep().finally(() => {
      sweeping = null;
    });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}
