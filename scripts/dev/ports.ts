import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when nothing listens on 127.0.0.1:port yet. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function parsePort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${name}=${raw} is not a TCP port (1-65535)`);
  }
  return port;
}

/**
 * Polls `url` until it answers with any HTTP status (the API's health check may say 503 while
 * a dependency is down, which still means the server is up). Returns the status, or null if
 * `shouldStop` turned true first.
 */
export async function waitForHttp(url: string, shouldStop: () => boolean): Promise<number | null> {
  while (!shouldStop()) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status;
    } catch {
      await sleep(300);
    }
  }
  return null;
}
