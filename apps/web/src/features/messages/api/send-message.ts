import { routes } from '@simorgh/contracts';
import { callStreamRoute, type StreamEventHandler } from '../../../api/stream';

/** Saves the user's message and streams the reply into `onEvent`; `useChatStream` drives it. */
export function sendMessage(chatId: string, content: string, onEvent: StreamEventHandler, signal: AbortSignal) {
  return callStreamRoute(routes.sendMessage, { params: { id: chatId }, body: { content }, signal }, onEvent);
}
