import { defineRoute, type Route } from '@souk/kit';
import { JWKS_PATH } from '@souk/kit/auth/jwks';
import { type RateLimiter, rateLimit } from '@souk/kit/rate-limit';
import type { KeyRing } from '../domain/key-ring.ts';
import type { TokenCheck } from '../domain/token-check.ts';
import { Introspection, Jwks, ValidateRequest } from './schemas.ts';

export function tokenRoutes(check: TokenCheck, keys: KeyRing, limiter: RateLimiter): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/tokens/validate',
      name: 'validateToken',
      summary: 'Whether an access token is live (RFC 7662 style): for services that prefer to ask',
      tags: ['tokens'],
      use: [rateLimit(limiter, { key: (ctx) => `ip:${ctx.ip}` })],
      body: ValidateRequest,
      responses: {
        200: { description: '`active` with the claims, or only `active: false`', body: Introspection },
        429: { description: 'Too many validations from this address' },
      },
      handler: async ({ ctx, body, reply }) => {
        ctx.set('Cache-Control', 'no-store');
        return reply(200, await check.introspect(body.token));
      },
    }),
    defineRoute({
      method: 'GET',
      path: JWKS_PATH,
      name: 'jwks',
      summary: 'Public keys of the access tokens: the current key and retired ones still in use',
      tags: ['tokens'],
      responses: { 200: { description: 'JWK set', body: Jwks, contentType: 'application/jwk-set+json' } },
      handler: ({ ctx }) => {
        // Short, so a rotation reaches verifiers soon; an unknown kid makes them refetch anyway.
        ctx.set('Cache-Control', 'public, max-age=60');
        ctx.type = 'application/jwk-set+json';
        ctx.body = keys.jwks();
        return undefined;
      },
    }),
  ];
}
