import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.ts';
import { baseConfig, loadConfig } from '../../src/config.ts';
import type { Middleware } from '../../src/context.ts';
import { Health } from '../../src/health.ts';
import { createLogger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import type { Route } from '../../src/route.ts';

export interface Served {
  url: string;
  metrics: Metrics;
  health: Health;
  close(): Promise<void>;
}

/** A kit app on an ephemeral port, as a service would build it. */
export async function serve(
  routes: Route[] | ((kit: { metrics: Metrics; health: Health }) => Route[]),
  options: { use?: Middleware[]; metrics?: Metrics; health?: Health } = {},
): Promise<Served> {
  const config = loadConfig(baseConfig, { SERVICE_NAME: 'kit-test', NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const metrics = options.metrics ?? new Metrics({ service: 'kit-test', defaultMetrics: false });
  const health = options.health ?? new Health();
  const app = createApp({
    config,
    logger: createLogger({ service: 'kit-test', level: 'silent' }),
    metrics,
    health,
    routes: typeof routes === 'function' ? routes({ metrics, health }) : routes,
    openapi: { title: 'kit test', version: '0.0.0' },
    ...(options.use ? { use: options.use } : {}),
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    health,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The value of one sample of a metric in the text exposition, 0 when absent. */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string> = {}) {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => String((v.labels as Record<string, unknown>)[k]) === value),
  );
  return sample?.value ?? 0;
}
