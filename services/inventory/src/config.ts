import { baseConfig, loadConfigOrExit } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

export const inventoryConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('inventory'),
  DATABASE_URL: z.url(),
  /** Public reads go here when set; everything else to the primary. */
  DATABASE_REPLICA_URL: z.url().optional(),
  /** Comma-separated host:port of the Redis Cluster. */
  REDIS_NODES: z.string().min(1),
  KAFKA_BROKERS: z.string().min(1),
  /** Base URL of the users service (validate endpoint, JWKS). */
  USERS_URL: z.url(),
  /** How writes check tokens: ask users (`validate`, the default) or verify the signature locally (`jwks`). */
  TOKEN_CHECK: z.enum(['validate', 'jwks']).default('validate'),
  TOKEN_CACHE_MS: ms.default(5_000),
  TOKEN_NEGATIVE_CACHE_MS: ms.default(1_000),
  USERS_TIMEOUT_MS: ms.default(2_000),
  /** How long an order holds its stock before the sweeper gives it back. */
  RESERVATION_TTL_MS: ms.default(15 * 60_000),
  SWEEP_INTERVAL_MS: ms.default(1_000),
  ITEM_CACHE_TTL_MS: ms.default(60_000),
  LIST_CACHE_TTL_MS: ms.default(30_000),
  /** Prepended to Redis keys, and to Kafka topics and consumer groups (one namespace per environment or test). */
  KEY_PREFIX: z.string().default(''),
  TOPIC_PREFIX: z.string().default(''),
});

export type InventoryConfig = z.output<typeof inventoryConfig>;

export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env): InventoryConfig {
  return loadConfigOrExit(inventoryConfig, env);
}
