import type { ChatMetadata } from '@simorgh/contracts';

const GROUP_ORDER = ['Pinned', 'Today', 'Yesterday', 'Previous 7 days', 'Older'] as const;
export type GroupLabel = (typeof GROUP_ORDER)[number];
export type ChatGroup = { label: GroupLabel; chats: ChatMetadata[] };

/** Local midnight `daysAgo` days before `date`; built from calendar fields so DST days count as one day. */
function localMidnight(date: Date, daysAgo = 0): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() - daysAgo).getTime();
}

type Boundaries = { today: number; yesterday: number; weekAgo: number };

function groupOf(chat: ChatMetadata, bounds: Boundaries): GroupLabel {
  if (chat.pinned) return 'Pinned';
  const updated = new Date(chat.updated_at).getTime();
  if (Number.isNaN(updated)) return 'Older';
  if (updated >= bounds.today) return 'Today';
  if (updated >= bounds.yesterday) return 'Yesterday';
  if (updated >= bounds.weekAgo) return 'Previous 7 days';
  return 'Older';
}

/** Sidebar sections in a fixed order; the server's newest-first order is kept inside each. */
export function groupChats(chats: ChatMetadata[], now: Date): ChatGroup[] {
  const bounds = { today: localMidnight(now), yesterday: localMidnight(now, 1), weekAgo: localMidnight(now, 7) };
  const buckets = new Map<GroupLabel, ChatMetadata[]>();
  for (const chat of chats) {
    const label = groupOf(chat, bounds);
    buckets.set(label, [...(buckets.get(label) ?? []), chat]);
  }
  return GROUP_ORDER.flatMap((label) => {
    const grouped = buckets.get(label);
    return grouped === undefined ? [] : [{ label, chats: grouped }];
  });
}

/**
 * The chats of a list's loaded pages, each once: pages are fetched at different moments, and a
 * chat that moved between them (new activity) would otherwise appear twice.
 */
export function chatsOfPages(data: { pages: Array<{ chats: ChatMetadata[] }> } | undefined): ChatMetadata[] {
  const seen = new Set<string>();
  return (data?.pages.flatMap((page) => page.chats) ?? []).filter((chat) => {
    if (seen.has(chat.chat_id)) return false;
    seen.add(chat.chat_id);
    return true;
  });
}
