import { z } from 'zod';
import { UserSchema } from './auth.js';
import { MAX_ALLOWED_USERS, UserIdSchema } from './chats.js';
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

/** Names for user IDs the caller already holds (the people a chat is shared with): `ids` comma-separated. */
export const UserNamesQuerySchema = z.object({
  ids: z
    .string()
    .transform((value) => [...new Set(value.split(',').map((id) => id.trim()).filter((id) => id !== ''))])
    .pipe(z.array(UserIdSchema).min(1, 'ids must name at least one user').max(MAX_ALLOWED_USERS, `ids can name at most ${MAX_ALLOWED_USERS} users`)),
});
export type UserNamesQuery = z.input<typeof UserNamesQuerySchema>;

/** Each asked-for ID once, in the order asked, with its TPMS display name (the ID itself when TPMS has none). */
export const UserNamesResponseSchema = z.object({ users: z.array(UserSchema).max(MAX_ALLOWED_USERS) });
export type UserNamesResponse = z.infer<typeof UserNamesResponseSchema>;
