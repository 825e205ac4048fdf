import { appendToOutbox } from '@souk/kit/events/index';
import type { Tx } from '../data/database.ts';
import { lockSaga, saveSaga } from '../data/orders.ts';
import type { SagaMetrics } from './metrics.ts';
import { advance, type Decision, type Saga, type SagaInput, type SagaTimings } from './saga.ts';

/** A saga that ended in a committed transaction: counted once, by whoever made it end. */
export interface Ending {
  outcome: 'confirmed' | 'cancelled';
  seconds: number;
}

/**
 * Applies one input to one saga inside the caller's transaction: lock the saga row, decide,
 * write the saga, its history, the order's status and the outbox events together.
 */
export class SagaRunner {
  constructor(
    readonly timings: SagaTimings,
    private readonly metrics: SagaMetrics,
  ) {}

  async apply(tx: Tx, orderId: string, input: SagaInput): Promise<{ decision?: Decision; ending?: Ending }> {
    const saga = await lockSaga(tx, orderId);
    if (!saga) return {};
    return this.applyLocked(tx, saga, input);
  }

  async applyLocked(tx: Tx, saga: Saga, input: SagaInput): Promise<{ decision: Decision; ending?: Ending }> {
    const decision = advance(saga, input, new Date(), this.timings);
    if (decision.history.length === 0 && decision.events.length === 0 && !decision.status) {
      return { decision };
    }
    const saved = await saveSaga(tx, decision.saga, decision.history, decision.status);
    await appendToOutbox(tx, decision.events);
    if (saved && (decision.status === 'CONFIRMED' || decision.status === 'CANCELLED')) {
      return {
        decision,
        ending: {
          outcome: decision.status === 'CONFIRMED' ? 'confirmed' : 'cancelled',
          seconds: (Date.now() - saved.createdAt.getTime()) / 1000,
        },
      };
    }
    return { decision };
  }

  /** Call once the transaction that produced `ending` committed. */
  count(ending: Ending | undefined): void {
    if (ending) this.metrics.finished(ending.outcome, ending.seconds);
  }
}
