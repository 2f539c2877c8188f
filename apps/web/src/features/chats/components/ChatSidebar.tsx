import type { ChatMetadata, ChatStatus } from '@simorgh/contracts';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useAuth, useMe } from '../../auth';
import { useDeleteChat } from '../api/delete-chat';
import { useChatList } from '../api/list-chats';
import { useChatListsFromOtherTabs } from '../lists-across-tabs';
import { useUpdateChat } from '../api/update-chat';
import { ChatListItem } from './ChatListItem';
import { ListLoadError } from './ListLoadError';
import { SharedChatList } from './SharedChatList';
import { ConfirmDialog } from '../../../components/ConfirmDialog';
import { chatsOfPages, groupChats } from './chat-groups';
import { NEW_CHAT_SHORTCUT_LABEL, SEARCH_SHORTCUT_LABEL } from '../../../components/shortcuts';

type ChatSidebarProps = {
  onNewChat: () => void;
  onNewProjectChat: () => void;
  /** Called after the user picks a chat, so the mobile drawer can close. */
  onNavigate: () => void;
  /** Opens the search dialog, starting from what was typed in the sidebar's field. */
  onSearch: (text: string) => void;
};

export function ChatSidebar({ onNewChat, onNewProjectChat, onNavigate, onSearch }: ChatSidebarProps) {
  const { user, signOut } = useAuth();
  const isAdmin = useMe().data?.is_admin === true;
  const [view, setView] = useState<ChatStatus>('active');
  useChatListsFromOtherTabs();

  return (
    <nav className="sidebar-inner" aria-label="Chats">
      <div className="sidebar-head">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          <span>Simorgh Chat</span>
        </div>
        <input
          type="search"
          className="input sidebar-search"
          aria-label="Search chats"
          placeholder={`Search chats (${SEARCH_SHORTCUT_LABEL})`}
          // The dialog does the searching: typing here, a click or Enter moves there with the text.
          value=""
          onChange={(event) => onSearch(event.target.value)}
          onClick={() => onSearch('')}
          onKeyDown={(event) => {
            if (event.key === 'Enter') onSearch('');
          }}
        />
        <div className="sidebar-actions">
          <button type="button" className="button button-primary" onClick={onNewChat} title={`New chat (${NEW_CHAT_SHORTCUT_LABEL})`}>
            New chat
          </button>
          <button type="button" className="button" onClick={onNewProjectChat}>
            New project chat
          </button>
        </div>
      </div>

      {view === 'archived' && (
        <div className="sidebar-view-head">
          <h2>Archived chats</h2>
          <button type="button" className="link-button" onClick={() => setView('active')}>
            Back to chats
          </button>
        </div>
      )}
      <ChatListView key={view} status={view} onNavigate={onNavigate} />

      <div className="sidebar-foot">
        <span className="user-name" title={user?.user_id}>
          {user?.display_name}
        </span>
        <button
          type="button"
          className="link-button"
          aria-pressed={view === 'archived'}
          onClick={() => setView(view === 'archived' ? 'active' : 'archived')}
        >
          Archived
        </button>
        {isAdmin && (
          <Link className="link-button" to="/admin" onClick={onNavigate}>
            Usage
          </Link>
        )}
        <button type="button" className="link-button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </nav>
  );
}

function ChatListView({ status, onNavigate }: { status: ChatStatus; onNavigate: () => void }) {
  const list = useChatList(status);
  const update = useUpdateChat();
  const remove = useDeleteChat();
  const navigate = useNavigate();
  const { chatId: currentId } = useParams();
  const [confirming, setConfirming] = useState<ChatMetadata | null>(null);
  const sentinelRef = useRef<HTMLDivElement>(null);

  const chats = useMemo(() => chatsOfPages(list.data), [list.data]);
  const groups = useMemo(() => groupChats(chats, new Date()), [chats]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;

  // Loads the next page as the end of the list scrolls into view; the button is the fallback.
  useEffect(() => {
    const sentinel = sentinelRef.current;
    if (sentinel === null || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const deleteChat = (chat: ChatMetadata) => {
    setConfirming(null);
    remove.mutate(chat, {
      onSuccess: () => {
        if (currentId === chat.chat_id) void navigate('/');
      },
    });
  };

  return (
    <div className="chat-list" aria-busy={list.isLoading}>
      {list.isLoading && <p className="muted sidebar-note">Loading chats…</p>}
      {list.isError && <ListLoadError what="your chats" onRetry={() => void list.refetch()} />}
      {status === 'active' && <SharedChatList currentId={currentId} onNavigate={onNavigate} />}
      {list.isSuccess && chats.length === 0 && (
        <p className="muted sidebar-note">{status === 'archived' ? 'No archived chats.' : 'No chats yet.'}</p>
      )}
      {groups.map((group) => (
        <section key={group.label} className="chat-group">
          {status === 'active' && <h3 className="chat-group-label">{group.label}</h3>}
          <ul>
            {group.chats.map((chat) => (
              <ChatListItem
                key={chat.chat_id}
                chat={chat}
                current={chat.chat_id === currentId}
                onOpen={onNavigate}
                actions={{
                  onRename: (name) => update.mutate({ chat, patch: { chat_name: name }, failure: "Couldn't rename the chat" }),
                  onTogglePin: () => update.mutate({ chat, patch: { pinned: !chat.pinned }, failure: "Couldn't change the pin" }),
                  onToggleArchive: () =>
                    update.mutate({
                      chat,
                      patch: { status: chat.status === 'archived' ? 'active' : 'archived' },
                      failure: chat.status === 'archived' ? "Couldn't unarchive the chat" : "Couldn't archive the chat",
                    }),
                  onDelete: () => setConfirming(chat),
                }}
              />
            ))}
          </ul>
        </section>
      ))}
      <div ref={sentinelRef} />
      {hasNextPage && (
        <button type="button" className="button button-block load-more" disabled={isFetchingNextPage} onClick={() => void fetchNextPage()}>
          {isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
      {confirming !== null && (
        <ConfirmDialog
          title="Delete chat?"
          message={`"${confirming.chat_name}" and all its messages will be deleted. This can't be undone.`}
          confirmLabel="Delete"
          onConfirm={() => deleteChat(confirming)}
          onCancel={() => setConfirming(null)}
        />
      )}
    </div>
  );
}
