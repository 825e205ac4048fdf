/** Decides how long an item waits before it is retried. */
export interface RateLimiter<T = string> {
  when(item: T): number;
  forget(item: T): void;
  retries(item: T): number;
}

/** Per item: base * 2^failures, capped. Failures reset when the item is forgotten (a successful reconcile). */
export class ExponentialFailureRateLimiter<T = string> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000_000,
  ) {}
  when(item: T): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }
  forget(item: T): void {
    this.failures.delete(item);
  }
  retries(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * Global token bucket across all items: bounds the overall retry rate, so a burst of failing keys cannot
 * hammer the apiserver even while each key's own backoff is still short.
 */
export class BucketRateLimiter<T = string> implements RateLimiter<T> {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    this.tokens = burst;
  }
  when(_item: T): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
  forget(_item: T): void {}
  retries(_item: T): number {
    return 0;
  }
}

/** The longest of several limiters' delays (controller-runtime's default: exponential per item + bucket). */
export class MaxOfRateLimiter<T = string> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }
  when(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(item));
    return max;
  }
  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }
  retries(item: T): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.retries(item));
    return max;
  }
}

export const defaultRateLimiter = <T = string>() =>
  new MaxOfRateLimiter<T>(
    new ExponentialFailureRateLimiter<T>(5, 1000_000),
    new BucketRateLimiter<T>(10, 100),
  );
