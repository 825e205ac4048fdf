import type { z } from 'zod';
import { createDenyList, type DenyList } from './auth/deny-list.ts';
import { createIntrospectionVerifier } from './auth/introspection.ts';
import { type AuthenticateOptions, authenticate } from './auth/middleware.ts';
import { usersTokenVerifier } from './auth/platform-tokens.ts';
import type { TokenVerifier } from './auth/tokens.ts';
import { Cache, type CacheOptions } from './cache/cache.ts';
import type { BaseConfig } from './config.ts';
import type { Middleware } from './context.ts';
import type { databaseConfig, redisConfig } from './db/config.ts';
import type { Database } from './db/database.ts';
import { RecentWrites } from './db/recent-writes.ts';
import type { ServiceDatabase } from './db/service-database.ts';
import { RateLimiter } from './rate-limit.ts';
import { closeRedisCluster, createRedisCluster, type RedisCluster, redisReady } from './redis.ts';
import type { Service } from './service.ts';

/** The settings `connectPlatform` reads from the service's config (`platformConfig` has them). */
export type PlatformSettings = BaseConfig & z.infer<typeof databaseConfig> & z.infer<typeof redisConfig>;

export interface PlatformClientsOptions<C> {
  /** The service's database: migrated at start when MIGRATE_ON_START says so (default: outside production). */
  database: ServiceDatabase<C>;
  /** Wait this long at start for the cluster's slot map, warning when it is not there yet (default: no wait). */
  waitForRedisMs?: number;
}

export interface UsersTokenOptions {
  /** A call to users (JWKS or validation) gives up after this (default 2 s). */
  timeoutMs?: number;
  /** Introspection: an active answer is reused this long (default 5 s). */
  cacheMs?: number;
  /** Introspection: an inactive answer is reused this long (default 1 s). */
  negativeCacheMs?: number;
}

/**
 * A service's clients of the platform's shared infrastructure, and what every service builds on
 * them: the database (readiness, shutdown), the Redis Cluster (shutdown), the token deny-list and
 * the bearer-token check, caches, rate limiters and read-your-writes marks.
 *
 * Without Redis (REDIS_NODES unset) the service still runs, as one replica: caches are disabled
 * (pass-through to the database, `disabled` in /readyz, `souk_cache_disabled` 1), and rate limits,
 * the deny-list and read-your-writes marks are kept in process. That is said once, as a warning, at start.
 */
export interface PlatformClients<C> {
  /** Primary and replica; its checks are in /readyz (primary critical), it is closed at shutdown. */
  db: Database<C>;
  /** Undefined when no Redis is configured. */
  redis: RedisCluster | undefined;
  denyList: DenyList;
  /** Checks the bearer token with `verifier` and the deny-list. */
  authenticate(
    verifier: TokenVerifier,
    options?: Omit<AuthenticateOptions, 'verifier' | 'denyList'>,
  ): Middleware;
  /** A cache under `<keyPrefix><namespace>`, its state in /readyz as `healthName` (default `cache`). */
  cache(
    namespace: string,
    options?: Omit<CacheOptions, 'redis' | 'prefix' | 'metrics'> & { healthName?: string },
  ): Cache;
  /**
   * The check of the platform's access tokens, which users at `usersUrl` issues. With Redis: the
   * signature against users' JWKS, the deny-list being shared. Without Redis the deny-list lives in
   * users' process only, so users is asked (`usersIntrospection`): a logout then counts everywhere
   * within `cacheMs`, not at the token's expiry.
   */
  usersTokens(usersUrl: string, options?: UsersTokenOptions): TokenVerifier;
  /** Asks users' `/tokens/validate` (RFC 7662 style), reusing an answer for `cacheMs` (default 5 s). */
  usersIntrospection(usersUrl: string, options?: UsersTokenOptions): TokenVerifier;
  rateLimiter(name: string, limit: number, windowMs: number): RateLimiter;
  recentWrites(namespace: string, windowMs: number): RecentWrites;
}

const NO_REDIS =
  'REDIS_NODES is not set: running without Redis. The cache is disabled (every read goes to the ' +
  'database); rate limits, the token deny-list and read-your-writes marks are kept in this process, ' +
  'so run a single replica.';

export async function connectPlatform<C>(
  service: Service<PlatformSettings>,
  options: PlatformClientsOptions<C>,
): Promise<PlatformClients<C>> {
  const { config, logger, metrics } = service;
  const { database } = options;
  if (config.MIGRATE_ON_START ?? config.NODE_ENV !== 'production') {
    await database.migrate(config.DATABASE_URL, (message) => logger.info(message));
  }
  const db = await database.open({
    url: config.DATABASE_URL,
    replicaUrl: config.DATABASE_REPLICA_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    metrics,
  });
  db.registerHealth(service.health);
  service.shutdown.register('database', () => db.close(), { phase: 'clients' });
  const keyPrefix = config.REDIS_KEY_PREFIX;

  let redis: RedisCluster | undefined;
  if (config.REDIS_NODES) {
    const cluster = createRedisCluster(config.REDIS_NODES);
    redis = cluster;
    service.shutdown.register('redis', () => closeRedisCluster(cluster), { phase: 'clients' });
    if (options.waitForRedisMs) {
      await redisReady(cluster, options.waitForRedisMs).catch((error: unknown) =>
        service.logger.warn(
          { err: error },
          'redis cluster not ready at start; serving from the database until it is',
        ),
      );
    }
  } else {
    service.logger.warn(NO_REDIS);
    service.health.disabled('redis', 'REDIS_NODES is not set: cache off, limits and deny-list in process');
  }

  const denyList = createDenyList({ redis, prefix: keyPrefix, metrics });
  const usersIntrospection = (usersUrl: string, options: UsersTokenOptions = {}): TokenVerifier =>
    createIntrospectionVerifier({
      client: service.httpClient({
        baseUrl: usersUrl,
        timeoutMs: options.timeoutMs ?? 2_000,
        retries: 0,
        breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 5_000 },
      }),
      url: '/tokens/validate',
      ttlMs: options.cacheMs ?? 5_000,
      negativeTtlMs: options.negativeCacheMs ?? 1_000,
      metrics,
    });
  return {
    db,
    redis,
    denyList,
    authenticate: (verifier, rest = {}) => authenticate({ ...rest, verifier, denyList }),
    cache(namespace, { healthName = 'cache', ...rest } = {}) {
      const cache = new Cache({ ...rest, redis, prefix: `${keyPrefix}${namespace}`, metrics });
      cache.registerHealth(service.health, healthName);
      return cache;
    },
    usersTokens: (usersUrl, options = {}) =>
      redis
        ? usersTokenVerifier(usersUrl, options.timeoutMs ? { timeoutMs: options.timeoutMs } : {})
        : usersIntrospection(usersUrl, options),
    usersIntrospection,
    rateLimiter: (name, limit, windowMs) =>
      new RateLimiter({ redis, name, limit, windowMs, prefix: keyPrefix, metrics }),
    recentWrites: (namespace, windowMs) =>
      new RecentWrites({ redis, prefix: `${keyPrefix}${namespace}`, windowMs }),
  };
}
