import { createContext, useContext } from 'react';

export type Notice = { id: number; text: string };

export type NoticeApi = {
  notices: Notice[];
  push: (text: string) => void;
  dismiss: (id: number) => void;
};

export const NoticeContext = createContext<NoticeApi | null>(null);

/** Short messages about things that failed away from where the user is looking. */
export function useNotices(): NoticeApi {
  const api = useContext(NoticeContext);
  if (api === null) throw new Error('useNotices must be used inside <NoticeProvider>');
  return api;
}
