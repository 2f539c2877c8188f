import { ErrorBodySchema, type ErrorCode } from '@simorgh/contracts';
import { vi } from 'vitest';
import type { z } from 'zod';

/**
 * The only mock in the web tests: a fake `fetch`. Handlers answer with bodies built through the
 * contract schemas, so a test can never feed the app a response the real API could not send.
 */

export type MockRequest = {
  method: string;
  path: string;
  url: URL;
  params: Record<string, string>;
  body: unknown;
  headers: Headers;
  signal: AbortSignal | undefined;
};

type Handler = (request: MockRequest) => Response | Promise<Response>;
type Route = { method: string; pattern: RegExp; keys: string[]; handler: Handler };

function compile(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_match, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}$`), keys };
}

let unhandled: string[] = [];

/** Requests no handler answered since the last call; the test setup fails a test that has any. */
export function takeUnhandledRequests(): string[] {
  const taken = unhandled;
  unhandled = [];
  return taken;
}

export function installFetchMock() {
  const routes: Route[] = [];
  const calls: MockRequest[] = [];

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://localhost');
    const method = (init.method ?? 'GET').toUpperCase();
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    // Later registrations win, so a test can override a default handler.
    for (const route of [...routes].reverse()) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(url.pathname);
      if (match === null) continue;
      const params = Object.fromEntries(route.keys.map((key, i) => [key, decodeURIComponent(match[i + 1] ?? '')]));
      const request: MockRequest = { method, path: url.pathname, url, params, body, headers: new Headers(init.headers), signal };
      calls.push(request);
      return route.handler(request);
    }
    unhandled.push(`${method} ${url.pathname}${url.search}`);
    throw new TypeError(`No fetch handler for ${method} ${url.pathname}`);
  });
  vi.stubGlobal('fetch', fetchMock);

  return {
    on(method: string, path: string, handler: Handler) {
      routes.push({ method, ...compile(path), handler });
    },
    /** Requests made so far, optionally only those for one method and path. */
    calls(method?: string, path?: string): MockRequest[] {
      return calls.filter((call) => (method === undefined || call.method === method) && (path === undefined || call.path === path));
    },
  };
}

export type FetchMock = ReturnType<typeof installFetchMock>;

export function jsonResponse<S extends z.ZodType>(schema: S, body: z.input<S>, status = 200): Response {
  return new Response(JSON.stringify(schema.parse(body)), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

export function errorResponse(status: number, code: ErrorCode, detail: string): Response {
  return jsonResponse(ErrorBodySchema, { detail, code, request_id: 'req-test' }, status);
}

/** A promise the test resolves when it chooses, to hold a response "in flight". */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}
