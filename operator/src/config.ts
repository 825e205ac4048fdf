/** Operator settings from the environment (a Deployment's env, or a developer's shell). */
export interface OperatorConfig {
  watchNamespace?: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  probePort: number;
  resyncMs: number;
  workers: number;
  kafkaBootstrap?: string;
  identity?: string;
}

const num = (env: NodeJS.ProcessEnv, key: string, def: number) => {
  const v = env[key];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number, got "${v}"`);
  return n;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  return {
    watchNamespace: env['WATCH_NAMESPACE'] || undefined,
    leaderElect: (env['LEADER_ELECT'] ?? 'true') !== 'false',
    leaseNamespace: env['LEASE_NAMESPACE'] || env['POD_NAMESPACE'] || 'souk-system',
    leaseName: env['LEASE_NAME'] || 'souk-operator-leader',
    leaseDurationMs: num(env, 'LEASE_DURATION_MS', 15_000),
    renewDeadlineMs: num(env, 'RENEW_DEADLINE_MS', 10_000),
    retryPeriodMs: num(env, 'RETRY_PERIOD_MS', 2_000),
    probePort: num(env, 'PROBE_PORT', 8080),
    resyncMs: num(env, 'RESYNC_MS', 10 * 60_000),
    workers: num(env, 'WORKERS', 4),
    kafkaBootstrap: env['SOUK_KAFKA_BOOTSTRAP'] || undefined,
    identity: env['POD_NAME'] || undefined,
  };
}
