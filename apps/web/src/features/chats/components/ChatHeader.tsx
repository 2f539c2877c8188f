import type { ChatMetadata } from '@simorgh/contracts';
import { lazy, Suspense, useState } from 'react';
import { chatSubtitle } from './ChatListItem';
import { SharedBadge } from './SharedBadge';
import { CopyButton } from '../../../components/CopyButton';
import { isOwnChat, isSharedChat } from '../chat-access';

// Loaded when first opened, so the initial bundle carries none of it.
const ShareDialog = lazy(() => import('./ShareDialog'));

export function ChatHeader({ chatId, chat }: { chatId: string; chat: ChatMetadata | undefined }) {
  const subtitle = chat === undefined ? null : chatSubtitle(chat);
  const [sharing, setSharing] = useState(false);
  return (
    <header className="chat-header">
      <div className="chat-header-text">
        <h1 className="chat-heading">{chat?.chat_name ?? ' '}</h1>
        <p className="chat-meta">
          {chat !== undefined && isSharedChat(chat) && <SharedBadge chat={chat} />}
          {subtitle !== null && <span className="chat-project">{subtitle}</span>}
          <span className="session-id">
            <span className="visually-hidden">Session ID: </span>
            <code>{chatId}</code>
            <CopyButton label="Copy session ID" getText={() => chatId} className="copy-inline" />
          </span>
        </p>
      </div>
      {chat !== undefined && isOwnChat(chat) && (
        <button type="button" className="button button-small chat-share" aria-haspopup="dialog" onClick={() => setSharing(true)}>
          Share
        </button>
      )}
      {sharing && chat !== undefined && (
        <Suspense fallback={null}>
          <ShareDialog chat={chat} onClose={() => setSharing(false)} />
        </Suspense>
      )}
    </header>
  );
}
