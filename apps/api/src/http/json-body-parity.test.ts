/**
 * jsonBody replaced `express.json()` for speed (docs/decisions/json-body-reader.md). Each case
 * here goes through both, behind the API's own error handler, and must answer the same, or
 * differently in exactly the way listed with its reason.
 */
import { request } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { gzipSync } from 'node:zlib';
import express, { type Express, type RequestHandler } from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT } from './body-limit.js';
import { createErrorHandlers } from './error-handler.js';
import { jsonBody } from './json-body.js';

function appWith(parser: RequestHandler): Express {
  const app = express();
  app.use(parser);
  // What the route sees: the parsed body, or that nothing was read.
  app.post('/echo', (req, res) => {
    res.json({ read: req.body !== undefined, body: req.body as unknown });
  });
  app.use(createErrorHandlers(pino({ level: 'silent' })).errorHandler);
  return app;
}

const servers: Server[] = [];
let ours = 0;
let library = 0;

async function listen(app: Express): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  [ours, library] = await Promise.all([listen(appWith(jsonBody(BODY_LIMIT))), listen(appWith(express.json({ limit: BODY_LIMIT })))]);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

type Case = { name: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean };

/** Straight through a socket: an HTTP client library would re-encode a Buffer body or set its own headers. */
function send(port: number, { headers = {}, body, chunked }: Case): Promise<{ status: number; body: unknown }> {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const length: Record<string, string> = chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(bytes.length) };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', headers: { ...headers, ...length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (text += piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    if (chunked) {
      const half = Math.floor(bytes.length / 2);
      req.write(bytes.subarray(0, half));
      req.write(bytes.subarray(half));
    } else if (bytes.length > 0) {
      req.write(bytes);
    }
    req.end();
  });
}

/** The status and what the route read; for an error its code (the detail may be worded differently, see charsets). */
const outcome = (res: { status: number; body: unknown }) => {
  const body = res.body as { code?: string };
  return res.status >= 400 ? { status: res.status, code: body.code } : res;
};

const json = { 'Content-Type': 'application/json' };
const big = JSON.stringify({ content: 'x'.repeat(BODY_LIMIT) });
const atLimit = JSON.stringify({ content: 'x'.repeat(BODY_LIMIT - 14) });

const same: Case[] = [
  { name: 'a JSON object', headers: json, body: '{"chat_type":"general"}' },
  { name: 'a JSON array', headers: json, body: '[1,2,3]' },
  { name: 'non-ASCII text', headers: json, body: JSON.stringify({ content: 'فلنج ۳۰۰ درجه — ok' }) },
  { name: 'charset=utf-8', headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"a":1}' },
  { name: 'charset="UTF-8" quoted, upper case', headers: { 'Content-Type': 'application/json; charset="UTF-8"' }, body: '{"a":1}' },
  { name: 'upper-case media type', headers: { 'Content-Type': 'Application/JSON' }, body: '{"a":1}' },
  { name: 'charset=latin1 (400)', headers: { 'Content-Type': 'application/json; charset=latin1' }, body: '{"a":1}' },
  { name: 'charset=utf-16 (400)', headers: { 'Content-Type': 'application/json; charset=utf-16' }, body: '{"a":1}' },
  { name: 'broken JSON (400)', headers: json, body: '{"a":' },
  { name: 'a bare string (400, strict)', headers: json, body: '"hello"' },
  { name: 'a bare number (400, strict)', headers: json, body: '42' },
  { name: 'a body just at the limit', headers: json, body: atLimit },
  { name: 'a body over the limit, with Content-Length (413)', headers: json, body: big },
  { name: 'a body over the limit, chunked (413)', headers: json, body: big, chunked: true },
  { name: 'no Content-Type: left unread', body: '{"a":1}' },
  { name: 'text/plain: left unread', headers: { 'Content-Type': 'text/plain' }, body: '{"a":1}' },
  { name: 'a form: left unread', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' },
  { name: 'Content-Encoding: identity', headers: { ...json, 'Content-Encoding': 'identity' }, body: '{"a":1}' },
  { name: 'a __proto__ key stays plain data', headers: json, body: '{"__proto__":{"admin":true},"a":1}' },
];

/** Where jsonBody answers differently on purpose: what each answers, and why. */
const deliberate: Array<Case & { library: number; ours: number; why: string }> = [
  {
    name: 'a gzip-compressed body',
    headers: { ...json, 'Content-Encoding': 'gzip' },
    body: gzipSync('{"a":1}'),
    library: 200,
    ours: 400,
    why: 'no client of this API compresses requests; inflating means a decompression bomb to guard against, for nothing',
  },
  {
    name: 'a structured-syntax JSON type (application/merge-patch+json)',
    headers: { 'Content-Type': 'application/merge-patch+json' },
    body: '{"a":1}',
    library: 200,
    ours: 200,
    why: 'read as JSON (RFC 6839 suffix); express.json() leaves it unread unless told the type, and the route then says a field is missing',
  },
  {
    name: 'an empty body (Content-Length: 0)',
    headers: json,
    library: 200,
    ours: 200,
    why: 'left unread instead of read as {}: the routes read a missing body as no fields (mount-routes.ts), so the answer is the same',
  },
  {
    name: 'a body of blanks only',
    headers: json,
    body: '   ',
    library: 400,
    ours: 200,
    why: 'treated as no body, like an empty one: the route validation names the missing fields, which says more than "not valid JSON"',
  },
];

describe('jsonBody against express.json({ limit })', () => {
  it.each(same)('answers $name as express.json does', async (testCase) => {
    const [fromLibrary, fromOurs] = await Promise.all([send(library, testCase), send(ours, testCase)]);
    expect(outcome(fromOurs)).toEqual(outcome(fromLibrary));
  });

  it('names the charset problem in its own words (the library says "unsupported charset" or "not valid JSON")', async () => {
    const res = await send(ours, { name: 'latin1', headers: { 'Content-Type': 'application/json; charset=latin1' }, body: '{"a":1}' });
    expect(res).toEqual({ status: 400, body: { code: 'validation', detail: 'Send JSON bodies in UTF-8' } });
  });

  it('answers the size limit with 413 and the one error body, as the library does through the same handler', async () => {
    const res = await send(ours, { name: 'big', headers: json, body: big });
    expect(res).toEqual({ status: 413, body: { code: 'payload_too_large', detail: 'Request body is too large' } });
  });

  it.each(deliberate)('differs on $name, on purpose', async (testCase) => {
    const [fromLibrary, fromOurs] = await Promise.all([send(library, testCase), send(ours, testCase)]);
    expect({ library: fromLibrary.status, ours: fromOurs.status }).toEqual({ library: testCase.library, ours: testCase.ours });
    expect(testCase.why).not.toBe('');
    if (testCase.name.startsWith('a structured-syntax')) {
      expect(fromLibrary.body).toEqual({ read: false });
      expect(fromOurs.body).toEqual({ read: true, body: { a: 1 } });
    }
    if (testCase.name.startsWith('a body of blanks')) expect(fromOurs.body).toEqual({ read: false });
    if (testCase.name.startsWith('an empty body')) {
      expect(fromLibrary.body).toEqual({ read: true, body: {} });
      expect(fromOurs.body).toEqual({ read: false });
    }
  });
});
