import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { Outlet } from 'react-router';
import { ChatSidebar, useCreateGeneralChat } from '../features/chats';
import { CreateProjectChatModal } from '../features/projects';
import { NoticeList } from './NoticeProvider';
import { isNewChatShortcut, isSearchShortcut } from './shortcuts';

// Loaded when first opened, so the initial bundle carries none of it.
const SearchDialog = lazy(() => import('../features/search/components/SearchDialog'));

export type LayoutContext = { newChat: () => void; newProjectChat: () => void };

export function AppLayout() {
  const createChat = useCreateGeneralChat();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [projectModalOpen, setProjectModalOpen] = useState(false);
  /** The search dialog's starting text while it is open, null while closed. */
  const [searching, setSearching] = useState<string | null>(null);
  const toggleRef = useRef<HTMLButtonElement>(null);
  const sidebarRef = useRef<HTMLElement>(null);
  const drawerWasOpen = useRef(false);

  // On narrow screens the sidebar is a drawer: focus moves into it when it opens and back to the
  // toggle when it closes, so keyboard users are never left behind the backdrop.
  useEffect(() => {
    if (drawerOpen) sidebarRef.current?.querySelector<HTMLElement>('button, a[href]')?.focus();
    else if (drawerWasOpen.current && sidebarRef.current?.contains(document.activeElement)) toggleRef.current?.focus();
    drawerWasOpen.current = drawerOpen;
  }, [drawerOpen]);

  const { mutate, isPending } = createChat;
  const newChat = useCallback(() => {
    setDrawerOpen(false);
    // A held-down shortcut or a double click must not create a pile of empty chats.
    if (!isPending) mutate();
  }, [mutate, isPending]);
  const newProjectChat = useCallback(() => setProjectModalOpen(true), []);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (isNewChatShortcut(event)) {
        event.preventDefault();
        newChat();
      } else if (isSearchShortcut(event)) {
        event.preventDefault();
        setDrawerOpen(false);
        setSearching((open) => open ?? '');
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
          ref={toggleRef}
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
      <aside id="sidebar" ref={sidebarRef} className="sidebar">
        <ChatSidebar
          onNewChat={newChat}
          onNewProjectChat={() => {
            setDrawerOpen(false);
            newProjectChat();
          }}
          onNavigate={() => setDrawerOpen(false)}
          onSearch={(text) => {
            setDrawerOpen(false);
            setSearching(text);
          }}
        />
      </aside>
      <div className="drawer-backdrop" onClick={() => setDrawerOpen(false)} />
      <main className="main">
        <Outlet context={context} />
      </main>
      <NoticeList />
      {projectModalOpen && <CreateProjectChatModal onClose={() => setProjectModalOpen(false)} />}
      {searching !== null && (
        <Suspense fallback={null}>
          <SearchDialog initialQuery={searching} onClose={() => setSearching(null)} />
        </Suspense>
      )}
    </div>
  );
}
