import { routes, type ChatMetadata } from '@simorgh/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';
import { useNotices } from '../../../hooks/useNotices';
import { removeChat } from '../chat-cache';
import { failureDetail } from '../failure-detail';

export function deleteChat(chatId: string) {
  return callRoute(routes.deleteChat, { params: { id: chatId } });
}

export function useDeleteChat() {
  const queryClient = useQueryClient();
  const { push } = useNotices();
  return useMutation({
    mutationFn: (chat: ChatMetadata) => deleteChat(chat.chat_id),
    onSuccess: ({ chat_id }) => {
      removeChat(queryClient, chat_id);
      queryClient.removeQueries({ queryKey: queryKeys.chat(chat_id) });
      queryClient.removeQueries({ queryKey: queryKeys.messages(chat_id) });
    },
    onError: (error) => push(`Couldn't delete the chat: ${failureDetail(error)}`),
  });
}
