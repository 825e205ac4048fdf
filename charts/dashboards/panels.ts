/**
 * The dashboards, as data: each panel is a title, its PromQL and a unit. Grafana JSON is generated
 * from these (grafana.ts), and the tests run every query against a real Prometheus. The key figures
 * come from the kit, which the live console's charts use too.
 */
import { keyFigures } from '../../services/kit/src/key-figures.ts';

export interface PanelDef {
  title: string;
  /** PromQL; `$service` is the dashboard's service variable where the dashboard has one. */
  expr: string;
  unit: 'reqps' | 's' | 'ms' | 'percentunit' | 'short' | 'bytes' | 'ops';
  legend?: string;
  kind?: 'timeseries' | 'stat';
}

export interface DashboardDef {
  uid: string;
  title: string;
  description: string;
  /** Adds a `service` template variable over the `service` label of this metric (or series selector). */
  serviceVariableFrom?: string;
  panels: PanelDef[];
}

const svc = 'service=~"$service"';

export const dashboards: DashboardDef[] = [
  {
    uid: 'souk-platform-red',
    title: 'Souk / Platform RED',
    description: 'Rate, errors and duration of every service, by route template.',
    serviceVariableFrom: 'http_server_request_duration_seconds_count',
    panels: [
      {
        title: 'Requests per second',
        expr: `sum by (service) (rate(http_server_request_duration_seconds_count{${svc}}[5m]))`,
        unit: 'reqps',
        legend: '{{service}}',
      },
      {
        title: 'Error ratio (5xx)',
        // A service without a 5xx has no 5xx series: `or 0 * all` shows it at 0 rather than not at all.
        expr: `(sum by (service) (rate(http_server_request_duration_seconds_count{${svc},status_code=~"5.."}[5m])) or 0 * sum by (service) (rate(http_server_request_duration_seconds_count{${svc}}[5m]))) / clamp_min(sum by (service) (rate(http_server_request_duration_seconds_count{${svc}}[5m])), 1e-9)`,
        unit: 'percentunit',
        legend: '{{service}}',
      },
      {
        title: 'p99 latency by route',
        expr: keyFigures.requestLatency(0.99, '5m', [svc], 'service, route'),
        unit: 's',
        legend: '{{service}} {{route}}',
      },
      {
        title: 'p50 latency by service',
        expr: keyFigures.requestLatency(0.5, '5m', [svc]),
        unit: 's',
        legend: '{{service}}',
      },
      {
        title: 'Circuit breakers open',
        expr: `max by (service, target) (souk_circuit_breaker_state{${svc}})`,
        unit: 'short',
        legend: '{{service}} → {{target}}',
      },
    ],
  },
  {
    uid: 'souk-saga',
    title: 'Souk / Order saga',
    description: 'Orders through the saga: outcomes, durations, compensations.',
    panels: [
      {
        title: 'Sagas finished per second, by outcome',
        expr: keyFigures.sagasPerSecond('5m'),
        unit: 'ops',
        legend: '{{outcome}}',
      },
      {
        title: 'Share of sagas cancelled',
        expr: 'sum(rate(souk_saga_total{outcome="cancelled"}[15m])) / clamp_min(sum(rate(souk_saga_total[15m])), 1e-9)',
        unit: 'percentunit',
        kind: 'stat',
      },
      {
        title: 'Saga duration p99',
        expr: keyFigures.sagaDuration(0.99, '5m'),
        unit: 's',
        legend: 'p99',
      },
      {
        title: 'Sagas in flight',
        expr: 'sum(souk_saga_in_flight)',
        unit: 'short',
        kind: 'stat',
      },
    ],
  },
  {
    uid: 'souk-events',
    title: 'Souk / Events, outbox and consumer lag',
    description: 'The transactional outbox, the relay, consumers and dead letters.',
    // Services with an outbox, a consumer or both: notifications only consumes.
    serviceVariableFrom: '{__name__=~"souk_outbox_pending|souk_events_consumer_lag"}',
    panels: [
      {
        title: 'Outbox rows waiting',
        expr: keyFigures.outboxBacklog([svc]),
        unit: 'short',
        legend: '{{service}}',
      },
      {
        title: 'Events published per second',
        expr: `sum by (service) (rate(souk_outbox_published_total{${svc}}[5m]))`,
        unit: 'ops',
        legend: '{{service}}',
      },
      {
        title: 'Relay errors per second',
        expr: `sum by (service) (rate(souk_outbox_relay_errors_total{${svc}}[5m]))`,
        unit: 'ops',
        legend: '{{service}}',
      },
      {
        title: 'Events consumed per second, by result',
        expr: `sum by (topic, result) (rate(souk_events_consumed_total{${svc}}[5m]))`,
        unit: 'ops',
        legend: '{{topic}} {{result}}',
      },
      {
        title: 'Consumer lag',
        expr: `max by (topic, service) (souk_events_consumer_lag{${svc}})`,
        unit: 'short',
        legend: '{{service}} {{topic}}',
      },
      {
        title: 'Dead-lettered per second',
        expr: `sum by (topic) (rate(souk_events_dead_lettered_total{${svc}}[5m]))`,
        unit: 'ops',
        legend: '{{topic}}',
      },
    ],
  },
  {
    uid: 'souk-cache',
    title: 'Souk / Cache',
    description: 'Read-through caching on the Redis Cluster, and degraded mode.',
    serviceVariableFrom: 'souk_cache_requests_total',
    panels: [
      {
        title: 'Hit ratio',
        expr: keyFigures.cacheHitRatio('5m', [svc]),
        unit: 'percentunit',
        legend: '{{service}}',
      },
      {
        title: 'Cache requests per second, by result',
        expr: `sum by (service, result) (rate(souk_cache_requests_total{${svc}}[5m]))`,
        unit: 'ops',
        legend: '{{service}} {{result}}',
      },
      {
        title: 'Serving without the cache',
        expr: `max by (service) (souk_cache_degraded{${svc}})`,
        unit: 'short',
        legend: '{{service}}',
      },
    ],
  },
  {
    uid: 'souk-postgres',
    title: 'Souk / PostgreSQL replication',
    description: 'Primary and streaming replicas, from postgres_exporter.',
    panels: [
      { title: 'Instances up', expr: 'sum(pg_up)', unit: 'short', kind: 'stat' },
      {
        title: 'Replication lag',
        expr: 'max by (instance) (pg_replication_lag)',
        unit: 's',
        legend: '{{instance}}',
      },
      { title: 'Replicas', expr: 'sum(pg_replication_is_replica)', unit: 'short', kind: 'stat' },
      {
        title: 'Commits per second',
        expr: 'sum by (instance) (rate(pg_stat_database_xact_commit[5m]))',
        unit: 'ops',
        legend: '{{instance}}',
      },
      {
        title: 'Connections',
        expr: 'sum by (instance, state) (pg_stat_activity_count)',
        unit: 'short',
        legend: '{{instance}} {{state}}',
      },
    ],
  },
  {
    uid: 'souk-redis-cluster',
    title: 'Souk / Redis Cluster',
    description: 'Cluster state, slots and load, from redis_exporter on every node.',
    panels: [
      { title: 'Cluster state ok', expr: 'min(redis_cluster_state)', unit: 'short', kind: 'stat' },
      { title: 'Slots ok', expr: 'min(redis_cluster_slots_ok)', unit: 'short', kind: 'stat' },
      {
        title: 'Commands per second, by node',
        expr: 'sum by (instance) (rate(redis_commands_processed_total[5m]))',
        unit: 'ops',
        legend: '{{instance}}',
      },
      {
        title: 'Memory used',
        expr: 'max by (instance) (redis_memory_used_bytes)',
        unit: 'bytes',
        legend: '{{instance}}',
      },
      {
        title: 'Connected clients',
        expr: 'sum by (instance) (redis_connected_clients)',
        unit: 'short',
        legend: '{{instance}}',
      },
    ],
  },
  {
    uid: 'souk-operator',
    title: 'Souk / Operator',
    description: 'Reconciles, errors, work queues and leadership of the souk-operator.',
    panels: [
      {
        title: 'Reconciles per second, by controller and result',
        expr: 'sum by (controller, result) (rate(controller_runtime_reconcile_total[5m]))',
        unit: 'ops',
        legend: '{{controller}} {{result}}',
      },
      {
        title: 'Reconcile p99',
        expr: 'histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
        unit: 's',
        legend: '{{controller}}',
      },
      {
        title: 'Work queue depth',
        expr: 'max by (name) (workqueue_depth)',
        unit: 'short',
        legend: '{{name}}',
      },
      {
        title: 'Retries per second',
        expr: 'sum by (name) (rate(workqueue_retries_total[5m]))',
        unit: 'ops',
        legend: '{{name}}',
      },
      { title: 'Leader', expr: 'max(leader_election_master_status)', unit: 'short', kind: 'stat' },
    ],
  },
];
