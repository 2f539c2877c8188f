import { z } from 'zod';
import { ProjectNumberSchema } from './projects.js';

export const InvalidateTpmsCacheRequestSchema = z
  .object({ project_number: ProjectNumberSchema.optional(), user_id: z.string().trim().min(1).max(150).optional() })
  .refine((body) => body.project_number !== undefined || body.user_id !== undefined, {
    message: 'Send project_number, user_id or both',
  });
export type InvalidateTpmsCacheRequest = z.input<typeof InvalidateTpmsCacheRequestSchema>;

export const InvalidateTpmsCacheResponseSchema = z.object({
  status: z.literal('success'),
  removed: z.number().int().nonnegative(),
});
export type InvalidateTpmsCacheResponse = z.infer<typeof InvalidateTpmsCacheResponseSchema>;
