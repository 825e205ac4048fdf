import { baseConfig, outboxConfig, platformConfig } from '@souk/kit';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The environment of the users service (see CONVENTIONS "Services" for the shared variables). */
export const usersConfig = baseConfig
  .extend({
    SERVICE_NAME: baseConfig.shape.SERVICE_NAME.default('users'),
    ...platformConfig.shape,
    ...outboxConfig.shape,
    /** Base URL of users itself, as the other services reach it (documentation of the issuer only). */
    USERS_URL: z.url().optional(),
    /** EC P-256 private key (SEC1 or PKCS#8 PEM): the current signing key. */
    JWT_PRIVATE_KEY: z.string().optional(),
    ADMIN_EMAIL: z.string().optional(),
    ADMIN_PASSWORD: z.string().optional(),
    ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900),
    REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
    LOGIN_LIMIT_PER_ACCOUNT: positiveInt.default(10),
    LOGIN_LIMIT_PER_IP: positiveInt.default(100),
    LOGIN_LIMIT_WINDOW_MS: positiveInt.default(15 * 60_000),
    VALIDATE_LIMIT_PER_IP: positiveInt.default(6000),
    VALIDATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
    /** After an account changes, its own profile reads go to the primary for this long (replica lag). */
    READ_YOUR_WRITES_MS: positiveInt.default(5_000),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && !config.JWT_PRIVATE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JWT_PRIVATE_KEY'], message: 'required in production' });
    }
    if (Boolean(config.ADMIN_EMAIL) !== Boolean(config.ADMIN_PASSWORD)) {
      ctx.addIssue({
        code: 'custom',
        path: [config.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'],
        message: 'ADMIN_EMAIL and ADMIN_PASSWORD go together',
      });
    }
  });

export type UsersConfig = z.output<typeof usersConfig>;
