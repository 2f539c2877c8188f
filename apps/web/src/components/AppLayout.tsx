import { useCallback, useEffect, useState } from 'react';
import { Outlet } from 'react-router';
import { useCreateGeneralChat } from '../hooks/useChats';
import { ChatSidebar } from './ChatSidebar';
import { CreateProjectChatModal } from './CreateProjectChatModal';
import { NoticeList } from './NoticeProvider';
import { isNewChatShortcut } from './shortcuts';

export type LayoutContext = { newChat: () => void; newProjectChat: () => void };

export function AppLayout() {
  const createChat = useCreateGeneralChat();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [projectModalOpen, setProjectModalOpen] = useState(false);

  const { mutate } = createChat;
  const newChat = useCallback(() => {
    setDrawerOpen(false);
    mutate();
  }, [mutate]);
  const newProjectChat = useCallback(() => setProjectModalOpen(true), []);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (isNewChatShortcut(event)) {
        event.preventDefault();
        newChat();
      } else if (event.key === 'Escape') {
        setDrawerOpen(false);
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [newChat]);

  const context: LayoutContext = { newChat, newProjectChat };
  return (
    <div className={`app${drawerOpen ? ' drawer-open' : ''}`}>
      <header className="topbar">
        <button
          type="button"
          className="icon-button"
          aria-label={drawerOpen ? 'Close chat list' : 'Open chat list'}
          aria-expanded={drawerOpen}
          aria-controls="sidebar"
          onClick={() => setDrawerOpen(!drawerOpen)}
        >
          <span className="hamburger" aria-hidden="true" />
        </button>
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Simorgh Chat
        </span>
      </header>
      <aside id="sidebar" className="sidebar">
        <ChatSidebar
          onNewChat={newChat}
          onNewProjectChat={() => {
            setDrawerOpen(false);
            newProjectChat();
          }}
          onNavigate={() => setDrawerOpen(false)}
        />
      </aside>
      <div className="drawer-backdrop" onClick={() => setDrawerOpen(false)} />
      <main className="main">
        <Outlet context={context} />
      </main>
      <NoticeList />
      {projectModalOpen && <CreateProjectChatModal onClose={() => setProjectModalOpen(false)} />}
    </div>
  );
}
