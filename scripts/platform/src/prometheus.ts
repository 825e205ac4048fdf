/**
 * A real Prometheus for `npm start` (Debian's `prometheus` package), scraping every service so the
 * live console can chart the platform's own figures.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ProcessRef, spawnDaemon, terminate, waitFor } from '@souk/harness/infra/processes';
import { stringify } from 'yaml';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeTarget {
  job: string;
  address: string;
  metricsPath?: string;
}

export function prometheusConfig(targets: readonly ScrapeTarget[], intervalSeconds = 5): string {
  return stringify({
    global: { scrape_interval: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
    scrape_configs: targets.map((t) => ({
      job_name: t.job,
      metrics_path: t.metricsPath ?? '/metrics',
      static_configs: [{ targets: [t.address] }],
    })),
  });
}

export interface PrometheusHandle {
  url: string;
  ref: ProcessRef;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  dir: string;
  port: number;
  targets: readonly ScrapeTarget[];
  intervalSeconds?: number;
}): Promise<PrometheusHandle> {
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(`${PROMETHEUS_BIN} is not installed (apt-get install prometheus)`);
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const config = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(opts.targets, opts.intervalSeconds));
  const url = `http://127.0.0.1:${opts.port}`;
  const ref = spawnDaemon(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
      '--storage.tsdb.retention.time=2h',
      `--web.listen-address=127.0.0.1:${opts.port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    path.join(opts.dir, 'prometheus.log'),
    { dieWithParent: 'SIGTERM' },
  );
  await waitFor(
    'Prometheus to be ready',
    async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
    20_000,
    100,
  );
  return { url, ref, stop: () => terminate([ref]) };
}

/** An instant query through the HTTP API; the result vector as numbers with their labels. */
export async function queryPrometheus(
  url: string,
  promql: string,
): Promise<{ labels: Record<string, string>; value: number }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
  if (body.data?.resultType !== 'vector') return [];
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/**
 * Waits until Prometheus has scraped each job at least once, so counters it records from then on
 * show their increases (a rate needs a sample from before the events it counts).
 */
export async function waitForFirstScrape(
  url: string,
  jobs: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `Prometheus to scrape ${jobs.join(', ')}`,
    async () => {
      const up = await queryPrometheus(url, 'up == 1').catch(() => []);
      return jobs.every((job) => up.some((s) => s.labels['job'] === job));
    },
    timeoutMs,
    250,
  );
}
