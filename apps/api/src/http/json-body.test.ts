import { connect } from 'node:net';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateChatResponseSchema, ErrorBodySchema } from '@simorgh/contracts';
import { startServedStack, type ServedStack } from '../test/served-stack.js';
import { USERS } from '@simorgh/devstack/fixtures';

let stack: ServedStack;
let auth: string;
let port: number;

beforeAll(async () => {
  stack = await startServedStack();
  auth = await stack.bearer(USERS.arash.username);
  port = Number(new URL(stack.url).port);
});
afterAll(() => stack?.stop());

const post = (contentType: string, body: string, headers: Record<string, string> = {}) =>
  stack.http().post('/api/chats').set('Authorization', auth).set('Content-Type', contentType).set(headers).send(body);

/** POST /api/chats with a chunked body (no Content-Length), through a real socket. */
function postChunked(chunks: string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/chats', headers: { Authorization: auth, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => (text += piece));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('JSON request bodies', () => {
  it('reads JSON sent in several chunks, with or without a UTF-8 charset', async () => {
    const chunked = await postChunked(['{"chat_type"', ':"gen', 'eral"}']);
    expect(chunked.status).toBe(201);
    expect(CreateChatResponseSchema.parse(chunked.body).chat.chat_type).toBe('general');
    for (const type of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/vnd.simorgh+json']) {
      expect((await post(type, '{"chat_type":"general"}')).status).toBe(201);
    }
  });

  it('answers 413 for a chunked body over 64 KB, and stays up', async () => {
    const big = await postChunked(['{"chat_type":"general","chat_name":"', 'x'.repeat(40 * 1024), 'y'.repeat(40 * 1024), '"}']);
    expect(big.status).toBe(413);
    expect(ErrorBodySchema.parse(big.body).code).toBe('payload_too_large');
    expect((await post('application/json', '{"chat_type":"general"}')).status).toBe(201);
  });

  it('refuses other charsets and compressed bodies with 400 and a detail that says why', async () => {
    const latin1 = await post('application/json; charset=latin1', '{"chat_type":"general"}');
    expect(latin1.status).toBe(400);
    expect(ErrorBodySchema.parse(latin1.body).detail).toBe('Send JSON bodies in UTF-8');
    const gzip = await post('application/json', '{"chat_type":"general"}', { 'Content-Encoding': 'gzip' });
    expect(gzip.status).toBe(400);
    expect(ErrorBodySchema.parse(gzip.body).detail).toBe('Send the request body uncompressed (no Content-Encoding)');
  });

  it('answers 400 for bare JSON values and for broken JSON, and treats an empty body as no fields', async () => {
    for (const payload of ['"general"', '42', 'true', '{"chat_type":', '{"a":1}}']) {
      const res = await post('application/json', payload);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body)).toMatchObject({ code: 'validation', detail: 'Request body is not valid JSON' });
    }
    const empty = await post('application/json', '   ');
    expect(empty.status).toBe(400);
    expect(ErrorBodySchema.parse(empty.body).issues?.map((issue) => issue.path)).toContain('chat_type');
  });

  it('leaves bodies of other types unread: the route says what is missing', async () => {
    const text = await post('text/plain', '{"chat_type":"general"}');
    expect(text.status).toBe(400);
    expect(ErrorBodySchema.parse(text.body).issues?.map((issue) => issue.path)).toContain('chat_type');
  });

  it('survives a client that goes away in the middle of a body', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST /api/chats HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"chat_`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    expect((await post('application/json', '{"chat_type":"general"}')).status).toBe(201);
  });
});
