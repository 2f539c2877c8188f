import { useId, useMemo } from 'react';
import { useChatList } from '../api/list-chats';
import { chatsOfPages } from './chat-groups';
import { ChatListItem } from './ChatListItem';
import { ListLoadError } from './ListLoadError';

/**
 * "Shared with me": the chats others share with the user, by name or with their project, newest
 * first, a page at a time. Not shown while there are none. Only the owner acts on a chat, so the
 * entries have no menu; a chat no longer shared is gone at the next refresh of the list.
 */
export function SharedChatList({ currentId, onNavigate }: { currentId: string | undefined; onNavigate: () => void }) {
  const list = useChatList('shared');
  const headingId = useId();
  const chats = useMemo(() => chatsOfPages(list.data), [list.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;

  if (list.isError) return <ListLoadError what="the chats shared with you" onRetry={() => void list.refetch()} />;
  if (chats.length === 0) return null;
  return (
    <section className="chat-group shared-chats" aria-labelledby={headingId}>
      <h3 id={headingId} className="chat-group-label">
        Shared with me
      </h3>
      <ul>
        {chats.map((chat) => (
          <ChatListItem key={chat.chat_id} chat={chat} current={chat.chat_id === currentId} onOpen={onNavigate} />
        ))}
      </ul>
      {hasNextPage && (
        <button type="button" className="link-button load-more-shared" disabled={isFetchingNextPage} onClick={() => void fetchNextPage()}>
          {isFetchingNextPage ? 'Loading…' : 'More shared chats'}
        </button>
      )}
    </section>
  );
}
