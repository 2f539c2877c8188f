import { routes, type StreamEvent } from '@simorgh/contracts';
import { callStreamRoute } from '../../../api/stream';

/** Saves the user's message and streams the reply into `onEvent`; `useChatStream` drives it. */
export function sendMessage(chatId: string, content: string, onEvent: (event: StreamEvent) => void, signal: AbortSignal) {
  return callStreamRoute(routes.sendMessage, { params: { id: chatId }, body: { content }, signal }, onEvent);
}
