import { EventIdSchema } from '@simorgh/contracts';
import { AppError } from '../../http/app-error.js';
import type { RouteHandlers } from '../../http/route-handlers.js';
import type { MessagesService } from './messages.service.js';

/** A chat's conversation. The reply routes answer with the reply's events once it is accepted. */
export function createMessagesHandlers(
  messages: MessagesService,
): RouteHandlers<'listMessages' | 'sendMessage' | 'regenerateReply' | 'chatEvents' | 'stopReply' | 'generateTitle'> {
  return {
    listMessages: async ({ userId, params, query }) => ({ status: 200, body: await messages.list(userId, params.id, query) }),
    sendMessage: ({ userId, params, body, signal }) => messages.send(userId, params.id, body.content, signal),
    regenerateReply: ({ userId, params, signal }) => messages.regenerate(userId, params.id, signal),
    chatEvents: ({ userId, params, query, signal, lastEventId }) => {
      // The header wins over the query (a reconnecting EventSource sends the newer one).
      const since = lastEventId ?? query.last_event_id;
      if (since !== undefined && !EventIdSchema.safeParse(since).success) {
        throw new AppError('validation', 'Last-Event-ID must be an event ID from this chat, like 1700000000000-0.');
      }
      return messages.follow(userId, params.id, since, signal);
    },
    async stopReply({ userId, params }) {
      const stopped = await messages.stop(userId, params.id);
      return { status: 200, body: { status: 'success', chat_id: params.id, stopped } };
    },
    async generateTitle({ userId, params, body }) {
      const title = await messages.generateTitle(userId, params.id, body.first_message);
      return { status: 200, body: { status: 'success', chat_id: params.id, title } };
    },
  };
}
