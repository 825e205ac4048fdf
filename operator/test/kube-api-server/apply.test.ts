import {
  AppsV1Api,
  CoreV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { expectStatus } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: patch and server-side apply');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['ssa'] });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

function client(api: KubeApiServer) {
  return KubernetesObjectApi.makeApiClient(api.kubeConfig());
}

async function apply(
  api: KubeApiServer,
  obj: Obj,
  manager: string,
  force = false,
): Promise<KubernetesObject> {
  return client(api).patch<KubernetesObject>(
    obj,
    undefined,
    undefined,
    manager,
    force,
    PatchStrategy.ServerSideApply,
  );
}

const cm = (data: Record<string, string>, name = 'cfg'): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ssa' },
  data,
});

test('apply creates (201) and records managedFields per manager', async ({ api }) => {
  const created = await apply(api, cm({ a: '1', b: '2' }), 'operator');
  assert.is(api.requests().at(-1)?.status, 201);
  const mf = created.metadata?.managedFields ?? [];
  assert.is(mf.length, 1);
  assert.is(mf[0]?.manager, 'operator');
  assert.is(mf[0]?.operation, 'Apply');
  assert.equal(mf[0]?.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });

  const other = await apply(api, cm({ c: '3' }), 'helper');
  assert.equal((other as unknown as { data: Record<string, string> }).data, { a: '1', b: '2', c: '3' });
  const managers = (other.metadata?.managedFields ?? []).map((m) => m.manager).sort();
  assert.equal(managers, ['helper', 'operator']);
});

test('conflicting apply is a 409 naming the fields and managers; force takes ownership', async ({ api }) => {
  const err = await expectStatus(apply(api, cm({ a: 'changed' }), 'helper'), 409);
  assert.is(err.reason, 'Conflict');
  assert.is(err.message, 'Apply failed with 1 conflict: conflict with "operator": .data.a');
  assert.equal(JSON.parse(JSON.stringify(err.details?.causes)), [
    { reason: 'FieldManagerConflict', message: 'conflict with "operator"', field: '.data.a' },
  ]);

  const same = await apply(api, cm({ a: '1', c: '3' }), 'helper');
  assert.is(
    (same as unknown as { data: Record<string, string> }).data.a,
    '1',
    'same value: shared ownership, no conflict',
  );

  const forced = await apply(api, cm({ a: 'forced', c: '3' }), 'helper', true);
  assert.is((forced as unknown as { data: Record<string, string> }).data.a, 'forced');
  const byManager = Object.fromEntries(
    (forced.metadata?.managedFields ?? []).map((m) => [m.manager, m.fieldsV1]),
  );
  assert.equal(byManager.operator, { 'f:data': { 'f:b': {} } }, 'the previous owner lost the field');
  assert.equal(byManager.helper, { 'f:data': { 'f:a': {}, 'f:c': {} } });
});

test('fields a manager stops applying are removed unless someone else owns them', async ({ api }) => {
  await apply(api, cm({ x: '1', y: '2', shared: 's' }, 'prune'), 'one');
  await apply(api, cm({ shared: 's' }, 'prune'), 'two');
  const after = await apply(api, cm({ x: '1' }, 'prune'), 'one');
  assert.equal((after as unknown as { data: Record<string, string> }).data, { x: '1', shared: 's' });
});

test('an Update by another manager takes the field; the applier then conflicts with it', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await apply(api, cm({ k: 'v1' }, 'upd'), 'applier');
  await core.patchNamespacedConfigMap(
    { name: 'upd', namespace: 'ssa', body: { data: { k: 'v2' } }, fieldManager: 'kubectl-edit' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const err = await expectStatus(apply(api, cm({ k: 'v1' }, 'upd'), 'applier'), 409);
  assert.match(
    err.message ?? '',
    /^Apply failed with 1 conflict: conflict with "kubectl-edit" using v1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: \.data\.k$/,
  );
});

test('apply on a Deployment merges containers by name and owns items with keys', async ({ api }) => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ssa' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'app:1' }] },
      },
    },
  };
  const created = await apply(api, d, 'operator');
  const fields = JSON.stringify(created.metadata?.managedFields?.[0]?.fieldsV1);
  assert.ok(fields.includes('"k:{\\"name\\":\\"app\\"}":{".":{},"f:image":{},"f:name":{}}'), fields);
  assert.ok(fields.includes('"f:selector":{}'), 'label selectors are atomic');
  const spec = (created as unknown as V1Deployment).spec!;
  assert.is(
    spec.template.spec?.containers[0]?.terminationMessagePath,
    '/dev/termination-log',
    'defaults apply',
  );
  assert.is(created.metadata?.generation, 1);

  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  const sidecar = await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: 'ssa',
      body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'proxy:1' }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  assert.equal(
    sidecar.spec?.template.spec?.containers.map((c) => c.name),
    ['app', 'sidecar'],
    'strategic merge by name',
  );
  assert.is(sidecar.metadata?.generation, 2);

  const bumped = await apply(
    api,
    {
      ...d,
      spec: {
        ...d.spec,
        template: { ...d.spec.template, spec: { containers: [{ name: 'app', image: 'app:2' }] } },
      },
    },
    'operator',
  );
  const containers = (bumped as unknown as V1Deployment).spec!.template.spec!.containers;
  assert.equal(
    containers.map((c) => `${c.name}=${c.image}`),
    ['app=app:2', 'sidecar=proxy:1'],
    'the other manager keeps its item',
  );
  assert.is(bumped.metadata?.generation, 3);

  const removed = await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: 'ssa',
      body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  assert.equal(
    removed.spec?.template.spec?.containers.map((c) => c.name),
    ['app'],
  );
});

test('list-map keys with defaults: container ports applied without protocol are keyed by TCP', async ({
  api,
}) => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ports', namespace: 'ssa' },
    spec: {
      selector: { matchLabels: { app: 'ports' } },
      template: {
        metadata: { labels: { app: 'ports' } },
        spec: {
          containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      },
    },
  };
  await apply(api, d, 'operator');
  const again = await apply(api, d, 'operator');
  const c = (again as unknown as V1Deployment).spec!.template.spec!.containers[0]!;
  assert.equal(JSON.parse(JSON.stringify(c.ports)), [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  const fields = JSON.stringify(again.metadata?.managedFields?.[0]?.fieldsV1);
  assert.ok(fields.includes('k:{\\"containerPort\\":8080,\\"protocol\\":\\"TCP\\"}'), fields);
});

test('JSON patch with test op; apply without fieldManager is rejected', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: 'ssa',
    body: { metadata: { name: 'jp' }, data: { n: '1' } },
  });
  const patched = await core.patchNamespacedConfigMap(
    {
      name: 'jp',
      namespace: 'ssa',
      body: [
        { op: 'test', path: '/data/n', value: '1' },
        { op: 'replace', path: '/data/n', value: '2' },
        { op: 'add', path: '/data/m', value: '3' },
      ],
    },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  assert.equal(patched.data, { n: '2', m: '3' });
  await expectStatus(
    core.patchNamespacedConfigMap(
      { name: 'jp', namespace: 'ssa', body: [{ op: 'test', path: '/data/n', value: '1' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
    422,
  );
  const noManager = await expectStatus(
    client(api).patch(
      cm({ a: '1' }, 'jp'),
      undefined,
      undefined,
      undefined,
      undefined,
      PatchStrategy.ServerSideApply,
    ),
    422,
  );
  assert.match(noManager.message ?? '', /fieldManager: Required value: is required for apply patch/);
});

test.run();
