/**
 * Messages fetched for one partition that wait for their handlers, so the next fetch can go out
 * while they run. At most one drain runs at a time: whatever arrived meanwhile is taken in one go
 * by the next turn, which keeps the partition's order and turns many small fetches into one
 * round of transactions.
 */
export class PartitionBuffer<T> {
  #items: T[] = [];
  #draining: Promise<void> | undefined;
  #spaceWaiters: (() => void)[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Resolves when the drain in progress (if any) has finished its turn and nothing is left. */
  get idle(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  push(items: readonly T[]): void {
    for (const item of items) this.#items.push(item);
  }

  /** Puts items a turn could not finish back in front, to be taken first by the next turn. */
  requeue(items: readonly T[]): void {
    this.#items.unshift(...items);
  }

  /** Drops what waits (not what a drain has already taken). */
  clear(): void {
    this.#items = [];
    this.#wakeWriters();
  }

  /**
   * Starts draining unless a drain runs: `turn` gets up to `max` items at a time, oldest first,
   * until none is left or `more()` says stop. `turn` deals with its own failures (requeueing what
   * it could not finish): it must not throw.
   */
  drain(max: number, turn: (items: T[]) => Promise<void>, more: () => boolean): void {
    if (this.#draining) return;
    this.#draining = (async () => {
      try {
        while (this.#items.length > 0 && more()) {
          const items = this.#items.splice(0, max);
          this.#wakeWriters();
          await turn(items);
        }
      } finally {
        this.#draining = undefined;
        this.#wakeWriters();
      }
    })();
  }

  /** Resolves once fewer than `limit` items wait, a drain turn ended, or after `ms`. */
  waitForSpace(limit: number, ms: number): Promise<void> {
    if (this.#items.length < limit) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const waiter = () => done();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#spaceWaiters.push(waiter);
    });
  }

  #wakeWriters(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
