import { z } from 'zod';

export const LoginRequestSchema = z.object({
  username: z.string().trim().min(1, 'Username is required').max(150),
  password: z.string().min(1, 'Password is required').max(200),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export const UserSchema = z.object({
  user_id: z.string(),
  display_name: z.string(),
});
export type User = z.infer<typeof UserSchema>;

export const LoginResponseSchema = z.object({
  access_token: z.string(),
  token_type: z.literal('bearer'),
  expires_in: z.number().int().positive(),
  user: UserSchema,
});
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

/** `is_admin`: the user is named in ADMIN_USERS (the web app shows the admin page to them only). */
export const MeResponseSchema = z.object({ user: UserSchema, is_admin: z.boolean() });
export type MeResponse = z.infer<typeof MeResponseSchema>;

/** Sign-out: the token the request came with can no longer be used, by any API process. */
export const LogoutResponseSchema = z.object({ status: z.literal('success') });
export type LogoutResponse = z.infer<typeof LogoutResponseSchema>;
