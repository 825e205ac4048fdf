import { z } from 'zod';

/**
 * The platform settings every service shares, to extend its config with:
 *
 *   baseConfig.extend({ ...databaseConfig.shape, ...redisConfig.shape, ...kafkaConfig.shape })
 */
export const databaseConfig = z.object({
  DATABASE_URL: z.url(),
  /** Reads that may be a little stale go here (the replicas' read Service); unset: to the primary. */
  DATABASE_REPLICA_URL: z.url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Apply the migrations at start; defaults to on outside production. */
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
});

/**
 * Comma-separated host:port of Redis Cluster nodes (any subset; the rest is discovered). Unset or
 * empty: the service runs without Redis (cache disabled, limits and marks kept in process).
 */
export const redisNodes = z
  .string()
  .trim()
  .regex(
    /^[^,\s:]+:\d{1,5}(,\s*[^,\s:]+:\d{1,5})*$/,
    'a comma-separated host:port list, e.g. redis-0:6379,redis-1:6379',
  )
  .optional();

export const redisConfig = z.object({
  REDIS_NODES: redisNodes,
  /** Prepended to every Redis key (one namespace per environment or test); braces would break hash tags. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'no braces')
    .default(''),
});

export const kafkaConfig = z.object({
  KAFKA_BROKERS: z.string().min(1),
  /** Prepended to topic names and consumer groups; empty in production. */
  KAFKA_TOPIC_PREFIX: z.string().default(''),
});

/**
 * How often an outbox relay looks for pending events without a wake-up. The relay wakes on
 * LISTEN/NOTIFY; where NOTIFY does not reach it (PGlite behind pglite-socket) this is its pace.
 */
export const outboxConfig = z.object({
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(1_000),
});

/** What a service with a database, Redis and Kafka reads; it adds its own variables. */
export const platformConfig = databaseConfig.extend(redisConfig.shape).extend(kafkaConfig.shape);
