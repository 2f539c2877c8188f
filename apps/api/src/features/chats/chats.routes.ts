import type { RouteHandlers } from '../../http/route-handlers.js';
import { asSeenBy, type ChatsService } from './chats.service.js';

export function createChatsHandlers(chats: ChatsService): RouteHandlers<'createChat' | 'listChats' | 'getChat' | 'updateChat' | 'deleteChat'> {
  return {
    createChat: async ({ userId, body }) => ({ status: 201, body: await chats.create(userId, body) }),
    listChats: async ({ userId, query }) => ({ status: 200, body: await chats.list(userId, query) }),
    getChat: async ({ userId, params }) => ({ status: 200, body: { chat: asSeenBy(await chats.openChat(userId, params.id)) } }),
    updateChat: async ({ userId, params, body }) => ({ status: 200, body: { chat: await chats.update(userId, params.id, body) } }),
    async deleteChat({ userId, params }) {
      await chats.remove(userId, params.id);
      return { status: 200, body: { status: 'success', chat_id: params.id } };
    },
  };
}
