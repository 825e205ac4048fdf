import type { Middleware } from '../context.ts';
import { forbidden, Problem, serviceUnavailable } from '../problem.ts';
import type { DenyList } from './deny-list.ts';
import { InvalidTokenError, KeysUnavailableError, type Principal, type TokenVerifier } from './tokens.ts';

declare module '../context.ts' {
  interface KitState {
    /** Set by `authenticate()` once the bearer token verified. */
    principal?: Principal;
  }
}

export interface AuthenticateOptions {
  verifier: TokenVerifier;
  denyList?: DenyList;
  /** Let requests without a token through (no principal); a bad token is still refused. */
  optional?: boolean;
}

function invalidToken(detail: string): Problem {
  return new Problem(401, {
    detail,
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail}"` },
  });
}

/**
 * Verifies the bearer token (signature against the issuer's JWKS, issuer, audience, expiry, allowed
 * algorithms, so `alg: none` never passes) and the deny-list, then puts the principal on `ctx.state`.
 * Failures are 401 problems with a `WWW-Authenticate` challenge.
 */
export function authenticate(options: AuthenticateOptions): Middleware {
  return async (ctx, next) => {
    const header = ctx.get('Authorization');
    const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
    if (!match) {
      if (!header && options.optional) return next();
      throw new Problem(401, {
        detail: header ? 'malformed Authorization header' : 'bearer token required',
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    let principal: Principal;
    try {
      principal = await options.verifier.verify(match[1]!);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw invalidToken(err.message);
      if (err instanceof KeysUnavailableError)
        throw serviceUnavailable('cannot verify tokens right now', 5, err);
      throw err;
    }
    if (options.denyList && (await options.denyList.isDenied(principal.jti))) {
      throw invalidToken('token revoked');
    }
    ctx.state.principal = principal;
    await next();
  };
}

/** 403 unless the authenticated principal holds one of `roles` (use after `authenticate`). */
export function requireRole(...roles: string[]): Middleware {
  return async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal) {
      throw new Problem(401, { detail: 'bearer token required', headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    if (!roles.some((role) => principal.roles.includes(role))) {
      throw forbidden(`requires role ${roles.join(' or ')}`);
    }
    await next();
  };
}
