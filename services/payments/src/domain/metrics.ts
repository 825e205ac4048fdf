import type { Metrics } from '@souk/kit';
import type { StepResult } from './payments.ts';

/** The payments service's domain counters, on the service's registry. */
export function paymentsMetrics(metrics: Metrics) {
  const authorizations = metrics.counter(
    'souk_payments_authorizations_total',
    'Authorization steps applied, by result',
    ['result'],
  );
  const captures = metrics.counter('souk_payments_captures_total', 'Capture steps applied, by result', [
    'result',
  ]);
  const voids = metrics.counter('souk_payments_voids_total', 'Void steps applied, by result', ['result']);
  const refunds = metrics.counter('souk_payments_refunds_total', 'Refund steps applied, by result', [
    'result',
  ]);
  const replayed = metrics.counter(
    'souk_payments_steps_replayed_total',
    'Steps received again after they were applied, answered with their first outcome',
    ['command'],
  );
  const providerCalls = metrics.counter(
    'souk_payments_provider_calls_total',
    'Calls to the payment provider, by operation and result (ok, error, timeout)',
    ['operation', 'result'],
  );
  for (const result of ['approved', 'declined', 'failed', 'rejected']) authorizations.inc({ result }, 0);
  for (const counter of [captures, voids, refunds]) {
    for (const result of ['succeeded', 'rejected']) counter.inc({ result }, 0);
  }
  const byCommand = { authorize: authorizations, capture: captures, void: voids, refund: refunds };
  return {
    providerCalls,
    /** Counts a step once its transaction committed. */
    count(step: StepResult): void {
      if (step.replayed) replayed.inc({ command: step.command });
      else byCommand[step.command].inc({ result: step.result });
    },
  };
}

export type PaymentsMetrics = ReturnType<typeof paymentsMetrics>;
