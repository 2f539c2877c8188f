import type { ChatMetadata } from '@simorgh/contracts';
import { sharedBadgeLabel } from '../chat-access';

/** The small "Shared" mark on a chat others may open; its title and accessible name say by whom. */
export function SharedBadge({ chat }: { chat: ChatMetadata }) {
  const label = sharedBadgeLabel(chat);
  return (
    <span className="badge badge-shared" title={label}>
      <span aria-hidden="true">Shared</span>
      {/* Spaced apart from the title and subtitle around it, so a screen reader keeps the words apart. */}
      <span className="visually-hidden"> ({label}) </span>
    </span>
  );
}
