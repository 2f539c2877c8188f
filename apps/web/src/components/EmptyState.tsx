import { useOutletContext } from 'react-router';
import type { LayoutContext } from './AppLayout';
import { NEW_CHAT_SHORTCUT_LABEL } from './shortcuts';

export function EmptyState() {
  const { newChat, newProjectChat } = useOutletContext<LayoutContext>();
  return (
    <div className="empty-state">
      <span className="brand-mark brand-mark-large" aria-hidden="true" />
      <h1>Start a conversation</h1>
      <p className="muted">
        Ask about anything, or start a project chat to keep the conversation tied to a project page.
      </p>
      <div className="empty-actions">
        <button type="button" className="button button-primary" onClick={newChat}>
          Start a new chat
        </button>
        <button type="button" className="button" onClick={newProjectChat}>
          Start a project chat
        </button>
      </div>
      <p className="muted small">
        Shortcut: <kbd>{NEW_CHAT_SHORTCUT_LABEL}</kbd>
      </p>
    </div>
  );
}
