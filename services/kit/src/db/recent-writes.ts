import type { RedisCluster } from '../redis.ts';
import { withTimeout } from '../redis.ts';

export interface RecentWritesOptions {
  /** The Redis Cluster; without it the marks are kept in this process (right for a single replica). */
  redis?: RedisCluster | undefined;
  /** Key prefix (environment, service); keys are `<prefix>rw:{<subject>}`. */
  prefix: string;
  /** At least the replica lag one is willing to hide; a few seconds. */
  windowMs?: number;
  timeoutMs?: number;
}

/**
 * Read-your-writes across replicas of a service: after a write, `mark(subject)` remembers for
 * `windowMs` that the subject (a user, say) wrote; a read asks `recent(subject)` and goes to the
 * primary when true, to the read replica otherwise. Kept in Redis, so it holds whichever replica
 * serves the next request. When Redis fails, `recent` rejects: callers read the primary then.
 */
export class RecentWrites {
  readonly #o: Required<Omit<RecentWritesOptions, 'redis'>> & Pick<RecentWritesOptions, 'redis'>;
  /** Without Redis: subject → end of its window (ms). */
  readonly #local = new Map<string, number>();
  #lastSweep = 0;

  constructor(options: RecentWritesOptions) {
    this.#o = { windowMs: 5_000, timeoutMs: 500, ...options };
  }

  #key(subject: string): string {
    return `${this.#o.prefix}rw:{${subject}}`;
  }

  async mark(subject: string): Promise<void> {
    const { redis } = this.#o;
    if (!redis) {
      const now = Date.now();
      if (now - this.#lastSweep >= this.#o.windowMs) {
        this.#lastSweep = now;
        for (const [s, until] of this.#local) if (until <= now) this.#local.delete(s);
      }
      this.#local.set(subject, now + this.#o.windowMs);
      return;
    }
    await withTimeout(redis.set(this.#key(subject), '1', 'PX', this.#o.windowMs), this.#o.timeoutMs);
  }

  async recent(subject: string): Promise<boolean> {
    const { redis } = this.#o;
    if (!redis) return (this.#local.get(subject) ?? 0) > Date.now();
    return (await withTimeout(redis.exists(this.#key(subject)), this.#o.timeoutMs)) === 1;
  }
}
