import { StreamEventSchema, type StreamEvent } from '@simorgh/contracts';
import { apiHeaders, sendApiRequest } from './client';

/**
 * Reads a reply stream. EventSource cannot POST or send an Authorization header, so the
 * `text/event-stream` body is read from fetch's ReadableStream and split into SSE frames here.
 * Resolves when the server closes the stream; rejects with an AbortError when `signal` aborts.
 */
export async function postEventStream(
  path: string,
  body: unknown,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const headers = apiHeaders({ Accept: 'text/event-stream' });
  const init: RequestInit = { method: 'POST', headers, signal };
  if (body !== undefined) {
    headers.set('Content-Type', 'application/json');
    init.body = JSON.stringify(body);
  }
  const response = await sendApiRequest(path, init);
  if (response.body === null) return;

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const abort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', abort, { once: true });
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (signal.aborted) throw new DOMException('The stream was stopped.', 'AbortError');
      if (done) break;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, '\n');
      let boundary = buffer.indexOf('\n\n');
      while (boundary !== -1) {
        const event = parseFrame(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (event !== null) onEvent(event);
        boundary = buffer.indexOf('\n\n');
      }
    }
    const last = parseFrame(buffer);
    if (last !== null) onEvent(last);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/**
 * One SSE frame → one event. Comment lines (`: ping` heartbeats) carry nothing. A frame the
 * contract does not know is skipped rather than fatal, so a newer server can add event types
 * without breaking open tabs.
 */
export function parseFrame(frame: string): StreamEvent | null {
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  if (data.length === 0) return null;
  try {
    const parsed = StreamEventSchema.safeParse(JSON.parse(data.join('\n')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
