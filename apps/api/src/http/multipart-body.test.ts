import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { startServedStack, type ServedStackWithModel } from '../test/served-stack.js';
import { BODY_LIMIT } from './body-limit.js';

let stack: ServedStackWithModel;
let token = '';
let chatId = '';

beforeAll(async () => {
  stack = await startServedStack({ model: { tokenDelayMs: 0 } });
  token = await stack.tokenFor(USERS.arash.username);
  chatId = (await stack.createChat(USERS.arash.username)).chat_id;
});

afterAll(() => stack?.stop());

const BOUNDARY = 'simorgh-test-boundary';

/** A multipart/form-data body of text fields (and optionally one file), as bytes. */
function multipart(fields: Array<[string, string]>, file?: { name: string; bytes: number }): Buffer {
  const parts = fields.map(([name, value]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  if (file) {
    parts.push(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${file.name}"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n${'x'.repeat(file.bytes)}\r\n`,
    );
  }
  return Buffer.from(`${parts.join('')}--${BOUNDARY}--\r\n`);
}

/** POSTs the form to generate-title; `chunked` sends it without a Content-Length, in pieces. */
async function post(body: Buffer, options: { chunked?: boolean } = {}) {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
  const url = `${stack.url}/api/chats/${chatId}/generate-title`;
  if (!options.chunked) return fetch(url, { method: 'POST', headers, body });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < body.length; offset += 8192) controller.enqueue(body.subarray(offset, offset + 8192));
      controller.close();
    },
  });
  return fetch(url, { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit);
}

async function expectTooLarge(response: Response) {
  expect(response.status).toBe(413);
  expect(ErrorBodySchema.parse(await response.json()).code).toBe('payload_too_large');
}

describe('multipart bodies on generate-title', () => {
  const manySmall = Array.from({ length: 19 }, (_, index): [string, string] => [`note${index}`, 'n'.repeat(10_000)]);
  const oversized: Buffer = multipart([...manySmall, ['first_message', 'm'.repeat(10_000)]]);

  it('answers 413 with the error body for 200 KB spread over many small fields, declared or chunked', async () => {
    expect(oversized.length).toBeGreaterThan(BODY_LIMIT * 3);
    const titles = stack.llm.requests.length;
    await expectTooLarge(await post(oversized));
    await expectTooLarge(await post(oversized, { chunked: true }));
    expect(stack.llm.requests.length).toBe(titles);
  });

  it('answers 413 for one field, or one file, over the body limit', async () => {
    await expectTooLarge(await post(multipart([['first_message', 'q'.repeat(200_000)]]), { chunked: true }));
    await expectTooLarge(await post(multipart([['first_message', 'Relief valves']], { name: 'attachment', bytes: 1_000_000 }), { chunked: true }));
  });

  it('answers 413 for a form of too many parts, however small', async () => {
    const parts = Array.from({ length: 200 }, (_, index): [string, string] => [`f${index}`, 'x']);
    await expectTooLarge(await post(multipart(parts)));
  });

  it('still reads a form under the limit, and keeps serving after the refusals', async () => {
    stack.llm.configure({ titleReply: 'Relief Valve Sizing' });
    const response = await post(multipart([['first_message', 'How do I size a relief valve?'], ['note', 'n'.repeat(20_000)]]), { chunked: true });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { title: string }).title).toBe('Relief Valve Sizing');
  });
});
