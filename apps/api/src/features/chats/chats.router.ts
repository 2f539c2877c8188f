import { Router } from 'express';
import {
  CreateChatRequestSchema,
  ListChatsQuerySchema,
  UpdateChatRequestSchema,
  type ChatResponse,
  type DeleteChatResponse,
} from '@simorgh/contracts';
import { sendJson } from '../../http/send-json.js';
import { currentUser } from '../../http/require-auth.js';
import type { ChatsService } from './chats.service.js';

export function createChatsRouter(chats: ChatsService): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const body = CreateChatRequestSchema.parse(req.body ?? {});
    sendJson(res, 201, await chats.create(currentUser(res), body));
  });

  router.get('/', async (req, res) => {
    const query = ListChatsQuerySchema.parse(req.query);
    sendJson(res, 200, await chats.list(currentUser(res), query));
  });

  router.get('/:id', async (req, res) => {
    const body: ChatResponse = { chat: await chats.getOwnedChat(currentUser(res), req.params.id) };
    sendJson(res, 200, body);
  });

  router.patch('/:id', async (req, res) => {
    const changes = UpdateChatRequestSchema.parse(req.body ?? {});
    const body: ChatResponse = { chat: await chats.update(currentUser(res), req.params.id, changes) };
    sendJson(res, 200, body);
  });

  router.delete('/:id', async (req, res) => {
    await chats.remove(currentUser(res), req.params.id);
    const body: DeleteChatResponse = { status: 'success', chat_id: req.params.id };
    sendJson(res, 200, body);
  });

  return router;
}
