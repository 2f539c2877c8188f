/**
 * Runs an archive pass (archive-pass.ts) every `intervalMs` in every API process; the pass
 * lock lets one of them run it at a time, the others skip that turn. A failed pass (PostgreSQL
 * or Redis away) is logged and tried again next turn.
 */
import type { Logger } from '../../logger.js';
import type { HistoryService } from './history.service.js';

/** How often each process tries a pass. */
export const ARCHIVE_INTERVAL_MS = 15 * 60_000;

export function startArchiveJob(history: Pick<HistoryService, 'runScheduledArchive'>, logger: Logger, intervalMs = ARCHIVE_INTERVAL_MS) {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = history.runScheduledArchive().catch((error: unknown) => logger.warn({ err: error }, 'archive pass failed; tried again next turn'));
  };
  // The first turn at a random point of the first interval (processes started together spread
  // out, and start-up is left alone), then on the interval.
  const first = setTimeout(tick, Math.floor(Math.random() * intervalMs));
  const timer = setInterval(tick, intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
