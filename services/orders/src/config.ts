import { baseConfig, loadConfigOrExit, outboxConfig, platformConfig } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/** The environment of the orders service (see CONVENTIONS "Services" for the shared variables). */
export const ordersConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('orders'),
  ...platformConfig.shape,
  DATABASE_POOL_SIZE: platformConfig.shape.DATABASE_POOL_SIZE.removeDefault().default(20),
  ...outboxConfig.shape,
  /** Base URL of users, for its JWKS. */
  USERS_URL: z.url(),
  /** Base URL of inventory, for item prices at placement. */
  INVENTORY_URL: z.url(),
  INVENTORY_TIMEOUT_MS: ms.default(2_000),
  /** Step deadlines of the saga. */
  RESERVATION_TIMEOUT_MS: ms.default(30_000),
  PAYMENT_TIMEOUT_MS: ms.default(30_000),
  CAPTURE_TIMEOUT_MS: ms.default(30_000),
  COMPENSATION_TIMEOUT_MS: ms.default(30_000),
  COMPENSATION_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** The payment steps end at least this long before the stock reservation expires. */
  RESERVATION_MARGIN_MS: ms.default(60_000),
  SWEEP_INTERVAL_MS: ms.default(500),
  /** How long after a write the writer's reads go to the primary. */
  READ_YOUR_WRITES_MS: ms.default(5_000),
  /** Kafka fetch wait of the saga consumer: the tail of each saga hop follows it. */
  KAFKA_MAX_WAIT_MS: ms.default(50),
});

export type OrdersConfig = z.output<typeof ordersConfig>;

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  return loadConfigOrExit(ordersConfig, env);
}
