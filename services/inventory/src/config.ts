import { baseConfig, loadConfigOrExit, outboxConfig, platformConfig } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

export const inventoryConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('inventory'),
  ...platformConfig.shape,
  DATABASE_POOL_SIZE: platformConfig.shape.DATABASE_POOL_SIZE.removeDefault().default(20),
  ...outboxConfig.shape,
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
  /** After a write, reads of the item (and its owner's lists) that miss the cache go to the primary this long. */
  READ_YOUR_WRITES_MS: ms.default(5_000),
});

export type InventoryConfig = z.output<typeof inventoryConfig>;

export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env): InventoryConfig {
  return loadConfigOrExit(inventoryConfig, env);
}
