import { AppError } from '../../http/app-error.js';

/**
 * Position in the list order (pinned first, then newest first, then ID descending): the last
 * item of a page, or the last entry scanned when a page stopped short (see chat-list.ts). The next page starts strictly after it, so inserts and deletes never repeat or skip
 * the items that remain.
 */
export type ListPosition = { pinned: boolean; createdMs: number; id: string };

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.pinned ? 1 : 0, position.createdMs, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 3) {
      const [pinned, createdMs, id] = value as unknown[];
      if ((pinned === 0 || pinned === 1) && typeof createdMs === 'number' && Number.isFinite(createdMs) && typeof id === 'string') {
        return { pinned: pinned === 1, createdMs, id };
      }
    }
  } catch {
    // fall through to the validation error
  }
  throw new AppError('validation', 'cursor is not valid; start again without a cursor');
}
