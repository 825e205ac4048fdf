import type { Counter } from 'prom-client';
import type { KitContext, Middleware } from './context.ts';
import { LocalGcra } from './local-gcra.ts';
import { Metrics } from './metrics.ts';
import { Problem } from './problem.ts';
import { type RedisCluster, withTimeout } from './redis.ts';

/**
 * GCRA (generic cell rate algorithm): one key per client holds the "theoretical arrival time" (TAT).
 * Each request pushes the TAT by period/limit; a request is refused when that would put the TAT more
 * than one period ahead of now. This allows `limit` requests in any window of `period`, with bursts,
 * and needs a single key, so the script is atomic on one slot of the cluster. Time is the server's
 * (`TIME`), so every app instance shares one clock. Microseconds keep the arithmetic exact.
 *
 * Returns { allowed (0|1), remaining, retry after µs, reset µs (until the bucket is full again) }.
 */
const GCRA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local emission = period / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + emission * cost
local allow_at = new_tat - period
if allow_at > now then
  return {0, 0, math.ceil(allow_at - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
local remaining = math.floor((now - allow_at) / emission)
return {1, remaining, 0, math.ceil(new_tat - now)}`;

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the quota is whole again. */
  resetSeconds: number;
}

export interface RateLimiterOptions {
  /** The Redis Cluster (limits shared by every replica); without it, limits are kept in this process. */
  redis?: RedisCluster | undefined;
  /** Requests allowed per window. */
  limit: number;
  windowMs: number;
  /** Names this limit in keys, headers and metrics (e.g. `sessions`). */
  name: string;
  prefix?: string;
  timeoutMs?: number;
  metrics?: Metrics;
}

export type RateLimitResult = 'allowed' | 'limited' | 'error';

export class RateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #decisions: Counter<'limiter' | 'result'>;
  readonly #local: LocalGcra | undefined;

  constructor(options: RateLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0))
      throw new Error('rate limit needs limit ≥ 1 and a window');
    if (/[{}]/.test(options.prefix ?? '') || /[{}]/.test(options.name)) {
      throw new Error('rate limit prefix and name must not contain braces');
    }
    this.#options = options;
    this.#local = options.redis ? undefined : new LocalGcra();
    const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
    this.#decisions = metrics.counter(
      'souk_rate_limit_requests_total',
      'Rate-limit decisions: allowed, limited, or error (Redis failed; the request was let through)',
      ['limiter', 'result'],
    );
  }

  get limit(): number {
    return this.#options.limit;
  }

  get windowMs(): number {
    return this.#options.windowMs;
  }

  keyOf(id: string): string {
    return `${this.#options.prefix ?? ''}rl:${this.#options.name}:{${id}}`;
  }

  /** False when the limits are kept in this process (no Redis): each replica then has its own quota. */
  get shared(): boolean {
    return this.#local === undefined;
  }

  /**
   * Takes `cost` from `id`'s quota. Throws when Redis fails; `middleware` turns that into fail-open.
   */
  async take(id: string, cost = 1): Promise<RateLimitDecision> {
    const { redis, limit, windowMs } = this.#options;
    const reply = redis
      ? ((await withTimeout(
          redis.eval(GCRA, 1, this.keyOf(id), String(windowMs * 1000), String(limit), String(cost)),
          this.#options.timeoutMs ?? 250,
        )) as [number, number, number, number])
      : this.#local!.take(this.keyOf(id), windowMs * 1000, limit, cost);
    const [allowed, remaining, retryUs, resetUs] = reply;
    const decision = {
      allowed: allowed === 1,
      limit,
      remaining,
      retryAfterSeconds: Math.ceil(retryUs / 1e6),
      resetSeconds: Math.ceil(resetUs / 1e6),
    };
    this.#decisions.inc({ limiter: this.#options.name, result: decision.allowed ? 'allowed' : 'limited' });
    return decision;
  }

  /** Counts a decision that could not be taken (Redis down) and was let through. */
  failedOpen(): void {
    this.#decisions.inc({ limiter: this.#options.name, result: 'error' });
  }
}

export interface RateLimitMiddlewareOptions {
  /** Who is limited: defaults to the authenticated subject, else the client address. */
  key?: (ctx: KitContext) => string;
}

function defaultKey(ctx: KitContext): string {
  const principal = (ctx.state as { principal?: { sub?: string } }).principal;
  return principal?.sub ? `sub:${principal.sub}` : `ip:${ctx.ip}`;
}

/**
 * Limits a route: 429 problem with `Retry-After` when over, and the IETF `RateLimit-*` headers on every
 * answer. When Redis fails the request goes through (fail open) and `result="error"` is counted.
 */
export function rateLimit(limiter: RateLimiter, options: RateLimitMiddlewareOptions = {}): Middleware {
  const keyOf = options.key ?? defaultKey;
  const policy = `${limiter.limit};w=${Math.ceil(limiter.windowMs / 1000)}`;
  return async (ctx, next) => {
    let decision: RateLimitDecision;
    try {
      decision = await limiter.take(keyOf(ctx));
    } catch {
      limiter.failedOpen();
      return next();
    }
    const headers = {
      'RateLimit-Policy': policy,
      'RateLimit-Limit': String(decision.limit),
      'RateLimit-Remaining': String(decision.remaining),
      'RateLimit-Reset': String(decision.resetSeconds),
    };
    if (!decision.allowed) {
      throw new Problem(429, {
        detail: `rate limit of ${decision.limit} per ${Math.ceil(limiter.windowMs / 1000)} s exceeded`,
        headers: { ...headers, 'Retry-After': String(Math.max(1, decision.retryAfterSeconds)) },
        extensions: { retryAfter: decision.retryAfterSeconds },
      });
    }
    ctx.set(headers);
    await next();
  };
}
