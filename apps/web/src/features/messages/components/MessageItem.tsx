import type { Message, User } from '@simorgh/contracts';
import { lazy, Suspense } from 'react';
import { isUnsavedMessageId } from '../message-cache';

/**
 * The markdown code (a chunk of its own, outside the initial bundle). ChatRoute asks for it as a
 * chat opens, alongside the chat's messages, so after a reload a reply is rarely shown as plain
 * text first.
 */
export const loadMarkdown = () => import('../../../components/Markdown');
const Markdown = lazy(loadMarkdown);

type MessageItemProps = {
  message: Message;
  streaming: boolean;
  /** Briefly marked: the message a search result opened. */
  found?: boolean;
  /** In a chat several people write in: who is reading and who owns the chat, so each user message names its author. */
  writers?: Writers | null;
};

/** The element ID of a message in the conversation, for scrolling to it. */
export const messageElementId = (messageId: string) => `message-${messageId}`;

export type Writers = { viewer: User; ownerId: string };

/**
 * Who wrote a user message: its author; the viewer while their own is still being sent; the
 * owner for messages from before the chat was shared (they carry no author).
 */
function authorOf(message: Message, { viewer, ownerId }: Writers): { name: string; own: boolean } {
  const authorId = message.author_id ?? (isUnsavedMessageId(message.message_id) ? viewer.user_id : ownerId);
  const own = authorId === viewer.user_id;
  return { name: message.author_name ?? (own ? viewer.display_name : authorId), own };
}

function PlainText({ text }: { text: string }) {
  return <div className="plain-text">{text}</div>;
}

export function MessageItem({ message, streaming, found = false, writers = null }: MessageItemProps) {
  const mine = message.role === 'user';
  const author = mine && writers !== null ? authorOf(message, writers) : null;
  return (
    <article
      id={messageElementId(message.message_id)}
      className={`message message-${message.role}${found ? ' message-found' : ''}`}
      aria-label={mine ? `${author === null || author.own ? 'You' : author.name} said` : 'Simorgh Chat replied'}
      aria-busy={streaming || undefined}
    >
      {author !== null && (
        <p className="message-author" aria-hidden="true">
          {author.name}
        </p>
      )}
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
