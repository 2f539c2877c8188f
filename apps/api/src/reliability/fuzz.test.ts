import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ErrorBodySchema, routeUrl } from '@simorgh/contracts';
import { parseEventStream } from '../test/event-stream-client.js';
import { PROJECTS, USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../test/served-stack.js';
import { bodyFieldsOf, ENDS_SIGN_IN, pathParamsOf, sampleRequest, tableRoutes, type TableRoute } from '../test/route-samples.js';

/**
 * Property-based fuzzing of everything a client controls: JSON and raw bodies, path
 * parameters, query strings and headers, on every endpoint. The properties: never a 5xx, every
 * 4xx is the one error body, every other answer is JSON or a well-formed event stream.
 */
let stack: ServedStackWithModel;
let token: string;
let adminToken: string;
/** For the routes that end the sign-in they are called with, so `token` stays valid. */
let signOutToken: string;
let ownChat: string;
const RUNS = 100;

beforeAll(async () => {
  stack = await startServedStack({
    model: { tokenDelayMs: 0 },
    env: { MESSAGES_PER_MINUTE: '10000', CONCURRENT_STREAMS: '50', LLM_TIMEOUT_MS: '2000' },
  });
  token = await stack.tokenFor(USERS.arash.username);
  adminToken = await stack.tokenFor(USERS.admin.username);
  signOutToken = await stack.tokenFor(USERS.arash.username);
  ownChat = (await stack.createChat(USERS.arash.username)).chat_id;
});
afterAll(() => stack?.stop());

type Sent = { method: string; path: string; headers?: Record<string, string>; body?: string };

/** Sends one request and checks the properties every answer must have. */
async function check(request: Sent): Promise<number> {
  const label = `${request.method} ${request.path} ${JSON.stringify(request.headers ?? {})} ${(request.body ?? '').slice(0, 200)}`;
  const res = await fetch(`${stack.url}${request.path}`, {
    method: request.method,
    headers: request.headers ?? {},
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  if (request.method === 'GET' && type.startsWith('text/event-stream')) {
    // A chat's events stream stays open: its status is the answer; close it.
    await res.body?.cancel();
    expect(res.status, label).toBe(200);
    return res.status;
  }
  const text = await res.text();
  expect(res.status, label).toBeLessThan(500);
  if (type.startsWith('text/event-stream')) {
    expect(res.status, label).toBe(200);
    for (const event of parseEventStream(text)) {
      if (event.type === 'error') expect(event.code, label).not.toBe('internal');
    }
    return res.status;
  }
  expect(type, label).toMatch(/^application\/json/);
  const body: unknown = JSON.parse(text);
  if (res.status >= 400) expect(() => ErrorBodySchema.parse(body), label).not.toThrow();
  return res.status;
}

const auth = (value = token) => ({ Authorization: `Bearer ${value}` });
const json = (value = token) => ({ ...auth(value), 'Content-Type': 'application/json' });

/** JSON values of every shape, and objects that look like the real bodies with wild field values. */
const wildValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom('', ' ', '0', '-1', '1e309', '10234', '010234', 'general', 'project', 'active', 'archived', 'all', null, true, [], {}, 'x'.repeat(70_000)),
);
const bodyLike = (fields: string[]) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.constantFrom(...fields, '__proto__', 'constructor', 'extra'), wildValue, { maxKeys: fields.length + 1 }),
  );

/** Path parameters that exist: the user's own chat and a project the user may open. */
const ownParams = () => ({ id: ownChat, project_number: String(PROJECTS.refinery.id) });
/** The headers a route's caller sends: no token on public routes, the admin's on admin routes. */
const headersFor = (route: TableRoute) =>
  route.access === 'public'
    ? { 'Content-Type': 'application/json' }
    : json(route.access === 'admin' ? adminToken : ENDS_SIGN_IN.has(route.name) ? signOutToken : token);

/** Every route of the table that takes a body, or could (POST and PATCH). */
const JSON_ENDPOINTS = tableRoutes((route) => route.body !== undefined || route.method === 'POST' || route.method === 'PATCH').map((route) => ({
  name: `${route.method} ${route.path}`,
  method: route.method,
  path: () => routeUrl(route, ownParams()),
  fields: bodyFieldsOf(route),
  headers: () => headersFor(route),
}));

describe('fuzzing request bodies', () => {
  it.each(JSON_ENDPOINTS.map((endpoint) => [endpoint.name, endpoint] as const))(
    'never answers 5xx to any JSON body on %s',
    async (_name, endpoint) => {
      await fc.assert(
        fc.asyncProperty(bodyLike(endpoint.fields), async (body) => {
          await check({ method: endpoint.method, path: endpoint.path(), headers: endpoint.headers(), body: JSON.stringify(body) });
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('never answers 5xx to raw bytes under any content type', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'multipart/form-data; boundary=xyz',
        'text/plain',
        'application/octet-stream',
      ),
      fc.string({ maxLength: 30 }),
    );
    const rawBody = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('{', '{"content":', '[]', 'null', 'first_message=%E0%A4%A', '--xyz\r\nContent-Disposition: form-data; name="first_message"\r\n\r\nhi\r\n--xyz--', '--xyz\r\n\r\n'),
    );
    const target = fc.constantFrom(...tableRoutes((route) => route.body !== undefined));
    await fc.assert(
      fc.asyncProperty(target, contentType, rawBody, fc.boolean(), async (route, type, body, asAdmin) => {
        await check({
          method: route.method,
          path: routeUrl(route, ownParams()),
          headers: { ...auth(asAdmin ? adminToken : token), 'Content-Type': type },
          body,
        });
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

describe('fuzzing path parameters and query strings', () => {
  // Every route with a path parameter, the parameter filled with the value under test.
  const routes = tableRoutes((route) => pathParamsOf(route).length > 0).map(
    (route) => [route.method, (value: string) => route.path.replace(/:\w+/g, value), route] as const,
  );
  const param = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    fc.string({ minLength: 1, maxLength: 60 }).map(encodeURIComponent),
    fc.constantFrom('%', '%E0%A4%A', '%00', '..', '%2e%2e', 'G-202601-000001', 'G-209912-999999', 'P-10234-000001', 'P-0-000001', '1e5', String(PROJECTS.refinery.id), '9'.repeat(400)),
  );

  it('never answers 5xx to any path parameter, and never finds a session the user does not own', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), param, async ([method, path, route], value) => {
        // Dot segments ('.', '%2e', '..') are resolved by the client's URL parser before sending.
        fc.pre(value !== ownChat && !/^(\.|%2e){1,2}$/i.test(value));
        const withBody = method === 'POST' || method === 'PATCH';
        const status = await check({ method, path: path(value), headers: headersFor(route), ...(withBody ? { body: JSON.stringify({ content: 'x', chat_name: 'y' }) } : {}) });
        // A chat route answers 404 (or 400 for a path that is not even valid percent-encoding).
        if (pathParamsOf(route).includes('id')) expect([400, 404]).toContain(status);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it.each(tableRoutes((route) => route.query !== undefined).map((route) => [`${route.method} ${route.path}`, route] as const))(
    'never answers 5xx to any query string on %s',
    async (_name, route) => {
      const fields = Object.keys((route.query as { shape?: object } | undefined)?.shape ?? {});
      const key = fc.constantFrom(...fields, ...fields.flatMap((field) => [`${field}[]`, `${field}[$ne]`]), '__proto__');
      const value = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('0', '-1', '100', '101', '1.5', 'all', 'archived', 'project', '10234', 'W1sw', 'eyJ4IjoxfQ'));
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 5 }), async (pairs) => {
          const query = pairs.map(([name, text]) => `${encodeURIComponent(name)}=${encodeURIComponent(text)}`).join('&');
          await check({ method: route.method, path: `${routeUrl(route, ownParams())}?${query}`, headers: headersFor(route) });
        }),
        { numRuns: RUNS * 2 },
      );
    },
  );
});

describe('fuzzing headers', () => {
  it('never answers 5xx to any Authorization, Content-Type, Content-Encoding, Accept or X-Request-ID', async () => {
    const header = (common: string[]) => fc.option(fc.oneof(fc.constantFrom(...common), fc.string({ maxLength: 80 })), { nil: undefined });
    // Every route of the table; chat routes on a chat that does not exist, so nothing is deleted.
    const routes = tableRoutes().map((route) => {
      const { method, path, body } = sampleRequest(route, { ...ownParams(), id: 'G-202601-999999' });
      return [method, path, body, ENDS_SIGN_IN.has(route.name)] as const;
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        header([`Bearer ${token}`, 'Bearer', 'Bearer ', 'bearer x.y.z', `Basic ${token}`, `Bearer ${token} extra`, `Bearer ${token}.x`]),
        header(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']),
        header(['gzip', 'deflate', 'br', 'identity', 'x-unknown']),
        header(['application/json', 'text/event-stream', '*/*']),
        header(['req-1', '', 'x'.repeat(200)]),
        async ([method, path, body, endsSignIn], authorization, contentType, contentEncoding, accept, requestId) => {
          const headers: Record<string, string> = {};
          if (authorization !== undefined) headers.Authorization = endsSignIn ? authorization.replaceAll(token, signOutToken) : authorization;
          if (contentType !== undefined) headers['Content-Type'] = contentType;
          if (contentEncoding !== undefined && body !== undefined) headers['Content-Encoding'] = contentEncoding;
          if (accept !== undefined) headers.Accept = accept;
          if (requestId !== undefined) headers['X-Request-ID'] = requestId;
          await check({ method, path, headers, ...(body !== undefined ? { body } : {}) });
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });
});
