import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useLocation } from 'react-router';
import { ApiError } from '../../../api/api-error';
import { useQueryClient } from '@tanstack/react-query';
import { useAuth } from '../../auth';
import { ChatHeader, isOwnChat, isSharedChat, removeChat, useChat } from '../../chats';
import { useMessages } from '../api/list-messages';
import { stopReply } from '../api/stop-reply';
import { useChatEvents } from '../hooks/useChatEvents';
import { useChatStream } from '../hooks/useChatStream';
import { chronological } from '../message-cache';
import { ChatNotFound } from './ChatNotFound';
import { Composer } from './Composer';
import { MessageItem, messageElementId } from './MessageItem';

/** `focusMessage`: a search result opened the chat at this message. */
type LocationState = { focusComposer?: boolean; focusMessage?: string | null } | null;

/** How long the message a search result opened stays marked. */
export const FOUND_MARK_MS = 2500;

/** Focus the message box on open, except on touch screens where it would pop up the keyboard. */
function shouldAutofocus(state: LocationState): boolean {
  if (state?.focusComposer === true) return true;
  return typeof window.matchMedia === 'function' && window.matchMedia('(pointer: fine)').matches;
}

export function ChatView({ chatId }: { chatId: string }) {
  const chat = useChat(chatId);
  const messages = useMessages(chatId);
  const stream = useChatStream(chatId);
  const live = useChatEvents(chatId, messages.data?.pages[0]?.last_event_id);
  const location = useLocation();
  const queryClient = useQueryClient();
  const { user } = useAuth();
  const notFound = chat.error instanceof ApiError && chat.error.code === 'not_found';
  // Gone for this user (deleted, or no longer shared with them): gone from the sidebar too.
  useEffect(() => {
    if (notFound) removeChat(queryClient, chatId);
  }, [notFound, queryClient, chatId]);
  const meta = chat.data?.chat;
  // Owner-only actions wait for the chat record, so a colleague never sees them flash up.
  const owner = meta !== undefined && isOwnChat(meta);
  const writers = meta !== undefined && user !== null && isSharedChat(meta) ? { viewer: user, ownerId: meta.user_id } : null;
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  /** Set while earlier messages load: the distance from the bottom to keep when they arrive. */
  const keepFromBottom = useRef<number | null>(null);

  useEffect(() => {
    if (shouldAutofocus(location.state as LocationState)) inputRef.current?.focus();
    // Only when a chat opens, not on every navigation state change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const title = chat.data?.chat.chat_name;
  useEffect(() => {
    document.title = title === undefined ? 'Simorgh Chat' : `${title} · Simorgh Chat`;
    return () => {
      document.title = 'Simorgh Chat';
    };
  }, [title]);

  const list = useMemo(() => chronological(messages.data), [messages.data]);
  const last = list.at(-1);
  const oldestId = list[0]?.message_id;

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = messages;

  // Opened from a search result: load earlier pages until the message is there, then scroll to
  // it and mark it for a moment. Once per navigation (the same chat may be opened at another one).
  const target = (location.state as LocationState)?.focusMessage ?? null;
  const [found, setFound] = useState<string | null>(null);
  const reached = useRef<string | null>(null);
  useEffect(() => {
    if (target === null || reached.current === location.key || !messages.isSuccess) return;
    if (!list.some((message) => message.message_id === target)) {
      if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
      else if (!hasNextPage) reached.current = location.key;
      return;
    }
    reached.current = location.key;
    stickToBottom.current = false;
    document.getElementById(messageElementId(target))?.scrollIntoView?.({ block: 'center' });
    setFound(target);
  }, [target, location.key, list, messages.isSuccess, hasNextPage, isFetchingNextPage, fetchNextPage]);
  useEffect(() => {
    if (found === null) return;
    const timer = setTimeout(() => setFound(null), FOUND_MARK_MS);
    return () => clearTimeout(timer);
  }, [found]);
  const loadEarlier = () => {
    const scroller = scrollRef.current;
    if (!hasNextPage || isFetchingNextPage || scroller === null) return;
    keepFromBottom.current = scroller.scrollHeight - scroller.scrollTop;
    void fetchNextPage();
  };

  // Follow the reply as it streams, unless the user scrolled up to read. When earlier messages
  // were put above, keep what the user was reading where it was.
  useLayoutEffect(() => {
    const scroller = scrollRef.current;
    if (scroller === null) return;
    if (keepFromBottom.current !== null) {
      if (isFetchingNextPage) return;
      scroller.scrollTop = scroller.scrollHeight - keepFromBottom.current;
      keepFromBottom.current = null;
    } else if (stickToBottom.current) {
      scroller.scrollTop = scroller.scrollHeight;
    }
  }, [messages.data, stream.phase, oldestId, isFetchingNextPage]);

  if (notFound) return <ChatNotFound />;

  // A reply being written that this tab did not ask for (another tab, or before a reload).
  const replying = list.some((message) => message.status === 'streaming');
  const idle = stream.phase === 'idle' && !replying;
  return (
    <div className="chat-view">
      <ChatHeader chatId={chatId} chat={chat.data?.chat} />
      <div
        ref={scrollRef}
        className="chat-scroll"
        onScroll={(event) => {
          const el = event.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          // Near the top: fetch the page before, so reading back never hits a wall.
          if (el.scrollTop < 200) loadEarlier();
        }}
      >
        <section className="messages" aria-label="Conversation">
          {messages.isLoading && <p className="muted">Loading messages…</p>}
          {isFetchingNextPage && (
            <p className="muted earlier" role="status">
              Loading earlier messages…
            </p>
          )}
          {hasNextPage && !isFetchingNextPage && (
            <p className="earlier">
              <button type="button" className="link-button" onClick={loadEarlier}>
                Show earlier messages
              </button>
            </p>
          )}
          {messages.isFetchNextPageError && (
            <p className="callout callout-error" role="alert">
              Couldn't load earlier messages.
            </p>
          )}
          {messages.isError && !messages.isFetchNextPageError && (
            <p className="callout callout-error" role="alert">
              Couldn't load the messages.{' '}
              <button type="button" className="link-button" onClick={() => void messages.refetch()}>
                Try again
              </button>
            </p>
          )}
          {messages.isSuccess && list.length === 0 && idle && (
            <p className="muted chat-hint">Send a message to start. Shift+Enter adds a new line.</p>
          )}
          {list.map((message) => (
            <MessageItem
              key={message.message_id}
              message={message}
              streaming={message.message_id === stream.streamingId || message.status === 'streaming'}
              found={message.message_id === found}
              writers={writers}
            />
          ))}
          {stream.phase === 'waiting' && (
            <p className="thinking" role="status">
              <span className="dots" aria-hidden="true" />
              <span className="visually-hidden">Waiting for the reply</span>
            </p>
          )}
          {live.reconnecting && (
            <p className="muted reconnecting" role="status">
              Reconnecting…
            </p>
          )}
          {stream.failure !== null && (
            <div className="callout callout-error inline-error" role="alert">
              <span>{stream.failure.detail}</span>
              {(owner || !stream.failure.regenerates) && (
                <button type="button" className="button button-small" onClick={stream.failure.retry}>
                  Retry
                </button>
              )}
            </div>
          )}
          {idle && owner && stream.failure === null && last?.role === 'assistant' && (
            <div className="message-actions">
              <button type="button" className="button button-small" onClick={() => void stream.regenerate()}>
                Regenerate
              </button>
            </div>
          )}
        </section>
      </div>
      <Composer
        inputRef={inputRef}
        busy={!idle}
        onSend={(content) => {
          stickToBottom.current = true;
          void stream.send(content);
        }}
        onStop={() => {
          if (stream.phase === 'idle') void stopReply(chatId).catch(() => undefined);
          else stream.stop();
          inputRef.current?.focus();
        }}
      />
    </div>
  );
}
