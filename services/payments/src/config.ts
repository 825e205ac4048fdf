import { baseConfig, loadConfigOrExit, outboxConfig, platformConfig } from '@souk/kit';
import { z } from 'zod';

const ms = z.coerce.number().int().positive();

/** The environment of the payments service (see CONVENTIONS "Services" for the shared variables). */
export const paymentsConfig = baseConfig.extend({
  SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('payments'),
  ...platformConfig.shape,
  ...outboxConfig.shape,
  /** Base URL of users, for its JWKS. */
  USERS_URL: z.url(),
  /** A provider call that has not answered after this long counts as timed out (not retried). */
  PROVIDER_TIMEOUT_MS: ms.default(5_000),
  /** Provider calls per step when the provider answers with a transient error. */
  PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  PROVIDER_RETRY_BASE_MS: ms.default(100),
  PROVIDER_RETRY_MAX_MS: ms.default(2_000),
  /** Simulated latency of every provider call. */
  PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).default(0),
});

export type PaymentsConfig = z.output<typeof paymentsConfig>;

export function loadPaymentsConfig(env: NodeJS.ProcessEnv = process.env): PaymentsConfig {
  return loadConfigOrExit(paymentsConfig, env);
}
