/**
 * The platform's key figures as PromQL, in one place: the chart's Grafana dashboards
 * (charts/dashboards/panels.ts, over 5m and a `$service` variable) and the live console's charts
 * (notifications, over a shorter window) are built from these, so both always query the metric
 * names the services really export.
 */

/** Label matchers, e.g. `service=~"$service"`; none gives the bare metric. */
export type Matchers = readonly string[];

const sel = (matchers: Matchers): string => (matchers.length ? `{${matchers.join(',')}}` : '');

export const keyFigures = {
  /** Order sagas finished per second, by outcome (confirmed, cancelled). */
  sagasPerSecond: (window: string): string => `sum by (outcome) (rate(souk_saga_total[${window}]))`,

  /** A quantile (0.5, 0.99) of the time from placing an order to its saga ending. */
  sagaDuration: (quantile: number, window: string): string =>
    `histogram_quantile(${quantile}, sum by (le) (rate(souk_saga_duration_seconds_bucket[${window}])))`,

  /** A quantile of HTTP request latency, per service (add `route` to `by` for a finer split). */
  requestLatency: (quantile: number, window: string, matchers: Matchers = [], by = 'service'): string =>
    `histogram_quantile(${quantile}, sum by (le, ${by}) (rate(http_server_request_duration_seconds_bucket${sel(matchers)}[${window}])))`,

  /** Outbox rows written but not yet published, per service. */
  outboxBacklog: (matchers: Matchers = []): string =>
    `sum by (service) (souk_outbox_pending${sel(matchers)})`,

  /** Share of cache lookups answered from the cache, per service (0 when there were none). */
  cacheHitRatio: (window: string, matchers: Matchers = []): string =>
    `sum by (service) (rate(souk_cache_requests_total${sel([...matchers, 'result="hit"'])}[${window}])) / clamp_min(sum by (service) (rate(souk_cache_requests_total${sel([...matchers, 'result=~"hit|miss"'])}[${window}])), 1e-9)`,
};
