import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@souk/kit';
import type { DenyList } from '@souk/kit/auth/deny-list';
import type { Principal, TokenIssuer } from '@souk/kit/auth/tokens';
import type { Cache } from '@souk/kit/cache/cache';
import type { Tx, UsersDb } from '../data/database.ts';
import type { LiveAccessToken, NewRefreshToken, SessionsRepository } from '../data/sessions.ts';
import type { User, UsersRepository } from '../data/users.ts';
import { normaliseEmail } from './email.ts';
import { invalidCredentials, invalidToken } from './errors.ts';
import type { UsersMetrics } from './metrics.ts';
import type { PasswordHasher } from './passwords.ts';

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken: string;
  /** Seconds until the session (and with it every refresh token of it) expires. */
  refreshExpiresIn: number;
}

/** What the cache holds per session family. */
interface CachedSession {
  userId: string;
  active: boolean;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface Revoked {
  familyIds: string[];
  live: LiveAccessToken[];
}

export interface SessionsOptions {
  db: UsersDb;
  users: UsersRepository;
  sessions: SessionsRepository;
  hasher: PasswordHasher;
  /** Returns the issuer of the current signing key. */
  issuer: TokenIssuer;
  denyList: DenyList;
  cache: Cache;
  refreshTtlSeconds: number;
  metrics: UsersMetrics;
  log: Logger;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sessionKey = (familyId: string) => `session:${familyId}`;

/**
 * A login is a session family: a chain of refresh tokens, each exchanged once for the next. The
 * refresh token is `<family id>.<256 random bits>`, stored only as its SHA-256. Presenting a token
 * that was already exchanged means two parties hold it, so the whole family is revoked and its
 * live access tokens go on the deny-list.
 */
export class Sessions {
  readonly #o: SessionsOptions;

  constructor(options: SessionsOptions) {
    this.#o = options;
  }

  async login(email: string, password: string): Promise<TokenPair> {
    const { users, hasher, metrics, sessions } = this.#o;
    const normalised = normaliseEmail(email);
    const user = normalised ? await users.byEmailOnPrimary(normalised) : null;
    const ok =
      user && user.status === 'active'
        ? await hasher.verify(user.passwordHash, password)
        : await hasher.verifyDummy(password);
    if (!ok || !user) {
      metrics.logins.inc({ result: 'invalid_credentials' });
      throw invalidCredentials();
    }
    const familyId = randomUUID();
    const expiresAt = new Date(Date.now() + this.#o.refreshTtlSeconds * 1000);
    const { pair, token } = await this.#mint(user, familyId, expiresAt);
    await sessions.createFamily({ id: familyId, userId: user.id, expiresAt }, token);
    metrics.logins.inc({ result: 'success' });
    return pair;
  }

  async refresh(presented: string): Promise<TokenPair> {
    const { db, sessions, metrics } = this.#o;
    const familyId = presented.split('.', 1)[0] ?? '';
    if (!UUID.test(familyId) || !(await this.isActive(familyId))) {
      metrics.refreshes.inc({ result: 'invalid' });
      throw invalidToken();
    }
    let reuse: Revoked | undefined;
    const pair = await db.primary.$transaction(async (tx) => {
      const row = await sessions.lockToken(tx, sha256(presented));
      if (!row || row.familyId !== familyId || row.familyRevokedAt) return null;
      if (row.rotatedAt) {
        reuse = await sessions.revoke(tx, { familyIds: [familyId] }, 'refresh_token_reuse');
        return null;
      }
      const now = Date.now();
      if (row.expiresAt.getTime() <= now || row.familyExpiresAt.getTime() <= now) return null;
      const user = await tx.user.findUnique({ where: { id: row.userId } });
      if (user?.status !== 'active') return null;
      await sessions.markRotated(tx, row.id);
      return this.#issue(tx, user, familyId, row.familyExpiresAt);
    });
    if (reuse) {
      metrics.refreshReuse.inc();
      metrics.refreshes.inc({ result: 'reuse_detected' });
      this.#o.log.warn({ family: familyId }, 'refresh token reused; session family revoked');
      await this.afterRevoke(reuse);
    }
    if (!pair) {
      if (!reuse) metrics.refreshes.inc({ result: 'invalid' });
      throw invalidToken();
    }
    metrics.refreshes.inc({ result: 'rotated' });
    return pair;
  }

  /** Ends the session of `principal`: its access token and its refresh family. */
  async logout(principal: Principal): Promise<void> {
    await this.#deny([{ jti: principal.jti, expiresAt: new Date(principal.exp * 1000) }]);
    const sid = principal.claims['sid'];
    if (typeof sid !== 'string' || !UUID.test(sid)) return;
    const revoked = await this.#o.db.primary.$transaction((tx) =>
      this.#o.sessions.revoke(tx, { familyIds: [sid] }, 'logout'),
    );
    await this.afterRevoke(revoked);
  }

  /** Whether the session family is live: the cache in front of the primary. */
  async isActive(familyId: string): Promise<boolean> {
    if (!UUID.test(familyId)) return false;
    const session = await this.#o.cache.get<CachedSession | null>(
      sessionKey(familyId),
      async () => {
        const family = await this.#o.sessions.family(familyId);
        return family
          ? {
              userId: family.userId,
              active: family.revokedAt === null,
              expiresAt: family.expiresAt.getTime(),
            }
          : null;
      },
      { ttlMs: 60_000 },
    );
    return session?.active === true && session.expiresAt > Date.now();
  }

  /** Inside a transaction: revoke all of a user's sessions but `except`. Call `afterRevoke` after commit. */
  revokeUserSessions(tx: Tx, userId: string, reason: string, except?: string): Promise<Revoked> {
    return this.#o.sessions.revoke(tx, { userId, ...(except ? { except } : {}) }, reason);
  }

  /**
   * After a revocation committed: deny-list the live access tokens and drop the cached sessions.
   * Redis trouble is logged, not raised: the database already says revoked, and a cache miss reads it.
   */
  async afterRevoke(revoked: Revoked): Promise<void> {
    await this.#deny(revoked.live);
    if (revoked.familyIds.length === 0) return;
    await this.#o.cache.invalidate(...revoked.familyIds.map(sessionKey)).catch((error: unknown) => {
      this.#o.log.warn({ err: error }, 'could not drop revoked sessions from the cache');
    });
  }

  async #deny(tokens: LiveAccessToken[]): Promise<void> {
    const results = await Promise.allSettled(
      tokens.map((t) => this.#o.denyList.deny(t.jti, Math.ceil(t.expiresAt.getTime() / 1000))),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.#o.log.warn({ failed }, 'could not deny-list revoked access tokens');
  }

  async #issue(tx: Tx, user: User, familyId: string, familyExpiresAt: Date): Promise<TokenPair> {
    const { pair, token } = await this.#mint(user, familyId, familyExpiresAt);
    await this.#o.sessions.addToken(tx, token);
    return pair;
  }

  /** A new access token and the refresh token that goes with it (the row to store for it). */
  async #mint(
    user: User,
    familyId: string,
    familyExpiresAt: Date,
  ): Promise<{ pair: TokenPair; token: NewRefreshToken }> {
    const access = await this.#o.issuer.issue({
      sub: user.id,
      roles: [user.role],
      claims: { sid: familyId },
    });
    const refreshToken = `${familyId}.${randomBytes(32).toString('base64url')}`;
    const token: NewRefreshToken = {
      id: randomUUID(),
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt: familyExpiresAt,
      accessJti: access.jti,
      accessExpiresAt: new Date(access.expiresAt * 1000),
    };
    const now = Math.floor(Date.now() / 1000);
    const pair: TokenPair = {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: Math.max(0, access.expiresAt - now),
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor(familyExpiresAt.getTime() / 1000) - now),
    };
    return { pair, token };
  }
}
