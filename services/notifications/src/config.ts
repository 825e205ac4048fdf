import { baseConfig } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/** The environment of the notifications service (see CONVENTIONS "Services" for the shared variables). */
export const notificationsConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('notifications'),
  DATABASE_URL: z.url(),
  /** `GET /notifications` reads here when set. */
  DATABASE_REPLICA_URL: z.url().optional(),
  /** The Redis Cluster: token deny-list and the fan-out channel between replicas. */
  REDIS_NODES: z.string().min(1),
  KAFKA_BROKERS: z.string().min(1),
  /** Base URL of users: its JWKS verifies tokens. */
  USERS_URL: z.url(),
  /** SMTP server for e-mail (`smtp://user:pass@host:587`); unset: mails are rendered as JSON and logged. */
  SMTP_URL: z.url().optional(),
  MAIL_FROM: z.string().default('Souk <no-reply@souk.local>'),
  /** How often the mailer looks for e-mails still pending (after a crash or a failed send). */
  MAIL_POLL_MS: ms.default(5_000),
  /** A WebSocket that has not answered a ping for this long is closed. */
  WS_PING_MS: ms.default(30_000),
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

export type NotificationsConfig = z.output<typeof notificationsConfig>;
