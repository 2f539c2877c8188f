import OpenAI from 'openai';
import type { Env } from '../../env.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export type LlmConfig = {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string | undefined;
  titleModel: string | undefined;
  timeoutMs: number;
  systemPrompt: string;
};

export function llmConfigFromEnv(env: Env): LlmConfig {
  return {
    apiKey: env.OPENAI_API_KEY,
    baseUrl: env.OPENAI_BASE_URL,
    model: env.OPENAI_MODEL,
    titleModel: env.OPENAI_TITLE_MODEL ?? env.OPENAI_MODEL,
    timeoutMs: env.LLM_TIMEOUT_MS,
    systemPrompt: env.SYSTEM_PROMPT,
  };
}

/**
 * The OpenAI SDK client, or null when neither a key nor a base URL is configured.
 *
 * Everything is passed explicitly so the SDK never falls back to reading process.env itself:
 * the base URL comes from configuration only. `maxRetries: 0` because a retried chat request
 * would silently delay the reply by the SDK's back-off (or a Retry-After of many seconds); the
 * user sees a readable error instead and can regenerate. `timeout` bounds the wait for the
 * response headers; the reply service adds an idle timeout between streamed chunks.
 */
export function createOpenAiClient(config: LlmConfig): OpenAI | null {
  if (!config.apiKey && !config.baseUrl) return null;
  return new OpenAI({
    // Local servers (vLLM, Ollama, LM Studio) accept any key but the SDK requires one.
    apiKey: config.apiKey ?? 'not-needed',
    baseURL: config.baseUrl ?? OPENAI_DEFAULT_BASE_URL,
    organization: null,
    project: null,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
}

/** The host (and port) of the model server, safe to show: never the key, path or credentials. */
export function baseUrlHost(config: Pick<LlmConfig, 'apiKey' | 'baseUrl'>): string | null {
  if (!config.apiKey && !config.baseUrl) return null;
  try {
    return new URL(config.baseUrl ?? OPENAI_DEFAULT_BASE_URL).host;
  } catch {
    return null;
  }
}
