import { routes } from '@simorgh/contracts';
import { callStreamRoute, type StreamEventHandler, type StreamWatchers } from '../../../api/stream';

/**
 * Follows a chat's events after `lastEventId`, sent as the `last_event_id` query (the form the
 * API accepts from any client); `useChatEvents` drives it, reconnecting from the last ID it got.
 */
export function followChatEvents(
  chatId: string,
  lastEventId: string,
  onEvent: StreamEventHandler,
  watchers: StreamWatchers,
  signal: AbortSignal,
) {
  return callStreamRoute(routes.chatEvents, { params: { id: chatId }, query: { last_event_id: lastEventId }, signal }, onEvent, watchers);
}
