import type { Metrics } from '@souk/kit';

export interface SagaMetrics {
  /** A saga reached CONFIRMED or CANCELLED `seconds` after the order was placed. */
  finished(outcome: 'confirmed' | 'cancelled', seconds: number): void;
  inFlight(count: number): void;
}

/** The saga metrics DESIGN.md names; the chart's dashboards and alerts query these exact names. */
export function sagaMetrics(metrics: Metrics): SagaMetrics {
  const total = metrics.counter('souk_saga_total', 'Order sagas that ended, by outcome', ['outcome']);
  const duration = metrics.histogram(
    'souk_saga_duration_seconds',
    'Time from placing an order to its saga ending (CONFIRMED or CANCELLED)',
    ['outcome'],
    { buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] },
  );
  const inFlight = metrics.gauge('souk_saga_in_flight', 'Order sagas not yet CONFIRMED or CANCELLED', []);
  // Zeroed series from the start: a saga ending before the first scrape still shows in rate().
  for (const outcome of ['confirmed', 'cancelled']) {
    total.inc({ outcome }, 0);
    duration.zero({ outcome });
  }
  return {
    finished(outcome, seconds) {
      total.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    inFlight(count) {
      inFlight.set(count);
    },
  };
}
