import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError } from '../../../api/api-error';
import { queryKeys } from '../../../api/query-keys';
import { followChatEvents } from '../api/follow-chat-events';
import { applyChatEvent, loadedEventId } from '../chat-events';

/**
 * A connection silent this long is dead (the API sends a heartbeat every 15 s): a laptop that
 * slept, or a network that changed, can leave one open that will never deliver again.
 */
export const QUIET_MS = 35_000;

/** The wait before reconnect attempt `failures` (from 0): 0.5 s doubling up to 10 s, less up to a quarter so tabs spread out. */
export function reconnectDelayMs(failures: number): number {
  const base = Math.min(500 * 2 ** failures, 10_000);
  return base * (0.75 + Math.random() * 0.25);
}

/** Answers that no retry will change: signed out, no longer allowed, the chat is gone. */
const isFinal = (error: unknown) => error instanceof ApiError && [401, 403, 404].includes(error.status);

/**
 * Follows the open chat's events from `lastEventId` (what the loaded messages reflect): a reply
 * written elsewhere (another tab, another person, or this tab before a reload) continues on
 * screen, and new messages, titles, renames and deletion show as they happen. When the connection
 * drops (or the browser goes offline) it reconnects from the last event it got, with backoff, at
 * once when the network comes back or the tab is shown again; `reconnecting` is true meanwhile. Told that the events it needs
 * are gone (`reset`), it reloads the messages and follows on from theirs.
 */
export function useChatEvents(chatId: string, lastEventId: string | undefined) {
  const queryClient = useQueryClient();
  const [reconnecting, setReconnecting] = useState(false);

  useEffect(() => {
    if (lastEventId === undefined) return;
    let stopped = false;
    let attempt: AbortController | null = null;
    let lastActivity = Date.now();
    /** Set while waiting to reconnect: ends the wait. */
    let wake: (() => void) | null = null;
    /** Reconnect without waiting: the network came back or the tab was shown again. */
    let restartNow = false;

    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => wake?.(), ms);
        wake = () => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
      });
    const reconnectNow = () => {
      // Also covers the moment between a failed attempt and its wait: that wait is skipped.
      restartNow = true;
      if (wake !== null) wake();
      else attempt?.abort();
    };
    const onOnline = () => reconnectNow();
    // The browser knows the network is gone: the connection cannot deliver, say so at once.
    const onOffline = () => attempt?.abort();
    const onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      if (wake !== null || Date.now() - lastActivity > QUIET_MS) reconnectNow();
    };
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', onOffline);
    document.addEventListener('visibilitychange', onVisible);

    void (async () => {
      let cursor = lastEventId;
      let failures = 0;
      /** Resets in a row: a server that keeps answering `reset` is asked again ever more slowly. */
      let resets = 0;
      while (!stopped) {
        const current = new AbortController();
        attempt = current;
        let outcome = 'dropped' as 'dropped' | 'reset' | 'gone';
        const watchdog = setInterval(() => {
          if (Date.now() - lastActivity > QUIET_MS) current.abort();
        }, QUIET_MS / 5);
        try {
          await followChatEvents(
            chatId,
            cursor,
            (event, id) => {
              if (current.signal.aborted) return;
              if (event.type === 'reset') {
                outcome = 'reset';
                current.abort();
                return;
              }
              resets = 0;
              applyChatEvent(queryClient, chatId, event, id, lastEventId);
              if (id !== null) cursor = id;
              if (event.type === 'chat_deleted') {
                outcome = 'gone';
                current.abort();
              }
            },
            {
              onOpen: () => {
                lastActivity = Date.now();
                failures = 0;
                setReconnecting(false);
              },
              onActivity: () => {
                lastActivity = Date.now();
              },
            },
            current.signal,
          );
        } catch (error) {
          if (isFinal(error)) {
            outcome = 'gone';
            // Deleted, or no longer shared with this user: the chat's own query says which.
            void queryClient.invalidateQueries({ queryKey: queryKeys.chat(chatId) });
          }
        } finally {
          clearInterval(watchdog);
          attempt = null;
        }
        if (stopped) break;
        if (outcome === 'gone') {
          setReconnecting(false);
          break;
        }
        if (outcome === 'reset') {
          // The events after `cursor` are no longer kept: what the server has now replaces the cache.
          await queryClient.refetchQueries({ queryKey: queryKeys.messages(chatId), exact: true });
          // Reloaded to a new ID: this effect runs again from it.
          if (stopped || loadedEventId(queryClient, chatId) !== lastEventId) break;
          resets += 1;
          if (resets > 1) await pause(reconnectDelayMs(resets));
          continue;
        }
        if (restartNow) {
          restartNow = false;
          continue;
        }
        setReconnecting(true);
        await pause(reconnectDelayMs(failures));
        restartNow = false;
        failures += 1;
      }
    })();

    return () => {
      stopped = true;
      attempt?.abort();
      wake?.();
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
      document.removeEventListener('visibilitychange', onVisible);
      setReconnecting(false);
    };
  }, [chatId, lastEventId, queryClient]);

  return { reconnecting };
}
