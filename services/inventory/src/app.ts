import {
  authenticate,
  Cache,
  closeRedisCluster,
  createDenyList,
  createIntrospectionVerifier,
  createRedisCluster,
  createService,
  type Listening,
  type Middleware,
  type Service,
  type Tracing,
} from '@souk/kit';
import { usersTokenVerifier } from '@souk/kit/auth/platform-tokens';
import { createKafka, OutboxRelay } from '@souk/kit/events/index';
import { registerKafkaHealth } from '@souk/kit/events/kafka-health';
import type { DestinationStream } from 'pino';
import type { InventoryConfig } from './config.ts';
import { type InventoryDb, migrateInventory, openInventoryDb } from './data/database.ts';
import { ItemCatalog } from './domain/items.ts';
import { type ReservationCounter, reservationCounter } from './domain/metrics.ts';
import { ReservationSweeper } from './domain/sweeper.ts';
import { cacheInvalidationConsumer, reservationConsumer } from './events/consumers.ts';
import { itemRoutes } from './routes/items.ts';

export const VERSION = '0.1.0';

export interface InventoryOptions {
  config: InventoryConfig;
  /** Apply the migrations before opening the database (development and test). */
  migrate?: boolean;
  logDestination?: DestinationStream;
  /** Tracing already installed in this process (several services in one test process). */
  tracing?: Tracing;
}

export interface Inventory {
  service: Service<InventoryConfig>;
  db: InventoryDb;
  cache: Cache;
  catalog: ItemCatalog;
  sweeper: ReservationSweeper;
  countReservation: ReservationCounter;
  /** Listens, then starts the relay, the consumers and the sweeper. */
  start(): Promise<Listening>;
  /** Resolves once both consumers have joined their groups (the first join takes seconds). */
  joined(): Promise<void>;
  stop(): Promise<boolean>;
}

/** Builds the inventory service from its configuration; nothing runs until `start()`. */
export async function createInventory(options: InventoryOptions): Promise<Inventory> {
  const { config } = options;
  const service = createService({
    config,
    version: VERSION,
    description: 'Items (owned, shared), their stock, and stock reservations for the order saga',
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
  });
  const log = (message: string) => service.logger.info(message);
  if (options.migrate) await migrateInventory(config.DATABASE_URL, log);
  const db = await openInventoryDb({
    url: config.DATABASE_URL,
    replicaUrl: config.DATABASE_REPLICA_URL,
    metrics: service.metrics,
  });
  db.registerHealth(service.health);
  service.shutdown.register('database', () => db.close(), { phase: 'clients' });

  const redis = createRedisCluster(config.REDIS_NODES);
  service.shutdown.register('redis', () => closeRedisCluster(redis), { phase: 'clients' });
  const cache = new Cache({ redis, prefix: `${config.KEY_PREFIX}inventory:`, metrics: service.metrics });
  cache.registerHealth(service.health);
  const catalog = new ItemCatalog(db, cache, {
    itemMs: config.ITEM_CACHE_TTL_MS,
    listMs: config.LIST_CACHE_TTL_MS,
  });

  const kafka = createKafka(
    config.KAFKA_BROKERS.split(',').map((b) => b.trim()),
    { clientId: config.SERVICE_NAME },
  );
  const kafkaHealth = registerKafkaHealth(service.health, kafka);
  service.shutdown.register('kafka health', () => kafkaHealth.close(), { phase: 'clients' });
  const resolveTopic = (topic: string) => `${config.TOPIC_PREFIX}${topic}`;
  const common = {
    kafka,
    db,
    resolveTopic,
    groupPrefix: config.TOPIC_PREFIX,
    metrics: service.metrics,
    logger: service.logger,
    shutdown: service.shutdown,
  };
  const relay = new OutboxRelay({
    databaseUrl: config.DATABASE_URL,
    kafka,
    resolveTopic,
    metrics: service.metrics,
    logger: service.logger,
    shutdown: service.shutdown,
  });
  const countReservation = reservationCounter(service.metrics);
  const reservations = reservationConsumer({
    ...common,
    reservationTtlMs: config.RESERVATION_TTL_MS,
    count: countReservation,
    catalog,
  });
  const invalidations = cacheInvalidationConsumer({ ...common, catalog });
  const sweeper = new ReservationSweeper({
    db,
    intervalMs: config.SWEEP_INTERVAL_MS,
    onReleased: (count, itemIds) => {
      countReservation('expired', count);
      catalog.invalidate(itemIds).catch(() => {});
    },
    onError: (error) => service.logger.warn({ err: error }, 'reservation sweep failed'),
  });
  service.shutdown.register('reservation sweeper', () => sweeper.stop(), { phase: 'consumers' });

  const auth = tokenCheck(service, config, redis);
  const routes = itemRoutes(catalog, auth);

  return {
    service,
    db,
    cache,
    catalog,
    sweeper,
    countReservation,
    async start() {
      const listening = await service.start({
        routes,
      });
      relay.start();
      await Promise.all([reservations.start(), invalidations.start()]);
      sweeper.start();
      return listening;
    },
    async joined() {
      await Promise.all([reservations.joined(), invalidations.joined()]);
    },
    stop: () => service.stop(),
  };
}

/**
 * How writes check tokens. `validate` (the default, as the design has it) asks users'
 * POST /tokens/validate through the HTTP client's circuit breaker and caches answers briefly,
 * so revocations count within seconds; `jwks` verifies signatures locally against users' JWKS
 * and the Redis deny-list.
 */
function tokenCheck(
  service: Service<InventoryConfig>,
  config: InventoryConfig,
  redis: ReturnType<typeof createRedisCluster>,
): Middleware {
  if (config.TOKEN_CHECK === 'jwks') {
    const verifier = usersTokenVerifier(config.USERS_URL, { timeoutMs: config.USERS_TIMEOUT_MS });
    return authenticate({
      verifier,
      denyList: createDenyList({ redis, prefix: config.KEY_PREFIX, metrics: service.metrics }),
    });
  }
  const client = service.httpClient({
    baseUrl: config.USERS_URL,
    timeoutMs: config.USERS_TIMEOUT_MS,
    retries: 0,
    breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 5_000 },
  });
  const verifier = createIntrospectionVerifier({
    client,
    url: '/tokens/validate',
    ttlMs: config.TOKEN_CACHE_MS,
    negativeTtlMs: config.TOKEN_NEGATIVE_CACHE_MS,
    metrics: service.metrics,
  });
  return authenticate({ verifier });
}
