import type { ErrorCode } from '@simorgh/contracts';

/** The one error services throw; the error handler maps `code` to the HTTP status. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'AppError';
  }
}

export const notFound = (detail = 'Not found') => new AppError('not_found', detail);
export const chatNotFound = (chatId: string) => new AppError('not_found', `Chat ${chatId} not found`);
