import type { Logger, Metrics, Shutdown } from '@souk/kit';
import {
  EventConsumer,
  on,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentCommandRejected,
  PaymentDeclined,
  PaymentFailed,
  PaymentRefunded,
  PaymentVoided,
  StockRejected,
  StockReleased,
  StockReserved,
} from '@souk/kit/events/index';
import type { Kafka } from 'kafkajs';
import type { OrdersDb, Tx } from '../data/database.ts';
import type { SagaInput } from '../domain/saga.ts';
import type { Ending, SagaRunner } from '../domain/saga-runner.ts';

export interface SagaConsumerOptions {
  kafka: Kafka;
  db: OrdersDb;
  runner: SagaRunner;
  resolveTopic: (topic: string) => string;
  /** The consumer group; deployments that share a Kafka cluster give each its own. */
  groupId: string;
  metrics: Metrics;
  logger: Logger;
  shutdown: Shutdown;
  maxWaitTimeInMs?: number;
}

/**
 * The saga's inputs from inventory.events and payments.events. Each event advances its saga in
 * the transaction that records it in the inbox, so a redelivered event changes nothing and a
 * restarted process resumes from the last committed state. Sagas that end are counted once their
 * transaction committed.
 */
export function sagaConsumer(o: SagaConsumerOptions): EventConsumer<Tx> {
  const endings = new Map<string, Ending>();
  const step =
    (toInput: (data: never) => SagaInput) =>
    async (event: { id: string; data: { orderId: string } }, tx: Tx): Promise<void> => {
      const { ending } = await o.runner.apply(tx, event.data.orderId, toInput(event.data as never));
      if (ending) endings.set(event.id, ending);
    };
  return new EventConsumer<Tx>({
    kafka: o.kafka,
    groupId: o.groupId,
    db: o.db.primary,
    resolveTopic: o.resolveTopic,
    metrics: o.metrics,
    logger: o.logger,
    shutdown: o.shutdown,
    ...(o.maxWaitTimeInMs ? { maxWaitTimeInMs: o.maxWaitTimeInMs } : {}),
    handlers: [
      on(
        StockReserved,
        step((d: { reservationId: string; expiresAt: string }) => ({ kind: 'StockReserved', ...d })),
      ),
      on(
        StockRejected,
        step((d: { reason: string; itemIds: string[] }) => ({
          kind: 'StockRejected',
          reason: d.reason,
          itemIds: d.itemIds,
        })),
      ),
      on(
        StockReleased,
        step((d: { reason: string }) => ({ kind: 'StockReleased', reason: d.reason })),
      ),
      on(
        PaymentAuthorized,
        step((d: { stepId: string; paymentId: string }) => ({
          kind: 'PaymentAuthorized',
          stepId: d.stepId,
          paymentId: d.paymentId,
        })),
      ),
      on(
        PaymentDeclined,
        step((d: { stepId: string; reason: string }) => ({
          kind: 'PaymentDeclined',
          stepId: d.stepId,
          reason: d.reason,
        })),
      ),
      on(
        PaymentFailed,
        step((d: { stepId: string; reason: string }) => ({
          kind: 'PaymentFailed',
          stepId: d.stepId,
          reason: d.reason,
        })),
      ),
      on(
        PaymentCaptured,
        step((d: { stepId: string }) => ({ kind: 'PaymentCaptured', stepId: d.stepId })),
      ),
      on(
        PaymentVoided,
        step((d: { stepId: string; amountCents: number }) => ({
          kind: 'PaymentVoided',
          stepId: d.stepId,
          amountCents: d.amountCents,
        })),
      ),
      on(
        PaymentRefunded,
        step((d: { stepId: string; amountCents: number }) => ({
          kind: 'PaymentRefunded',
          stepId: d.stepId,
          amountCents: d.amountCents,
        })),
      ),
      on(
        PaymentCommandRejected,
        step((d: { stepId: string; command: string; reason: string }) => ({
          kind: 'PaymentCommandRejected',
          stepId: d.stepId,
          command: d.command,
          reason: d.reason,
        })),
      ),
    ],
    onOutcome: (_outcome, event) => {
      if (!event.id) return;
      const ending = endings.get(event.id);
      endings.delete(event.id);
      // A rolled-back try leaves its ending behind only until the retry that commits replaces it.
      if (_outcome === 'processed') o.runner.count(ending);
    },
  });
}
