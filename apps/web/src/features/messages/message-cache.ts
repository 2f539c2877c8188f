import type { ListMessagesResponse, Message } from '@simorgh/contracts';
import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import { queryKeys } from '../../api/query-keys';

/** The cached pages of a chat's messages: pages[0] is the newest, each next page older. */
export type MessagePages = InfiniteData<ListMessagesResponse, string | null>;

/** The loaded messages, oldest first. */
export function chronological(data: Pick<MessagePages, 'pages'> | undefined): Message[] {
  if (data === undefined) return [];
  return [...data.pages].reverse().flatMap((page) => page.messages);
}

const UNSAVED_PREFIX = 'local:';

/** The ID a user's message has on screen until the server has saved it. */
export const unsavedMessageId = (counter: number) => `${UNSAVED_PREFIX}${counter}`;
export const isUnsavedMessageId = (messageId: string) => messageId.startsWith(UNSAVED_PREFIX);

const noPages = (): MessagePages => ({ pages: [{ messages: [], next_before: null, last_event_id: '0-0' }], pageParams: [null] });

/** A chat just created has no messages: its cache starts empty, so opening it fetches nothing. */
export function setNoMessages(queryClient: QueryClient, chatId: string): void {
  queryClient.setQueryData<MessagePages>(queryKeys.messages(chatId), noPages());
}

/** Edits to a chat's cached messages while a reply streams in. */
export function messageCache(queryClient: QueryClient, chatId: string) {
  const key = queryKeys.messages(chatId);
  const read = (): Message[] => chronological(queryClient.getQueryData<MessagePages>(key));
  const has = (messageId: string) => read().some((m) => m.message_id === messageId);
  const updatePages = (map: (page: ListMessagesResponse, index: number) => ListMessagesResponse) =>
    queryClient.setQueryData<MessagePages>(key, (data) => {
      const base = data ?? noPages();
      return { ...base, pages: base.pages.map(map) };
    });
  /** Every page's messages through `map` (a message is on one page, wherever it is). */
  const update = (map: (messages: Message[]) => Message[]) => updatePages((page) => ({ ...page, messages: map(page.messages) }));
  /** New messages are the newest: they go at the end of the first page. */
  const append = (message: Message) =>
    updatePages((page, index) => (index === 0 ? { ...page, messages: [...page.messages, message] } : page));

  return {
    read,
    append,
    remove: (messageId: string) => update((messages) => messages.filter((m) => m.message_id !== messageId)),
    /** Replaces the message with `messageId`, or appends `message` if there is none. */
    upsert: (messageId: string, message: Message) =>
      has(messageId) ? update((messages) => messages.map((m) => (m.message_id === messageId ? message : m))) : append(message),
    patch: (messageId: string, patch: Partial<Message>) =>
      update((messages) => messages.map((m) => (m.message_id === messageId ? { ...m, ...patch } : m))),
    /**
     * Adds a token to the reply being written. A reply that was final is being written again
     * (regenerated, seen from another tab): its text starts over.
     */
    appendText: (messageId: string, text: string) => {
      if (has(messageId)) {
        update((messages) =>
          messages.map((m) =>
            m.message_id !== messageId ? m : { ...m, content: m.status === 'streaming' ? m.content + text : text, status: 'streaming' },
          ),
        );
        return;
      }
      append({ message_id: messageId, role: 'assistant', content: text, created_at: new Date().toISOString(), status: 'streaming' });
    },
  };
}
