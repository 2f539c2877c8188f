import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatResponseSchema, CreateChatResponseSchema, ErrorBodySchema, ListMessagesResponseSchema } from '@simorgh/contracts';
import { eventually, postStream } from '../test/event-stream-client.js';
import { startBalancedStack, type BalancedStack } from '../test/balanced-stack.js';

/**
 * A failover under load, with real processes only: a master, two replicas and three sentinels
 * (a second without answer marks the master down), two API processes behind the repository's
 * nginx, a burst of chat creations and a reply being streamed; then `kill -9` on the master.
 */
const DOWN_AFTER_MS = 1000;
let stack: BalancedStack;

beforeAll(async () => {
  stack = await startBalancedStack({
    // The reply takes about six seconds: it starts before the kill and ends after the failover.
    model: { tokenDelayMs: 100, reply: Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ') },
    sentinels: { downAfterMs: DOWN_AFTER_MS, failoverTimeoutMs: 3000 },
    mirror: false,
    apiEnv: { CHATS_PER_MINUTE: '100000', MAX_CHATS_PER_USER: '100000' },
  });
}, 120_000);

afterAll(() => stack?.stop());

type Outcome = { at: number; status: number; chatId?: string; detail?: string };

describe('Redis master killed under load', () => {
  it('recovers by itself: every 201 survives, no ID twice, the reply ends, failures are 503s', async () => {
    const set = stack.sentinelSet;
    if (!set) throw new Error('no sentinel set');
    const oldMaster = await set.master();
    const user = 'failover.user';
    const token = await stack.tokenFor(user);
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };

    const outcomes: Outcome[] = [];
    const bad: string[] = [];
    const create = async (): Promise<void> => {
      const at = performance.now();
      const res = await fetch(`${stack.nginx.url}/api/chats`, { method: 'POST', headers, body: JSON.stringify({ chat_type: 'general' }) });
      const body: unknown = await res.json();
      if (res.status === 201) {
        outcomes.push({ at, status: 201, chatId: CreateChatResponseSchema.parse(body).chat.chat_id });
      } else {
        outcomes.push({ at, status: res.status, detail: String((body as { detail?: unknown }).detail) });
        // During the failover: the one error body, 503, never a 500 or a proxy error page.
        const parsed = ErrorBodySchema.safeParse(body);
        if (res.status !== 503 || !parsed.success || parsed.data.code !== 'upstream_unavailable') bad.push(`${res.status} ${JSON.stringify(body)}`);
      }
    };

    // The reply in flight when the master dies.
    const replyChat = CreateChatResponseSchema.parse(
      await (await fetch(`${stack.nginx.url}/api/chats`, { method: 'POST', headers, body: JSON.stringify({ chat_type: 'general' }) })).json(),
    ).chat.chat_id;
    let firstDelta: () => void = () => undefined;
    const streaming = new Promise<void>((resolve) => {
      firstDelta = resolve;
    });
    const reply = postStream(`${stack.nginx.url}/api/chats/${replyChat}/messages`, token, { content: 'Explain relief valve sizing' }, {
      onEvent: (event) => {
        if (event.type === 'delta') firstDelta();
      },
    });

    // Four clients creating chats back to back, from before the kill until creations succeed again.
    let killedAt = Infinity;
    let running = true;
    // Done once 20 creations succeeded after the last failure that followed the kill.
    const recoveredFully = () => {
      const lastFailure = Math.max(...outcomes.filter((outcome) => outcome.status !== 201 && outcome.at > killedAt).map((outcome) => outcome.at));
      return Number.isFinite(lastFailure) && outcomes.filter((outcome) => outcome.status === 201 && outcome.at > lastFailure).length >= 20;
    };
    const worker = async () => {
      while (running && !recoveredFully()) await create();
    };
    const workers = Promise.all([worker(), worker(), worker(), worker()]);
    await streaming;
    await eventually(() => outcomes.filter((outcome) => outcome.status === 201).length >= 20, 10_000);
    killedAt = performance.now();
    oldMaster.signal('SIGKILL');
    // When the sentinels name the new master, to tell their part of the window from the API's.
    let promotedAt = Infinity;
    const watching = (async () => {
      while (running && promotedAt === Infinity) {
        if ((await set.master().catch(() => oldMaster)).port !== oldMaster.port) promotedAt = performance.now();
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.race([
      workers,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the API did not recover within 40 s')), 40_000)),
    ]);
    running = false;
    await Promise.all([workers, watching]);

    expect(bad).toEqual([]);
    const newMaster = await set.master();
    expect(newMaster.port).not.toBe(oldMaster.port);

    // The unavailability window: from the first failing request (requests already on their way
    // at the kill count from the kill) to the first success sent after the last failure.
    const failed = outcomes.filter((outcome) => outcome.status !== 201).sort((a, b) => a.at - b.at);
    const firstFailure = failed[0];
    const lastFailure = failed.at(-1);
    const recovered = outcomes.filter((outcome) => outcome.status === 201 && outcome.at > (lastFailure?.at ?? Infinity)).sort((a, b) => a.at - b.at)[0];
    expect(firstFailure).toBeDefined();
    expect(recovered).toBeDefined();
    const windowStart = Math.max(firstFailure?.at ?? 0, killedAt);
    console.info(
      `failover: ${outcomes.length} creations, ${failed.length} answered 503; unavailable ${Math.round((recovered?.at ?? 0) - windowStart)} ms, ` +
        `new master named ${Math.round(promotedAt - killedAt)} ms after the kill (down-after-milliseconds ${DOWN_AFTER_MS}); ` +
        `503 details: ${JSON.stringify([...new Set(failed.map((outcome) => outcome.detail))].map((detail) => [detail?.slice(0, 40), failed.filter((outcome) => outcome.detail === detail).length]))}`,
    );

    // The reply in flight ended: saved (complete) or ended with an error event, and the stream closed.
    const streamed = await reply;
    expect(streamed.status).toBe(200);
    expect(streamed.events.at(-1)?.event.type).toBe('done');
    const assistant = streamed.of('assistant_message')[0];
    expect(assistant !== undefined || streamed.of('error').length > 0).toBe(true);
    const stored = ListMessagesResponseSchema.parse(await (await fetch(`${stack.nginx.url}/api/chats/${replyChat}/messages`, { headers })).json()).messages;
    expect(stored[0]?.role).toBe('user');
    if (assistant) expect(stored.find((message) => message.message_id === assistant.message.message_id)?.status).toBe(assistant.message.status);

    // Every chat answered 201 exists after the failover, and no ID was handed out twice.
    const created = outcomes.flatMap((outcome) => (outcome.chatId ? [outcome.chatId] : []));
    expect(new Set(created).size).toBe(created.length);
    for (const chatId of [replyChat, ...created]) {
      const res = await fetch(`${stack.nginx.url}/api/chats/${chatId}`, { headers });
      expect(res.status, chatId).toBe(200);
      expect(ChatResponseSchema.parse(await res.json()).chat.chat_id).toBe(chatId);
    }

    // Both processes serve again without a restart.
    for (const api of stack.apis) {
      const res = await fetch(`${api.url}/api/chats`, { method: 'POST', headers, body: JSON.stringify({ chat_type: 'general' }) });
      expect(res.status).toBe(201);
      expect(created).not.toContain(CreateChatResponseSchema.parse(await res.json()).chat.chat_id);
    }
  }, 100_000);
});
