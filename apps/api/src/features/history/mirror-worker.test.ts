import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import { startTestStack, type TestStack } from '../../test/harness.js';
import { startMirrorWorker } from './mirror-worker.js';

/** The stack's own process runs no mirror: only the worker under test copies the outbox. */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ mirror: false });
});

afterAll(() => stack?.stop());

describe('the mirror in a worker thread', () => {
  it('migrates, copies changes made on the main thread to PostgreSQL, and ends when stopped', async () => {
    const before = await stack.createChat('worker.user');
    const worker = startMirrorWorker(createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' }), stack.processEnv({ LOG_LEVEL: 'silent' }));
    try {
      await worker.migrated;
      const after = await stack.createChat('worker.user');
      await stack.drained();
      const rows = await stack.sql<{ chat_id: string }>('SELECT chat_id FROM chats WHERE user_id = $1 ORDER BY chat_id', ['worker.user']);
      expect(rows.map((row) => row.chat_id)).toEqual([before.chat_id, after.chat_id].sort());
    } finally {
      // Resolves once the thread has ended (its connections closed), not merely asked to.
      await worker.stop();
    }
  }, 60_000);
});
