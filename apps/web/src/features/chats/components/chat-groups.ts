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
