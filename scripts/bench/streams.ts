import { PLACEHOLDER_TITLE, StreamEventSchema } from '@simorgh/contracts';
import { createParser } from 'eventsource-parser';

/** Reads server-sent events, calling `onData` with each `data:` payload until it returns true or the stream ends. */
async function readEvents(response: Response, onData: (data: string) => boolean): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let finished = false;
  const parser = createParser({
    onEvent: (message) => {
      if (!finished) finished = onData(message.data);
    },
  });
  while (!finished) {
    const { value, done } = await reader.read();
    if (done) return;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  await reader.cancel();
}

const QUESTION = 'What is the minimum wall thickness for a 6 inch Schedule 40 pipe?';

/** Time to the first content token when calling the model server directly (the baseline). */
export async function firstTokenDirect(llmUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${llmUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'system', content: 'You help engineers.' }, { role: 'user', content: QUESTION }] }),
  });
  let at = Number.NaN;
  await readEvents(response, (data) => {
    if (data === '[DONE]') return true;
    const content = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
    if (content) {
      at = performance.now() - started;
      return true;
    }
    return false;
  });
  return at;
}

/** A direct title request to the model server (the baseline for the title figure). */
export async function titleDirect(llmUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${llmUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'bench-model', messages: [{ role: 'system', content: 'Write a conversation title of 2-6 words.' }, { role: 'user', content: QUESTION }] }),
  });
  await response.json();
  return performance.now() - started;
}

export async function createGeneralChat(baseUrl: string, token: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/chats`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ chat_type: 'general' }),
  });
  if (response.status !== 201) throw new Error(`POST /api/chats answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { chat: { chat_id: string } }).chat.chat_id;
}

/**
 * Sends the first message of a new session and reads the whole reply: time to the first delta
 * event, and time until the title is stored (the title event, or polling if it came after the
 * stream ended).
 */
export async function firstMessageThroughApi(baseUrl: string, token: string): Promise<{ firstToken: number; title: number }> {
  const chatId = await createGeneralChat(baseUrl, token);
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/chats/${chatId}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify({ content: QUESTION }),
  });
  if (response.status !== 200) throw new Error(`POST messages answered ${response.status}: ${await response.text()}`);
  let firstToken = Number.NaN;
  let title = Number.NaN;
  await readEvents(response, (data) => {
    const event = StreamEventSchema.parse(JSON.parse(data));
    if (event.type === 'delta' && Number.isNaN(firstToken)) firstToken = performance.now() - started;
    if (event.type === 'title' && Number.isNaN(title)) title = performance.now() - started;
    if (event.type === 'error') throw new Error(`reply failed: ${event.detail}`);
    return false;
  });
  const deadline = Date.now() + 10_000;
  while (Number.isNaN(title) && Date.now() < deadline) {
    const chat = await fetch(`${baseUrl}/api/chats/${chatId}`, { headers: { Authorization: `Bearer ${token}` } });
    if (((await chat.json()) as { chat: { chat_name: string } }).chat.chat_name !== PLACEHOLDER_TITLE) title = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { firstToken, title };
}

/**
 * A second tab following a new chat (GET …/events, open before the message is sent): time from
 * sending the message to the first delta on the follower's stream. The reply's own stream is read
 * to its end alongside, as the tab that sent it would.
 */
export async function firstTokenFollowing(baseUrl: string, token: string): Promise<number> {
  const chatId = await createGeneralChat(baseUrl, token);
  const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
  const events = await fetch(`${baseUrl}/api/chats/${chatId}/events`, { headers });
  if (events.status !== 200) throw new Error(`GET events answered ${events.status}: ${await events.text()}`);
  let started = Number.NaN;
  let firstToken = Number.NaN;
  const following = readEvents(events, (data) => {
    const event = StreamEventSchema.parse(JSON.parse(data));
    if (event.type === 'error') throw new Error(`reply failed: ${event.detail}`);
    if (event.type !== 'delta') return false;
    firstToken = performance.now() - started;
    return true;
  });
  started = performance.now();
  const response = await fetch(`${baseUrl}/api/chats/${chatId}/messages`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: QUESTION }),
  });
  if (response.status !== 200) throw new Error(`POST messages answered ${response.status}: ${await response.text()}`);
  await Promise.all([following, readEvents(response, () => false)]);
  return firstToken;
}
