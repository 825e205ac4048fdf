import type { Counter, Gauge } from 'prom-client';
import type { Health } from '../health.ts';
import { Metrics } from '../metrics.ts';
import { type RedisCluster, withTimeout } from '../redis.ts';
import { CacheUnavailableError } from './cache-unavailable.ts';
import { SingleFlight } from './single-flight.ts';

export type CacheResult = 'hit' | 'miss' | 'error' | 'bypass' | 'disabled';

export interface CacheOptions {
  /** The Redis Cluster; without it the cache is disabled: every get is served by its loader. */
  redis?: RedisCluster | undefined;
  /** Namespace for every key this cache writes (no braces: they would change the hash slot). */
  prefix?: string;
  /** TTL when a call gives none. */
  ttlMs?: number;
  /** Each TTL is stretched by up to this fraction, at random, so entries filled together expire apart. */
  jitter?: number;
  /** Upper bound on one Redis round trip; past it the request is served from the loader. */
  timeoutMs?: number;
  /** After a Redis failure, requests skip Redis for this long before trying it again. */
  cooldownMs?: number;
  /**
   * Single-flight across replicas too: on a miss, a short Redis lock lets one instance load while the
   * others wait (up to this long) for its value. 0 (default) keeps single-flight in-process only.
   */
  lockMs?: number;
  /** The service's metrics; without it the cache's metrics are kept but not exported. */
  metrics?: Metrics;
}

export interface GetOptions {
  ttlMs?: number;
  /** Tags for `invalidateTag`, e.g. `items` or `item:42`. */
  tags?: string[];
}

export interface CacheCheck {
  status: 'ok' | 'degraded' | 'disabled';
  detail?: string;
}

/** Atomically takes a tag's members and drops the set: fills after this land in a fresh set. */
const POP_TAG = `local m = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return m`;

/** Adds a member to a tag set and keeps the set alive at least as long as that member. */
const ADD_TAG = `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

/**
 * Stores the value and releases the fill lock in one step. Both keys carry the cache key as their
 * hash tag, so they live in one slot and the script may touch both.
 */
const FILL_AND_UNLOCK = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1`;

const DISABLED = 'no Redis configured (REDIS_NODES unset): every lookup is served by the database';

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Read-through cache on the Redis Cluster.
 *
 * - Concurrent requests for one key share one Redis read and, on a miss, one load (in-process single-flight).
 * - Entries can carry tags; `invalidateTag` drops every entry filed under it, whatever slot it lives in.
 * - Redis is an optimisation, never a dependency: on an error or a timeout the request is served by the
 *   loader, the cache reports itself degraded and skips Redis for `cooldownMs`, then tries again and
 *   recovers on the first success.
 * - Without Redis at all (none configured) the cache is disabled, not degraded: a pass-through to the
 *   loader (single-flight still shares concurrent loads of one key), reported as such in /readyz.
 */
export class Cache {
  readonly #redis: RedisCluster | undefined;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #jitter: number;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #lockMs: number;
  readonly #flights = new SingleFlight<{ value: unknown; result: CacheResult }>();
  readonly #requests: Counter<'result'>;
  readonly #degradedGauge: Gauge;
  #bypassUntil = 0;
  #degraded = false;
  #lastError: string | undefined;
  /** Bumped by every invalidation; a fill that raced one is not written back. */
  #generation = 0;

  constructor(options: CacheOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? '';
    if (/[{}]/.test(this.#prefix)) throw new Error('cache prefix must not contain braces');
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#jitter = options.jitter ?? 0.1;
    this.#timeoutMs = options.timeoutMs ?? 250;
    this.#cooldownMs = options.cooldownMs ?? 1_000;
    this.#lockMs = options.lockMs ?? 0;
    const metrics = options.metrics ?? new Metrics({ service: 'souk', defaultMetrics: false });
    this.#requests = metrics.counter(
      'souk_cache_requests_total',
      'Cache lookups by outcome: hit, miss, error (Redis failed, served by the loader), bypass (Redis skipped while degraded)',
      ['result'],
    );
    this.#degradedGauge = metrics.gauge(
      'souk_cache_degraded',
      '1 while the cache serves from the loader because Redis failed',
    );
    metrics
      .gauge('souk_cache_disabled', '1 when no Redis is configured: every lookup is served by the loader')
      .set(this.#redis ? 0 : 1);
    for (const result of ['hit', 'miss', 'error', 'bypass', 'disabled'] as const) {
      this.#requests.inc({ result }, 0);
    }
  }

  /** The Redis key of an entry; its hash tag is the whole cache key. */
  keyOf(key: string): string {
    return `${this.#prefix}v:{${key}}`;
  }

  lockKeyOf(key: string): string {
    return `${this.#prefix}l:{${key}}`;
  }

  tagKeyOf(tag: string): string {
    return `${this.#prefix}t:{${tag}}`;
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  /** False when no Redis is configured: the cache is a pass-through to the loaders. */
  get enabled(): boolean {
    return this.#redis !== undefined;
  }

  /** The cached value of `key`, or `loader()`'s, which is cached unless it is `undefined`. */
  async get<T>(key: string, loader: () => Promise<T>, options: GetOptions = {}): Promise<T> {
    if (!this.#redis) {
      this.#requests.inc({ result: 'disabled' });
      const { value } = await this.#flights.do(key, async () => ({
        value: await loader(),
        result: 'disabled',
      }));
      return value as T;
    }
    if (Date.now() < this.#bypassUntil) {
      this.#requests.inc({ result: 'bypass' });
      const { value } = await this.#flights.do(`load:${key}`, async () => ({
        value: await loader(),
        result: 'bypass',
      }));
      return value as T;
    }
    const { value, result } = await this.#flights.do(key, () => this.#readThrough(key, loader, options));
    this.#requests.inc({ result });
    return value as T;
  }

  async set(key: string, value: unknown, options: GetOptions = {}): Promise<void> {
    if (!this.#redis) return;
    await this.#write(this.#redis, key, value, options);
  }

  /** Drops entries by key. Safe across slots: one DEL per key. */
  async invalidate(...keys: string[]): Promise<void> {
    this.#generation++;
    for (const key of keys) this.#flights.forget(key);
    const redis = this.#redis;
    if (!redis) return;
    await this.#invalidation(Promise.all(keys.map((key) => redis.del(this.keyOf(key)))));
  }

  /** Drops every entry filed under any of `tags`. */
  async invalidateTag(...tags: string[]): Promise<void> {
    this.#generation++;
    const redis = this.#redis;
    if (!redis) return;
    await this.#invalidation(
      Promise.all(
        tags.map(async (tag) => {
          const members = (await redis.eval(POP_TAG, 1, this.tagKeyOf(tag))) as string[];
          await Promise.all(members.map((member) => redis.del(member)));
        }),
      ),
    );
  }

  /**
   * Readiness: `degraded` (never down: the service still answers from the database) while Redis fails.
   * While degraded, the check itself probes Redis, so an idle service also notices the recovery.
   */
  async check(): Promise<CacheCheck> {
    if (!this.#redis) return { status: 'disabled', detail: DISABLED };
    if (this.#degraded && Date.now() >= this.#bypassUntil) {
      try {
        await this.#probe();
        this.#healthy();
      } catch (err) {
        this.#failed(err);
      }
    }
    return this.#degraded
      ? { status: 'degraded', detail: `redis unavailable: ${this.#lastError ?? 'unknown error'}` }
      : { status: 'ok' };
  }

  /**
   * Adds a non-critical `cache` check to /readyz: Redis trouble makes the service degraded, not unready.
   * A disabled cache is listed as `disabled` and leaves the status alone.
   */
  registerHealth(health: Health, name = 'cache'): void {
    if (!this.#redis) {
      health.disabled(name, DISABLED);
      return;
    }
    health.register(
      name,
      async () => {
        const state = await this.check();
        if (state.status !== 'ok') throw new Error(state.detail);
      },
      { critical: false },
    );
  }

  async #readThrough(
    key: string,
    loader: () => Promise<unknown>,
    options: GetOptions,
  ): Promise<{ value: unknown; result: CacheResult }> {
    const redis = this.#redis!;
    const generation = this.#generation;
    let cached: string | null;
    try {
      cached = await withTimeout(redis.get(this.keyOf(key)), this.#timeoutMs);
      this.#healthy();
    } catch (err) {
      this.#failed(err);
      return { value: await loader(), result: 'error' };
    }
    if (cached !== null) {
      try {
        return { value: JSON.parse(cached), result: 'hit' };
      } catch {
        // Not ours or truncated: treat it as a miss and overwrite it.
      }
    }
    let lock: string | undefined;
    if (this.#lockMs > 0) {
      const waited = await this.#awaitOtherFill(redis, key);
      if (waited.found) return { value: waited.value, result: 'hit' };
      lock = waited.lock;
    }
    let value: unknown;
    try {
      value = await loader();
    } catch (err) {
      if (lock) this.#unlock(redis, key, lock);
      throw err;
    }
    if (value !== undefined && generation === this.#generation) {
      // Awaited, so a request arriving right after this one finds the entry rather than loading again.
      await this.#write(redis, key, value, options, lock).catch(() => {});
    } else if (lock) {
      this.#unlock(redis, key, lock);
    }
    return { value, result: 'miss' };
  }

  /**
   * Takes the fill lock of `key`, or, when another instance holds it, polls for the value it is about to
   * write. Gives up after `lockMs` (the other instance may have died) and loads anyway.
   */
  async #awaitOtherFill(
    redis: RedisCluster,
    key: string,
  ): Promise<{ found: true; value: unknown } | { found: false; lock?: string }> {
    const token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + this.#lockMs;
    for (;;) {
      let taken: string | null;
      try {
        taken = await withTimeout(
          redis.set(this.lockKeyOf(key), token, 'PX', this.#lockMs, 'NX'),
          this.#timeoutMs,
        );
      } catch {
        return { found: false };
      }
      if (taken === 'OK') return { found: false, lock: token };
      await new Promise((r) => setTimeout(r, Math.min(25, this.#lockMs / 4)));
      try {
        const cached = await withTimeout(redis.get(this.keyOf(key)), this.#timeoutMs);
        if (cached !== null) return { found: true, value: JSON.parse(cached) };
      } catch {
        return { found: false };
      }
      if (Date.now() >= deadline) return { found: false };
    }
  }

  #unlock(redis: RedisCluster, key: string, token: string): void {
    redis.eval(UNLOCK, 1, this.lockKeyOf(key), token).catch(() => {});
  }

  async #write(
    redis: RedisCluster,
    key: string,
    value: unknown,
    options: GetOptions,
    lock?: string,
  ): Promise<void> {
    const base = options.ttlMs ?? this.#ttlMs;
    const ttl = Math.max(1, Math.round(base * (1 + this.#jitter * Math.random())));
    const redisKey = this.keyOf(key);
    const json = JSON.stringify(value);
    const writes: Promise<unknown>[] = [
      lock
        ? redis.eval(FILL_AND_UNLOCK, 2, redisKey, this.lockKeyOf(key), json, String(ttl), lock)
        : redis.set(redisKey, json, 'PX', ttl),
    ];
    for (const tag of options.tags ?? []) {
      writes.push(redis.eval(ADD_TAG, 1, this.tagKeyOf(tag), redisKey, String(ttl)));
    }
    await this.#guard(Promise.all(writes));
  }

  async #guard<T>(work: Promise<T>): Promise<T> {
    try {
      const result = await withTimeout(work, this.#timeoutMs);
      this.#healthy();
      return result;
    } catch (err) {
      this.#failed(err);
      throw err;
    }
  }

  /** Invalidations fail with `CacheUnavailableError`, which retrying callers treat as transient. */
  async #invalidation(work: Promise<unknown>): Promise<void> {
    try {
      await this.#guard(work);
    } catch (err) {
      throw new CacheUnavailableError(err);
    }
  }

  async #probe(): Promise<void> {
    const masters = this.#redis?.nodes('master') ?? [];
    if (masters.length === 0) throw new Error('no master known');
    const info = await withTimeout(masters[0]!.cluster('INFO') as Promise<string>, this.#timeoutMs);
    if (!info.includes('cluster_state:ok')) throw new Error('cluster_state is not ok');
    await Promise.all(masters.map((node) => withTimeout(node.ping(), this.#timeoutMs)));
  }

  #healthy(): void {
    if (!this.#degraded) return;
    this.#degraded = false;
    this.#degradedGauge.set(0);
  }

  #failed(err: unknown): void {
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#bypassUntil = Date.now() + this.#cooldownMs;
    if (this.#degraded) return;
    this.#degraded = true;
    this.#degradedGauge.set(1);
  }
}
