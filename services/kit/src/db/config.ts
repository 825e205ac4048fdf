import { z } from 'zod';

/**
 * The data settings of a service, to extend its config with:
 *
 *   const config = loadConfigOrExit(baseConfig.extend({ ...databaseConfig.shape, ...redisConfig.shape }));
 */
export const databaseConfig = z.object({
  DATABASE_URL: z.url(),
  /** Comma-separated read replicas; unset: reads go to the primary. */
  DATABASE_REPLICA_URLS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
});

export const redisConfig = z.object({
  /** Comma-separated host:port of Redis Cluster nodes (any subset; the rest is discovered). */
  REDIS_NODES: z.string().regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'host:port[,host:port...]'),
});
