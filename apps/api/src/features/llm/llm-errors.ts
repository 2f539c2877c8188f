import type { ErrorCode } from '@simorgh/contracts';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';

/** A model failure turned into something a person can act on; `detail` never holds the key. */
export class LlmError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly retryAfterS?: number,
  ) {
    super(detail);
    this.name = 'LlmError';
  }
}

export const NOT_CONFIGURED_DETAIL =
  'No language model is configured. Set OPENAI_BASE_URL (any OpenAI-compatible server, e.g. http://localhost:11434/v1) ' +
  'and/or OPENAI_API_KEY, plus OPENAI_MODEL, then restart the API.';

export const NO_MODEL_DETAIL = 'No model name is configured. Set OPENAI_MODEL (and optionally OPENAI_TITLE_MODEL), then restart the API.';

export function timeoutError(timeoutMs: number): LlmError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new LlmError(
    'upstream_unavailable',
    `The model did not answer within ${seconds} s. Try again; if it keeps happening, the model server may be overloaded.`,
  );
}

function retryAfterOf(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The model server's own message, shortened; servers put useful hints there (context length, model name). */
function upstreamMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === 'string' ? body.message : '';
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

/** Maps anything the SDK throws to an LlmError. Callers handle their own aborts before calling this. */
export function toLlmError(error: unknown, context: { model: string | null; host: string | null; timeoutMs: number }): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof APIConnectionTimeoutError) return timeoutError(context.timeoutMs);
  if (error instanceof APIConnectionError) {
    return new LlmError(
      'upstream_unavailable',
      `Could not reach the model server${context.host ? ` at ${context.host}` : ''}. Try again shortly; if it persists, ask an operator to check it.`,
    );
  }
  if (error instanceof RateLimitError) {
    const retryAfterS = retryAfterOf(error.headers);
    const wait = retryAfterS === undefined ? 'shortly' : `in ${retryAfterS} s`;
    return new LlmError('rate_limited', `The model server is rate limiting requests. Try again ${wait}.`, retryAfterS);
  }
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    return new LlmError(
      'upstream_unavailable',
      'The model server refused the API key. Ask an operator to check OPENAI_API_KEY.',
    );
  }
  if (error instanceof NotFoundError) {
    return new LlmError(
      'upstream_unavailable',
      `The model server does not know the model${context.model ? ` "${context.model}"` : ''}. Ask an operator to check OPENAI_MODEL.`,
    );
  }
  if (error instanceof BadRequestError) {
    const message = upstreamMessage(error);
    return new LlmError(
      'upstream_unavailable',
      `The model server rejected the request${message ? `: ${message}` : ''}. A shorter message or a new conversation may help.`,
    );
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    return new LlmError(
      'upstream_unavailable',
      `The model server failed (HTTP ${error.status}). Try again shortly.`,
    );
  }
  return new LlmError('upstream_unavailable', 'The model request failed unexpectedly. Try again shortly.');
}
