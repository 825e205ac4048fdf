import {
  authenticate,
  type Cache,
  createService,
  type Listening,
  type Middleware,
  type Service,
  type ServiceHost,
} from '@souk/kit';
import { connectEvents } from '@souk/kit/events/service-events';
import { connectPlatform, type PlatformClients } from '@souk/kit/platform-clients';
import type { InventoryConfig } from './config.ts';
import { type InventoryDb, inventoryDatabase } from './data/database.ts';
import { ItemCatalog } from './domain/items.ts';
import { type ReservationCounter, reservationCounter } from './domain/metrics.ts';
import { ReservationSweeper } from './domain/sweeper.ts';
import { cacheInvalidationConsumer, reservationConsumer } from './events/consumers.ts';
import { itemRoutes } from './routes/items.ts';

export const VERSION = '0.1.0';

export interface InventoryOptions extends ServiceHost {
  config: InventoryConfig;
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
    logDestination: options.logDestination,
    tracing: options.tracing,
  });
  const platform = await connectPlatform(service, {
    database: inventoryDatabase,
  });
  const { db } = platform;
  const cache = platform.cache('inventory:');
  const catalog = new ItemCatalog(
    db,
    cache,
    { itemMs: config.ITEM_CACHE_TTL_MS, listMs: config.LIST_CACHE_TTL_MS },
    platform.recentWrites('inventory:', config.READ_YOUR_WRITES_MS),
  );

  const events = connectEvents(service, config);
  const { kafka, resolveTopic } = events;
  const common = {
    kafka,
    db,
    resolveTopic,
    groupPrefix: config.KAFKA_TOPIC_PREFIX,
    metrics: service.metrics,
    logger: service.logger,
    shutdown: service.shutdown,
  };
  const relay = events.relay();
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

  const auth = tokenCheck(config, platform);
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
 * and the Redis deny-list (and without Redis asks users all the same: see `usersTokens`).
 */
function tokenCheck(config: InventoryConfig, platform: PlatformClients<unknown>): Middleware {
  const users = {
    timeoutMs: config.USERS_TIMEOUT_MS,
    cacheMs: config.TOKEN_CACHE_MS,
    negativeCacheMs: config.TOKEN_NEGATIVE_CACHE_MS,
  };
  if (config.TOKEN_CHECK === 'jwks')
    return platform.authenticate(platform.usersTokens(config.USERS_URL, users));
  return authenticate({ verifier: platform.usersIntrospection(config.USERS_URL, users) });
}
