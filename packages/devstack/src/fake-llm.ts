import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A small OpenAI-compatible server for tests, `pnpm dev` and `pnpm bench`:
 * `GET /v1/models` and `POST /v1/chat/completions` (streamed and not), with switchable
 * behaviours so tests can exercise the real `openai` SDK against outages, hangs, rate limits
 * and slow answers, and can see when the API drops an upstream request.
 *
 *   normal        a short deterministic Markdown reply, streamed token by token
 *   slow          the same, but only after `slowDelayMs` (headers are sent at once for streams)
 *   failing       500 with an OpenAI-style error body
 *   rate_limited  429 with `Retry-After`
 *   hanging       accepts the request and never answers
 *
 * A streamed answer ends with a usage chunk (`choices: []`, `usage`) when the request asks for
 * it with `stream_options.include_usage`, as OpenAI does; `sendUsage: false` (configure) makes
 * the server ignore the option, like servers that do not support it.
 *
 * Title requests (system prompt mentioning a "conversation title") follow `titleMode`, which
 * `setMode` also sets, so a test can slow down or break only the titles with `setTitleMode`.
 */
export type FakeLlmMode = 'normal' | 'slow' | 'failing' | 'rate_limited' | 'hanging';

export type FakeLlmOptions = {
  port?: number;
  host?: string;
  /** Model id listed by /v1/models and echoed in answers. */
  model?: string;
  /** Delay between streamed tokens (default 10 ms). */
  tokenDelayMs?: number;
  /** Delay before the first token / the whole answer in `slow` mode (default 2000 ms). */
  slowDelayMs?: number;
  /** Retry-After seconds sent in `rate_limited` mode (default 7). */
  retryAfterS?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Fixed reply text instead of the generated one. */
  reply?: string;
  /** Fixed title text instead of the generated one (e.g. to test cleaning). */
  titleReply?: string;
  /** Whether a streamed answer honours `stream_options.include_usage` (default true). */
  sendUsage?: boolean;
  mode?: FakeLlmMode;
  titleMode?: FakeLlmMode;
};

export type FakeLlmRequestKind = 'models' | 'chat' | 'title' | 'other';

export type FakeLlmRequest = {
  seq: number;
  kind: FakeLlmRequestKind;
  method: string;
  path: string;
  stream: boolean;
  /** The request asked for a usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  model: string | null;
  messages: Array<{ role: string; content: string }>;
  authorization: string | null;
  mode: FakeLlmMode;
  startedAt: number;
  /** Set when the server finished writing its answer. */
  finishedAt: number | null;
  /** True when the client went away before the answer was complete. */
  aborted: boolean;
  abortedAt: number | null;
};

export type FakeLlm = {
  /** Base URL ending in /v1, ready for OPENAI_BASE_URL. */
  url: string;
  port: number;
  requests: FakeLlmRequest[];
  setMode(mode: FakeLlmMode): void;
  setTitleMode(mode: FakeLlmMode): void;
  configure(options: Omit<FakeLlmOptions, 'port' | 'host' | 'mode' | 'titleMode'>): void;
  /** Resolves with the first logged request matching `predicate` (polling), or rejects after timeoutMs. */
  waitForRequest(predicate: (request: FakeLlmRequest) => boolean, timeoutMs?: number): Promise<FakeLlmRequest>;
  stop(): Promise<void>;
};

const TITLE_MARKER = /conversation title/i;
const CODE_WORDS = /\b(code|script|function|snippet|program|python|typescript|javascript|sql|regex|bash)\b/i;

type ChatMessage = { role: string; content: string };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : ''))
      .join('');
  }
  return '';
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => {
    const record = (item ?? {}) as Record<string, unknown>;
    return { role: String(record.role ?? ''), content: textOf(record.content) };
  });
}

function lastUserMessage(messages: ChatMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role === 'user') return message.content;
  }
  return '';
}

function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** A plausible, deterministic Markdown answer that echoes the question. */
export function demoReply(messages: ChatMessage[]): string {
  const question = lastUserMessage(messages);
  const system = messages.find((message) => message.role === 'system')?.content ?? '';
  const project = /project "([^"\n]+)"/i.exec(system)?.[1];
  const turns = messages.filter((message) => message.role === 'user').length;
  const lines = [
    `You asked: *${shorten(question, 160) || '(nothing)'}*`,
    '',
    'This answer comes from the **local demo model** of Simorgh Chat, so it only echoes your question.',
    'Point `OPENAI_BASE_URL` and `OPENAI_MODEL` at a real OpenAI-compatible server for real answers.',
    '',
    `- Messages from you in this conversation: ${turns}`,
  ];
  if (project) lines.push(`- Project context: ${project}`);
  if (CODE_WORDS.test(question)) {
    lines.push(
      '',
      'Here is a small example:',
      '',
      '```python',
      'def flow_velocity(flow_m3_h: float, diameter_mm: float) -> float:',
      '    """Mean velocity in m/s of a flow through a round pipe."""',
      '    from math import pi',
      '    area_m2 = pi * (diameter_mm / 1000) ** 2 / 4',
      '    return flow_m3_h / 3600 / area_m2',
      '```',
    );
  }
  return lines.join('\n');
}

/** A short title from the first words of the user's message. */
export function demoTitle(messages: ChatMessage[]): string {
  const words = lastUserMessage(messages)
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 5);
  if (words.length === 0) return 'Demo conversation';
  const [first = '', ...rest] = words;
  return [first.charAt(0).toUpperCase() + first.slice(1), ...rest].join(' ');
}

/** Splits text into word-sized tokens that concatenate back to the original. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/**
 * The server's token counts: the words of every message plus 3 per message for the prompt, the
 * streamed tokens for the completion. Deterministic, so tests can tell them from the API's estimate.
 */
export function fakeUsage(messages: ChatMessage[], completion: string) {
  const prompt = messages.reduce((sum, message) => sum + 3 + tokenize(message.content).length, 0);
  const completionTokens = tokenize(completion).length;
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const settings = {
    model: options.model ?? 'simorgh-demo',
    tokenDelayMs: options.tokenDelayMs ?? 10,
    slowDelayMs: options.slowDelayMs ?? 2000,
    retryAfterS: options.retryAfterS ?? 7,
    apiKey: options.apiKey,
    reply: options.reply,
    titleReply: options.titleReply,
    sendUsage: options.sendUsage ?? true,
  };
  let mode: FakeLlmMode = options.mode ?? 'normal';
  let titleMode: FakeLlmMode = options.titleMode ?? mode;
  const requests: FakeLlmRequest[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;
  let completionSeq = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = req.method === 'POST' ? await readBody(req) : '';
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      sendJson(res, 400, { error: { message: 'Body is not valid JSON', type: 'invalid_request_error' } });
      return;
    }
    const messages = parseMessages(body.messages);
    const system = messages.find((message) => message.role === 'system')?.content ?? '';
    const kind: FakeLlmRequestKind =
      req.method === 'GET' && path === '/v1/models'
        ? 'models'
        : req.method === 'POST' && path === '/v1/chat/completions'
          ? TITLE_MARKER.test(system)
            ? 'title'
            : 'chat'
          : 'other';
    const activeMode = kind === 'title' ? titleMode : mode;
    const entry: FakeLlmRequest = {
      seq: (seq += 1),
      kind,
      method: req.method ?? 'GET',
      path,
      stream: body.stream === true,
      includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
      model: typeof body.model === 'string' ? body.model : null,
      messages,
      authorization: req.headers.authorization ?? null,
      mode: activeMode,
      startedAt: Date.now(),
      finishedAt: null,
      aborted: false,
      abortedAt: null,
    };
    requests.push(entry);
    // The response's close event fires on completion too; only an early close is an abort.
    res.on('close', () => {
      if (entry.finishedAt === null && !res.writableFinished) {
        entry.aborted = true;
        entry.abortedAt = Date.now();
      }
    });
    const finish = () => {
      entry.finishedAt = Date.now();
    };
    const gone = () => entry.aborted || res.destroyed;

    if (kind === 'other') {
      sendJson(res, 404, { error: { message: `No route ${req.method} ${path}`, type: 'invalid_request_error' } });
      finish();
      return;
    }
    if (settings.apiKey && req.headers.authorization !== `Bearer ${settings.apiKey}`) {
      sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
      finish();
      return;
    }
    if (activeMode === 'hanging') return;
    if (activeMode === 'failing') {
      sendJson(res, 500, { error: { message: 'The model server had an internal error', type: 'server_error' } });
      finish();
      return;
    }
    if (activeMode === 'rate_limited') {
      sendJson(
        res,
        429,
        { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } },
        { 'Retry-After': String(settings.retryAfterS) },
      );
      finish();
      return;
    }
    if (kind === 'models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: settings.model, object: 'model', created: 1_700_000_000, owned_by: 'simorgh-local' }],
      });
      finish();
      return;
    }

    const model = entry.model ?? settings.model;
    const text =
      kind === 'title' ? (settings.titleReply ?? demoTitle(messages)) : (settings.reply ?? demoReply(messages));
    const id = `chatcmpl-fake-${(completionSeq += 1)}`;
    const created = Math.floor(Date.now() / 1000);

    if (!entry.stream) {
      if (activeMode === 'slow') await sleep(settings.slowDelayMs);
      if (gone()) return;
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop', logprobs: null }],
        usage: fakeUsage(messages, text),
      });
      finish();
      return;
    }

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      })}\n\n`;
    if (activeMode === 'slow') await sleep(settings.slowDelayMs);
    if (gone()) return;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const [index, token] of tokenize(text).entries()) {
      if (index > 0 && settings.tokenDelayMs > 0) await sleep(settings.tokenDelayMs);
      if (gone()) return;
      res.write(chunk({ content: token }, null));
    }
    if (gone()) return;
    res.write(chunk({}, 'stop'));
    if (entry.includeUsage && settings.sendUsage) {
      const usage = fakeUsage(messages, text);
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    }
    res.write('data: [DONE]\n\n');
    entry.finishedAt = Date.now();
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'server_error' } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/v1`,
    port,
    requests,
    setMode(next) {
      mode = next;
      titleMode = next;
    },
    setTitleMode(next) {
      titleMode = next;
    },
    configure(next) {
      Object.assign(settings, next);
    },
    async waitForRequest(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching request to the fake LLM within ${timeoutMs} ms`);
        await sleep(10);
      }
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
