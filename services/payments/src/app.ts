import { createService, type Listening, requireRole, type Service, type ServiceHost } from '@souk/kit';
import { connectEvents } from '@souk/kit/events/service-events';
import { connectPlatform } from '@souk/kit/platform-clients';
import type { PaymentsConfig } from './config.ts';
import { type PaymentsDb, paymentsDatabase } from './data/database.ts';
import { paymentsMetrics } from './domain/metrics.ts';
import { PaymentSteps } from './domain/payments.ts';
import { SimulatedProvider } from './domain/provider.ts';
import { commandConsumer } from './events/commands.ts';
import { paymentRoutes } from './routes/payments.ts';

export const VERSION = '0.1.0';

export interface PaymentsOptions extends ServiceHost {
  config: PaymentsConfig;
}

export interface Payments {
  service: Service<PaymentsConfig>;
  db: PaymentsDb;
  steps: PaymentSteps;
  /** Listens, then starts the relay and the command consumer. */
  start(): Promise<Listening>;
  /** Resolves once the consumer has joined its group (the first join takes seconds). */
  joined(): Promise<void>;
  stop(): Promise<boolean>;
}

/** Builds the payments service from its configuration; nothing runs until `start()`. */
export async function createPayments(options: PaymentsOptions): Promise<Payments> {
  const { config } = options;
  const service = createService({
    config,
    version: VERSION,
    description:
      'A simulated payment provider with a double-entry ledger. No public writes: it applies the ' +
      "order saga's payment commands (orders.events) and publishes their outcomes (payments.events).",
    logDestination: options.logDestination,
    tracing: options.tracing,
  });
  const log = service.logger;
  const platform = await connectPlatform(service, {
    database: paymentsDatabase,
  });
  const { db } = platform;
  const adminOnly = [platform.authenticate(platform.usersTokens(config.USERS_URL)), requireRole('admin')];

  const events = connectEvents(service, config);
  const { kafka, resolveTopic } = events;
  const relay = events.relay();

  const counters = paymentsMetrics(service.metrics);
  const steps = new PaymentSteps(new SimulatedProvider(config.PROVIDER_LATENCY_MS), {
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
    retryBaseMs: config.PROVIDER_RETRY_BASE_MS,
    retryMaxMs: config.PROVIDER_RETRY_MAX_MS,
    onAttempt: (operation, result) => counters.providerCalls.inc({ operation, result }),
  });
  const attempts = config.PROVIDER_MAX_ATTEMPTS;
  const consumer = commandConsumer({
    kafka,
    db,
    steps,
    counters,
    groupId: events.groupId('payments-commands'),
    resolveTopic,
    metrics: service.metrics,
    logger: log,
    shutdown: service.shutdown,
    transactionTimeoutMs:
      attempts * (config.PROVIDER_TIMEOUT_MS + config.PROVIDER_LATENCY_MS + config.PROVIDER_RETRY_MAX_MS) +
      10_000,
  });

  return {
    service,
    db,
    steps,
    async start() {
      const listening = await service.start({ routes: paymentRoutes(db, adminOnly) });
      relay.start();
      await consumer.start();
      return listening;
    },
    joined: () => consumer.joined(),
    stop: () => service.stop(),
  };
}
