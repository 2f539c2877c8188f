import { isSessionId } from '@simorgh/contracts';
import { Link, useParams } from 'react-router';
import { ChatView } from './ChatView';

/** `/c/:chatId`: one ChatView per chat, so switching chats starts from a clean state. */
export function ChatRoute() {
  const { chatId = '' } = useParams();
  if (!isSessionId(chatId)) return <ChatNotFound />;
  return <ChatView key={chatId} chatId={chatId} />;
}

export function ChatNotFound() {
  return (
    <div className="empty-state">
      <h1>Chat not found</h1>
      <p className="muted">This chat doesn't exist, was deleted, or belongs to someone else.</p>
      <Link className="button" to="/">
        Back to start
      </Link>
    </div>
  );
}
