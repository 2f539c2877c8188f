import {
  ChatResponseSchema,
  CreateChatResponseSchema,
  DeleteChatResponseSchema,
  ListChatsResponseSchema,
  ListMessagesResponseSchema,
  LoginResponseSchema,
  ProjectSchema,
  StopResponseSchema,
  type ChatStatus,
  type CreateChatRequest,
  type LoginRequest,
  type UpdateChatRequest,
} from '@simorgh/contracts';
import { apiRequest } from './client';

/** One function per endpoint; each parses its response with the contract schema. */

const chatPath = (chatId: string) => `/api/chats/${encodeURIComponent(chatId)}`;

export const CHAT_PAGE_SIZE = 30;

export function login(body: LoginRequest) {
  return apiRequest('/api/auth/login', { method: 'POST', body, schema: LoginResponseSchema, anonymous: true });
}

export function listChats(params: { status: ChatStatus; cursor: string | null }, signal?: AbortSignal) {
  const query = new URLSearchParams({ limit: String(CHAT_PAGE_SIZE), status: params.status });
  if (params.cursor !== null) query.set('cursor', params.cursor);
  return apiRequest(`/api/chats?${query}`, { schema: ListChatsResponseSchema, signal });
}

export function getChat(chatId: string, signal?: AbortSignal) {
  return apiRequest(chatPath(chatId), { schema: ChatResponseSchema, signal });
}

export function createChat(body: CreateChatRequest) {
  return apiRequest('/api/chats', { method: 'POST', body, schema: CreateChatResponseSchema });
}

export function updateChat(chatId: string, body: UpdateChatRequest) {
  return apiRequest(chatPath(chatId), { method: 'PATCH', body, schema: ChatResponseSchema });
}

export function deleteChat(chatId: string) {
  return apiRequest(chatPath(chatId), { method: 'DELETE', schema: DeleteChatResponseSchema });
}

export function listMessages(chatId: string, signal?: AbortSignal) {
  return apiRequest(`${chatPath(chatId)}/messages`, { schema: ListMessagesResponseSchema, signal });
}

export function stopReply(chatId: string) {
  return apiRequest(`${chatPath(chatId)}/stop`, { method: 'POST', schema: StopResponseSchema });
}

export function getProject(projectNumber: string, signal?: AbortSignal) {
  return apiRequest(`/api/projects/${encodeURIComponent(projectNumber)}`, { schema: ProjectSchema, signal });
}

export const messagesPath = (chatId: string) => `${chatPath(chatId)}/messages`;
export const regeneratePath = (chatId: string) => `${chatPath(chatId)}/regenerate`;
