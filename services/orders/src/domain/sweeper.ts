import type { OrdersDb } from '../data/database.ts';
import { countInFlight, lockDue } from '../data/orders.ts';
import type { SagaMetrics } from './metrics.ts';
import type { Ending, SagaRunner } from './saga-runner.ts';

export interface SweeperOptions {
  db: OrdersDb;
  runner: SagaRunner;
  metrics: SagaMetrics;
  intervalMs: number;
  batchSize?: number;
  onError?: (error: unknown) => void;
}

/**
 * Fires the deadlines of saga steps. Each pass locks due sagas with FOR UPDATE SKIP LOCKED, so
 * several replicas sweep side by side without firing one deadline twice, and a saga a consumer is
 * advancing right now is left for the next pass (its deadline is re-read under the lock).
 */
export class DeadlineSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly o: SweeperOptions) {}

  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweep()
        .then(
          (fired) => fired,
          (error: unknown) => {
            this.o.onError?.(error);
            return 0;
          },
        )
        .then((fired) => this.#schedule(fired >= (this.o.batchSize ?? 100) ? 0 : this.o.intervalMs));
    }, ms);
  }

  /** One pass: fires what is due; resolves the number of deadlines fired. */
  async sweep(): Promise<number> {
    const endings: Ending[] = [];
    const fired = await this.o.db.primary.$transaction(
      async (tx) => {
        const due = await lockDue(tx, this.o.batchSize ?? 100);
        for (const saga of due) {
          if (!saga.stepId) continue;
          const { ending } = await this.o.runner.applyLocked(tx, saga, {
            kind: 'Deadline',
            stepId: saga.stepId,
          });
          if (ending) endings.push(ending);
        }
        return due.length;
      },
      { timeout: 30_000 },
    );
    for (const ending of endings) this.o.runner.count(ending);
    this.o.metrics.inFlight(await countInFlight(this.o.db.primary));
    return fired;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
