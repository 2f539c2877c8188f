import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, HealthResponseSchema } from '@simorgh/contracts';
import { ADMIN_USERS } from '@simorgh/devstack/fixtures';
import { REPLICA_ACK_DETAIL } from '../redis.js';
import { eventually, listen, postStream } from '../test/event-stream-client.js';
import { startServedStack, type ServedStackWithModel } from '../test/served-stack.js';

/**
 * Redis as a master, two replicas and three sentinels; every client of the app finds the
 * master through the sentinels and acknowledged writes wait for a replica (the default with
 * sentinels). No failover here: redis-failover.test.ts kills the master.
 */
let stack: ServedStackWithModel;

beforeAll(async () => {
  stack = await startServedStack({ sentinels: {}, model: { tokenDelayMs: 40 } });
}, 120_000);

afterAll(() => stack?.stop());

/** The raw value of a key in the chat DB of one data server. */
async function chatKeyOn(port: number, key: string): Promise<string> {
  const server = stack.sentinelSet?.servers.find((candidate) => candidate.port === port);
  if (!server || !stack.sentinelSet) throw new Error(`no server on ${port}`);
  return (await stack.sentinelSet.cli(server, '-n', String(stack.env.REDIS_CHAT_DB), 'GET', key)).trim();
}

describe('Redis through sentinels', () => {
  it('creates a chat that a replica holds by the time the API answers 201', async () => {
    const chat = await stack.createChat('sentinel.user');
    const replicas = stack.sentinelSet?.servers.slice(1) ?? [];
    // WAIT 1 returned before the answer: at least one replica has the chat already, no polling.
    const held = await Promise.all(replicas.map((replica) => chatKeyOn(replica.port, `chat:${chat.chat_id}:metadata`)));
    expect(held.some((value) => value.includes(chat.chat_id))).toBe(true);
    expect((await stack.chatOf('sentinel.user', chat.chat_id)).chat_id).toBe(chat.chat_id);
  });

  it('streams a reply, stops another through pub/sub, and mirrors both to PostgreSQL', async () => {
    const other = await stack.build();
    const [first, second] = await Promise.all([listen(stack.app), listen(other.app)]);
    try {
      const token = await stack.tokenFor('sentinel.stream');
      const complete = await stack.createChat('sentinel.stream');
      const done = await postStream(`${first.url}/api/chats/${complete.chat_id}/messages`, token, { content: 'Wall thickness of a 6 inch pipe?' });
      expect(done.of('assistant_message')[0]?.message.status).toBe('complete');
      expect(done.events.at(-1)?.event.type).toBe('done');

      // Streamed by the first app, stopped through the second: the stop travels on the master's pub/sub.
      stack.llm.configure({ tokenDelayMs: 150 });
      const stoppable = await stack.createChat('sentinel.stream');
      let stop: Promise<Response> | null = null;
      const stopped = await postStream(`${first.url}/api/chats/${stoppable.chat_id}/messages`, token, { content: 'List every flange class' }, {
        onEvent: (event) => {
          if (event.type === 'delta' && !stop) {
            stop = fetch(`${second.url}/api/chats/${stoppable.chat_id}/stop`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
          }
        },
      });
      expect((await (stop as Promise<Response> | null))?.status).toBe(200);
      expect(stopped.of('assistant_message')[0]?.message.status).toBe('stopped');

      // The mirror's blocking reads go through the sentinels too.
      const mirrored = await eventually(async () => {
        const rows = await stack.sql<{ status: string }>('SELECT status FROM messages WHERE chat_id = ANY($1) ORDER BY chat_id, seq', [[complete.chat_id, stoppable.chat_id]]);
        return rows.length === 4 && rows;
      }, 15_000);
      expect(mirrored.map((row) => row.status).sort()).toEqual(['complete', 'complete', 'complete', 'stopped']);
    } finally {
      stack.llm.configure({ tokenDelayMs: 40 });
      await Promise.all([first.close(), second.close()]);
    }
  }, 60_000);

  it('loads its scripts again on a master that does not know them (as after a failover)', async () => {
    const master = await stack.sentinelSet?.master();
    if (!master || !stack.sentinelSet) throw new Error('no master');
    await stack.sentinelSet.cli(master, 'SCRIPT', 'FLUSH');
    const chat = await stack.createChat('sentinel.noscript');
    expect((await stack.chatOf('sentinel.noscript', chat.chat_id)).chat_id).toBe(chat.chat_id);
  });

  it('tells administrators which master it is on', async () => {
    const master = await stack.sentinelSet?.master();
    const res = await stack.http().get('/api/health').set('Authorization', await stack.bearer(ADMIN_USERS));
    const body = HealthResponseSchema.parse(res.body);
    expect(body.services.redis.status).toBe('healthy');
    expect(body.services.redis.detail).toBe(`master 127.0.0.1:${master?.port}, found through the sentinels`);
    const anonymous = HealthResponseSchema.parse((await stack.http().get('/api/health')).body);
    expect(anonymous.services.redis.detail).toBeUndefined();
  });

  it('answers 503 with the one error body when fewer replicas than required confirm a new chat', async () => {
    // Three acknowledgements asked of two replicas: WAIT times out short.
    const strict = await stack.build({ env: { REDIS_MIN_REPLICA_ACKS: '3', REDIS_WAIT_TIMEOUT_MS: '100' }, mirror: false });
    const before = await stack.http().get('/api/chats').set('Authorization', await stack.bearer('sentinel.strict'));
    const res = await request(strict.app).post('/api/chats').set('Authorization', await stack.bearer('sentinel.strict')).send({ chat_type: 'general' });
    expect(res.status).toBe(503);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ code: 'upstream_unavailable', detail: REPLICA_ACK_DETAIL });
    // As the detail says, the chat was written on the master all the same.
    const after = await stack.http().get('/api/chats').set('Authorization', await stack.bearer('sentinel.strict'));
    expect((after.body as { chats: unknown[] }).chats.length).toBe((before.body as { chats: unknown[] }).chats.length + 1);
  });
});
