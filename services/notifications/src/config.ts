import { baseConfig, platformConfig } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/** The environment of the notifications service (see CONVENTIONS "Services" for the shared variables). */
export const notificationsConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('notifications'),
  ...platformConfig.shape,
  /** Base URL of users: its JWKS verifies tokens. */
  USERS_URL: z.url(),
  /** SMTP server for e-mail (`smtp://user:pass@host:587`); unset: mails are rendered as JSON and logged. */
  SMTP_URL: z.url().optional(),
  MAIL_FROM: z.string().default('Souk <no-reply@souk.local>'),
  /** How often the mailer looks for e-mails still pending (after a crash or a failed send). */
  MAIL_POLL_MS: ms.default(5_000),
  /** A WebSocket that has not answered a ping for this long is closed. */
  WS_PING_MS: ms.default(30_000),
  /** Prometheus' base URL, for the live console's charts; unset: the console says none is configured. */
  PROMETHEUS_URL: z.url().optional(),
  /** The rate window of the console's charts (PromQL duration); keep it at least 4 scrape intervals. */
  CHART_RATE_WINDOW: z
    .string()
    .regex(/^\d+[smh]$/, 'a PromQL duration such as 1m')
    .default('1m'),
});

export type NotificationsConfig = z.output<typeof notificationsConfig>;
