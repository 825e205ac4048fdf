import { createHash } from 'node:crypto';
import type { HttpClient } from '../http-client.ts';
import { Metrics } from '../metrics.ts';
import { InvalidTokenError, type Principal } from './tokens.ts';

export interface IntrospectionOptions {
  /** The client to the issuer: its timeout and circuit breaker are what make a dead issuer fail fast. */
  client: HttpClient;
  /** The issuer's RFC 7662-style endpoint, answering `{ active, sub, roles, exp, jti }`. */
  url: string;
  /** How long an active answer is reused (never past the token's own expiry). */
  ttlMs?: number;
  /** How long an inactive answer is reused; short, so a token that failed on a blip recovers soon. */
  negativeTtlMs?: number;
  /** Answers kept at most; the oldest go first. */
  maxEntries?: number;
  metrics?: Metrics;
}

interface Entry {
  until: number;
  principal?: Principal;
}

interface Answer {
  active?: unknown;
  sub?: unknown;
  roles?: unknown;
  exp?: unknown;
  jti?: unknown;
}

/**
 * Token checking by asking the issuer, a drop-in for `createTokenVerifier` in `authenticate()`.
 * Answers are cached in memory by the token's SHA-256 (the token itself is never kept), so a burst
 * of writes with one token costs one call; a revocation therefore takes effect within `ttlMs`.
 * When the issuer cannot answer, the HttpClient's UpstreamError (a 503 problem) propagates.
 */
export function createIntrospectionVerifier(options: IntrospectionOptions) {
  const ttlMs = options.ttlMs ?? 5_000;
  const negativeTtlMs = options.negativeTtlMs ?? 1_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, Entry>();
  const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
  const lookups = metrics.counter(
    'souk_auth_introspection_total',
    'Token checks by the issuer: cache hit, or the answer of a call (active, inactive)',
    ['result'],
  );

  const remember = (key: string, entry: Entry) => {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, entry);
  };

  return {
    async verify(token: string): Promise<Principal> {
      const key = createHash('sha256').update(token).digest('base64url');
      const now = Date.now();
      const cached = cache.get(key);
      if (cached && cached.until > now) {
        lookups.inc({ result: 'hit' });
        if (cached.principal) return cached.principal;
        throw new InvalidTokenError('token inactive');
      }
      cache.delete(key);
      const res = await options.client.post(options.url, { json: { token } });
      const answer = (await res.json().catch(() => ({}))) as Answer;
      if (res.status !== 200 || answer.active !== true) {
        lookups.inc({ result: 'inactive' });
        // A 4xx other than 200 { active: false } is the issuer refusing this token, not an outage.
        remember(key, { until: Date.now() + negativeTtlMs });
        throw new InvalidTokenError('token inactive');
      }
      if (typeof answer.sub !== 'string' || typeof answer.exp !== 'number') {
        throw new InvalidTokenError('token inactive');
      }
      lookups.inc({ result: 'active' });
      const principal: Principal = {
        sub: answer.sub,
        roles: Array.isArray(answer.roles)
          ? answer.roles.filter((r): r is string => typeof r === 'string')
          : [],
        jti: typeof answer.jti === 'string' ? answer.jti : '',
        exp: answer.exp,
        claims: { sub: answer.sub, exp: answer.exp },
      };
      remember(key, { until: Math.min(Date.now() + ttlMs, answer.exp * 1000), principal });
      return principal;
    },
  };
}

export type IntrospectionVerifier = ReturnType<typeof createIntrospectionVerifier>;
