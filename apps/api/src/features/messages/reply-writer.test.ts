import { describe, expect, it } from 'vitest';
import type { EventFrame } from '@simorgh/contracts';
import { createReplyWriter } from './reply-writer.js';

/** A store whose writes answer only when the test says so. */
function heldStore() {
  const writes: Array<{ events: string[]; firstId: string | undefined; answer: (ids: string[]) => void }> = [];
  return {
    writes,
    storeDelta: (events: string[], _text: string, firstId?: string) =>
      new Promise<string[]>((resolve) => {
        writes.push({ events, firstId, answer: resolve });
      }),
  };
}

function writerWith(store: ReturnType<typeof heldStore>, firstId?: string) {
  const delivered: EventFrame[] = [];
  const errors: unknown[] = [];
  const writer = createReplyWriter({
    storeDelta: store.storeDelta,
    ...(firstId === undefined ? {} : { firstId }),
    deliver: (frame) => delivered.push(frame),
    onEnded: () => undefined,
    onError: (error) => errors.push(error),
    intervalMs: 0,
  });
  return { writer, delivered, errors };
}

const delta = (content: string) => ({ type: 'delta', message_id: 'M-2', content });

describe('reply writer', () => {
  it('delivers the first delta with its reserved ID as soon as its write is sent, and later ones once stored', async () => {
    const store = heldStore();
    const { writer, delivered } = writerWith(store, '1700000000000-1000000000');
    writer.delta('M-2', 'Cen');
    expect(store.writes[0]?.firstId).toBe('1700000000000-1000000000');
    expect(delivered).toEqual([{ id: '1700000000000-1000000000', event: delta('Cen') }]);

    writer.delta('M-2', 'trifugal');
    const flushed = writer.flush();
    store.writes[0]?.answer(['1700000000000-1000000000']);
    await eventuallyLength(store.writes, 2);
    expect(store.writes[1]?.firstId).toBeUndefined();
    expect(delivered).toHaveLength(1);
    store.writes[1]?.answer(['1700000000001-0']);
    await flushed;
    expect(delivered.map((frame) => frame.id)).toEqual(['1700000000000-1000000000', '1700000000001-0']);
  });

  it('waits for the store when something was written before the first delta, or no ID was reserved', async () => {
    const store = heldStore();
    const { writer, delivered } = writerWith(store, '1700000000000-1000000000');
    const title = writer.enqueue([{ type: 'title', chat_id: 'c', title: 'Pumps' }], async () => ['1700000000000-1']);
    writer.delta('M-2', 'Cen');
    await title;
    await eventuallyLength(store.writes, 1);
    expect(store.writes[0]?.firstId).toBeUndefined();
    expect(delivered).toHaveLength(1);

    const plain = heldStore();
    const unreserved = writerWith(plain);
    unreserved.writer.delta('M-2', 'Cen');
    expect(plain.writes[0]?.firstId).toBeUndefined();
    expect(unreserved.delivered).toEqual([]);
  });

  it('reports a first delta stored under another ID than the one delivered', async () => {
    const store = heldStore();
    const { writer, errors } = writerWith(store, '1700000000000-1000000000');
    writer.delta('M-2', 'Cen');
    store.writes[0]?.answer(['1700000000002-0']);
    await writer.flush();
    expect(String(errors[0])).toContain('not under its reserved ID');
  });
});

async function eventuallyLength(items: unknown[], length: number): Promise<void> {
  for (let tries = 0; items.length < length && tries < 100; tries += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(items).toHaveLength(length);
}
