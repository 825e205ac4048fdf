/**
 * The dashboards and alerts against real data. A real Prometheus scrapes, every second, the five services
 * (child processes, as `npm start` runs them), the operator (against the Kubernetes API test server, with
 * Microservice, Topic and RedisCluster resources) and the exporters the chart runs as sidecars
 * (postgres_exporter on the primary and the replica, redis_exporter on every Redis Cluster node). After
 * some shop traffic, every panel's query and every alert's expression must parse and return data.
 *
 * Alerts are conditions, and a healthy run must not meet them, so each alert is checked twice: its whole
 * expression must parse and be evaluated by Prometheus without error (the rules are loaded as rule files),
 * and what it watches, its expression without the threshold (`X > 0.2` → `X`, `absent(X)` → `X`), must
 * return data: a misspelt metric would make the alert silently never fire.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '@souk/harness/infra/processes';
import { makeTempDir } from '@souk/harness/infra/temp-dirs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { type Exporters, startExporters } from './support/exporters.ts';
import { chartDir } from './support/helm.ts';
import { FAILING_MICROSERVICE, type OperatorUnderTest, startOperatorUnderTest } from './support/operator.ts';
import {
  type Prometheus,
  query,
  rules,
  type Sample,
  startPrometheus,
  targets,
} from './support/prometheus.ts';
import { alertRules, panelQueries, renderedRules, serviceVariables, underlying } from './support/queries.ts';
import { SERVICES, type Services, startServices } from './support/services.ts';
import { driveTraffic, type TrafficSummary } from './support/traffic.ts';

const started = Date.now();
const dir = makeTempDir('observability');
let services: Services | undefined;
let operator: OperatorUnderTest | undefined;
let exporters: Exporters | undefined;
let prometheus: Prometheus | undefined;
let traffic: TrafficSummary | undefined;
const rendered = await renderedRules();

test.before(async () => {
  try {
    const ruleFiles = [...rendered].map(([chart, spec]) => {
      const file = path.join(dir, `${chart}-rules.yaml`);
      writeFileSync(file, stringify(spec));
      return file;
    });
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    [services, operator] = await Promise.all([
      startServices(path.join(dir, 'logs')),
      startOperatorUnderTest(),
    ]);
    exporters = await startExporters({
      dir: path.join(dir, 'logs'),
      postgresUrls: [services.postgres.primary, services.postgres.replica],
      postgresQueries: path.join(chartDir('souk'), 'files', 'postgres-exporter-queries.yaml'),
    });
    prometheus = await startPrometheus({
      dir: path.join(dir, 'prometheus'),
      intervalSeconds: 1,
      ruleFiles,
      jobs: [
        ...SERVICES.map((s) => ({ job: s, targets: [services!.address[s]] })),
        { job: 'souk-operator-metrics', targets: [operator.metrics] },
        { job: 'postgres', targets: exporters.postgres },
        {
          job: 'redis',
          targets: services.redisNodes.map((n) => `redis://${n}`),
          metricsPath: '/scrape',
          exporter: exporters.redis,
        },
      ],
    });
    const p = prometheus;
    // A rate needs a sample from before the traffic: every target scraped successfully, and the saga
    // series (zeroed at start) recorded, before any order is placed.
    await waitFor(
      'every target scraped successfully once',
      async () => {
        if (!(await targets(p.url)).every((t) => t.health === 'up')) return false;
        const buckets = await query(p.url, 'count(souk_saga_duration_seconds_bucket)');
        return buckets.ok && buckets.samples.length === 1;
      },
      15_000,
      100,
    );
    const kafka = services.kafka.control;
    traffic = await driveTraffic(services.url, {
      approved: 4,
      declined: 2,
      // Not retriable: the producer gives up at once, the relay counts a failed publish and retries.
      publishFaults: () => kafka.pushRequestErrors('Produce', ['TOPIC_AUTHORIZATION_FAILED']),
    });
    // Until Prometheus has scraped what the traffic left: the last sagas and the consumers behind them.
    await waitFor(
      'the traffic in Prometheus',
      async () => {
        const sagas = await query(p.url, 'sum(souk_saga_total)');
        const notified = await query(p.url, 'sum(souk_events_consumed_total{service="notifications"})');
        const relayErrors = await query(p.url, 'sum(souk_outbox_relay_errors_total)');
        // rate() needs two samples of a series: every target scraped a few times, none failing.
        const scrapes = await query(p.url, 'min(count_over_time(up[5m]))');
        const up = (await targets(p.url)).every((t) => t.health === 'up');
        const positive = (a: Awaited<ReturnType<typeof query>>) => a.ok && (a.samples[0]?.value ?? 0) > 0;
        return (
          sagas.ok &&
          sagas.samples[0]?.value === traffic!.confirmed + traffic!.cancelled &&
          positive(notified) &&
          positive(relayErrors) &&
          up &&
          scrapes.ok &&
          (scrapes.samples[0]?.value ?? 0) >= 3
        );
      },
      60_000,
      200,
    );
  } catch (e) {
    console.error(e);
    await stopAll();
    throw e;
  }
});

let stopping: Promise<void> | undefined;
function stopAll(): Promise<void> {
  stopping ??= stopEverything();
  return stopping;
}

async function stopEverything(): Promise<void> {
  const results = await Promise.allSettled([prometheus?.stop()]);
  results.push(...(await Promise.allSettled([exporters?.stop(), operator?.stop(), services?.stop()])));
  rmSync(dir, { recursive: true, force: true });
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

test.after(async () => {
  await stopAll();
  console.log(`observability: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

const hasData = (samples: Sample[]) => samples.some((s) => Number.isFinite(s.value));

test('every target is scraped: five services, the operator, two postgres_exporters, six Redis nodes', async () => {
  const ts = await targets(prometheus!.url);
  for (const t of ts) assert.is(t.health, 'up', `${t.job} ${t.instance}: ${t.lastError}`);
  assert.equal(
    [...new Set(ts.map((t) => t.job))].sort(),
    [...SERVICES, 'postgres', 'redis', 'souk-operator-metrics'].sort(),
  );
  assert.is(ts.filter((t) => t.job === 'redis').length, 6);
  assert.ok(traffic!.confirmed > 0 && traffic!.cancelled > 0, JSON.stringify(traffic));
});

/** Runs each query; returns the problems (does not run, or returns no data) and the ids that were empty. */
async function check(
  items: { id: string; expr: string }[],
): Promise<{ problems: string[]; empty: string[] }> {
  const url = prometheus!.url;
  const problems: string[] = [];
  const empty: string[] = [];
  for (const { id, expr } of items) {
    const a = await query(url, expr);
    if (!a.ok) {
      problems.push(`${id} does not run: ${a.error}\n    ${expr}`);
      continue;
    }
    if (hasData(a.samples)) continue;
    empty.push(id);
    problems.push(`${id} returns no data:\n    ${expr}`);
  }
  return { problems, empty };
}

test('every dashboard panel parses and returns data', async () => {
  const panels = panelQueries();
  const { problems, empty } = await check(panels);
  console.log(
    `panels: ${panels.length} checked, ${panels.length - empty.length} with data; empty: ${empty.join('; ') || 'none'}`,
  );
  assert.equal(problems, []);
});

test('the service variable lists the services, and one chosen service narrows the panels to it', async () => {
  const url = prometheus!.url;
  const red = await query(url, 'count by (service) (http_server_request_duration_seconds_count)');
  assert.ok(red.ok);
  if (red.ok) assert.equal(red.samples.map((s) => s.labels['service']).sort(), [...SERVICES].sort());
  for (const v of serviceVariables()) {
    // Grafana's label_values(metric, service).
    const values = await query(url, `count by (service) (${v.metric})`);
    const services = values.ok ? values.samples.map((s) => s.labels['service']!) : [];
    assert.ok(services.length > 0, `${v.dashboard}: no service has ${v.metric}`);
    // On "All", every service a panel shows must be one the variable offers.
    for (const p of panelQueries().filter((q) => q.id.startsWith(`${v.dashboard} /`))) {
      const a = await query(url, p.expr);
      for (const sample of a.ok ? a.samples : []) {
        const service = sample.labels['service'];
        if (service)
          assert.ok(services.includes(service), `${p.id} shows ${service}, the variable offers ${services}`);
      }
    }
    for (const p of panelQueries({ service: services[0]! }).filter((q) =>
      q.id.startsWith(`${v.dashboard} /`),
    )) {
      const a = await query(url, p.expr);
      assert.ok(a.ok, p.id);
      if (!a.ok) continue;
      for (const sample of a.samples)
        if (sample.labels['service']) assert.is(sample.labels['service'], services[0], p.id);
    }
  }
});

test('every alert parses, evaluates without error, and what it watches has data', async () => {
  const url = prometheus!.url;
  const alerts = alertRules(rendered);
  // A healthy run meets no alert's condition: the whole expressions need only run, not return data.
  const parseProblems: string[] = [];
  for (const a of alerts) {
    const whole = await query(url, a.expr);
    if (!whole.ok) parseProblems.push(`${a.alert} does not run: ${whole.error}`);
  }
  const { problems, empty } = await check(
    alerts.map((a) => ({ id: `alert ${a.alert}`, expr: underlying(a.expr) })),
  );
  const loaded = await waitFor(
    'every rule evaluated',
    async () => {
      const rs = await rules(url);
      return rs.length === alerts.length && rs.every((r) => r.evaluations) && rs;
    },
    10_000,
    200,
  );
  const unhealthy = loaded
    .filter((r) => r.health !== 'ok')
    .map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
  console.log(
    `alerts: ${alerts.length} checked, ${alerts.length - empty.length} with data; empty: ${empty.join('; ') || 'none'}`,
  );
  assert.equal([...parseProblems, ...problems, ...unhealthy], []);
});

test('the operator counts the reconciles the API server fails as errors, and retries them', async () => {
  const url = prometheus!.url;
  const errors = await query(url, 'sum by (controller) (controller_runtime_reconcile_errors_total) > 0');
  assert.ok(errors.ok && errors.samples.length > 0, `no reconcile errors for ${FAILING_MICROSERVICE}`);
  const retries = await query(url, 'sum by (name) (workqueue_retries_total) > 0');
  assert.ok(retries.ok && retries.samples.length > 0, 'no retries');
});

test.run();
