import { PLACEHOLDER_TITLE, routes, type CreateChatRequest } from '@simorgh/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { getAuthSnapshot } from '../../../api/auth-store';
import { callRoute } from '../../../api/client';
import { queryKeys } from '../../../api/query-keys';
import { useNotices } from '../../../hooks/useNotices';
import { setNoMessages } from '../../messages/message-cache';
import { placeholderChat, prependChat, removeChat, replaceChat } from '../chat-cache';
import { failureDetail } from '../failure-detail';

export function createChat(body: CreateChatRequest) {
  return callRoute(routes.createChat, { body });
}

/** Opens a chat that was just created, with the message box focused. */
export function useOpenNewChat(): (chatId: string) => void {
  const navigate = useNavigate();
  return (chatId) => void navigate(`/c/${encodeURIComponent(chatId)}`, { state: { focusComposer: true } });
}

/**
 * New chat without a form: the sidebar shows "New conversation" before the request leaves, the
 * server's record replaces it, and a failure removes it again with a notice.
 */
export function useCreateGeneralChat() {
  const queryClient = useQueryClient();
  const openNewChat = useOpenNewChat();
  const { push } = useNotices();
  return useMutation({
    mutationFn: () => createChat({ chat_type: 'general' }),
    onMutate: () => {
      const placeholder = placeholderChat({
        chat_name: PLACEHOLDER_TITLE,
        user_id: getAuthSnapshot().auth?.user.user_id ?? '',
      });
      // Synchronous, so the entry is on screen in the same frame as the click. A list fetch
      // still in flight would overwrite it, so it is cancelled (and refetched on failure).
      void queryClient.cancelQueries({ queryKey: queryKeys.chatList('active') });
      prependChat(queryClient, placeholder);
      return { placeholderId: placeholder.chat_id };
    },
    onSuccess: ({ chat }, _vars, context) => {
      replaceChat(queryClient, context.placeholderId, chat);
      setNoMessages(queryClient, chat.chat_id);
      openNewChat(chat.chat_id);
    },
    onError: (error, _vars, context) => {
      if (context !== undefined) removeChat(queryClient, context.placeholderId);
      push(`Couldn't start a new chat: ${failureDetail(error)}`);
    },
  });
}

export type ProjectChatInput = { projectNumber: string; pageName: string };

/**
 * Project chats are created from the dialog, which shows any error itself and opens the new
 * chat: it closes first, in the same render as the navigation, so its focus return to the
 * opener cannot run after the chat view has focused the message box.
 */
export function useCreateProjectChat() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ projectNumber, pageName }: ProjectChatInput) =>
      createChat({ chat_type: 'project', project_number: projectNumber, page_name: pageName }),
    onSuccess: ({ chat }) => {
      prependChat(queryClient, chat);
      queryClient.setQueryData(queryKeys.chat(chat.chat_id), { chat });
      setNoMessages(queryClient, chat.chat_id);
    },
  });
}
