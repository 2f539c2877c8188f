import { isSessionId } from '@simorgh/contracts';
import { useEffect } from 'react';
import { useParams } from 'react-router';
import { ChatNotFound } from './ChatNotFound';
import { ChatView } from './ChatView';
import { loadMarkdown } from './MessageItem';

/** `/c/:chatId`: one ChatView per chat, so switching chats starts from a clean state. */
export function ChatRoute() {
  const { chatId = '' } = useParams();
  // The replies' markdown code, fetched while the chat's messages are (see MessageItem).
  useEffect(() => void loadMarkdown(), []);
  if (!isSessionId(chatId)) return <ChatNotFound />;
  return <ChatView key={chatId} chatId={chatId} />;
}
