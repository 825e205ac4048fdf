import type { Logger, Metrics, Shutdown } from '@souk/kit';
import {
  EventConsumer,
  on,
  PaymentCaptureRequested,
  PaymentRefundRequested,
  PaymentRequested,
  PaymentVoidRequested,
} from '@souk/kit/events/index';
import type { Kafka } from 'kafkajs';
import type { PaymentsDb, Tx } from '../data/database.ts';
import type { PaymentsMetrics } from '../domain/metrics.ts';
import type { PaymentSteps, StepResult } from '../domain/payments.ts';

export interface CommandConsumerOptions {
  kafka: Kafka;
  db: PaymentsDb;
  steps: PaymentSteps;
  counters: PaymentsMetrics;
  /** The consumer group (and inbox consumer name), prefixed like the topics. */
  groupId: string;
  resolveTopic: (topic: string) => string;
  metrics: Metrics;
  logger: Logger;
  shutdown: Shutdown;
  /** The longest a step may take: the provider timeout times the attempts, plus backoff. */
  transactionTimeoutMs: number;
}

/**
 * The saga's payment commands, from orders.events. Each runs in the inbox transaction: a
 * redelivered message (same event id) is skipped by the inbox, a step sent again (same step id,
 * new event) is answered with its first outcome. The outcome is counted once committed.
 */
export function commandConsumer(options: CommandConsumerOptions): EventConsumer<Tx> {
  const pending = new Map<string, StepResult>();
  const remember = (eventId: string) => (step: StepResult) => {
    pending.set(eventId, step);
  };
  return new EventConsumer<Tx>({
    kafka: options.kafka,
    groupId: options.groupId,
    db: options.db.primary,
    resolveTopic: options.resolveTopic,
    metrics: options.metrics,
    logger: options.logger,
    shutdown: options.shutdown,
    transactionTimeoutMs: options.transactionTimeoutMs,
    // A step waits on the provider inside its transaction (up to its timeout, with retries): one
    // transaction per step, so a slow card holds up no other order's commit.
    maxEventsPerTransaction: 1,
    handlers: [
      on(PaymentRequested, (event, tx: Tx) =>
        options.steps.authorize(tx, event.data).then(remember(event.id)),
      ),
      on(PaymentCaptureRequested, (event, tx: Tx) =>
        options.steps.capture(tx, event.data).then(remember(event.id)),
      ),
      on(PaymentVoidRequested, (event, tx: Tx) =>
        options.steps.void(tx, event.data).then(remember(event.id)),
      ),
      on(PaymentRefundRequested, (event, tx: Tx) =>
        options.steps.refund(tx, event.data).then(remember(event.id)),
      ),
    ],
    onOutcome: (outcome, event) => {
      const step = event.id ? pending.get(event.id) : undefined;
      if (event.id) pending.delete(event.id);
      if (outcome === 'processed' && step) options.counters.count(step);
    },
  });
}
