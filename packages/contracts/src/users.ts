import { z } from 'zod';
import { UserSchema } from './auth.js';
import { ProjectNumberSchema } from './projects.js';

/** The most people one search for the share dialog returns. */
export const USER_SEARCH_LIMIT = 10;

/** People to share with: active TPMS users whose user ID or display name starts with `q`. */
export const SearchUsersQuerySchema = z.object({
  q: z.string().trim().min(1, 'q must not be empty').max(100),
  /** Only people with permission on this project (which the caller must have too). */
  project_number: ProjectNumberSchema.optional(),
});
export type SearchUsersQuery = z.input<typeof SearchUsersQuerySchema>;

export const SearchUsersResponseSchema = z.object({ users: z.array(UserSchema).max(USER_SEARCH_LIMIT) });
export type SearchUsersResponse = z.infer<typeof SearchUsersResponseSchema>;
