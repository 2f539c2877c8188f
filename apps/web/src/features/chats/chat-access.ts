import type { ChatMetadata } from '@simorgh/contracts';

/**
 * What the signed-in user may do with a chat follows from the API's `access`: only the owner may
 * rename, pin, archive, delete, regenerate or share; everyone who may open it may read and write.
 */
export function isOwnChat(chat: ChatMetadata): boolean {
  return chat.access === 'owner';
}

/** Someone besides the owner may open the chat: by name, or as a member of its project. */
export function isSharedChat(chat: ChatMetadata): boolean {
  return !isOwnChat(chat) || chat.allowed_users.length > 0 || chat.visibility === 'project';
}

/** The words of the small badge on a shared chat, and what a screen reader hears for it. */
export function sharedBadgeLabel(chat: ChatMetadata): string {
  if (isOwnChat(chat)) return 'Shared by you';
  return `Shared with you by ${chat.user_id}`;
}

/** One sentence saying who can open the chat (the share dialog's summary). */
export function whoCanSee(chat: ChatMetadata, people: readonly string[]): string {
  const named = people.length === 1 ? '1 person you added' : `${people.length} people you added`;
  if (chat.visibility === 'project') {
    const project = chat.project_name ?? `project ${chat.project_number ?? ''}`.trim();
    const who = people.length === 0 ? `You and everyone with access to ${project} in TPMS` : `You, everyone with access to ${project} in TPMS and ${named}`;
    return `${who} can open this chat, read it and write in it. Someone who loses access to the project loses the chat too.`;
  }
  if (people.length === 0) return 'Only you can see this chat.';
  const project = chat.chat_type === 'project' ? ' while they have access to the project' : '';
  return `You and ${named} can open this chat, read it and write in it${project}. Only you can rename, archive, delete or share it.`;
}
