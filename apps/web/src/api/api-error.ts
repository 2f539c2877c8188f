import { ErrorBodySchema, HTTP_STATUS_BY_CODE, type ErrorCode } from '@simorgh/contracts';

/** A failed API call, carrying the one error body's `code` and human-readable `detail`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly requestId?: string,
  ) {
    super(detail);
  }
}

export const SESSION_EXPIRED_NOTICE = 'Your session has ended. Please sign in again.';
const UNREACHABLE_DETAIL = "Can't reach Simorgh Chat right now. Check your connection and try again.";

const CODE_BY_STATUS = new Map(
  Object.entries(HTTP_STATUS_BY_CODE).map(([code, status]) => [status, code as ErrorCode]),
);

/** Status → code for responses that did not carry the error body (e.g. a proxy's 502 page). */
function codeForStatus(status: number): ErrorCode {
  const code = CODE_BY_STATUS.get(status);
  if (code !== undefined) return code;
  if (status === 502 || status === 504) return 'upstream_unavailable';
  return status >= 400 && status < 500 ? 'validation' : 'internal';
}

export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy or gateway answered instead of the API.
  }
  const parsed = ErrorBodySchema.safeParse(body);
  if (parsed.success) {
    return new ApiError(response.status, parsed.data.code, parsed.data.detail, parsed.data.request_id);
  }
  const code = codeForStatus(response.status);
  const detail =
    code === 'upstream_unavailable'
      ? 'Simorgh Chat is temporarily unavailable. Try again shortly.'
      : `The request failed (HTTP ${response.status}).`;
  return new ApiError(response.status, code, detail);
}

export function networkError(): ApiError {
  return new ApiError(0, 'upstream_unavailable', UNREACHABLE_DETAIL);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException
    ? error.name === 'AbortError'
    : error instanceof Error && error.name === 'AbortError';
}

/** The API's explanation of a failure, or `fallback` when the failure did not come from the API. */
export function detailOf(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.detail : fallback;
}
