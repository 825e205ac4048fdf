import type { Metrics } from './metrics.ts';

/** Seconds; spans a fast cache hit to the request timeout. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type ObserveRequest = (method: string, route: string, status: number, seconds: number) => void;

/** `http_server_request_duration_seconds{method,route,status_code}`, labelled by route template. */
export function httpMetrics(metrics: Metrics): ObserveRequest {
  const duration = metrics.histogram(
    'http_server_request_duration_seconds',
    'Duration of HTTP server requests',
    ['method', 'route', 'status_code'],
    { buckets: BUCKETS },
  );
  return (method, route, status, seconds) => {
    duration.observe({ method, route, status_code: String(status) }, seconds);
  };
}
