import express, { Router } from 'express';
import {
  GenerateTitleRequestSchema,
  MESSAGE_CONTENT_MAX,
  SendMessageRequestSchema,
  type GenerateTitleResponse,
  type ListMessagesResponse,
  type StopResponse,
} from '@simorgh/contracts';
import { BODY_LIMIT } from '../../http/body-limit.js';
import { currentUser } from '../../http/require-auth.js';
import type { MessagesService } from './messages.service.js';
import { readMultipartFields } from './multipart-fields.js';
import { sendJson } from '../../http/send-json.js';

/** Routes of a session's conversation; mounted at /api/chats behind requireAuth. */
export function createMessagesRouter(messages: MessagesService): Router {
  const router = Router();

  router.get('/:id/messages', async (req, res) => {
    const body: ListMessagesResponse = { messages: await messages.list(currentUser(res), req.params.id) };
    sendJson(res, 200, body);
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
    sendJson(res, 200, body);
  });

  // The one route that takes form bodies (curl -F or URL-encoded) besides JSON; the app parses JSON.
  router.post('/:id/generate-title', express.urlencoded({ extended: false, limit: BODY_LIMIT }), async (req, res) => {
    const raw = req.is('multipart/form-data')
      ? await readMultipartFields(req, MESSAGE_CONTENT_MAX * 4)
      : (req.body ?? {});
    const { first_message } = GenerateTitleRequestSchema.parse(raw);
    const title = await messages.generateTitle(currentUser(res), req.params.id, first_message);
    const body: GenerateTitleResponse = { status: 'success', chat_id: req.params.id, title };
    sendJson(res, 200, body);
  });

  return router;
}
