import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { queryKeys } from '../../api/query-keys';

/**
 * Keeps the sidebar of every tab of this browser in step: a tab that changed the user's chats
 * (created, renamed, pinned, archived, shared, deleted one, or wrote in one, which moves it up)
 * says so on a BroadcastChannel, and the other tabs refetch their chat lists. Nothing else
 * travels: each tab reads the lists with its own credentials. A chat's own view already follows
 * its events stream; this is for the lists, which no stream carries.
 */
export const CHANNEL_NAME = 'simorgh-chat:chat-lists';
const CHANGED = 'changed';

// One channel per tab, for sending and receiving alike: a BroadcastChannel never receives what
// it posted itself, so a tab does not refetch for its own changes (it already updated its lists).
let channel: BroadcastChannel | null = null;

function tabChannel(): BroadcastChannel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  channel ??= new BroadcastChannel(CHANNEL_NAME);
  return channel;
}

export function announceChatListsChanged(): void {
  tabChannel()?.postMessage(CHANGED);
}

/** Refetches this tab's chat lists whenever another tab announces a change. */
export function useChatListsFromOtherTabs(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const tab = tabChannel();
    if (tab === null) return undefined;
    const onMessage = (event: MessageEvent) => {
      if (event.data === CHANGED) void queryClient.invalidateQueries({ queryKey: queryKeys.chatLists });
    };
    tab.addEventListener('message', onMessage);
    return () => tab.removeEventListener('message', onMessage);
  }, [queryClient]);
}
