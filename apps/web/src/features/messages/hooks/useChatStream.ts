import type { Message, StreamEvent } from '@simorgh/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, detailOf, isAbortError } from '../../../api/api-error';
import { queryKeys } from '../../../api/query-keys';
import { regenerateReply } from '../api/regenerate-reply';
import { sendMessage } from '../api/send-message';
import { stopReply } from '../api/stop-reply';
import { announceChatListsChanged } from '../../chats';
import { applyChatEvent } from '../chat-events';
import { messageCache, unsavedMessageId } from '../message-cache';

export type StreamPhase = 'idle' | 'waiting' | 'streaming';
/** `regenerates`: the retry asks for the last reply again, which only the chat's owner may do. */
export type StreamFailure = { detail: string; retry: () => void; regenerates: boolean };

type Run = { kind: 'send'; content: string } | { kind: 'regenerate' };

let localCounter = 0;

/**
 * Sends a message (or regenerates the last reply) and streams the reply into the messages cache
 * token by token. The user's message is put on screen before the request leaves and is never
 * removed by a failure: it stays, with the error and a Retry next to it.
 */
export function useChatStream(chatId: string) {
  const queryClient = useQueryClient();
  const [phase, setPhase] = useState<StreamPhase>('idle');
  const [failure, setFailure] = useState<StreamFailure | null>(null);
  const [streamingId, setStreamingId] = useState<string | null>(null);
  /** The reply being written; cleared as soon as the reply is final. */
  const controllerRef = useRef<AbortController | null>(null);
  /** Every open stream, including ones that only wait for a late title event. */
  const openStreams = useRef(new Set<AbortController>());

  useEffect(() => {
    const streams = openStreams.current;
    return () => {
      for (const controller of streams) controller.abort();
      streams.clear();
    };
  }, [chatId]);

  const run = useCallback(
    async (request: Run): Promise<void> => {
      if (controllerRef.current !== null) return;
      const controller = new AbortController();
      controllerRef.current = controller;
      openStreams.current.add(controller);
      const settle = () => {
        if (controllerRef.current !== controller) return; // settled already, or a newer reply owns the state
        controllerRef.current = null;
        setPhase('idle');
        setStreamingId(null);
      };
      const cache = messageCache(queryClient, chatId);
      setFailure(null);
      setPhase('waiting');

      let localUserId: string | null = null;
      let userPersisted = false;
      let replyId: string | null = null;
      let finalReply = false;
      let serverError: { detail: string } | null = null;
      let previousReply: Message | null = null;

      if (request.kind === 'send') {
        localCounter += 1;
        localUserId = unsavedMessageId(localCounter);
        cache.append({
          message_id: localUserId,
          role: 'user',
          content: request.content,
          created_at: new Date().toISOString(),
          status: 'complete',
        });
      } else {
        const last = cache.read().at(-1);
        if (last?.role === 'assistant') {
          previousReply = last;
          cache.remove(last.message_id);
        }
      }

      // The chat's events stream brings the same events (with the same IDs); each is applied once.
      const onEvent = (event: StreamEvent, id: string | null) => {
        switch (event.type) {
          case 'user_message':
            applyChatEvent(queryClient, chatId, event, id);
            userPersisted = true;
            break;
          case 'delta':
            replyId = event.message_id;
            applyChatEvent(queryClient, chatId, event, id);
            setStreamingId(event.message_id);
            setPhase('streaming');
            break;
          case 'assistant_message':
            applyChatEvent(queryClient, chatId, event, id);
            replyId = event.message.message_id;
            finalReply = true;
            // The reply is complete; the stream may stay open a moment longer for the title.
            settle();
            break;
          case 'title':
            applyChatEvent(queryClient, chatId, event, id);
            break;
          case 'error':
            serverError = { detail: event.detail };
            break;
          default:
            break;
        }
      };

      let requestError: unknown = null;
      try {
        if (request.kind === 'send') await sendMessage(chatId, request.content, onEvent, controller.signal);
        else await regenerateReply(chatId, onEvent, controller.signal);
      } catch (error) {
        requestError = error;
      } finally {
        openStreams.current.delete(controller);
        settle();
      }

      if (isAbortError(requestError)) {
        // Stopped by the user: keep what arrived, marked as stopped.
        if (replyId !== null && !finalReply) cache.patch(replyId, { status: 'stopped' });
        return;
      }

      const reachedServer = request.kind === 'regenerate' || userPersisted;
      if (requestError !== null && replyId === null && previousReply !== null) cache.append(previousReply);

      const unsaved = request.kind === 'send' && !userPersisted ? localUserId : null;
      const resends = unsaved !== null;
      const retry = () => {
        if (request.kind === 'send' && unsaved !== null) {
          cache.remove(unsaved);
          void run({ kind: 'send', content: request.content });
        } else {
          void run({ kind: 'regenerate' });
        }
      };
      // The request dropped after the server took the message: the reply goes on being written
      // there, and the chat's events stream shows the rest.
      const continuesElsewhere = serverError === null && requestError !== null && reachedServer && !finalReply;
      const failed: { detail: string } | null =
        serverError ??
        (requestError === null || continuesElsewhere
          ? null
          : { detail: detailOf(requestError, 'The reply could not be loaded.') });
      if (continuesElsewhere) {
        // Nothing to report.
      } else if (failed !== null) {
        setFailure({ detail: failed.detail, retry, regenerates: !resends });
      } else if (!finalReply) {
        setFailure({ detail: 'The reply ended before it was complete.', retry, regenerates: !resends });
      }
      // The chat is gone for this user (deleted, or no longer shared with them): the chat's own
      // record is asked again, and its 404 turns the view into the "not available" page.
      if (requestError instanceof ApiError && requestError.code === 'not_found') {
        void queryClient.invalidateQueries({ queryKey: queryKeys.chat(chatId) });
      }

      if (reachedServer) {
        // The stream carries the title live; this refetch is the fallback if it was missed, and
        // brings the new updated_at into the sidebar order.
        void queryClient.invalidateQueries({ queryKey: queryKeys.chat(chatId) });
        void queryClient.invalidateQueries({ queryKey: queryKeys.chatLists });
        announceChatListsChanged();
        if (!finalReply) void queryClient.invalidateQueries({ queryKey: queryKeys.messages(chatId) });
      }
    },
    [chatId, queryClient],
  );

  const send = useCallback((content: string) => run({ kind: 'send', content }), [run]);
  const regenerate = useCallback(() => run({ kind: 'regenerate' }), [run]);
  const stop = useCallback(() => {
    const controller = controllerRef.current;
    if (controller === null) return;
    // Tell the server first so it saves the partial reply, then stop reading at once.
    void stopReply(chatId).catch(() => undefined);
    controller.abort();
  }, [chatId]);

  return { phase, failure, streamingId, send, regenerate, stop };
}
