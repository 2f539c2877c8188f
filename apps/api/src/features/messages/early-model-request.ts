/**
 * The model asked while the reply is being admitted, for a general chat whose history this
 * process already knows. Admitting a reply is one Redis script that waits for its fsync; the
 * model's first token takes longer than that, so the request goes out first and the script's
 * answer decides whether it is used: the turns the admitted history gives must equal the turns
 * that were sent, else (or on any refusal) the early request is aborted before a token of it
 * is used, and the reply asks again. Nothing is shown or stored from a request that was not
 * confirmed; only its cost is spent.
 *
 * What bounds that cost: only the chat's owner, only general chats (a project chat's access
 * depends on TPMS at this moment, so nothing is asked on its behalf before the check), only
 * when this process is not writing a reply in that chat and the chat has room for the message,
 * and at most `perMinute` early requests
 * per user and process (MESSAGES_PER_MINUTE, the same bound the admission applies). The
 * histories are kept in an LRU bounded by their total size; a chat's longer than a tenth of it
 * is not kept.
 */
import type { ChatMetadata, Message, MessageUsage } from '@simorgh/contracts';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import type { Metrics } from '../../metrics.js';
import type { ChatTurn, LlmService } from '../llm/llm.service.js';
import { buildModelTurns, systemPromptFor } from './model-context.js';

/** Characters of history kept for all chats together (about 4 MB of strings at most). */
const KNOWN_CHARS = 2_000_000;
const KNOWN_CHATS = 5_000;

type Turn = Pick<Message, 'role' | 'content' | 'status'>;
/** `messages`: how many the chat holds (a full chat is refused, so nothing is asked for it). */
type Known = { owner: string; systemPrompt: string; history: Turn[]; messages: number };

export type EarlyRequest = {
  /**
   * The request's pieces if it asked for exactly `turns`; otherwise it is aborted and null.
   * `askedAt`: when the model was asked (process.hrtime.bigint()), what the first-token time counts from.
   */
  take(
    turns: ChatTurn[],
    signal: AbortSignal,
    onUsage: (usage: MessageUsage) => void,
  ): { pieces: AsyncGenerator<string, void, undefined>; first: Promise<IteratorResult<string, void>>; askedAt: bigint } | null;
  /** Aborts the request (the reply was refused). */
  cancel(): void;
};

export type EarlyRequests = ReturnType<typeof createEarlyRequests>;

const sameTurns = (a: ChatTurn[], b: ChatTurn[]) => a.length === b.length && a.every((turn, index) => turn.role === b[index]?.role && turn.content === b[index]?.content);

export function createEarlyRequests(deps: {
  llm: Pick<LlmService, 'streamChat' | 'systemPrompt'>;
  metrics: Pick<Metrics, 'earlyModelRequests'>;
  /** MESSAGES_PER_MINUTE. */
  perMinute: number;
  /** The most messages a reply's history holds (HISTORY_MAX_MESSAGES). */
  historyMessages: number;
}) {
  const known = new LRUCache<string, Known>({
    max: KNOWN_CHATS,
    maxSize: KNOWN_CHARS,
    // Setting a larger one drops what was kept for the chat.
    maxEntrySize: KNOWN_CHARS / 10,
    sizeCalculation: (entry) => entry.history.reduce((sum, message) => sum + message.content.length, 1),
  });
  const perUser = new RateLimiterMemory({ points: deps.perMinute, duration: 60 });

  return {
    /** The chat's history as of now (after a reply, or empty when created here). */
    remember(chat: Pick<ChatMetadata, 'chat_id' | 'user_id' | 'chat_type' | 'project_number' | 'project_name' | 'page_name'>, history: Turn[], messages: number): void {
      // A project chat's access depends on TPMS at the moment of each message: never asked for early.
      if (chat.chat_type !== 'general') return;
      known.set(chat.chat_id, { owner: chat.user_id, systemPrompt: systemPromptFor(deps.llm.systemPrompt, chat), history: history.slice(-deps.historyMessages), messages });
    },

    /**
     * Sends the request for `userId`'s new message in `chatId` if this process can predict its
     * turns; else null. `chat`: the messages service's MAX_MESSAGES_PER_CHAT and history budget.
     */
    async start(userId: string, chatId: string, content: string, chat: { maxMessages: number; budgetChars: number }): Promise<EarlyRequest | null> {
      const entry = known.get(chatId);
      // The user's message and the reply: two more.
      if (!entry || entry.owner !== userId || entry.messages + 2 > chat.maxMessages) return null;
      if (!(await perUser.consume(userId).then(() => true, () => false))) return null;
      const sent = buildModelTurns(entry.systemPrompt, [...entry.history, { role: 'user', content, status: 'complete' }], chat.budgetChars);
      const controller = new AbortController();
      let reportUsage: (usage: MessageUsage) => void = () => undefined;
      const askedAt = process.hrtime.bigint();
      const pieces = deps.llm.streamChat(sent, controller.signal, (usage) => reportUsage(usage));
      const first = pieces.next();
      first.catch(() => undefined);
      // An aborted request ends its pieces quietly (see streamChat).
      const cancel = () => {
        deps.metrics.earlyModelRequests.inc({ outcome: 'aborted' });
        controller.abort();
      };
      return {
        take(turns, signal, onUsage) {
          if (!sameTurns(sent, turns) || signal.aborted) {
            cancel();
            return null;
          }
          signal.addEventListener('abort', () => controller.abort(), { once: true });
          reportUsage = onUsage;
          deps.metrics.earlyModelRequests.inc({ outcome: 'used' });
          return { pieces, first, askedAt };
        },
        cancel,
      };
    },
  };
}
