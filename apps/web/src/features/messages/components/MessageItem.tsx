import type { Message } from '@simorgh/contracts';
import { lazy, Suspense } from 'react';

const Markdown = lazy(() => import('../../../components/Markdown'));

type MessageItemProps = {
  message: Message;
  streaming: boolean;
  /** Briefly marked: the message a search result opened. */
  found?: boolean;
};

/** The element ID of a message in the conversation, for scrolling to it. */
export const messageElementId = (messageId: string) => `message-${messageId}`;

function PlainText({ text }: { text: string }) {
  return <div className="plain-text">{text}</div>;
}

export function MessageItem({ message, streaming, found = false }: MessageItemProps) {
  const mine = message.role === 'user';
  return (
    <article
      id={messageElementId(message.message_id)}
      className={`message message-${message.role}${found ? ' message-found' : ''}`}
      aria-label={mine ? 'You said' : 'Simorgh Chat replied'}
      aria-busy={streaming || undefined}
    >
      {mine ? (
        <PlainText text={message.content} />
      ) : (
        // Until the markdown code arrives the reply shows as plain text, so nothing waits on it.
        <Suspense fallback={<PlainText text={message.content} />}>
          <Markdown text={message.content} />
        </Suspense>
      )}
      {message.status === 'stopped' && <p className="message-note">Stopped</p>}
      {message.status === 'error' && (
        <p className="message-note message-note-error">{message.error ?? 'This reply failed.'}</p>
      )}
    </article>
  );
}
