import { routes, type ChatMetadata, type UpdateChatRequest } from '@simorgh/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';
import { useNotices } from '../../../hooks/useNotices';
import { patchChat, restoreChats, snapshotChats } from '../chat-cache';
import { failureDetail } from '../failure-detail';

export function updateChat(chatId: string, body: UpdateChatRequest) {
  return callRoute(routes.updateChat, { params: { id: chatId }, body });
}

type UpdateVariables = { chat: ChatMetadata; patch: UpdateChatRequest; failure: string };

/** Rename, pin and archive: applied on screen at once, undone with a notice if the API refuses. */
export function useUpdateChat() {
  const queryClient = useQueryClient();
  const { push } = useNotices();
  return useMutation({
    mutationFn: ({ chat, patch }: UpdateVariables) => updateChat(chat.chat_id, patch),
    onMutate: async ({ chat, patch }) => {
      await queryClient.cancelQueries({ queryKey: queryKeys.chatLists });
      const snapshot = snapshotChats(queryClient);
      patchChat(queryClient, chat.chat_id, patch);
      return { snapshot };
    },
    onSuccess: ({ chat }) => {
      patchChat(queryClient, chat.chat_id, chat);
    },
    onError: (error, { failure }, context) => {
      if (context !== undefined) restoreChats(queryClient, context.snapshot);
      push(`${failure}: ${failureDetail(error)}`);
    },
    // Pinning and archiving move chats between positions and lists; the server has the order.
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.chatLists }),
  });
}
