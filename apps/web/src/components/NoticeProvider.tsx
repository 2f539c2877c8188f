import { useCallback, useMemo, useRef, useState, type ReactNode } from 'react';
import { NoticeContext, type Notice } from '../hooks/useNotices';

const NOTICE_LIFETIME_MS = 10_000;

export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setNotices((current) => current.filter((notice) => notice.id !== id));
  }, []);

  const push = useCallback(
    (text: string) => {
      const id = nextId.current++;
      setNotices((current) => [...current.slice(-2), { id, text }]);
      setTimeout(() => dismiss(id), NOTICE_LIFETIME_MS);
    },
    [dismiss],
  );

  const api = useMemo(() => ({ notices, push, dismiss }), [notices, push, dismiss]);
  return <NoticeContext.Provider value={api}>{children}</NoticeContext.Provider>;
}

export function NoticeList() {
  return (
    <NoticeContext.Consumer>
      {(api) =>
        api === null || api.notices.length === 0 ? null : (
          <div className="notices" role="alert">
            {api.notices.map((notice) => (
              <p key={notice.id} className="notice">
                <span>{notice.text}</span>
                <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => api.dismiss(notice.id)}>
                  ×
                </button>
              </p>
            ))}
          </div>
        )
      }
    </NoticeContext.Consumer>
  );
}
