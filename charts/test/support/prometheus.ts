/**
 * A real Prometheus (Debian's `prometheus` package) for the observability test: static scrape jobs,
 * the charts' alert rules loaded as rule files, and the HTTP API to query it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePorts } from '@souk/harness/infra/ports';
import { isAlive, type ProcessRef, spawnDaemon, terminate, waitFor } from '@souk/harness/infra/processes';
import { stringify } from 'yaml';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeJob {
  job: string;
  targets: string[];
  metricsPath?: string;
  /**
   * A multi-target exporter at this address: each target is passed to it as `?target=` and kept as the
   * `instance` label, as redis_exporter's documentation sets it up.
   */
  exporter?: string;
}

function scrapeConfig(j: ScrapeJob): Record<string, unknown> {
  const config: Record<string, unknown> = {
    job_name: j.job,
    metrics_path: j.metricsPath ?? '/metrics',
    static_configs: [{ targets: j.targets }],
  };
  if (j.exporter) {
    config['relabel_configs'] = [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: j.exporter },
    ];
  }
  return config;
}

export interface Prometheus {
  url: string;
  ref: ProcessRef;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `jobs` every `intervalSeconds`, evaluating the rule files given. */
export async function startPrometheus(opts: {
  dir: string;
  jobs: readonly ScrapeJob[];
  ruleFiles?: readonly string[];
  intervalSeconds?: number;
}): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(`${PROMETHEUS_BIN} is not installed (apt-get install prometheus)`);
  const interval = `${opts.intervalSeconds ?? 1}s`;
  mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
  const config = path.join(opts.dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: opts.jobs.map(scrapeConfig),
    }),
  );
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(opts.dir, 'prometheus.log');
  const ref = spawnDaemon(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    log,
    { dieWithParent: 'SIGTERM' },
  );
  const stop = () => terminate([ref]);
  try {
    const state = await waitFor(
      'Prometheus to be ready',
      async () => {
        if (!isAlive(ref)) return 'exited';
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true && 'ready';
      },
      20_000,
      50,
    );
    // It refuses to start on a rule file that does not parse, and says why in its log.
    if (state === 'exited') throw new Error(`Prometheus exited:\n${readFileSync(log, 'utf8').trim()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, ref, stop };
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Whether a query parsed and ran, and its result as samples (an empty vector is a result too). */
export type QueryAnswer = { ok: true; samples: Sample[] } | { ok: false; error: string };

/** An instant query through /api/v1/query. */
export async function query(url: string, promql: string): Promise<QueryAnswer> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: promql }),
  });
  const body = (await res.json()) as {
    status: string;
    errorType?: string;
    error?: string;
    data?: {
      resultType: string;
      result: { metric: Record<string, string>; value: [number, string] }[] | [number, string];
    };
  };
  if (body.status !== 'success' || !body.data)
    return { ok: false, error: `${body.errorType ?? res.status}: ${body.error ?? ''}` };
  const { resultType, result } = body.data;
  if (resultType === 'scalar') return { ok: true, samples: [{ labels: {}, value: Number(result[1]) }] };
  if (resultType !== 'vector') return { ok: false, error: `unexpected result type ${resultType}` };
  const vector = result as { metric: Record<string, string>; value: [number, string] }[];
  return { ok: true, samples: vector.map((r) => ({ labels: r.metric, value: Number(r.value[1]) })) };
}

export interface TargetHealth {
  job: string;
  instance: string;
  health: string;
  lastError: string;
}

export async function targets(url: string): Promise<TargetHealth[]> {
  const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as {
    data: {
      activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
    };
  };
  return body.data.activeTargets.map((t) => ({
    job: t.labels['job'] ?? '',
    instance: t.labels['instance'] ?? '',
    health: t.health,
    lastError: t.lastError,
  }));
}

export interface RuleHealth {
  group: string;
  name: string;
  query: string;
  health: string;
  lastError?: string;
  evaluations: boolean;
}

/** The loaded rules and how their last evaluation went. */
export async function rules(url: string): Promise<RuleHealth[]> {
  const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
    data: {
      groups: {
        name: string;
        rules: { name: string; query: string; health: string; lastError?: string; lastEvaluation: string }[];
      }[];
    };
  };
  return body.data.groups.flatMap((g) =>
    g.rules.map((r) => ({
      group: g.name,
      name: r.name,
      query: r.query,
      health: r.health,
      ...(r.lastError ? { lastError: r.lastError } : {}),
      evaluations: !r.lastEvaluation.startsWith('0001-'),
    })),
  );
}
