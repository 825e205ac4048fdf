import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type KubernetesObject, KubernetesObjectApi, loadYaml } from '@kubernetes/client-node';
import { repoRoot } from '@souk/harness/workspaces';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { EXPORTER_PORT } from '../../operator/src/controllers/rediscluster/desired.ts';
import { startKubeApiServer } from '../../operator/test/kube-api-server/server.ts';
import { dashboardDir, renderDashboards } from '../dashboards/generate.ts';
import { dashboards } from '../dashboards/panels.ts';
import { chartDir, helm, type K8sObject, render } from './support/helm.ts';
import { validateObject } from './support/validate.ts';

const exec = promisify(execFile);
const values = (name: string) => path.join(import.meta.dirname, 'values', name);
const monitoring = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'];
const ours = (o: K8sObject) => o.apiVersion === 'souk.dev/v1alpha1';
// CloudNativePG's Cluster has no offline model; its fields are checked by the test below instead.
const thirdParty = (o: K8sObject) => o.apiVersion === 'postgresql.cnpg.io/v1';
const of = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const names = (objs: K8sObject[], kind: string) => new Set(of(objs, kind).map((o) => o.metadata.name));
type Spec = Record<string, unknown> & {
  topics?: { name: string }[];
  redisCluster?: { name: string };
  envFrom?: { secretRef?: { name: string } }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
};
const spec = (o: K8sObject) => o['spec'] as Spec;

/** Creates every souk.dev object on a Kubernetes API test server serving our CRDs, which validates them. */
async function applyOurs(objs: K8sObject[]): Promise<void> {
  const api = await startKubeApiServer({ namespaces: ['souk-system'] });
  try {
    const client = KubernetesObjectApi.makeApiClient(api.kubeConfig());
    for (const f of readdirSync(path.join(repoRoot, 'crds')).filter((f) => f.startsWith('souk.dev_'))) {
      // loadYaml, not a plain parse: client-node's typed serializer would drop the x-kubernetes-* keys.
      await client.create(loadYaml<KubernetesObject>(readFileSync(path.join(repoRoot, 'crds', f), 'utf8')));
    }
    for (const o of objs.filter(ours)) {
      try {
        await client.create(o as never);
      } catch (e) {
        const body = (e as { body?: unknown }).body;
        throw new Error(
          `${o.kind}/${o.metadata.name} rejected: ${typeof body === 'string' ? body : JSON.stringify(body)}`,
        );
      }
    }
  } finally {
    await api.stop();
  }
}

test('helm lint --strict passes', async () => {
  const r = await helm(['lint', '--strict', chartDir('souk')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
});

for (const [label, opts] of [
  ['default values', {}],
  ['minimal values', { values: [values('souk-minimal.yaml')] }],
  [
    'full-featured values',
    { values: [values('souk-full.yaml')], apiVersions: [...monitoring, 'postgresql.cnpg.io/v1/Cluster'] },
  ],
] as const) {
  test(`renders with ${label}: standard objects validate offline, our CRs pass the CRD schemas`, async () => {
    const objs = await render('souk', { namespace: 'souk-system', ...opts });
    for (const o of objs.filter((x) => !ours(x) && !thirdParty(x))) await validateObject(o);
    await applyOurs(objs);
    for (const o of objs) {
      const labels = o.metadata.labels ?? {};
      assert.is(labels['app.kubernetes.io/part-of'], 'souk', `${o.kind}/${o.metadata.name}`);
      assert.ok(
        labels['app.kubernetes.io/instance'] && labels['app.kubernetes.io/component'],
        o.metadata.name,
      );
    }
  });
}

test('every reference resolves inside the release: topics, cache, secrets, ingress backends', async () => {
  const objs = await render('souk', { namespace: 'souk-system' });
  const topics = names(objs, 'Topic');
  const caches = names(objs, 'RedisCluster');
  const secrets = names(objs, 'Secret');
  const services = names(objs, 'Microservice');
  assert.is(services.size, 5);
  assert.is(topics.size, 8, 'four topics and their dead-letter topics');
  for (const ms of of(objs, 'Microservice')) {
    for (const t of spec(ms).topics ?? [])
      assert.ok(topics.has(t.name), `${ms.metadata.name} → Topic ${t.name}`);
    assert.ok(caches.has(spec(ms).redisCluster?.name ?? ''), `${ms.metadata.name} → RedisCluster`);
    for (const e of spec(ms).envFrom ?? [])
      assert.ok(secrets.has(e.secretRef?.name ?? ''), `${ms.metadata.name} envFrom`);
    for (const e of spec(ms).env ?? []) {
      const ref = e.valueFrom?.secretKeyRef?.name;
      if (ref) assert.ok(secrets.has(ref), `${ms.metadata.name} env ${e.name}`);
    }
  }
  const ingress = of(objs, 'Ingress')[0] as unknown as {
    spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
  };
  const paths = ingress.spec.rules[0]!.http.paths;
  assert.ok(paths.some((p) => p.path === '/items' && p.backend.service.name === 'souk-inventory'));
  for (const p of paths) assert.ok(services.has(p.backend.service.name), `ingress ${p.path}`);
  assert.not.ok(
    paths.some((p) => p.backend.service.name.endsWith('-payments')),
    'payments has no public API',
  );
  const topicNames = of(objs, 'Topic').map((t) => spec(t)['topicName']);
  assert.ok(topicNames.includes('orders.events') && topicNames.includes('orders.events.dlq'));
});

test('PostgreSQL: a StatefulSet pair by default, CloudNativePG when served, and services point at it', async () => {
  const plain = await render('souk', { namespace: 'souk-system' });
  const sts = of(plain, 'StatefulSet').map((s) => s.metadata.name);
  assert.ok(sts.includes('souk-postgres-primary') && sts.includes('souk-postgres-replica'), sts.join());
  const secret = plain.find((o) => o.metadata.name === 'souk-orders-database') as unknown as {
    stringData: Record<string, string>;
  };
  assert.match(secret.stringData['DATABASE_URL']!, /@souk-postgres:5432\/orders$/);
  assert.match(secret.stringData['DATABASE_REPLICA_URL']!, /@souk-postgres-read:5432\/orders$/);

  const cnpg = await render('souk', {
    namespace: 'souk-system',
    apiVersions: ['postgresql.cnpg.io/v1/Cluster'],
  });
  const cluster = of(cnpg, 'Cluster')[0] as unknown as {
    spec: { instances: number; enableSuperuserAccess: boolean };
  };
  assert.is(cluster.spec.instances, 2);
  assert.ok(cluster.spec.enableSuperuserAccess, 'the migration Job creates roles as the superuser');
  assert.not.ok(of(cnpg, 'StatefulSet').some((s) => s.metadata.name.includes('postgres')));
  const cnpgSecret = cnpg.find((o) => o.metadata.name === 'souk-orders-database') as unknown as {
    stringData: Record<string, string>;
  };
  assert.match(cnpgSecret.stringData['DATABASE_URL']!, /@souk-postgres-rw:5432/);
  assert.match(cnpgSecret.stringData['DATABASE_REPLICA_URL']!, /@souk-postgres-ro:5432/);
});

test('migrations run as a hook Job per database, after install and before upgrade', async () => {
  const objs = await render('souk', { namespace: 'souk-system' });
  const jobs = of(objs, 'Job');
  assert.is(jobs.length, 5);
  for (const j of jobs) {
    const hook = (j.metadata['annotations'] as Record<string, string>)['helm.sh/hook'];
    assert.is(hook, 'post-install,pre-upgrade', j.metadata.name);
  }
});

interface PolicyRule {
  from?: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown }[];
  ports?: { protocol: string; port: number | string }[];
}
function ingressOf(objs: K8sObject[], name: string): PolicyRule[] {
  const policy = objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
  if (!policy) throw new Error(`no NetworkPolicy ${name}`);
  return (policy['spec'] as { ingress?: PolicyRule[] }).ingress ?? [];
}

test('NetworkPolicies: Prometheus reaches the metrics ports, the redis_exporter sidecar included, and no database port', async () => {
  const objs = await render('souk', {
    namespace: 'souk-system',
    set: ['networkPolicies.monitoringNamespaceSelector.team=observability'],
  });
  const monitoring = { 'kubernetes.io/metadata.name': 'monitoring', team: 'observability' };
  const fromMonitoring = (r: PolicyRule) =>
    r.from?.some((f) => JSON.stringify(f.namespaceSelector?.matchLabels) === JSON.stringify(monitoring)) ??
    false;

  const redis = ingressOf(objs, 'souk-redis').filter(fromMonitoring);
  assert.equal(
    redis.map((r) => r.ports),
    [[{ protocol: 'TCP', port: EXPORTER_PORT }]],
    'the Redis policy admits the monitoring namespace to the exporter port, and only to it',
  );
  const metrics = ingressOf(objs, 'souk-metrics');
  assert.ok(metrics.every(fromMonitoring));
  assert.equal(
    metrics.flatMap((r) => r.ports?.map((p) => p.port) ?? ['every port']),
    ['http', 'metrics'],
  );
  for (const o of of(objs, 'NetworkPolicy')) {
    for (const r of ingressOf(objs, o.metadata.name).filter(fromMonitoring)) {
      for (const p of r.ports ?? [])
        assert.not.ok([5432, 6379, 16379].includes(p.port as number), o.metadata.name);
    }
  }
});

test("postgres_exporter runs the chart's replication queries (pg_replication_lag, pg_replication_is_replica)", async () => {
  const objs = await render('souk', { namespace: 'souk-system' });
  const queries = of(objs, 'ConfigMap').find(
    (c) => c.metadata.name === 'souk-postgres-exporter',
  ) as unknown as {
    data: Record<string, string>;
  };
  assert.is(
    queries.data['queries.yaml'],
    readFileSync(path.join(chartDir('souk'), 'files', 'postgres-exporter-queries.yaml'), 'utf8'),
  );
  for (const sts of of(objs, 'StatefulSet').filter((s) => s.metadata.name.startsWith('souk-postgres-'))) {
    const pod = (sts['spec'] as { template: { spec: Record<string, unknown> } }).template.spec as {
      containers: { name: string; args?: string[]; volumeMounts?: { name: string; mountPath: string }[] }[];
      volumes: { name: string; configMap?: { name: string } }[];
    };
    const exporter = pod.containers.find((c) => c.name === 'exporter')!;
    assert.equal(
      exporter.args,
      ['--extend.query-path=/etc/postgres-exporter/queries.yaml'],
      sts.metadata.name,
    );
    const mount = exporter.volumeMounts?.find((m) => m.mountPath === '/etc/postgres-exporter');
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    assert.is(volume?.configMap?.name, 'souk-postgres-exporter', sts.metadata.name);
  }
});

for (const [set, message] of [
  ['redis.masters=2', /redis.masters: Must be greater than or equal to 3/],
  ['kafka.mode=external', /kafka.bootstrapServers: String length must be greater than or equal to 1/],
  ['postgres.mode=mysql', /postgres.mode: postgres.mode must be one of/],
  ['services.shipping.enabled=true', /services: Additional property shipping is not allowed/],
  ['serviceDefaults.port=0', /serviceDefaults.port: Must be greater than or equal to 1/],
  ['topics.deletionPolicy=Forget', /topics.deletionPolicy: topics.deletionPolicy must be one of/],
  ['monitoring.alerts.sagaFailureRatio=2', /sagaFailureRatio: Must be less than or equal to 1/],
] as const) {
  test(`values.schema.json rejects ${set} with a clear message`, async () => {
    const r = await helm(['template', 'x', chartDir('souk'), '--set', set]);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, message);
  });
}

test('alert rules: promtool check, and a unit test per alert', async () => {
  const objs = await render('souk', { apiVersions: monitoring });
  const rule = of(objs, 'PrometheusRule')[0] as unknown as { spec: unknown };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'souk-rules-'));
  try {
    writeFileSync(path.join(dir, 'platform-alerts.rendered.yaml'), stringify(rule.spec));
    const tests = path.join(dir, 'platform-alerts.test.yaml');
    writeFileSync(tests, readFileSync(path.join(import.meta.dirname, 'rules', 'platform-alerts.test.yaml')));
    const check = await exec('promtool', ['check', 'rules', path.join(dir, 'platform-alerts.rendered.yaml')]);
    assert.match(check.stdout, /SUCCESS: 6 rules found/);
    const unit = await exec('promtool', ['test', 'rules', tests]);
    assert.match(unit.stdout + unit.stderr, /SUCCESS/);
    const alerts = (
      parse(readFileSync(tests, 'utf8')) as { tests: { alert_rule_test: { alertname: string }[] }[] }
    ).tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname));
    const defined = (rule.spec as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
      g.rules.map((r) => r.alert),
    );
    for (const a of defined) assert.ok(alerts.includes(a), `no unit test for ${a}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dashboards: generated files are current, carry the sidecar label, and every query parses', async () => {
  for (const [file, json] of renderDashboards()) {
    assert.is(
      readFileSync(path.join(dashboardDir, file), 'utf8'),
      json,
      `${file} is stale: npm run -w charts generate:dashboards`,
    );
  }
  const objs = await render('souk');
  const maps = of(objs, 'ConfigMap').filter((c) => c.metadata.labels?.['grafana_dashboard'] === '1');
  assert.is(maps.length, dashboards.length);
  // promtool parses PromQL offline when the expressions are recording rules.
  const rules = dashboards.flatMap((d) =>
    d.panels.map((p, i) => ({
      record: `dashboard:${d.uid.replace(/-/g, '_')}:${i}`,
      expr: p.expr.replace(/\$service/g, '.*'),
    })),
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'souk-dash-'));
  try {
    const file = path.join(dir, 'queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const check = await exec('promtool', ['check', 'rules', file]);
    assert.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
