/**
 * The services `npm start` runs, their local ports and the path prefixes the gateway routes to
 * them. The prefixes come from the souk chart's values.yaml, so local routing and the cluster's
 * Ingress can never disagree.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@souk/harness/workspaces';
import { parse } from 'yaml';
import type { GatewayRoute } from './gateway.ts';

/** Start order: users issues tokens everyone else checks; orders drives the others. */
export const SERVICE_ORDER = ['users', 'inventory', 'payments', 'orders', 'notifications'] as const;

export interface LocalService {
  name: string;
  dir: string;
  entry: string;
  port: number;
  paths: string[];
}

interface ChartServices {
  services: Record<string, { enabled?: boolean; paths?: string[]; database?: boolean }>;
}

export function chartServices(root: string = repoRoot): ChartServices['services'] {
  const values = parse(
    readFileSync(path.join(root, 'charts', 'souk', 'values.yaml'), 'utf8'),
  ) as ChartServices;
  return values.services;
}

/** Services that exist in this checkout (have src/main.ts) and are enabled in the chart. */
export function localServices(basePort: number, root: string = repoRoot): LocalService[] {
  const chart = chartServices(root);
  return SERVICE_ORDER.flatMap((name, i) => {
    const dir = path.join(root, 'services', name);
    const entry = path.join(dir, 'src', 'main.ts');
    const settings = chart[name];
    if (!existsSync(entry) || settings?.enabled === false) return [];
    return [{ name, dir, entry, port: basePort + i, paths: settings?.paths ?? [] }];
  });
}

/**
 * A service's environment under `npm start`: development mode on its local port, the
 * infrastructure's settings, and every service as <NAME>_URL, as the Helm chart tells them in a cluster.
 */
export function localServiceEnv(
  s: LocalService,
  all: LocalService[],
  infraEnv: Record<string, string>,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    NODE_ENV: 'development',
    SERVICE_NAME: s.name,
    HOST: '127.0.0.1',
    PORT: String(s.port),
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
    ...infraEnv,
    ...Object.fromEntries(all.map((o) => [`${o.name.toUpperCase()}_URL`, `http://127.0.0.1:${o.port}`])),
    ...extra,
  };
}

/** The gateway's routes: each service's chart path prefixes to its local port. */
export function localRoutes(services: LocalService[]): GatewayRoute[] {
  return services.flatMap((s) =>
    s.paths.map((prefix) => ({ prefix, service: s.name, target: `http://127.0.0.1:${s.port}` })),
  );
}
