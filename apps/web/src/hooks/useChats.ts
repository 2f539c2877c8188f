import { PLACEHOLDER_TITLE, type ChatMetadata, type ChatStatus, type UpdateChatRequest } from '@simorgh/contracts';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { getAuthSnapshot } from '../api/auth-store';
import { ApiError } from '../api/client';
import { createChat, deleteChat, getChat, listChats, updateChat } from '../api/endpoints';
import { queryKeys } from '../api/query-keys';
import {
  patchChat,
  placeholderChat,
  prependChat,
  removeChat,
  replaceChat,
  restoreChats,
  snapshotChats,
} from './chat-cache';
import { useNotices } from './useNotices';

function detailOf(error: unknown): string {
  return error instanceof ApiError ? error.detail : 'Something went wrong. Try again.';
}

/** The user's chats, newest first, a page at a time. */
export function useChatList(status: ChatStatus) {
  return useInfiniteQuery({
    queryKey: queryKeys.chatList(status),
    queryFn: ({ pageParam, signal }) => listChats({ status, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
}

export function useChat(chatId: string) {
  return useQuery({
    queryKey: queryKeys.chat(chatId),
    queryFn: ({ signal }) => getChat(chatId, signal),
  });
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
      queryClient.setQueryData(queryKeys.messages(chat.chat_id), { messages: [] });
      openNewChat(chat.chat_id);
    },
    onError: (error, _vars, context) => {
      if (context !== undefined) removeChat(queryClient, context.placeholderId);
      push(`Couldn't start a new chat: ${detailOf(error)}`);
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
      queryClient.setQueryData(queryKeys.messages(chat.chat_id), { messages: [] });
    },
  });
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
      push(`${failure}: ${detailOf(error)}`);
    },
    // Pinning and archiving move chats between positions and lists; the server has the order.
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.chatLists }),
  });
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
    onError: (error) => push(`Couldn't delete the chat: ${detailOf(error)}`),
  });
}
