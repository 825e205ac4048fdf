import type pg from 'pg';
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
/** Session advisory lock of the replica that reports `souk_saga_in_flight` (dashboards sum it). */
const GAUGE_LOCK = 0x534f_4f31;

export class DeadlineSweeper {
  #timer: NodeJS.Timeout | undefined;
  #gaugeClient: pg.PoolClient | undefined;
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
    await this.#reportInFlight();
    return fired;
  }

  /**
   * The sagas in flight are a property of the database, not of a replica: one replica (the holder
   * of a session advisory lock, taken over when its session ends) reports the count, the others 0,
   * so the dashboards' sum over replicas is the count.
   */
  async #reportInFlight(): Promise<void> {
    try {
      if (!this.#gaugeClient) {
        const client = await this.o.db.pools.primary.connect();
        // A checked-out client has no listener of the pool's: a server that goes away (a failover)
        // would raise an unhandled 'error' and end the process, during the query or after it.
        const onError = () => {
          if (this.#gaugeClient !== client) return; // during the query: the query fails too
          this.#gaugeClient = undefined;
          client.release(true);
        };
        client.on('error', onError);
        let locked = false;
        try {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
            GAUGE_LOCK,
          ]);
          locked = rows[0]?.ok === true;
        } catch (error) {
          client.removeListener('error', onError);
          client.release(true);
          throw error;
        }
        if (locked) this.#gaugeClient = client;
        else {
          client.removeListener('error', onError);
          client.release();
        }
      }
      this.o.metrics.inFlight(this.#gaugeClient ? await countInFlight(this.o.db.primary) : 0);
    } catch (error) {
      this.#gaugeClient?.release(true);
      this.#gaugeClient = undefined;
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    // Destroying the connection ends the session, which releases the gauge lock.
    this.#gaugeClient?.release(true);
    this.#gaugeClient = undefined;
  }
}
