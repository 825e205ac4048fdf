import { createService, type Service, type ServiceHost } from '@souk/kit';
import { generateSigningKey, importSigningKey, type SigningKey } from '@souk/kit/auth/keys';
import { toPkcs8Pem } from '@souk/kit/auth/pem';
import { PLATFORM_TOKEN_AUDIENCE, PLATFORM_TOKEN_ISSUER } from '@souk/kit/auth/platform-tokens';
import { createTokenIssuer, createTokenVerifier } from '@souk/kit/auth/tokens';
import { connectEvents } from '@souk/kit/events/service-events';
import { connectPlatform } from '@souk/kit/platform-clients';
import type { UsersConfig } from './config.ts';
import { type UsersDb, usersDatabase } from './data/database.ts';
import { SessionsRepository } from './data/sessions.ts';
import { SigningKeysRepository } from './data/signing-keys.ts';
import { UsersRepository } from './data/users.ts';
import { Accounts } from './domain/accounts.ts';
import { type SeedOutcome, seedAdmin } from './domain/admin-seed.ts';
import { KeyRing } from './domain/key-ring.ts';
import { usersMetrics } from './domain/metrics.ts';
import { PasswordHasher } from './domain/passwords.ts';
import { Sessions } from './domain/sessions.ts';
import { TokenCheck } from './domain/token-check.ts';
import { requireSession } from './routes/auth.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { userRoutes } from './routes/users.ts';

export const ISSUER = PLATFORM_TOKEN_ISSUER;
export const AUDIENCE = PLATFORM_TOKEN_AUDIENCE;
export const VERSION = '0.1.0';

export type UsersAppOptions = ServiceHost;

export interface UsersApp {
  service: Service<UsersConfig>;
  url: string;
  db: UsersDb;
  keys: KeyRing;
  adminSeed: SeedOutcome | undefined;
  stop(): Promise<boolean>;
}

/** The signing key from JWT_PRIVATE_KEY, or (outside production) a fresh one for this process. */
export async function signingKeyFrom(config: UsersConfig): Promise<SigningKey> {
  if (config.JWT_PRIVATE_KEY) return importSigningKey(toPkcs8Pem(config.JWT_PRIVATE_KEY), 'ES256');
  if (config.NODE_ENV === 'production') throw new Error('JWT_PRIVATE_KEY is required in production');
  return generateSigningKey('ES256');
}

/**
 * Builds and starts the users service from its configuration: Postgres (primary + replica), the
 * Redis Cluster when configured (deny-list, session cache, rate limits), Kafka (outbox relay), then
 * the routes.
 */
export async function startUsers(config: UsersConfig, options: UsersAppOptions = {}): Promise<UsersApp> {
  const service = createService({
    config,
    version: VERSION,
    description: 'Accounts, roles and sessions; issuer of the access tokens (JWKS at /.well-known/jwks.json)',
    logDestination: options.logDestination,
    tracing: options.tracing,
    spanExporter: options.spanExporter,
  });
  const log = service.logger;
  const platform = await connectPlatform(service, {
    database: usersDatabase,
    waitForRedisMs: 5_000,
  });
  const { db } = platform;
  const cache = platform.cache('users:', { healthName: 'redis' });
  const { denyList } = platform;
  const limiter = platform.rateLimiter;

  const events = connectEvents(service, config);
  const relay = events.relay();

  const keys = await KeyRing.open({
    repository: new SigningKeysRepository(db),
    current: await signingKeyFrom(config),
    graceSeconds: config.ACCESS_TOKEN_TTL_SECONDS + 60,
  });
  service.shutdown.register('key ring', () => keys.close(), { phase: 'clients' });
  const issuer = createTokenIssuer({
    key: keys.current,
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const verifier = createTokenVerifier({
    keys: keys.getKey,
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
  });

  const metrics = usersMetrics(service.metrics);
  const hasher = new PasswordHasher();
  const users = new UsersRepository(db);
  const sessions = new Sessions({
    db,
    users,
    sessions: new SessionsRepository(db),
    hasher,
    issuer,
    denyList,
    cache,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    metrics,
    log,
  });
  const recentWrites = platform.recentWrites('users:', config.READ_YOUR_WRITES_MS);
  const accounts = new Accounts({ db, recentWrites, users, sessions, hasher, metrics });
  const check = new TokenCheck(verifier, denyList, sessions);

  let adminSeed: SeedOutcome | undefined;
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    adminSeed = await seedAdmin({ db, users, hasher }, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    log.info({ outcome: adminSeed }, 'admin account seeded');
  }

  relay.start();
  const auth = requireSession(verifier, denyList, check);
  const listening = await service.start({
    routes: [
      ...userRoutes(accounts, auth),
      ...sessionRoutes(
        sessions,
        {
          perAccount: limiter('login-account', config.LOGIN_LIMIT_PER_ACCOUNT, config.LOGIN_LIMIT_WINDOW_MS),
          perIp: limiter('login-ip', config.LOGIN_LIMIT_PER_IP, config.LOGIN_LIMIT_WINDOW_MS),
        },
        metrics,
        auth,
      ),
      ...tokenRoutes(
        check,
        keys,
        limiter('validate', config.VALIDATE_LIMIT_PER_IP, config.VALIDATE_LIMIT_WINDOW_MS),
      ),
    ],
  });
  return { service, url: listening.url, db, keys, adminSeed, stop: () => service.stop() };
}
