import { compareEventIds, type StreamEvent } from '@simorgh/contracts';
import type { QueryClient } from '@tanstack/react-query';
import { getAuthSnapshot } from '../../api/auth-store';
import { queryKeys } from '../../api/query-keys';
import { patchChat, removeChat } from '../chats';
import { isUnsavedMessageId, messageCache, type MessagePages } from './message-cache';

/**
 * What the cached messages of each chat reflect: every event up to `floor` (the `last_event_id`
 * of the newest page, as loaded) plus the events in `seen`, applied since. A reply's events reach
 * the tab that asked for it twice (its own request's stream and the chat's events stream), and a
 * re-attached events stream replays from the floor: each event is applied once, whichever comes
 * first. A reload of the messages brings a new floor, and the record starts over from it.
 */
const applied = new Map<string, { floor: string; seen: Set<string> }>();

/** The event ID the loaded messages of the chat reflect, or undefined before they are loaded. */
export function loadedEventId(queryClient: QueryClient, chatId: string): string | undefined {
  return queryClient.getQueryData<MessagePages>(queryKeys.messages(chatId))?.pages[0]?.last_event_id;
}

function appliedSince(floor: string, chatId: string) {
  const current = applied.get(chatId);
  if (current?.floor === floor) return current;
  const fresh = { floor, seen: new Set<string>() };
  applied.set(chatId, fresh);
  return fresh;
}

/**
 * Applies one event of the chat to the cached messages and chats, unless the cache reflects it
 * already. `basis`: the floor an events stream was opened from; once the messages were reloaded
 * (another floor) its events are left to the stream opened from the new one, which replays them
 * in order. Returns whether the event was applied.
 */
export function applyChatEvent(
  queryClient: QueryClient,
  chatId: string,
  event: StreamEvent,
  id: string | null,
  basis?: string,
): boolean {
  const floor = loadedEventId(queryClient, chatId);
  if (id !== null && floor !== undefined) {
    if (basis !== undefined && basis !== floor) return false;
    const state = appliedSince(floor, chatId);
    if (compareEventIds(id, floor) <= 0 || state.seen.has(id)) return false;
    state.seen.add(id);
  }
  const cache = messageCache(queryClient, chatId);
  switch (event.type) {
    case 'user_message': {
      const { message } = event;
      const messages = cache.read();
      // This tab's own message, shown before the server numbered it.
      const local = messages.find((m) => isUnsavedMessageId(m.message_id) && m.content === message.content);
      const known = messages.some((m) => m.message_id === message.message_id);
      cache.upsert(known ? message.message_id : (local?.message_id ?? message.message_id), message);
      break;
    }
    case 'delta':
      cache.appendText(event.message_id, event.content);
      break;
    case 'assistant_message':
      cache.upsert(event.message.message_id, event.message);
      break;
    case 'title':
      patchChat(queryClient, event.chat_id, { chat_name: event.title });
      break;
    case 'chat_updated': {
      // The event carries the owner's view; this viewer keeps the access it opened the chat with.
      const { access: _ownersView, ...fields } = event.chat;
      patchChat(queryClient, fields.chat_id, fields);
      // Someone else's chat whose sharing may have changed: the chat's own record says whether
      // this viewer may still open it (a 404 turns the view into the "not available" page).
      if (fields.user_id !== getAuthSnapshot().auth?.user.user_id) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.chat(fields.chat_id) });
      }
      break;
    }
    case 'chat_deleted':
      removeChat(queryClient, event.chat_id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.chat(event.chat_id) });
      break;
    default:
      break;
  }
  return true;
}
