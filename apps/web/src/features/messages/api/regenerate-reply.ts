import { routes } from '@simorgh/contracts';
import { callStreamRoute, type StreamEventHandler } from '../../../api/stream';

/** Writes the last reply again and streams it into `onEvent`; `useChatStream` drives it. */
export function regenerateReply(chatId: string, onEvent: StreamEventHandler, signal: AbortSignal) {
  return callStreamRoute(routes.regenerateReply, { params: { id: chatId }, signal }, onEvent);
}
