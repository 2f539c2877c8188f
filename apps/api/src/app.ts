import express, { type Express } from 'express';
import type { Deps } from './deps.js';
import { redisDbOf } from './env.js';
import { createAdminHandlers, requireAdmin } from './features/admin/admin.routes.js';
import { createAuthHandlers } from './features/auth/auth.routes.js';
import { createAuthService } from './features/auth/auth.service.js';
import { createAuthStore } from './features/auth/auth.store.js';
import { createLoginThrottle, DEFAULT_KNOWN_ADDRESS_S } from './features/auth/login-throttle.js';
import { nativeBcrypt, type PasswordVerifier } from './features/auth/passwords.js';
import { createSignInSlots } from './features/auth/sign-in-slots.js';
import { createSignIns, type SignIns } from './features/auth/sign-ins.js';
import { createTokenService, type TokenService } from './features/auth/tokens.js';
import { createChatsHandlers } from './features/chats/chats.routes.js';
import { createChatsService, type ChatsService } from './features/chats/chats.service.js';
import { createChatsStore } from './features/chats/chats.store.js';
import { createEventHub, type EventHub } from './features/events/event-hub.js';
import { createChatEvents } from './features/events/events.service.js';
import { createHealthHandlers } from './features/health/health.routes.js';
import { createHistoryService, type HistoryService } from './features/history/history.service.js';
import { createLlmHandlers } from './features/llm/llm.routes.js';
import type { LlmService } from './features/llm/llm.service.js';
import { createMessagesHandlers } from './features/messages/messages.routes.js';
import { createMessagesService, HISTORY_MAX_MESSAGES, type MessagesService, type MessagesServiceOptions } from './features/messages/messages.service.js';
import { createMessagesStore } from './features/messages/messages.store.js';
import { createReplyLimits } from './features/messages/reply-limits.js';
import { startReplySweeper } from './features/messages/reply-sweeper.js';
import { createStopBus } from './features/messages/stop-bus.js';
import { createEarlyRequests } from './features/messages/early-model-request.js';
import { createProjectsHandlers } from './features/projects/projects.routes.js';
import { createProjectsService, type ProjectsService } from './features/projects/projects.service.js';
import { createProjectsStore } from './features/projects/projects.store.js';
import { createTpmsCache } from './features/projects/tpms-cache.js';
import { createSearchHandlers } from './features/search/search.routes.js';
import { createSearchService } from './features/search/search.service.js';
import { createUsersHandlers } from './features/users/users.routes.js';
import { createUsersService, type UsersService } from './features/users/users.service.js';
import { createUsersStore } from './features/users/users.store.js';
import { accessLog } from './http/access-log.js';
import { BODY_LIMIT } from './http/body-limit.js';
import { createErrorHandlers } from './http/error-handler.js';
import { httpMetrics, metricsEndpoint } from './http/http-metrics.js';
import { jsonBody } from './http/json-body.js';
import { requestId } from './http/request-id.js';
import { optionalAuth, requireAuth } from './http/require-auth.js';
import { mountRoutes } from './http/mount-routes.js';
import { securityHeaders } from './http/security-headers.js';

export type Services = {
  tokens: TokenService;
  signIns: SignIns;
  projects: ProjectsService;
  users: UsersService;
  chats: ChatsService;
  llm: LlmService;
  messages: MessagesService;
  history: HistoryService;
};

export type CreateAppOptions = {
  /** The bcrypt comparison for sign-in; tests count the calls that reach it. */
  passwords?: PasswordVerifier;
  messages?: MessagesServiceOptions;
  /** Interval of the comment lines that keep an idle event stream open. */
  heartbeatMs?: number;
};

/** One reader of chat events per process (per deps): it owns the blocking connection. */
const hubs = new WeakMap<Deps, EventHub>();
function eventHubOf(deps: Deps): EventHub {
  let hub = hubs.get(deps);
  if (!hub) {
    hub = createEventHub({ reader: deps.redis.watch, control: deps.redis.chat, logger: deps.logger });
    hubs.set(deps, hub);
    deps.background.push(hub);
  }
  return hub;
}

/** The feature services, built from deps; features use each other only through these. */
export function buildServices(deps: Deps, options: CreateAppOptions = {}): Services {
  const events = createChatEvents({
    chat: deps.redis.chat,
    cache: deps.redis.cache,
    hub: eventHubOf(deps),
    limits: { maxLen: deps.env.CHAT_EVENTS_MAX, retentionMs: deps.env.CHAT_EVENTS_RETENTION_S * 1000 },
    followersPerUser: deps.env.EVENT_STREAMS_PER_USER,
    now: () => deps.clock.now(),
  });
  const tokens = createTokenService(deps.env.JWT_SECRET_KEY, deps.env.JWT_EXPIRES_IN, () => deps.clock.now());
  const signIns = createSignIns({
    tokens,
    cache: deps.redis.cache,
    users: createAuthStore(deps.tpms),
    ttl: { positive: deps.env.TPMS_CACHE_TTL_S, negative: deps.env.TPMS_NEGATIVE_CACHE_TTL_S },
    now: () => deps.clock.now(),
    logger: deps.logger,
  });
  const projects = createProjectsService(
    createProjectsStore(deps.tpms),
    createTpmsCache(deps.redis.cache, {
      positive: deps.env.TPMS_CACHE_TTL_S,
      negative: deps.env.TPMS_NEGATIVE_CACHE_TTL_S,
    }),
  );
  const history = createHistoryService({
    chat: deps.redis.chat,
    db: deps.history.db,
    clock: deps.clock,
    logger: deps.logger,
    archive: { afterDays: deps.env.ARCHIVE_AFTER_DAYS, retentionDays: deps.env.RETENTION_DAYS },
  });
  const users = createUsersService({
    store: createUsersStore(deps.tpms),
    projects,
    cache: deps.redis.cache,
    ttlS: deps.env.TPMS_CACHE_TTL_S,
    logger: deps.logger,
  });
  const early = createEarlyRequests({ llm: deps.llm, metrics: deps.metrics, perMinute: deps.env.MESSAGES_PER_MINUTE, historyMessages: HISTORY_MAX_MESSAGES });
  const chats = createChatsService(
    deps,
    createChatsStore(deps.redis.chat, { counters: redisDbOf(deps.env.REDIS_URL), chat: deps.env.REDIS_CHAT_DB, cache: deps.env.REDIS_CACHE_DB }),
    projects,
    users,
    { chatsPerMinute: deps.env.CHATS_PER_MINUTE, maxChatsPerUser: deps.env.MAX_CHATS_PER_USER },
    history,
    events,
    (chat) => early.remember(chat, [], 0),
  );
  const messagesStore = createMessagesStore(deps.redis.chat, { chat: deps.env.REDIS_CHAT_DB, cache: deps.env.REDIS_CACHE_DB }, events.limits);
  const leaseMs = options.messages?.leaseMs ?? deps.env.REPLY_LEASE_MS;
  deps.background.push(startReplySweeper({ store: messagesStore, clock: deps.clock, logger: deps.logger, intervalMs: Math.max(100, Math.floor(leaseMs / 3)) }));
  const messages = createMessagesService({
    clock: deps.clock,
    logger: deps.logger,
    metrics: deps.metrics,
    chats,
    history,
    llm: deps.llm,
    store: messagesStore,
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
    events,
    authors: users,
    early,
    options: { maxMessagesPerChat: deps.env.MAX_MESSAGES_PER_CHAT, leaseMs, ...options.messages },
  });
  return { tokens, signIns, projects, users, chats, llm: deps.llm, messages, history };
}

/** The Express app with every route under /api. No listen: server.ts and tests do that. */
export function createApp(deps: Deps, options: CreateAppOptions = {}): Express {
  const services = buildServices(deps, options);
  const authenticated = requireAuth(services.signIns.authenticate);
  const auth = createAuthService({
    store: createAuthStore(deps.tpms),
    throttle: createLoginThrottle(deps.redis.cache, {
      perUserAddress: deps.env.LOGIN_MAX_FAILURES_PER_USER_ADDRESS,
      perAddress: deps.env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowS: deps.env.LOGIN_FAILURE_WINDOW_S,
      userFailuresBeforeDelay: deps.env.LOGIN_USER_FAILURES_BEFORE_DELAY,
      userMaxDelayS: deps.env.LOGIN_USER_MAX_DELAY_S,
      knownAddressS: DEFAULT_KNOWN_ADDRESS_S,
    }),
    slots: createSignInSlots({ concurrency: deps.env.LOGIN_CONCURRENCY, queue: deps.env.LOGIN_QUEUE }),
    passwords: options.passwords ?? nativeBcrypt,
    tokens: services.tokens,
    logger: deps.logger,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.env.TRUST_PROXY);
  app.use(securityHeaders);
  app.use(requestId);
  if (deps.logger.isLevelEnabled('debug')) app.use(accessLog(deps.logger));
  // ETags are for caches; API answers are per user and never cached, so hashing each body is waste.
  app.set('etag', false);
  app.use(jsonBody(BODY_LIMIT));
  // For Prometheus, outside /api and the route table (which is the users' API, enumerated by
  // the web client and the isolation tests); nginx never serves it. Unset token: no route, 404.
  const metricsToken = deps.env.METRICS_TOKEN;
  if (metricsToken) {
    app.get('/metrics', metricsEndpoint(deps.metrics, metricsToken));
    app.use(httpMetrics(deps.metrics));
  }

  const { notFound, errorHandler } = createErrorHandlers(deps.logger);
  // Every route of the contracts' table, each with its handler and the guard its access needs.
  mountRoutes(
    app,
    {
      ...createHealthHandlers(deps),
      ...createAuthHandlers(auth, services.signIns, deps.env.ADMIN_USERS),
      ...createChatsHandlers(services.chats),
      ...createMessagesHandlers(services.messages),
      ...createProjectsHandlers(services.projects),
      ...createUsersHandlers(services.users),
      ...createAdminHandlers(services.projects, services.signIns, deps.history.db, services.history),
      ...createLlmHandlers(services.llm),
      ...createSearchHandlers(createSearchService(deps.history.db, services.chats.sharedProjectsOf)),
    },
    { viewer: optionalAuth(services.signIns.authenticate), user: authenticated, admin: requireAdmin(deps.env.ADMIN_USERS) },
    { ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }), labelRoutes: metricsToken !== undefined },
  );
  // Everything else under /api needs a valid bearer token too, unknown paths included.
  app.use('/api', authenticated);
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
