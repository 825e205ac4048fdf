import type { Middleware } from '@souk/kit';
import { Problem } from '@souk/kit';
import type { DenyList } from '@souk/kit/auth/deny-list';
import { authenticate } from '@souk/kit/auth/middleware';
import type { TokenVerifier } from '@souk/kit/auth/tokens';
import type { TokenCheck } from '../domain/token-check.ts';

/**
 * The kit's bearer verification (signature by a published key, claims, deny-list), then the check
 * that the token's session has not been ended.
 */
export function requireSession(verifier: TokenVerifier, denyList: DenyList, check: TokenCheck): Middleware[] {
  const sessionLive: Middleware = async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal || !(await check.sessionLive(principal))) {
      throw new Problem(401, {
        detail: 'session ended',
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_token", error_description="session ended"' },
      });
    }
    await next();
  };
  return [authenticate({ verifier, denyList }), sessionLive];
}
