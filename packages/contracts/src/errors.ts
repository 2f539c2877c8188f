import { z } from 'zod';

/** The closed list of error codes; every error response carries one. */
export const ErrorCodeSchema = z.enum([
  'validation',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'upstream_unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** The one error body. `detail` is a sentence a person can act on. */
export const ErrorBodySchema = z.object({
  detail: z.string(),
  code: ErrorCodeSchema,
  request_id: z.string().optional(),
  issues: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  upstream_unavailable: 503,
  internal: 500,
};
