import { isSessionId } from '@simorgh/contracts';
import { useParams } from 'react-router';
import { ChatNotFound } from './ChatNotFound';
import { ChatView } from './ChatView';

/** `/c/:chatId`: one ChatView per chat, so switching chats starts from a clean state. */
export function ChatRoute() {
  const { chatId = '' } = useParams();
  if (!isSessionId(chatId)) return <ChatNotFound />;
  return <ChatView key={chatId} chatId={chatId} />;
}
