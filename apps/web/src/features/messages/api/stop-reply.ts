import { routes } from '@simorgh/contracts';
import { callRoute } from '../../../api/client';

/** Asks the API process writing the reply to stop and save what it has. */
export function stopReply(chatId: string) {
  return callRoute(routes.stopReply, { params: { id: chatId } });
}
