import {
  ChatResponseSchema,
  CreateChatResponseSchema,
  DeleteChatResponseSchema,
  UpdateChatRequestSchema,
  ListChatsResponseSchema,
  ListMessagesResponseSchema,
  type ChatMetadata,
  type Message,
} from '@simorgh/contracts';
import { errorResponse, installFetchMock, jsonResponse } from './fetch-mock';
import { makeChat } from './factories';

/**
 * Default handlers for a signed-in user's chats, backed by plain arrays the test can inspect and
 * seed. Tests register their own handlers on top for the behaviour under test.
 */
export function installFakeApi({ chats = [] as ChatMetadata[], messages = {} as Record<string, Message[]> } = {}) {
  const mock = installFetchMock();
  const state = { chats: [...chats], messages: { ...messages }, nextId: 100 };

  mock.on('GET', '/api/chats', ({ url }) => {
    const status = url.searchParams.get('status') ?? 'active';
    const listed = state.chats.filter((chat) => status === 'all' || chat.status === status);
    return jsonResponse(ListChatsResponseSchema, { chats: listed, next_cursor: null });
  });
  mock.on('GET', '/api/chats/:chatId', ({ params }) => {
    const chat = state.chats.find((c) => c.chat_id === params.chatId);
    return chat === undefined
      ? errorResponse(404, 'not_found', `Chat ${params.chatId} not found`)
      : jsonResponse(ChatResponseSchema, { chat });
  });
  mock.on('GET', '/api/chats/:chatId/messages', ({ params }) =>
    jsonResponse(ListMessagesResponseSchema, { messages: state.messages[params.chatId ?? ''] ?? [] }),
  );
  mock.on('POST', '/api/chats', () => {
    state.nextId += 1;
    const chat = makeChat({ chat_id: `G-202611-000${state.nextId}`, chat_name: 'New conversation' });
    state.chats.unshift(chat);
    return jsonResponse(CreateChatResponseSchema, { status: 'success', chat, message: 'Chat created' }, 201);
  });

  mock.on('PATCH', '/api/chats/:chatId', ({ params, body }) => {
    const index = state.chats.findIndex((c) => c.chat_id === params.chatId);
    const existing = state.chats[index];
    if (existing === undefined) return errorResponse(404, 'not_found', `Chat ${params.chatId} not found`);
    const chat = { ...existing, ...UpdateChatRequestSchema.parse(body) };
    state.chats[index] = chat;
    return jsonResponse(ChatResponseSchema, { chat });
  });
  mock.on('DELETE', '/api/chats/:chatId', ({ params }) => {
    state.chats = state.chats.filter((c) => c.chat_id !== params.chatId);
    return jsonResponse(DeleteChatResponseSchema, { status: 'success', chat_id: params.chatId ?? '' });
  });

  return { ...mock, state };
}
