import { Router } from 'express';
import {
  GenerateTitleRequestSchema,
  MESSAGE_CONTENT_MAX,
  SendMessageRequestSchema,
  type GenerateTitleResponse,
  type ListMessagesResponse,
  type StopResponse,
} from '@simorgh/contracts';
import { currentUser } from '../../http/require-auth.js';
import type { MessagesService } from './messages.service.js';
import { readMultipartFields } from './multipart-fields.js';

/** Routes of a session's conversation; mounted at /api/chats behind requireAuth. */
export function createMessagesRouter(messages: MessagesService): Router {
  const router = Router();

  router.get('/:id/messages', async (req, res) => {
    const body: ListMessagesResponse = { messages: await messages.list(currentUser(res), req.params.id) };
    res.json(body);
  });

  // Answers with text/event-stream once accepted; refusals before that are JSON errors.
  router.post('/:id/messages', async (req, res) => {
    const { content } = SendMessageRequestSchema.parse(req.body ?? {});
    await messages.send(res, currentUser(res), req.params.id, content);
  });

  router.post('/:id/regenerate', async (req, res) => {
    await messages.regenerate(res, currentUser(res), req.params.id);
  });

  router.post('/:id/stop', async (req, res) => {
    const stopped = await messages.stop(currentUser(res), req.params.id);
    const body: StopResponse = { status: 'success', chat_id: req.params.id, stopped };
    res.json(body);
  });

  router.post('/:id/generate-title', async (req, res) => {
    // JSON and URL-encoded bodies are parsed by the app; multipart (curl -F) only here.
    const raw = req.is('multipart/form-data')
      ? await readMultipartFields(req, MESSAGE_CONTENT_MAX * 4)
      : (req.body ?? {});
    const { first_message } = GenerateTitleRequestSchema.parse(raw);
    const title = await messages.generateTitle(currentUser(res), req.params.id, first_message);
    const body: GenerateTitleResponse = { status: 'success', chat_id: req.params.id, title };
    res.json(body);
  });

  return router;
}
