import type { Metrics } from '@souk/kit';

export function notificationsMetrics(metrics: Metrics) {
  return {
    stored: metrics.counter('souk_notifications_stored_total', 'Notifications stored, by kind', ['kind']),
    pushed: metrics.counter(
      'souk_notifications_pushed_total',
      'Notifications sent to a WebSocket client, live or replayed',
      ['mode'],
    ),
    mailed: metrics.counter('souk_notifications_mailed_total', 'E-mails sent (or failed), by result', [
      'result',
    ]),
    clients: metrics.gauge(
      'souk_notifications_connected_clients',
      'WebSocket clients connected to this replica',
      ['channel'],
    ),
  };
}

export type NotificationsMetrics = ReturnType<typeof notificationsMetrics>;
