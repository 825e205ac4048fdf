import { defaultRateLimiter, type RateLimiter } from './ratelimiter.ts';

/** Observes a queue; the metrics module provides the Prometheus implementation. */
export interface QueueMetrics {
  add(): void;
  depth(n: number): void;
  retry(): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
}

const noMetrics: QueueMetrics = { add() {}, depth() {}, retry() {}, queued() {}, worked() {} };

/**
 * The queue between events and reconciles, with client-go's semantics:
 * - dedup: a key added many times before a worker takes it is reconciled once (events collapse into a level);
 * - a key is never processed by two workers at once: re-added while processing, it is marked dirty and
 *   queued again only when the current worker calls done(), so the next reconcile sees the newer state;
 * - rate-limited re-adds (errors, requeue) wait per-key exponential backoff bounded by a global token bucket;
 * - delayed adds (requeueAfter) keep only the earliest pending time per key.
 */
export class WorkQueue<T = string> {
  private readonly queue: T[] = [];
  private head = 0;
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly addedAt = new Map<T, number>();
  private readonly startedAt = new Map<T, number>();
  private readonly waiting = new Map<T, { at: number; timer: NodeJS.Timeout }>();
  private readonly getters: ((item: T | undefined) => void)[] = [];
  private shuttingDown = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly rateLimiter: RateLimiter<T> = defaultRateLimiter<T>(),
    private readonly metrics: QueueMetrics = noMetrics,
  ) {}

  add(item: T): void {
    if (this.shuttingDown) return;
    this.metrics.add();
    if (this.dirty.has(item)) return;
    this.dirty.add(item);
    this.addedAt.set(item, performance.now());
    if (this.processing.has(item)) return;
    this.push(item);
  }

  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const at = performance.now() + ms;
    const pending = this.waiting.get(item);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, ms);
    this.waiting.set(item, { at, timer });
  }

  addRateLimited(item: T): void {
    this.metrics.retry();
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Clears the item's failure history (after a successful reconcile). */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.retries(item);
  }

  /** The next item, or undefined once the queue is shut down. */
  get(): Promise<T | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.length > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(item: T): void {
    this.processing.delete(item);
    const started = this.startedAt.get(item);
    this.startedAt.delete(item);
    if (started !== undefined) this.metrics.worked((performance.now() - started) / 1000);
    if (this.shuttingDown) {
      if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w();
    } else if (this.dirty.has(item)) this.push(item);
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  isProcessing(item: T): boolean {
    return this.processing.has(item);
  }

  /** Stops handing out items; resolves when in-flight items are done. */
  shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    for (const g of this.getters.splice(0)) g(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private push(item: T): void {
    const g = this.getters.shift();
    if (g) {
      g(this.claim(item));
      return;
    }
    this.queue.push(item);
    this.metrics.depth(this.length);
  }

  private take(): T {
    const item = this.queue[this.head] as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.metrics.depth(this.length);
    return this.claim(item);
  }

  private claim(item: T): T {
    this.processing.add(item);
    this.dirty.delete(item);
    const added = this.addedAt.get(item);
    this.addedAt.delete(item);
    if (added !== undefined) this.metrics.queued((performance.now() - added) / 1000);
    this.startedAt.set(item, performance.now());
    return item;
  }
}
