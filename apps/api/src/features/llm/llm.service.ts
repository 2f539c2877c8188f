import type OpenAI from 'openai';
import type { ErrorCode, LlmDiagnostics, MessageUsage, ServiceHealth } from '@simorgh/contracts';
import { baseUrlHost, type LlmConfig } from './llm-client.js';
import { LlmError, NO_MODEL_DETAIL, NOT_CONFIGURED_DETAIL, timeoutError, toLlmError } from './llm-errors.js';

/** What a failed model call throws; other features recognise it through this service. */
export { LlmError };
import { cleanTitle, fallbackTitle, TITLE_INPUT_MAX_CHARS, TITLE_SYSTEM_PROMPT } from './title.js';
import { reportedUsage } from './usage.js';
export { estimateUsage } from './usage.js';

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

type Logger = {
  warn(object: object, message: string): void;
  debug(object: object, message: string): void;
};

export type LlmServiceOptions = {
  openai: OpenAI | null;
  config: LlmConfig;
  logger: Logger;
  now?: () => Date;
  /** How long a models probe answer is reused (health and diagnostics share it). */
  probeCacheMs?: number;
  probeTimeoutMs?: number;
  /** Title requests give up sooner than replies: a fallback title is better than a late one. */
  titleTimeoutMs?: number;
  /** A title request failed (a fallback title was used): counted apart from reply errors. */
  onTitleError?: (kind: ErrorCode) => void;
};

export type TitleResult = { title: string; source: 'model' | 'fallback' };

export type LlmService = {
  readonly configured: boolean;
  readonly chatModel: string | null;
  readonly titleModel: string | null;
  readonly systemPrompt: string;
  /**
   * Streams reply text. Ends quietly when `signal` aborts (the caller knows why); throws an
   * LlmError for every model failure, including a stream that goes idle for the timeout.
   * Usage is asked for (`stream_options.include_usage`); `onUsage` gets it if the server sends it.
   */
  streamChat(messages: ChatTurn[], signal: AbortSignal, onUsage?: (usage: MessageUsage) => void): AsyncGenerator<string, void, undefined>;
  /** A title from the model, or the fallback from the message's first words. Never throws. */
  titleFor(firstMessage: string, signal?: AbortSignal): Promise<TitleResult>;
  diagnostics(): Promise<LlmDiagnostics>;
  health(): Promise<ServiceHealth>;
};

type Probe = { reachable: boolean; latencyMs: number; error: string | null; checkedAt: Date };

export function createLlmService(options: LlmServiceOptions): LlmService {
  const { openai, config, logger } = options;
  const now = options.now ?? (() => new Date());
  const probeCacheMs = options.probeCacheMs ?? 5000;
  const probeTimeoutMs = Math.min(options.probeTimeoutMs ?? 1500, config.timeoutMs);
  const titleTimeoutMs = Math.min(options.titleTimeoutMs ?? 15_000, config.timeoutMs);
  const host = baseUrlHost(config);
  const chatModel = openai ? (config.model ?? null) : null;
  const titleModel = openai ? (config.titleModel ?? config.model ?? null) : null;

  let lastError: string | null = null;
  let lastSuccessAt: Date | null = null;
  let probe: Probe | null = null;
  let probing: Promise<Probe> | null = null;

  const succeeded = () => {
    lastSuccessAt = now();
  };
  const failed = (detail: string) => {
    lastError = detail;
  };

  async function* streamChat(
    messages: ChatTurn[],
    signal: AbortSignal,
    onUsage?: (usage: MessageUsage) => void,
  ): AsyncGenerator<string, void, undefined> {
    if (!openai) throw new LlmError('upstream_unavailable', NOT_CONFIGURED_DETAIL);
    if (!chatModel) throw new LlmError('upstream_unavailable', NO_MODEL_DETAIL);
    if (signal.aborted) return;
    // Our own controller so an idle stream can be cut without confusing it with the caller's abort.
    const controller = new AbortController();
    const abortFromCaller = () => controller.abort();
    signal.addEventListener('abort', abortFromCaller, { once: true });
    let idle = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, config.timeoutMs);
    };
    try {
      const stream = await openai.chat.completions.create(
        { model: chatModel, messages, stream: true, stream_options: { include_usage: true } },
        { signal: controller.signal },
      );
      arm();
      for await (const chunk of stream) {
        arm();
        // The usage chunk comes last, with no choices; some servers put usage on every chunk.
        if (chunk.usage) {
          onUsage?.(reportedUsage(chunk.usage, chunk.model || chatModel));
        }
        const content = chunk.choices[0]?.delta?.content;
        if (content) yield content;
      }
      if (idle) throw timeoutError(config.timeoutMs);
      succeeded();
    } catch (error) {
      if (signal.aborted && !idle) return;
      const llmError = idle ? timeoutError(config.timeoutMs) : toLlmError(error, { model: chatModel, host, timeoutMs: config.timeoutMs });
      failed(llmError.detail);
      logger.warn({ err: error instanceof LlmError ? undefined : error, detail: llmError.detail }, 'model request failed');
      throw llmError;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', abortFromCaller);
    }
  }

  async function titleFor(firstMessage: string, signal?: AbortSignal): Promise<TitleResult> {
    const fallback = (): TitleResult => ({ title: fallbackTitle(firstMessage), source: 'fallback' });
    if (!openai || !titleModel) return fallback();
    try {
      const completion = await openai.chat.completions.create(
        {
          model: titleModel,
          messages: [
            { role: 'system', content: TITLE_SYSTEM_PROMPT },
            { role: 'user', content: firstMessage.slice(0, TITLE_INPUT_MAX_CHARS) },
          ],
          stream: false,
        },
        { timeout: titleTimeoutMs, maxRetries: 0, ...(signal ? { signal } : {}) },
      );
      succeeded();
      const title = cleanTitle(completion.choices[0]?.message?.content);
      if (title) return { title, source: 'model' };
      logger.debug({ model: titleModel }, 'model gave no usable title, using the fallback');
      return fallback();
    } catch (error) {
      if (!signal?.aborted) {
        const llmError = toLlmError(error, { model: titleModel, host, timeoutMs: titleTimeoutMs });
        failed(llmError.detail);
        options.onTitleError?.(llmError.code);
        logger.warn({ detail: llmError.detail }, 'title request failed, using the fallback');
      }
      return fallback();
    }
  }

  const runProbe = async (): Promise<Probe> => {
    const started = performance.now();
    try {
      // Only the first page matters: any answer proves the server is there and accepts the key.
      await openai!.models.list({ timeout: probeTimeoutMs, maxRetries: 0 });
      succeeded();
      return { reachable: true, latencyMs: Math.round(performance.now() - started), error: null, checkedAt: now() };
    } catch (error) {
      const detail = toLlmError(error, { model: chatModel, host, timeoutMs: probeTimeoutMs }).detail;
      failed(detail);
      return { reachable: false, latencyMs: Math.round(performance.now() - started), error: detail, checkedAt: now() };
    }
  };

  /** One probe at a time, reused for probeCacheMs so health checks cannot flood the model server. */
  const currentProbe = async (): Promise<Probe | null> => {
    if (!openai) return null;
    if (probe && now().getTime() - probe.checkedAt.getTime() < probeCacheMs) return probe;
    probing ??= runProbe().finally(() => {
      probing = null;
    });
    probe = await probing;
    return probe;
  };

  return {
    configured: openai !== null,
    chatModel,
    titleModel,
    systemPrompt: config.systemPrompt,
    streamChat,
    titleFor,
    async diagnostics() {
      const result = await currentProbe();
      return {
        configured: openai !== null,
        base_url_host: host,
        chat_model: chatModel,
        title_model: titleModel,
        reachable: result?.reachable ?? false,
        latency_ms: result?.latencyMs ?? null,
        last_error: lastError,
        last_success_at: lastSuccessAt?.toISOString() ?? null,
        checked_at: result?.checkedAt.toISOString() ?? null,
      };
    },
    async health() {
      const result = await currentProbe();
      if (!result) return { status: 'not_configured', detail: 'Set OPENAI_BASE_URL and/or OPENAI_API_KEY to enable replies' };
      if (!result.reachable) return { status: 'unhealthy', latency_ms: result.latencyMs, detail: result.error ?? 'unreachable' };
      if (!chatModel) return { status: 'degraded', latency_ms: result.latencyMs, detail: NO_MODEL_DETAIL };
      return { status: 'healthy', latency_ms: result.latencyMs };
    },
  };
}
