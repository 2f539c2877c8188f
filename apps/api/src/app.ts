import express, { Router, type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Deps } from './deps.js';
import { createAdminRouter } from './features/admin/admin.router.js';
import { createAuthRouter } from './features/auth/auth.router.js';
import { createAuthService } from './features/auth/auth.service.js';
import { createAuthStore } from './features/auth/auth.store.js';
import { createLoginLimiter, DEFAULT_LOGIN_LIMITS, type LoginLimits } from './features/auth/login-limiter.js';
import { createTokenService, type TokenService } from './features/auth/tokens.js';
import { createChatsRouter } from './features/chats/chats.router.js';
import { createChatsService, type ChatsService } from './features/chats/chats.service.js';
import { createChatsStore } from './features/chats/chats.store.js';
import { createHealthRouter } from './features/health/health.router.js';
import { createLlmRouter } from './features/llm/llm.router.js';
import type { LlmService } from './features/llm/llm.service.js';
import { createMessagesRouter } from './features/messages/messages.router.js';
import { createMessagesService, type MessagesService, type MessagesServiceOptions } from './features/messages/messages.service.js';
import { createMessagesStore } from './features/messages/messages.store.js';
import { createReplyLimits } from './features/messages/reply-limits.js';
import { createStopBus } from './features/messages/stop-bus.js';
import { createProjectsRouter } from './features/projects/projects.router.js';
import { createProjectsService, type ProjectsService } from './features/projects/projects.service.js';
import { createProjectsStore } from './features/projects/projects.store.js';
import { createTpmsCache } from './features/projects/tpms-cache.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { requestId } from './http/request-id.js';
import { requireAuth } from './http/require-auth.js';

export type Services = {
  tokens: TokenService;
  projects: ProjectsService;
  chats: ChatsService;
  llm: LlmService;
  messages: MessagesService;
};

export type CreateAppOptions = { loginLimits?: LoginLimits; messages?: MessagesServiceOptions };

/** The feature services, built from deps; features use each other only through these. */
export function buildServices(deps: Deps, options: CreateAppOptions = {}): Services {
  const tokens = createTokenService(deps.env.JWT_SECRET_KEY, deps.env.JWT_EXPIRES_IN, () => deps.clock.now());
  const projects = createProjectsService(
    createProjectsStore(deps.tpms),
    createTpmsCache(deps.redis.cache, {
      positive: deps.env.TPMS_CACHE_TTL_S,
      negative: deps.env.TPMS_NEGATIVE_CACHE_TTL_S,
    }),
  );
  const chats = createChatsService(deps, createChatsStore(deps.redis.chat), projects);
  const messages = createMessagesService({
    clock: deps.clock,
    logger: deps.logger,
    chats,
    llm: deps.llm,
    store: createMessagesStore(deps.redis.chat),
    limits: createReplyLimits({
      cache: deps.redis.cache,
      now: () => deps.clock.now(),
      messagesPerMinute: deps.env.MESSAGES_PER_MINUTE,
      concurrentStreams: deps.env.CONCURRENT_STREAMS,
    }),
    stopBus: createStopBus({
      publisher: deps.redis.chat,
      subscriber: deps.redis.events,
      channel: `simorgh:stop-reply:db${deps.env.REDIS_CHAT_DB}`,
      logger: deps.logger,
    }),
    ...(options.messages ? { options: options.messages } : {}),
  });
  return { tokens, projects, chats, llm: deps.llm, messages };
}

/** The Express app with every route under /api. No listen: server.ts and tests do that. */
export function createApp(deps: Deps, options: CreateAppOptions = {}): Express {
  const services = buildServices(deps, options);
  const authenticated = requireAuth(services.tokens);
  const auth = createAuthService({
    store: createAuthStore(deps.tpms),
    limiter: createLoginLimiter(deps.redis.cache, options.loginLimits ?? DEFAULT_LOGIN_LIMITS),
    tokens: services.tokens,
    logger: deps.logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.env.TRUST_PROXY);
  app.use(helmet());
  app.use(requestId);
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (_req, res) => res.locals.requestId ?? 'unknown',
      // Method, path and status only: no headers (tokens) and no bodies (passwords, messages).
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      // 503 means a dependency is down: expected during an outage, not a bug in this service.
      customLogLevel: (_req, res, error) =>
        res.statusCode === 503 ? 'warn' : error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
    }),
  );
  app.use(express.json({ limit: '64kb' }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));

  const api = Router();
  // Public routes.
  api.use(createHealthRouter(deps));
  api.use(createAuthRouter(auth, authenticated));
  // Everything below needs a valid bearer token.
  api.use(authenticated);
  api.use(createChatsRouter(services.chats));
  api.use(createProjectsRouter(services.projects));
  api.use(createAdminRouter(services.projects, deps.env.ADMIN_USERS));
  api.use(createMessagesRouter(services.messages));
  api.use(createLlmRouter(services.llm));
  api.use(notFoundHandler);

  app.use('/api', api);
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
