import type { InventoryDb } from '../data/database.ts';
import { releaseExpired } from './reservations.ts';

export interface SweeperOptions {
  db: InventoryDb;
  intervalMs: number;
  batchSize?: number;
  /** After each committed batch: how many were released and the items whose stock moved. */
  onReleased?: (count: number, itemIds: string[]) => void;
  onError?: (error: unknown) => void;
}

/**
 * Releases reservations past their deadline. Each batch is one transaction on the primary that
 * locks its reservations with SKIP LOCKED, so replicas sweep side by side without doing one twice.
 */
export class ReservationSweeper {
  readonly #o: SweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  start(): void {
    this.#schedule();
  }

  /** One pass until nothing expired is left; returns how many were released. */
  async sweep(): Promise<number> {
    const batchSize = this.#o.batchSize ?? 100;
    let total = 0;
    for (;;) {
      const { released, itemIds } = await this.#o.db.primary.$transaction(
        (tx) => releaseExpired(tx, batchSize),
        {
          timeout: 30_000,
        },
      );
      if (released > 0) this.#o.onReleased?.(released, itemIds);
      total += released;
      if (released < batchSize || this.#stopped) return total;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweep()
        .then(
          () => undefined,
          (error: unknown) => this.#o.onError?.(error),
        )
        .finally(() => this.#schedule());
    }, this.#o.intervalMs);
    this.#timer.unref();
  }
}
