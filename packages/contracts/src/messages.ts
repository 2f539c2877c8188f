import { z } from 'zod';
import { ChatMetadataSchema } from './chats.js';
import { ErrorCodeSchema } from './errors.js';

export const MESSAGE_CONTENT_MAX = 32_000;

export const MessageRoleSchema = z.enum(['user', 'assistant']);
export type MessageRole = z.infer<typeof MessageRoleSchema>;

/** `streaming`: the reply being written now (only ever in a messages page, never stored). */
export const MessageStatusSchema = z.enum(['complete', 'error', 'stopped', 'streaming']);
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

/**
 * What one reply cost in model tokens. `model` is the model the server said answered (or the
 * configured one). `estimated` is true when the server reported no usage (it does not support
 * `stream_options.include_usage`, or the reply was stopped or failed before the server's last
 * chunk) and the API counted the tokens itself.
 */
export const MessageUsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  model: z.string().nullable(),
  estimated: z.boolean(),
});
export type MessageUsage = z.infer<typeof MessageUsageSchema>;

export const MessageSchema = z.object({
  message_id: z.string(),
  role: MessageRoleSchema,
  content: z.string(),
  created_at: z.string(),
  status: MessageStatusSchema,
  model: z.string().optional(),
  /** For an assistant message saved with status "error": what went wrong. */
  error: z.string().optional(),
  /** Assistant messages: the reply's token usage. Null or absent on user messages, older replies and replies that failed before any text. */
  usage: MessageUsageSchema.nullable().optional(),
  /** Who wrote a user message (a shared chat has several writers); absent on older messages. */
  author_id: z.string().optional(),
  /** The author's display name in TPMS when the message was written. */
  author_name: z.string().optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export const MESSAGES_PAGE_DEFAULT = 100;
export const MESSAGES_PAGE_MAX = 200;

/**
 * A page of a chat's messages: the newest `limit` before the message `before` (exclusive), or
 * the newest of all without it. Walk back by passing each answer's `next_before`.
 */
export const ListMessagesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MESSAGES_PAGE_MAX).default(MESSAGES_PAGE_DEFAULT),
  before: z.string().min(1).max(200).optional(),
});
export type ListMessagesQuery = z.input<typeof ListMessagesQuerySchema>;

/**
 * The ID of a chat event (the SSE `id:`): `<ms>-<n>`, growing within a chat. `0-0` is before
 * every event.
 */
export const EventIdSchema = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'an event ID looks like 1700000000000-0');
export type EventId = z.infer<typeof EventIdSchema>;

/** Orders two event IDs of one chat: negative when `a` came first, 0 when equal. */
export function compareEventIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/**
 * Oldest first; `next_before` is the `before` for the page before this one, null at the start.
 * During a reply the page holding it has the assistant message so far (status `streaming`);
 * `last_event_id` is the chat's last event the page reflects: follow the chat's events after it.
 */
export const ListMessagesResponseSchema = z.object({
  messages: z.array(MessageSchema),
  next_before: z.string().nullable(),
  last_event_id: EventIdSchema,
});
export type ListMessagesResponse = z.infer<typeof ListMessagesResponseSchema>;

export const SendMessageRequestSchema = z.object({
  content: z
    .string()
    .trim()
    .min(1, 'content must not be empty')
    .max(MESSAGE_CONTENT_MAX, `content must be at most ${MESSAGE_CONTENT_MAX} characters`),
});
export type SendMessageRequest = z.input<typeof SendMessageRequestSchema>;

/**
 * Events of a chat (text/event-stream), on the reply streams and GET …/events. Each SSE frame is
 * `id: <event ID>` + `event: <type>` + `data: <json of the event>`; the JSON repeats `type`.
 * `reset`: the events after the client's Last-Event-ID are no longer kept; refetch the messages.
 */
export const StreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user_message'), message: MessageSchema }),
  z.object({ type: z.literal('delta'), message_id: z.string(), content: z.string() }),
  z.object({ type: z.literal('assistant_message'), message: MessageSchema }),
  z.object({ type: z.literal('title'), chat_id: z.string(), title: z.string() }),
  z.object({ type: z.literal('error'), detail: z.string(), code: ErrorCodeSchema }),
  z.object({ type: z.literal('done') }),
  z.object({ type: z.literal('chat_updated'), chat: ChatMetadataSchema }),
  z.object({ type: z.literal('chat_deleted'), chat_id: z.string() }),
  z.object({ type: z.literal('reset') }),
]);
export type StreamEvent = z.infer<typeof StreamEventSchema>;
export type StreamEventType = StreamEvent['type'];

/** One SSE frame of a chat's events: the event and its ID (null for one never stored). */
export type EventFrame = { id: EventId | null; event: StreamEvent };

/** `last_event_id`: for clients that cannot send the Last-Event-ID header (which wins). */
export const ChatEventsQuerySchema = z.object({ last_event_id: EventIdSchema.optional() });
export type ChatEventsQuery = z.input<typeof ChatEventsQuerySchema>;

export const StopResponseSchema = z.object({
  status: z.literal('success'),
  chat_id: z.string(),
  stopped: z.boolean(),
});
export type StopResponse = z.infer<typeof StopResponseSchema>;

/**
 * `first_message` may come as JSON, a URL-encoded form or multipart form data; without it
 * the chat's first user message is used. A blank value counts as absent.
 */
export const GenerateTitleRequestSchema = z.object({
  first_message: z
    .string()
    .trim()
    .max(MESSAGE_CONTENT_MAX, `first_message must be at most ${MESSAGE_CONTENT_MAX} characters`)
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});
export type GenerateTitleRequest = z.input<typeof GenerateTitleRequestSchema>;

export const GenerateTitleResponseSchema = z.object({
  status: z.literal('success'),
  chat_id: z.string(),
  title: z.string(),
});
export type GenerateTitleResponse = z.infer<typeof GenerateTitleResponseSchema>;
