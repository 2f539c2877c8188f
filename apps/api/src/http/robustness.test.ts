import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { startTestStack, type TestStack } from '../test/harness.js';
import { USERS } from '@simorgh/devstack/fixtures';

let stack: TestStack;
let auth: string;

beforeAll(async () => {
  stack = await startTestStack();
  auth = await stack.bearer(USERS.arash.username);
});
afterAll(() => stack?.stop());

describe('bad input never yields a 5xx', () => {
  it('answers 413 with the error body for a JSON body over 64 KB', async () => {
    const res = await stack
      .http()
      .post('/api/chats')
      .set('Authorization', auth)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ chat_type: 'general', chat_name: 'x'.repeat(70 * 1024) }));
    expect(res.status).toBe(413);
    expect(ErrorBodySchema.parse(res.body).code).toBe('payload_too_large');
  });

  it('answers 400 for malformed JSON, without a stack trace', async () => {
    const res = await stack.http().post('/api/chats').set('Authorization', auth).set('Content-Type', 'application/json').send('{"chat_type": ');
    expect(res.status).toBe(400);
    const body = ErrorBodySchema.parse(res.body);
    expect(body).toMatchObject({ code: 'validation', detail: 'Request body is not valid JSON' });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.(js|ts)/);
  });

  it('answers 400 for a JSON body that is not an object', async () => {
    for (const payload of ['"general"', '[1,2]', 'null', '42']) {
      const res = await stack.http().post('/api/chats').set('Authorization', auth).set('Content-Type', 'application/json').send(payload);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });

  it('ignores unknown fields', async () => {
    const res = await stack.http().post('/api/chats').set('Authorization', auth).send({ chat_type: 'general', surprise: { deep: true } });
    expect(res.status).toBe(201);
    expect(res.body.chat).not.toHaveProperty('surprise');
  });

  it('answers 400 for a path that cannot be percent-decoded', async () => {
    for (const path of ['/api/chats/%', '/api/chats/%E0%A4%A', '/api/projects/%zz']) {
      const res = await stack.http().get(path).set('Authorization', auth);
      expect(res.status).toBe(400);
      expect(ErrorBodySchema.parse(res.body).code).toBe('validation');
    }
  });

  it('answers unknown routes with the JSON error body (404)', async () => {
    const res = await stack.http().get('/api/no-such-thing').set('Authorization', auth);
    expect(res.status).toBe(404);
    expect(ErrorBodySchema.parse(res.body).code).toBe('not_found');
  });
});

describe('response hygiene', () => {
  it('sets security headers and echoes a well-formed request ID', async () => {
    const res = await stack.http().get('/api/health').set('X-Request-ID', 'edge-abc.123');
    expect(res.headers['x-request-id']).toBe('edge-abc.123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('replaces a malformed request ID and returns it in error bodies', async () => {
    const res = await stack.http().get('/api/chats').set('X-Request-ID', 'bad id with spaces');
    expect(res.status).toBe(401);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ErrorBodySchema.parse(res.body).request_id).toBe(id);
  });

  it('answers JSON with its charset and length, without an ETag, and HEAD without a body', async () => {
    const created = await stack.http().post('/api/chats').set('Authorization', auth).send({ chat_type: 'general' });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(created.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(created.body)));
    expect(created.headers.etag).toBeUndefined();

    const listed = await stack.http().get('/api/chats').set('Authorization', auth);
    expect(listed.headers.etag).toBeUndefined();
    const head = await stack.http().head('/api/chats').set('Authorization', auth);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(listed.headers['content-length']);
    expect(head.text ?? '').toBe('');
  });

  it('reads form bodies only where a form is documented (generate-title)', async () => {
    const form = await stack.http().post('/api/chats').set('Authorization', auth).type('form').send({ chat_type: 'general' });
    expect(form.status).toBe(400);
    expect(ErrorBodySchema.parse(form.body).code).toBe('validation');
  });
});
