import type { ChatVisibility } from '@simorgh/contracts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { patchChat } from '../chat-cache';
import { updateChat } from './update-chat';

export type SharingChange = { visibility?: ChatVisibility; allowed_users?: string[] };

/**
 * Saves a change of who may open a chat (owner only). Changes of one chat are sent one after
 * another (one mutation scope), so a quick second change never races the first; the chat is
 * updated everywhere from the server's answer, and a refusal is left to the dialog to show.
 */
export function useUpdateSharing(chatId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    scope: { id: `sharing:${chatId}` },
    mutationFn: (change: SharingChange) => updateChat(chatId, change),
    onSuccess: ({ chat }) => patchChat(queryClient, chat.chat_id, chat),
  });
}
