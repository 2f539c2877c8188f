import type { MessageUsage } from '@simorgh/contracts';

/**
 * Token usage of a reply when the model server reported none (it ignores
 * `stream_options.include_usage`, or the reply was stopped or failed before its last chunk).
 *
 * One token per 4 characters of text (UTF-16 code units), plus 4 tokens of framing per chat
 * turn in the prompt: OpenAI's rule of thumb for English. It is an estimate, marked as one: the
 * model's own tokenizer is unknown here (any OpenAI-compatible server), and a real BPE tokenizer
 * run on the event loop costs seconds on adversarial input (one 32 000-character word), which
 * a count meant for a report does not justify. Text in Persian or code tends to take more
 * tokens than this says.
 */
export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_TURN = 4;

export const estimateTokens = (text: string): number => Math.ceil(text.length / CHARS_PER_TOKEN);

export function estimateUsage(prompt: ReadonlyArray<{ content: string }>, completion: string, model: string | null): MessageUsage {
  const promptTokens = prompt.reduce((sum, turn) => sum + TOKENS_PER_TURN + estimateTokens(turn.content), 0);
  return { prompt_tokens: promptTokens, completion_tokens: estimateTokens(completion), model, estimated: true };
}

/** A server-reported count as the contract's non-negative integer (servers are not all strict). */
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0);

/** The usage a model server sent, as stored with the reply. */
export function reportedUsage(usage: { prompt_tokens?: unknown; completion_tokens?: unknown }, model: string | null): MessageUsage {
  return { prompt_tokens: count(usage.prompt_tokens), completion_tokens: count(usage.completion_tokens), model, estimated: false };
}
