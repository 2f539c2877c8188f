import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { createLogger } from '../logger.js';
import { startTestStack, type TestStack } from '../test/harness.js';
import { USERS } from '@simorgh/devstack/fixtures';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

/** The app on the stack's services, logging at `level` into an array of parsed lines. */
function appLoggingAt(level: 'info' | 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ LOG_LEVEL: level, NODE_ENV: 'test' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const app = createApp({ ...stack.deps, logger });
  return { http: () => request(app), lines };
}

describe('request logging', () => {
  it('logs each error response once, with request ID, method, path and status, never the token', async () => {
    const { http, lines } = appLoggingAt('info');
    const token = await stack.tokenFor(USERS.arash.username);
    const missing = await http().get('/api/no-such-thing?secret=1').set('Authorization', `Bearer ${token}`).set('X-Request-ID', 'req-404');
    expect(missing.status).toBe(404);
    const refused = await http().get('/api/chats').set('Authorization', `Bearer ${token}x`).set('X-Request-ID', 'req-401');
    expect(refused.status).toBe(401);

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      req: { id: 'req-404', method: 'GET', path: '/api/no-such-thing' },
      res: { status: 404 },
      code: 'not_found',
    });
    expect(lines[1]).toMatchObject({ level: 30, req: { id: 'req-401', path: '/api/chats' }, res: { status: 401 }, code: 'unauthorized' });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain('secret');
  });

  it('writes no line for a success at info, and one per request at debug', async () => {
    const auth = await stack.bearer(USERS.arash.username);
    const quiet = appLoggingAt('info');
    expect((await quiet.http().get('/api/chats').set('Authorization', auth)).status).toBe(200);
    expect(quiet.lines).toEqual([]);

    const verbose = appLoggingAt('debug');
    expect((await verbose.http().get('/api/chats').set('Authorization', auth)).status).toBe(200);
    const completed = verbose.lines.filter((line) => line.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ level: 20, req: { method: 'GET', path: '/api/chats' }, res: { status: 200 } });
    expect(typeof completed[0]?.responseTime).toBe('number');
    expect(JSON.stringify(verbose.lines)).not.toContain(auth.slice(7));
  });
});
