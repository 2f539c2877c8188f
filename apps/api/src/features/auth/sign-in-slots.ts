import { AppError } from '../../http/app-error.js';

const busy = () =>
  new AppError('upstream_unavailable', 'Too many sign-ins at once; try again in a moment', { 'Retry-After': '1' });

/**
 * At most `concurrency` sign-ins checked at once (a TPMS lookup and a bcrypt comparison each),
 * at most `queue` more waiting in arrival order; beyond that a sign-in is refused at once, so a
 * flood can neither exhaust the TPMS pool nor pile up waiting requests without bound.
 */
export function createSignInSlots(options: { concurrency: number; queue: number }) {
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };

  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running < options.concurrency) {
        running += 1;
      } else if (waiting.length < options.queue) {
        // The slot is handed over by release(); `running` stays as it is.
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        throw busy();
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

export type SignInSlots = ReturnType<typeof createSignInSlots>;
