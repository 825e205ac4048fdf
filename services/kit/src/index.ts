/**
 * @souk/kit: what every Souk service is built on. A service is mostly its own domain code:
 *
 *   const config = loadConfigOrExit(baseConfig.extend({ DATABASE_URL: z.url() }));
 *   const service = createService({ config, version: '1.4.0' });
 *   service.health.register('db', () => db.$queryRaw`SELECT 1`);            // critical: 503 when down
 *   service.shutdown.register('db', () => db.$disconnect(), { phase: 'clients' });
 *   const users = service.httpClient({ baseUrl: 'http://users', timeoutMs: 2000 });
 *
 *   const getItem = defineRoute({
 *     method: 'GET', path: '/items/:id', name: 'getItem', summary: 'One item',
 *     params: z.object({ id: z.uuid() }),
 *     responses: { 200: { description: 'The item', body: Item }, 404: { description: 'No such item' } },
 *     use: [requireToken()],
 *     handler: async ({ params, reply }) => {
 *       const item = await items.find(params.id);
 *       return item ? reply(200, item) : reply(404);
 *     },
 *   });
 *
 *   await service.start({ routes: [getItem] });  // also /livez /readyz /metrics /openapi.json
 *   service.exitOnSignals();                      // SIGTERM: drain, hooks in order, exit 0
 */
export { type AppOptions, createApp } from './app.ts';
export { createDenyList, type DenyList, type DenyListOptions } from './auth/deny-list.ts';
export {
  createIntrospectionVerifier,
  type IntrospectionOptions,
  type IntrospectionVerifier,
} from './auth/introspection.ts';
export {
  buildJwks,
  JWKS_PATH,
  jwksEndpoint,
  localJwks,
  type RemoteJwksOptions,
  remoteJwks,
} from './auth/jwks.ts';
export { generateSigningKey, importSigningKey, type SigningAlgorithm, type SigningKey } from './auth/keys.ts';
export { type AuthenticateOptions, authenticate, requireRole } from './auth/middleware.ts';
export {
  PLATFORM_TOKEN_ALGORITHM,
  PLATFORM_TOKEN_AUDIENCE,
  PLATFORM_TOKEN_ISSUER,
  usersTokenVerifier,
} from './auth/platform-tokens.ts';
export {
  createTokenIssuer,
  createTokenVerifier,
  InvalidTokenError,
  type IssuedToken,
  KeysUnavailableError,
  type Principal,
  type TokenIssuer,
  type TokenVerifier,
} from './auth/tokens.ts';
export {
  type AuthenticateUpgradeOptions,
  authenticateUpgrade,
  BEARER_PROTOCOL,
  type OfferedProtocols,
  offeredProtocols,
} from './auth/websocket.ts';
export { backoffDelay, sleep } from './backoff.ts';
export { Cache, type CacheOptions, type CacheResult, type GetOptions } from './cache/cache.ts';
export { CACHE_UNAVAILABLE, CacheUnavailableError } from './cache/cache-unavailable.ts';
export { SingleFlight } from './cache/single-flight.ts';
export { type BreakerOptions, BreakerState, Breakers } from './circuit-breaker.ts';
export {
  type BaseConfig,
  baseConfig,
  CONFIG_EXIT_CODE,
  ConfigError,
  loadConfig,
  loadConfigOrExit,
} from './config.ts';
export { type KitContext, type KitState, type Middleware, UNMATCHED_ROUTE } from './context.ts';
export {
  databaseConfig,
  kafkaConfig,
  outboxConfig,
  platformConfig,
  redisConfig,
  redisNodes,
} from './db/config.ts';
export { type Database, type DatabaseOptions, openDatabase, type RoutedClient } from './db/database.ts';
export { generatePrismaClient } from './db/generate.ts';
export { type MigrateOptions, type MigrateResult, MigrationError, migrate } from './db/migrate.ts';
export * from './events/index.ts';
export { type CheckFunction, type CheckOptions, Health, type Readiness } from './health.ts';
export { HttpClient, type HttpClientOptions, isIdempotent, type RequestOptions } from './http-client.ts';
export { createLogger, type Logger } from './logger.ts';
export { Metrics } from './metrics.ts';
export { type OpenApiInfo, type OpenApiOptions, openApiDocument } from './openapi.ts';
export {
  CARD_TOKEN_PATTERN,
  type CardToken,
  InvalidCardNumberError,
  luhnValid,
  normalizeCardNumber,
  tokenizeCard,
} from './payments/card-token.ts';
export {
  badRequest,
  conflict,
  type FieldError,
  forbidden,
  methodNotAllowed,
  notFound,
  PROBLEM_CONTENT_TYPE,
  Problem,
  payloadTooLarge,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
} from './problem.ts';
export { RateLimiter, type RateLimiterOptions, rateLimit } from './rate-limit.ts';
export {
  closeRedisCluster,
  createRedisCluster,
  parseRedisNodes,
  type RedisCluster,
  type RedisClusterOptions,
  redisReady,
  withTimeout,
} from './redis.ts';
export {
  defineRoute,
  type HttpMethod,
  type Reply,
  type ReplyFn,
  type ResponseSpec,
  type Responses,
  type Route,
  type RouteInput,
  type RouteSpec,
} from './route.ts';
export {
  createService,
  type Listening,
  Service,
  type ServiceHost,
  type ServiceOptions,
  type StartOptions,
} from './service.ts';
export { SHUTDOWN_PHASES, Shutdown, type ShutdownPhase } from './shutdown.ts';
export {
  cacheSpan,
  dbSpan,
  extractContext,
  injectContext,
  kafkaConsumeSpan,
  kafkaProduceSpan,
  withSpan,
} from './spans.ts';
export { InMemorySpanExporter, installTracing, type Tracing, tracer } from './tracing.ts';
export { isTransientError, transientErrorCode } from './transient-error.ts';
export { rejectUpgrade, type UpgradeHandler } from './upgrade.ts';
export {
  CircuitOpenError,
  UpstreamError,
  UpstreamStatusError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from './upstream-error.ts';
