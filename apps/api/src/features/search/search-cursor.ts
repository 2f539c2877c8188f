import { AppError } from '../../http/app-error.js';

/**
 * Position in the result order (title matches first, then rank, then newest, then ID, all
 * descending): the last result of a page. The next page starts strictly after it, so results
 * added or removed between pages never repeat or shift the ones that remain.
 */
export type SearchPosition = { title: boolean; rank: number; createdMs: number; id: string };

export function encodeSearchCursor(position: SearchPosition): string {
  return Buffer.from(JSON.stringify([position.title ? 1 : 0, position.rank, position.createdMs, position.id])).toString('base64url');
}

export function decodeSearchCursor(cursor: string): SearchPosition {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 4) {
      const [title, rank, createdMs, id] = value as unknown[];
      if ((title === 0 || title === 1) && typeof rank === 'number' && Number.isFinite(rank) && typeof createdMs === 'number' && Number.isFinite(createdMs) && Math.abs(createdMs) < 8.64e15 && typeof id === 'string') {
        return { title: title === 1, rank, createdMs, id };
      }
    }
  } catch {
    // fall through to the validation error
  }
  throw new AppError('validation', 'cursor is not valid; start the search again without a cursor');
}
