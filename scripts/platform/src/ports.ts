/**
 * Where `npm start` listens. Everything sits at fixed offsets from one base (SOUK_PORT_BASE,
 * default 20000), so a second platform (another clone, a test) runs beside the first with one
 * variable: SOUK_PORT_BASE=30000 puts the entry port on 30080, PostgreSQL on 30432, and so on.
 * The single-port variables still override their own port.
 */
export const DEFAULT_PORT_BASE = 20_000;

export interface PortLayout {
  base: number;
  entry: number;
  prometheus: number;
  /** The first service's port; the others follow in start order. */
  services: number;
  /** The shared infrastructure's port variables (scripts/harness), as this base places them. */
  infra: Record<
    | 'SOUK_INFRA_PG_PORT'
    | 'SOUK_INFRA_REDIS_PORT'
    | 'SOUK_INFRA_REDIS_BUS_PORT'
    | 'SOUK_INFRA_KAFKA_CONTROL_PORT',
    number
  >;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n > 65_535)
    throw new Error(`${name}=${raw}: expected a port number from 1024 to 65535`);
  return n;
}

export function portLayout(env: NodeJS.ProcessEnv): PortLayout {
  const base = port(env, 'SOUK_PORT_BASE', DEFAULT_PORT_BASE);
  if (base % 1000 !== 0 || base + 999 > 65_535)
    throw new Error(`SOUK_PORT_BASE=${base}: expected a multiple of 1000 up to 64000`);
  return {
    base,
    entry: port(env, 'SOUK_PORT', base + 80),
    prometheus: port(env, 'SOUK_PROMETHEUS_PORT', base + 90),
    services: port(env, 'SOUK_SERVICES_BASE_PORT', base + 100),
    infra: {
      SOUK_INFRA_PG_PORT: port(env, 'SOUK_INFRA_PG_PORT', base + 432),
      SOUK_INFRA_REDIS_PORT: port(env, 'SOUK_INFRA_REDIS_PORT', base + 379),
      SOUK_INFRA_REDIS_BUS_PORT: port(env, 'SOUK_INFRA_REDIS_BUS_PORT', base + 479),
      SOUK_INFRA_KAFKA_CONTROL_PORT: port(env, 'SOUK_INFRA_KAFKA_CONTROL_PORT', base + 92),
    },
  };
}
