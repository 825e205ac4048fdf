/**
 * Collapses concurrent calls for one key into one execution: callers that arrive while a call for the
 * same key is in flight share its outcome. Nothing is remembered once it settles.
 */
export class SingleFlight<T = unknown> {
  readonly #inflight = new Map<string, Promise<T>>();

  do(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    const call: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.#inflight.get(key) === call) this.#inflight.delete(key);
      });
    this.#inflight.set(key, call);
    return call;
  }

  /** Later callers start a fresh call instead of joining the current one (e.g. after an invalidation). */
  forget(key: string): void {
    this.#inflight.delete(key);
  }

  get size(): number {
    return this.#inflight.size;
  }
}
