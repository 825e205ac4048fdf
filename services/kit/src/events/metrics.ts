import { Metrics } from '../metrics.ts';

/** The event backbone's metrics, taken from the service's registry (getters are idempotent by name). */
export function eventMetrics(metrics: Metrics = new Metrics({ service: 'souk', defaultMetrics: false })) {
  return {
    outboxPending: metrics.gauge('souk_outbox_pending', 'Outbox rows not yet published'),
    outboxPublished: metrics.counter('souk_outbox_published_total', 'Outbox events published to Kafka', [
      'topic',
    ]),
    relayErrors: metrics.counter('souk_outbox_relay_errors_total', 'Outbox relay failures, by stage', [
      'stage',
    ]),
    relayShards: metrics.gauge('souk_outbox_relay_shards', 'Outbox shards this relay currently publishes'),
    consumed: metrics.counter('souk_events_consumed_total', 'Events consumed, by outcome', [
      'topic',
      'type',
      'result',
    ]),
    handlerDuration: metrics.histogram(
      'souk_events_handler_duration_seconds',
      'Time to handle one event, inbox transaction included',
      ['topic', 'type'],
      { buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
    ),
    consumerLag: metrics.gauge('souk_events_consumer_lag', 'Messages behind the high watermark', [
      'topic',
      'partition',
    ]),
    lockConflicts: metrics.counter(
      'souk_events_lock_conflicts_total',
      'Chunk transactions rolled back by a deadlock or serialization failure, then run again',
      ['topic', 'type'],
    ),
    transientRetries: metrics.counter(
      'souk_events_transient_retries_total',
      'Tries of an event failed by a dependency (database unreachable, failover, deadlock, cache invalidation lost…), repeated without counting toward the dead-letter topic',
      ['topic', 'type', 'code'],
    ),
    deadLettered: metrics.counter('souk_events_dead_lettered_total', 'Events sent to a dead-letter topic', [
      'topic',
      'type',
    ]),
  };
}

export type EventMetrics = ReturnType<typeof eventMetrics>;
