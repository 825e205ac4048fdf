import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { Middleware } from '../context.ts';
import type { SigningKey } from './keys.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * The public JWKS document. Pass the current key and the ones retired recently, so tokens signed just
 * before a rotation still verify until they expire.
 */
export function buildJwks(keys: (SigningKey | JWK)[]): JSONWebKeySet {
  return { keys: keys.map((k) => ('publicJwk' in k ? k.publicJwk : publicOnly(k as JWK))) };
}

function publicOnly(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, k: _k, ...rest } = jwk;
  return rest;
}

/** Serves `GET /.well-known/jwks.json`; verifiers may cache it for `maxAgeSeconds`. */
export function jwksEndpoint(jwks: JSONWebKeySet | (() => JSONWebKeySet), maxAgeSeconds = 300): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== JWKS_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', `public, max-age=${maxAgeSeconds}`);
    ctx.type = 'application/jwk-set+json';
    ctx.body = typeof jwks === 'function' ? jwks() : jwks;
  };
}

/** Key lookup for a verifier holding the keys itself (the issuing service). */
export function localJwks(keys: (SigningKey | JWK)[]): JWTVerifyGetKey {
  return createLocalJWKSet(buildJwks(keys));
}

export interface RemoteJwksOptions {
  /** Keep a fetched document this long before fetching it again (default 10 min). */
  cacheMaxAgeMs?: number;
  /** An unknown `kid` triggers a refetch, at most once per this period (default 30 s). */
  cooldownMs?: number;
  timeoutMs?: number;
}

/**
 * Key lookup from another service's JWKS endpoint, cached in memory. A token with an unknown `kid`
 * (a rotated key) triggers a refetch, rate limited by the cooldown so forged kids cannot flood the issuer.
 */
export function remoteJwks(url: string | URL, options: RemoteJwksOptions = {}): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(url), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    timeoutDuration: options.timeoutMs ?? 2_000,
  });
}
