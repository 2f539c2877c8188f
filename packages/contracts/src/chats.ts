import { z } from 'zod';
import { ProjectNumberSchema } from './projects.js';

export const PLACEHOLDER_TITLE = 'New conversation';
export const CHAT_NAME_MAX = 200;

export const ChatTypeSchema = z.enum(['general', 'project']);
export type ChatType = z.infer<typeof ChatTypeSchema>;

export const ChatStatusSchema = z.enum(['active', 'archived']);
export type ChatStatus = z.infer<typeof ChatStatusSchema>;

/** Who besides the owner may open a chat: only `allowed_users` (private), or also the project's members. */
export const ChatVisibilitySchema = z.enum(['private', 'project']);
export type ChatVisibility = z.infer<typeof ChatVisibilitySchema>;

/** How the caller may open a chat: as its owner, as one of its allowed users, or as a member of its project. */
export const ChatAccessSchema = z.enum(['owner', 'allowed', 'project']);
export type ChatAccess = z.infer<typeof ChatAccessSchema>;

/** The most people one chat can be shared with by name. */
export const MAX_ALLOWED_USERS = 50;

/** A TPMS user ID as a client names one (share lists, the people picker). */
export const UserIdSchema = z.string().trim().min(1, 'a user ID must not be empty').max(150);

/** Chat metadata as stored at chat:<id>:metadata (readers fill defaults for fields older chats lack). */
export const StoredChatSchema = z.object({
  chat_id: z.string(),
  chat_name: z.string(),
  user_id: z.string(),
  chat_type: ChatTypeSchema,
  project_number: z.string().nullable(),
  project_name: z.string().nullable(),
  page_name: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  message_count: z.number().int().nonnegative(),
  status: ChatStatusSchema,
  pinned: z.boolean(),
  visibility: ChatVisibilitySchema,
  /** User IDs the owner shared the chat with by name. */
  allowed_users: z.array(z.string()).max(MAX_ALLOWED_USERS),
});
export type StoredChat = z.infer<typeof StoredChatSchema>;

/** A chat on the wire: its stored metadata and how the caller may open it. */
export const ChatMetadataSchema = StoredChatSchema.extend({ access: ChatAccessSchema });
export type ChatMetadata = z.infer<typeof ChatMetadataSchema>;

const ChatNameSchema = z.string().trim().min(1, 'chat_name must not be empty').max(CHAT_NAME_MAX);

export const CreateChatRequestSchema = z
  .object({
    chat_name: z.string().max(CHAT_NAME_MAX).optional(),
    user_id: z.string().optional(),
    chat_type: ChatTypeSchema,
    project_number: ProjectNumberSchema.optional(),
    page_name: z.string().trim().max(CHAT_NAME_MAX, `page_name must be at most ${CHAT_NAME_MAX} characters`).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.chat_type !== 'project') return;
    if (body.project_number === undefined) {
      ctx.addIssue({ code: 'custom', path: ['project_number'], message: 'project_number is required for a project chat' });
    }
    if (!body.page_name) {
      ctx.addIssue({ code: 'custom', path: ['page_name'], message: 'page_name is required for a project chat' });
    }
  });
export type CreateChatRequest = z.input<typeof CreateChatRequestSchema>;

export const CreateChatResponseSchema = z.object({
  status: z.literal('success'),
  chat: ChatMetadataSchema,
  message: z.string(),
});
export type CreateChatResponse = z.infer<typeof CreateChatResponseSchema>;

export const ChatResponseSchema = z.object({ chat: ChatMetadataSchema });
export type ChatResponse = z.infer<typeof ChatResponseSchema>;

export const LIST_LIMIT_DEFAULT = 30;
export const LIST_LIMIT_MAX = 100;

export const ListChatsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
  cursor: z.string().max(200).optional(),
  chat_type: ChatTypeSchema.optional(),
  project_number: ProjectNumberSchema.optional(),
  /** Defaults to active chats; `all` lists both. */
  status: z.enum(['active', 'archived', 'all']).default('active'),
  /** `mine` (default): the caller's own chats; `shared`: chats others share with the caller, newest first. */
  scope: z.enum(['mine', 'shared']).default('mine'),
});
export type ListChatsQuery = z.input<typeof ListChatsQuerySchema>;

export const ListChatsResponseSchema = z.object({
  chats: z.array(ChatMetadataSchema),
  next_cursor: z.string().nullable(),
});
export type ListChatsResponse = z.infer<typeof ListChatsResponseSchema>;

export const UpdateChatRequestSchema = z
  .object({
    chat_name: ChatNameSchema.optional(),
    status: ChatStatusSchema.optional(),
    pinned: z.boolean().optional(),
    /** Owner only; `project` for project chats only. */
    visibility: ChatVisibilitySchema.optional(),
    /** Owner only: the whole new list (each user added must be active in TPMS, and on the project for a project chat). */
    allowed_users: z
      .array(UserIdSchema)
      .max(MAX_ALLOWED_USERS, `allowed_users can name at most ${MAX_ALLOWED_USERS} people`)
      .optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'Send at least one of chat_name, status, pinned, visibility or allowed_users',
  });
export type UpdateChatRequest = z.input<typeof UpdateChatRequestSchema>;

export const DeleteChatResponseSchema = z.object({
  status: z.literal('success'),
  chat_id: z.string(),
});
export type DeleteChatResponse = z.infer<typeof DeleteChatResponseSchema>;
