import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@souk/harness/workspaces';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chartDir, helm, type K8sObject, parseObjects, render } from './support/helm.ts';
import { validateObject } from './support/validate.ts';

const exec = promisify(execFile);
const values = (name: string) => path.join(import.meta.dirname, 'values', name);
const monitoringApis = ['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule'];
const find = (objs: K8sObject[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

test('helm lint --strict passes', async () => {
  const r = await helm(['lint', '--strict', chartDir('souk-operator')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /0 chart\(s\) failed/);
});

for (const [label, opts] of [
  ['default values', {}],
  ['minimal values', { values: [values('operator-minimal.yaml')] }],
  ['full-featured values', { values: [values('operator-full.yaml')], apiVersions: monitoringApis }],
] as const) {
  test(`renders with ${label}, and every object validates offline`, async () => {
    const objs = await render('souk-operator', opts);
    assert.ok(objs.length >= 8, `only ${objs.length} objects`);
    for (const o of objs) await validateObject(o);
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition')) {
      assert.is(
        o.metadata.labels?.['app.kubernetes.io/part-of'],
        'souk',
        `${o.kind}/${o.metadata.name} labels`,
      );
      assert.ok(
        o.metadata.labels?.['app.kubernetes.io/name'],
        `${o.kind}/${o.metadata.name} has a name label`,
      );
    }
  });
}

test('minimal values drop leader election and monitoring; full values carry every setting through', async () => {
  const minimal = await render('souk-operator', {
    values: [values('operator-minimal.yaml')],
    apiVersions: monitoringApis,
  });
  assert.not.ok(find(minimal, 'Role'), 'no leader-election Role without leader election');
  assert.not.ok(find(minimal, 'ServiceMonitor'));
  assert.not.ok(find(minimal, 'PrometheusRule'));

  const full = await render('souk-operator', {
    values: [values('operator-full.yaml')],
    apiVersions: monitoringApis,
  });
  const deploy = find(full, 'Deployment') as unknown as {
    spec: {
      replicas: number;
      template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } };
    };
  };
  assert.is(deploy.spec.replicas, 3);
  const c = deploy.spec.template.spec.containers[0]!;
  assert.is(c.image, 'registry.example.com/souk/operator:0.1.0-rc.1');
  const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  assert.is(env['WATCH_NAMESPACE'], 'shop');
  assert.is(env['SOUK_KAFKA_BOOTSTRAP'], 'kafka-0.kafka:9092,kafka-1.kafka:9092');
  assert.is(env['LEASE_DURATION_MS'], '30000');
  assert.is(env['WORKERS'], '8');
  assert.ok(find(full, 'ServiceMonitor'));
  assert.ok(find(full, 'PrometheusRule'));
});

test('ServiceMonitor and PrometheusRule follow the cluster by default', async () => {
  const without = await render('souk-operator');
  assert.not.ok(find(without, 'ServiceMonitor'));
  assert.not.ok(find(without, 'PrometheusRule'));
  const withApis = await render('souk-operator', { apiVersions: monitoringApis });
  const rule = find(withApis, 'PrometheusRule') as unknown as {
    spec: { groups: { rules: { alert: string }[] }[] };
  };
  const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
  assert.ok(alerts.includes('SoukOperatorNoLeader'), alerts.join());
});

for (const [set, message] of [
  ['replicaCount=0', /replicaCount: Must be greater than or equal to 1/],
  ['logLevel=verbose', /logLevel: .*must be one of/i],
  ['kafka.bootstrapServers=not a list', /kafka.bootstrapServers: Does not match pattern/],
  ['replicas=2', /Additional property replicas is not allowed/],
  ['metrics.port=70000', /metrics.port: Must be less than or equal to 65535/],
] as const) {
  test(`values.schema.json rejects ${set} with a clear message`, async () => {
    const r = await helm(['template', 'x', chartDir('souk-operator'), '--set', set]);
    assert.is.not(r.code, 0);
    assert.match(r.stderr, message);
  });
}

test("the chart's CRDs are the generated ones in crds/", () => {
  const chartCrds = path.join(chartDir('souk-operator'), 'crds');
  const files = readdirSync(path.join(repoRoot, 'crds')).filter((f) => f.startsWith('souk.dev_'));
  assert.equal(readdirSync(chartCrds).sort(), files.sort());
  for (const f of files) {
    assert.is(
      readFileSync(path.join(chartCrds, f), 'utf8'),
      readFileSync(path.join(repoRoot, 'crds', f), 'utf8'),
      `${f} differs: npm run -w operator generate:crds`,
    );
  }
});

test('manifests/ grants exactly the RBAC the chart grants', async () => {
  const chart = await render('souk-operator', { release: 'souk-operator' });
  const bundle = parseObjects(readFileSync(path.join(repoRoot, 'manifests', 'rbac.yaml'), 'utf8'));
  for (const kind of ['ClusterRole', 'Role']) {
    const a = find(chart, kind) as unknown as { rules: unknown };
    const b = find(bundle, kind) as unknown as { rules: unknown };
    assert.ok(a && b, `${kind} in both`);
    assert.equal(a.rules, b.rules, `${kind} rules differ between the chart and manifests/rbac.yaml`);
  }
});

test('alert rules pass promtool check and their unit tests', async () => {
  const rules = path.join(chartDir('souk-operator'), 'files', 'operator-alerts.yaml');
  const check = await exec('promtool', ['check', 'rules', rules]);
  assert.match(check.stdout, /SUCCESS: 4 rules found/);
  const unit = await exec('promtool', [
    'test',
    'rules',
    path.join(import.meta.dirname, 'rules', 'operator-alerts.test.yaml'),
  ]);
  assert.match(unit.stdout + unit.stderr, /SUCCESS/);
});

test.run();
