import { baseConfig, loadConfigOrExit } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/** The environment of the orders service (see CONVENTIONS "Services" for the shared variables). */
export const ordersConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('orders'),
  DATABASE_URL: z.url(),
  /** Order reads that may be a little stale go here when set. */
  DATABASE_REPLICA_URL: z.url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(20),
  /** The Redis Cluster holding the token deny-list and the read-your-writes marks. */
  REDIS_NODES: z.string().min(1),
  KAFKA_BROKERS: z.string().min(1),
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
  /** Prepended to Redis keys (no braces) and to Kafka topic names; empty in production. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'no braces')
    .default(''),
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  /** Apply the migrations at start; defaults to on outside production. */
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
});

export type OrdersConfig = z.output<typeof ordersConfig>;

export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  return loadConfigOrExit(ordersConfig, env);
}
