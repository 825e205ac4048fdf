import type { Metrics } from '@souk/kit';

export type LoginResult = 'success' | 'invalid_credentials' | 'throttled';
export type RefreshResult = 'rotated' | 'invalid' | 'reuse_detected';

/** The users service's domain counters, on the service's registry. */
export function usersMetrics(metrics: Metrics) {
  const logins = metrics.counter('souk_users_logins_total', 'Login attempts by result', ['result']);
  const refreshes = metrics.counter('souk_users_refreshes_total', 'Refresh-token exchanges by result', [
    'result',
  ]);
  for (const result of ['success', 'invalid_credentials', 'throttled'] as const) logins.inc({ result }, 0);
  for (const result of ['rotated', 'invalid', 'reuse_detected'] as const) refreshes.inc({ result }, 0);
  return {
    registrations: metrics.counter('souk_users_registrations_total', 'Accounts registered'),
    logins,
    refreshes,
    refreshReuse: metrics.counter(
      'souk_users_refresh_reuse_detected_total',
      'Rotated refresh tokens presented again; each revoked its whole session family',
    ),
    deletions: metrics.counter('souk_users_deletions_total', 'Accounts deleted (anonymised)'),
  };
}

export type UsersMetrics = ReturnType<typeof usersMetrics>;
