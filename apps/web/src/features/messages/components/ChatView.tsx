import { useEffect, useLayoutEffect, useRef } from 'react';
import { useLocation } from 'react-router';
import { ApiError } from '../../../api/api-error';
import { ChatHeader, useChat } from '../../chats';
import { useMessages } from '../api/list-messages';
import { useChatStream } from '../hooks/useChatStream';
import { ChatNotFound } from './ChatNotFound';
import { Composer } from './Composer';
import { MessageItem } from './MessageItem';

type LocationState = { focusComposer?: boolean } | null;

/** Focus the message box on open, except on touch screens where it would pop up the keyboard. */
function shouldAutofocus(state: LocationState): boolean {
  if (state?.focusComposer === true) return true;
  return typeof window.matchMedia === 'function' && window.matchMedia('(pointer: fine)').matches;
}

export function ChatView({ chatId }: { chatId: string }) {
  const chat = useChat(chatId);
  const messages = useMessages(chatId);
  const stream = useChatStream(chatId);
  const location = useLocation();
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

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

  const list = messages.data?.messages ?? [];
  const last = list.at(-1);

  // Follow the reply as it streams, unless the user scrolled up to read.
  useLayoutEffect(() => {
    const scroller = scrollRef.current;
    if (scroller !== null && stickToBottom.current) scroller.scrollTop = scroller.scrollHeight;
  }, [messages.data, stream.phase]);

  const notFound = chat.error instanceof ApiError && chat.error.code === 'not_found';
  if (notFound) return <ChatNotFound />;

  const idle = stream.phase === 'idle';
  return (
    <div className="chat-view">
      <ChatHeader chatId={chatId} chat={chat.data?.chat} />
      <div
        ref={scrollRef}
        className="chat-scroll"
        onScroll={(event) => {
          const el = event.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        <section className="messages" aria-label="Conversation">
          {messages.isLoading && <p className="muted">Loading messages…</p>}
          {messages.isError && (
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
            <MessageItem key={message.message_id} message={message} streaming={message.message_id === stream.streamingId} />
          ))}
          {stream.phase === 'waiting' && (
            <p className="thinking" role="status">
              <span className="dots" aria-hidden="true" />
              <span className="visually-hidden">Waiting for the reply</span>
            </p>
          )}
          {stream.failure !== null && (
            <div className="callout callout-error inline-error" role="alert">
              <span>{stream.failure.detail}</span>
              <button type="button" className="button button-small" onClick={stream.failure.retry}>
                Retry
              </button>
            </div>
          )}
          {idle && stream.failure === null && last?.role === 'assistant' && (
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
          stream.stop();
          inputRef.current?.focus();
        }}
      />
    </div>
  );
}
