import { createService, type Listening, type Service, type ServiceHost } from '@souk/kit';
import { connectEvents } from '@souk/kit/events/service-events';
import { connectPlatform } from '@souk/kit/platform-clients';
import type { OrdersConfig } from './config.ts';
import { type OrdersDb, ordersDatabase } from './data/database.ts';
import { sagaMetrics } from './domain/metrics.ts';
import { Orders } from './domain/orders.ts';
import { SagaRunner } from './domain/saga-runner.ts';
import { DeadlineSweeper } from './domain/sweeper.ts';
import { sagaConsumer } from './events/saga-consumer.ts';
import { orderRoutes, presentOrder } from './routes/orders.ts';

export const VERSION = '0.1.0';

export interface OrdersOptions extends ServiceHost {
  config: OrdersConfig;
}

export interface OrdersApp {
  service: Service<OrdersConfig>;
  db: OrdersDb;
  orders: Orders;
  sweeper: DeadlineSweeper;
  /** Listens, then starts the relay, the saga consumer and the deadline sweeper. */
  start(): Promise<Listening>;
  /** Resolves once the saga consumer has joined its group (the first join takes seconds). */
  joined(): Promise<void>;
  stop(): Promise<boolean>;
}

/** Builds the orders service from its configuration; nothing runs until `start()`. */
export async function createOrders(options: OrdersOptions): Promise<OrdersApp> {
  const { config } = options;
  const service = createService({
    config,
    version: VERSION,
    description:
      'Orders and the order saga: places orders priced from inventory, then orchestrates stock ' +
      'reservation, payment authorization and capture, with deadlines and compensations.',
    logDestination: options.logDestination,
    tracing: options.tracing,
  });
  const log = service.logger;
  const platform = await connectPlatform(service, {
    database: ordersDatabase,
  });
  const { db } = platform;
  const auth = platform.authenticate(platform.usersTokens(config.USERS_URL));
  const recentWrites = platform.recentWrites('orders:', config.READ_YOUR_WRITES_MS);

  const events = connectEvents(service, config);
  const { kafka, resolveTopic } = events;
  const relay = events.relay();

  const metrics = sagaMetrics(service.metrics);
  const runner = new SagaRunner(
    {
      reservationTimeoutMs: config.RESERVATION_TIMEOUT_MS,
      paymentTimeoutMs: config.PAYMENT_TIMEOUT_MS,
      captureTimeoutMs: config.CAPTURE_TIMEOUT_MS,
      compensationTimeoutMs: config.COMPENSATION_TIMEOUT_MS,
      compensationAttempts: config.COMPENSATION_ATTEMPTS,
      reservationMarginMs: config.RESERVATION_MARGIN_MS,
    },
    metrics,
  );
  const consumer = sagaConsumer({
    kafka,
    db,
    runner,
    resolveTopic,
    groupId: events.groupId('orders-saga'),
    metrics: service.metrics,
    logger: log,
    shutdown: service.shutdown,
    maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
  });
  const sweeper = new DeadlineSweeper({
    db,
    runner,
    metrics,
    intervalMs: config.SWEEP_INTERVAL_MS,
    onError: (error) => log.warn({ err: error }, 'deadline sweep failed'),
  });
  service.shutdown.register('deadline sweeper', () => sweeper.stop(), { phase: 'consumers' });

  const inventory = service.httpClient({
    baseUrl: config.INVENTORY_URL,
    timeoutMs: config.INVENTORY_TIMEOUT_MS,
    retries: 1,
    breaker: { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 5_000 },
  });
  const orders = new Orders(db, inventory, runner, presentOrder);
  const routes = orderRoutes({
    orders,
    auth,
    recentlyWrote: (userId) => recentWrites.recent(userId),
    wrote: (userId) => recentWrites.mark(userId),
  });

  return {
    service,
    db,
    orders,
    sweeper,
    async start() {
      const listening = await service.start({ routes });
      relay.start();
      await consumer.start();
      sweeper.start();
      return listening;
    },
    joined: () => consumer.joined(),
    stop: () => service.stop(),
  };
}
