import type { ChatMetadata } from '@simorgh/contracts';
import { chatSubtitle } from './ChatListItem';
import { CopyButton } from '../../../components/CopyButton';

export function ChatHeader({ chatId, chat }: { chatId: string; chat: ChatMetadata | undefined }) {
  const subtitle = chat === undefined ? null : chatSubtitle(chat);
  return (
    <header className="chat-header">
      <div className="chat-header-text">
        <h1 className="chat-heading">{chat?.chat_name ?? ' '}</h1>
        <p className="chat-meta">
          {subtitle !== null && <span className="chat-project">{subtitle}</span>}
          <span className="session-id">
            <span className="visually-hidden">Session ID: </span>
            <code>{chatId}</code>
            <CopyButton label="Copy session ID" getText={() => chatId} className="copy-inline" />
          </span>
        </p>
      </div>
    </header>
  );
}
