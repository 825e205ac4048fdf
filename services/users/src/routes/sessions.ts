import { createHash } from 'node:crypto';
import { defineRoute, type Middleware, Problem, type Route } from '@souk/kit';
import type { RateLimitDecision, RateLimiter } from '@souk/kit/rate-limit';
import type { UsersMetrics } from '../domain/metrics.ts';
import type { Sessions } from '../domain/sessions.ts';
import { domain } from './problems.ts';
import { Credentials, RefreshRequest, TokenPair } from './schemas.ts';

export interface LoginLimiters {
  perAccount: RateLimiter;
  perIp: RateLimiter;
}

/** A limiter that cannot answer (Redis down) lets the attempt through: argon2 is the backstop. */
async function take(limiter: RateLimiter, id: string): Promise<RateLimitDecision | undefined> {
  try {
    return await limiter.take(id);
  } catch {
    limiter.failedOpen();
    return undefined;
  }
}

export function sessionRoutes(
  sessions: Sessions,
  limiters: LoginLimiters,
  metrics: UsersMetrics,
  auth: Middleware[],
): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/sessions',
      name: 'login',
      summary: 'Log in: a short-lived access token and a rotating refresh token',
      tags: ['sessions'],
      body: Credentials,
      responses: {
        201: { description: 'Logged in', body: TokenPair },
        401: { description: 'Invalid email or password (the same answer for an unknown account)' },
        429: { description: 'Too many attempts for this account or from this address' },
      },
      handler: async ({ ctx, body, reply }) => {
        // Keyed by a digest: Redis never holds the address itself.
        const account = createHash('sha256').update(body.email.trim().toLowerCase()).digest('base64url');
        const decisions = await Promise.all([
          take(limiters.perAccount, account),
          take(limiters.perIp, ctx.ip),
        ]);
        const refused = decisions.filter((d): d is RateLimitDecision => d !== undefined && !d.allowed);
        if (refused.length > 0) {
          metrics.logins.inc({ result: 'throttled' });
          const retryAfter = Math.max(1, ...refused.map((d) => d.retryAfterSeconds));
          throw new Problem(429, {
            detail: 'too many login attempts, try again later',
            headers: { 'Retry-After': String(retryAfter) },
            extensions: { retryAfter },
          });
        }
        const pair = await domain(() => sessions.login(body.email, body.password));
        ctx.set('Cache-Control', 'no-store');
        return reply(201, pair);
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/sessions/refresh',
      name: 'refreshSession',
      summary: 'Exchange a refresh token for new tokens; reusing an exchanged one ends the session',
      tags: ['sessions'],
      body: RefreshRequest,
      responses: {
        200: { description: 'New token pair', body: TokenPair },
        401: { description: 'Refresh token invalid, expired, revoked or reused' },
      },
      handler: async ({ ctx, body, reply }) => {
        const pair = await domain(() => sessions.refresh(body.refreshToken));
        ctx.set('Cache-Control', 'no-store');
        return reply(200, pair);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/sessions/current',
      name: 'logout',
      summary: 'Log out: the access token is deny-listed and the refresh family revoked',
      tags: ['sessions'],
      use: auth,
      security: ['bearer'],
      responses: {
        204: { description: 'Logged out' },
        401: { description: 'No valid token' },
      },
      handler: async ({ ctx, reply }) => {
        await sessions.logout(ctx.state.principal!);
        return reply(204);
      },
    }),
  ];
}
