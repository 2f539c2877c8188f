import type { ListMessagesResponse, Message } from '@simorgh/contracts';
import type { QueryClient } from '@tanstack/react-query';
import { queryKeys } from '../../api/query-keys';

/** Edits to a chat's cached messages while a reply streams in. */
export function messageCache(queryClient: QueryClient, chatId: string) {
  const key = queryKeys.messages(chatId);
  const update = (map: (messages: Message[]) => Message[]) =>
    queryClient.setQueryData<ListMessagesResponse>(key, (data) => ({ messages: map(data?.messages ?? []) }));

  return {
    read: (): Message[] => queryClient.getQueryData<ListMessagesResponse>(key)?.messages ?? [],
    append: (message: Message) => update((messages) => [...messages, message]),
    remove: (messageId: string) => update((messages) => messages.filter((m) => m.message_id !== messageId)),
    /** Replaces the message with `messageId`, or appends `message` if there is none. */
    upsert: (messageId: string, message: Message) =>
      update((messages) =>
        messages.some((m) => m.message_id === messageId)
          ? messages.map((m) => (m.message_id === messageId ? message : m))
          : [...messages, message],
      ),
    patch: (messageId: string, patch: Partial<Message>) =>
      update((messages) => messages.map((m) => (m.message_id === messageId ? { ...m, ...patch } : m))),
    appendText: (messageId: string, text: string) =>
      update((messages) => {
        if (!messages.some((m) => m.message_id === messageId)) {
          const draft: Message = {
            message_id: messageId,
            role: 'assistant',
            content: text,
            created_at: new Date().toISOString(),
            status: 'complete',
          };
          return [...messages, draft];
        }
        return messages.map((m) => (m.message_id === messageId ? { ...m, content: m.content + text } : m));
      }),
  };
}
