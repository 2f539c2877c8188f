import type { ChatMetadata } from '@simorgh/contracts';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Link } from 'react-router';
import { isOwnChat, isSharedChat } from '../chat-access';
import { isPendingChatId } from '../chat-cache';
import { SharedBadge } from './SharedBadge';

/** What the owner may do from the list; absent where the list offers no actions. */
export type ChatItemActions = {
  onRename: (name: string) => void;
  onTogglePin: () => void;
  onToggleArchive: () => void;
  onDelete: () => void;
};

type ChatListItemProps = {
  chat: ChatMetadata;
  current: boolean;
  onOpen: () => void;
  actions?: ChatItemActions;
};

export function chatSubtitle(chat: ChatMetadata): string | null {
  if (chat.chat_type !== 'project') return null;
  const project = chat.project_name ?? `Project ${chat.project_number ?? ''}`.trim();
  return chat.page_name === null ? project : `${project} · ${chat.page_name}`;
}

export function ChatListItem(props: ChatListItemProps) {
  const { chat, current, actions } = props;
  const [renaming, setRenaming] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const subtitle = chatSubtitle(chat);

  if (isPendingChatId(chat.chat_id)) {
    return (
      <li className="chat-item chat-item-pending" aria-busy="true">
        <span className="chat-link">
          <span className="chat-title">{chat.chat_name}</span>
        </span>
      </li>
    );
  }

  return (
    <li className={`chat-item${current ? ' chat-item-current' : ''}`}>
      {renaming ? (
        <RenameField
          initial={chat.chat_name}
          onDone={(name) => {
            setRenaming(false);
            if (name !== null && name !== chat.chat_name) actions?.onRename(name);
          }}
        />
      ) : (
        <Link
          className="chat-link"
          to={`/c/${encodeURIComponent(chat.chat_id)}`}
          aria-current={current ? 'page' : undefined}
          onClick={props.onOpen}
        >
          <span className="chat-title-row">
            <span className="chat-title">{chat.chat_name}</span>
            {isSharedChat(chat) && <SharedBadge chat={chat} />}
          </span>
          {subtitle !== null && <span className="chat-subtitle">{subtitle}</span>}
        </Link>
      )}
      {/* Renaming, pinning, archiving and deleting are the owner's alone. */}
      {!renaming && actions !== undefined && isOwnChat(chat) && (
        <ChatMenu
          chat={chat}
          open={menuOpen}
          setOpen={setMenuOpen}
          onRename={() => setRenaming(true)}
          onTogglePin={actions.onTogglePin}
          onToggleArchive={actions.onToggleArchive}
          onDelete={actions.onDelete}
        />
      )}
    </li>
  );
}

function RenameField({ initial, onDone }: { initial: string; onDone: (name: string | null) => void }) {
  const [value, setValue] = useState(initial);
  const doneRef = useRef(false);
  const finish = (name: string | null) => {
    if (doneRef.current) return;
    doneRef.current = true;
    onDone(name === null || name.trim() === '' ? null : name.trim());
  };
  return (
    <input
      className="rename-input"
      aria-label="Chat name"
      value={value}
      maxLength={200}
      autoFocus
      onFocus={(event) => event.currentTarget.select()}
      onChange={(event) => setValue(event.target.value)}
      onBlur={() => finish(value)}
      onKeyDown={(event) => {
        if (event.key === 'Enter') finish(value);
        if (event.key === 'Escape') {
          event.stopPropagation();
          finish(null);
        }
      }}
    />
  );
}

type ChatMenuProps = {
  chat: ChatMetadata;
  open: boolean;
  setOpen: (open: boolean) => void;
  onRename: () => void;
  onTogglePin: () => void;
  onToggleArchive: () => void;
  onDelete: () => void;
};

function ChatMenu({ chat, open, setOpen, onRename, onTogglePin, onToggleArchive, onDelete }: ChatMenuProps) {
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open, setOpen]);

  const choose = (action: () => void, returnFocus: boolean) => () => {
    setOpen(false);
    if (returnFocus) buttonRef.current?.focus();
    action();
  };

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const items = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const index = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'Escape' || event.key === 'Tab') {
      if (event.key === 'Escape') event.stopPropagation();
      setOpen(false);
      buttonRef.current?.focus();
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      items[(index + step + items.length) % items.length]?.focus();
    }
  };

  const archived = chat.status === 'archived';
  return (
    <div className="chat-menu">
      <button
        ref={buttonRef}
        type="button"
        className="icon-button chat-menu-button"
        aria-label={`Options for ${chat.chat_name}`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        ⋯
      </button>
      {open && (
        <div ref={menuRef} className="menu" role="menu" aria-label={`Options for ${chat.chat_name}`} onKeyDown={onMenuKeyDown}>
          <button type="button" role="menuitem" onClick={choose(onRename, false)}>
            Rename
          </button>
          {!archived && (
            <button type="button" role="menuitem" onClick={choose(onTogglePin, true)}>
              {chat.pinned ? 'Unpin' : 'Pin'}
            </button>
          )}
          <button type="button" role="menuitem" onClick={choose(onToggleArchive, false)}>
            {archived ? 'Unarchive' : 'Archive'}
          </button>
          <button type="button" role="menuitem" className="menu-danger" onClick={choose(onDelete, true)}>
            Delete
          </button>
        </div>
      )}
    </div>
  );
}
