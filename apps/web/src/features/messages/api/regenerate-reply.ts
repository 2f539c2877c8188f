import { routes, type StreamEvent } from '@simorgh/contracts';
import { callStreamRoute } from '../../../api/stream';

/** Writes the last reply again and streams it into `onEvent`; `useChatStream` drives it. */
export function regenerateReply(chatId: string, onEvent: (event: StreamEvent) => void, signal: AbortSignal) {
  return callStreamRoute(routes.regenerateReply, { params: { id: chatId }, signal }, onEvent);
}
