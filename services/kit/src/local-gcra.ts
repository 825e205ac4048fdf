/**
 * The rate limiter's GCRA (see rate-limit.ts) kept in this process's memory, for a service that runs
 * without Redis: one theoretical arrival time per key, the same arithmetic as the Redis script, so
 * the answers (remaining, retry after, reset) are identical. Limits then hold per process.
 */
export class LocalGcra {
  /** Theoretical arrival time (µs) per key; entries whose time has passed are dropped by `#sweep`. */
  readonly #tats = new Map<string, number>();
  #lastSweepUs = 0;

  /** Same reply as the Redis script: [allowed 0|1, remaining, retry after µs, reset µs]. */
  take(key: string, periodUs: number, limit: number, cost: number): [number, number, number, number] {
    const now = Math.round((performance.timeOrigin + performance.now()) * 1000);
    this.#sweep(now, periodUs);
    const emission = periodUs / limit;
    const tat = Math.max(this.#tats.get(key) ?? 0, now);
    const newTat = tat + emission * cost;
    const allowAt = newTat - periodUs;
    if (allowAt > now) return [0, 0, Math.ceil(allowAt - now), Math.ceil(tat - now)];
    this.#tats.set(key, newTat);
    return [1, Math.floor((now - allowAt) / emission), 0, Math.ceil(newTat - now)];
  }

  /** At most once per period: forgets keys whose quota is whole again (what the Redis key's TTL does). */
  #sweep(now: number, periodUs: number): void {
    if (now - this.#lastSweepUs < periodUs) return;
    this.#lastSweepUs = now;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }
}
