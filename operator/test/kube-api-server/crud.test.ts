import {
  ApisApi,
  AppsV1Api,
  AutoscalingV2Api,
  CoreApi,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
  V1MicroTime,
} from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { eventually, expectStatus } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: CRUD');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['shop'] });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function deployment(name: string, replicas = 2): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'ghcr.io/souk/app:1.0.0', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  };
}

test('discovery lists groups, versions and resources with namespaced, kind, verbs and shortNames', async ({
  api,
}) => {
  const kc = api.kubeConfig();
  const versions = await kc.makeApiClient(CoreApi).getAPIVersions();
  assert.equal(versions.versions, ['v1']);
  const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
  const apps = groups.groups.find((g) => g.name === 'apps');
  assert.is(apps?.preferredVersion?.groupVersion, 'apps/v1');
  assert.ok(
    groups.groups.some((g) => g.name === 'autoscaling' && g.versions.some((v) => v.version === 'v2')),
  );
  const core = await kc.makeApiClient(CoreV1Api).getAPIResources();
  const cm = core.resources.find((r) => r.name === 'configmaps');
  assert.is(cm?.kind, 'ConfigMap');
  assert.is(cm?.namespaced, true);
  assert.equal(cm?.shortNames, ['cm']);
  assert.ok(cm?.verbs.includes('watch'));
  const ns = core.resources.find((r) => r.name === 'namespaces');
  assert.is(ns?.namespaced, false);
  const appsRes = await kc.makeApiClient(AppsV1Api).getAPIResources();
  assert.ok(appsRes.resources.some((r) => r.name === 'deployments/status' && r.kind === 'Deployment'));
});

test('create, read, replace, patch and delete a ConfigMap; metadata is server-owned', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const created = await core.createNamespacedConfigMap({
    namespace: 'shop',
    body: { metadata: { name: 'settings', labels: { tier: 'web' } }, data: { a: '1' } },
  });
  assert.ok(created.metadata?.uid);
  assert.ok(created.metadata?.creationTimestamp instanceof Date);
  assert.is(created.metadata?.namespace, 'shop');
  const rv1 = Number(created.metadata?.resourceVersion);
  assert.ok(rv1 > 0);
  assert.is(created.metadata?.managedFields?.[0]?.operation, 'Update');

  const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'shop' });
  assert.equal(read.data, { a: '1' });

  const replaced = await core.replaceNamespacedConfigMap({
    name: 'settings',
    namespace: 'shop',
    body: { ...read, data: { a: '2' } },
  });
  const rv2 = Number(replaced.metadata?.resourceVersion);
  assert.ok(rv2 > rv1, 'resourceVersion increases on every write');
  assert.is(replaced.metadata?.uid, created.metadata?.uid);

  const patched = await core.patchNamespacedConfigMap(
    { name: 'settings', namespace: 'shop', body: { data: { b: '3' } } },
    merge,
  );
  assert.equal(patched.data, { a: '2', b: '3' });
  assert.ok(Number(patched.metadata?.resourceVersion) > rv2);

  const unchanged = await core.patchNamespacedConfigMap(
    { name: 'settings', namespace: 'shop', body: { data: { b: '3' } } },
    merge,
  );
  assert.is(
    unchanged.metadata?.resourceVersion,
    patched.metadata?.resourceVersion,
    'a no-op write keeps the version',
  );

  const deleted = (await core.deleteNamespacedConfigMap({
    name: 'settings',
    namespace: 'shop',
  })) as unknown as {
    kind: string;
    status: string;
    details: { name: string; kind: string; uid: string };
  };
  assert.is(deleted.kind, 'Status');
  assert.is(deleted.status, 'Success');
  assert.equal(JSON.parse(JSON.stringify(deleted.details)), {
    name: 'settings',
    kind: 'configmaps',
    uid: created.metadata?.uid,
  });
  const gone = await expectStatus(core.readNamespacedConfigMap({ name: 'settings', namespace: 'shop' }), 404);
  assert.is(gone.reason, 'NotFound');
  assert.is(gone.message, 'configmaps "settings" not found');
  assert.equal(gone.details, { name: 'settings', kind: 'configmaps' });
});

test('409 AlreadyExists, 409 Conflict on a stale resourceVersion, 404 for a missing namespace', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const body: V1ConfigMap = { metadata: { name: 'dup' }, data: { v: '1' } };
  const first = await core.createNamespacedConfigMap({ namespace: 'shop', body });
  const exists = await expectStatus(core.createNamespacedConfigMap({ namespace: 'shop', body }), 409);
  assert.is(exists.reason, 'AlreadyExists');
  assert.is(exists.message, 'configmaps "dup" already exists');

  await core.replaceNamespacedConfigMap({
    name: 'dup',
    namespace: 'shop',
    body: { ...first, data: { v: '2' } },
  });
  const stale = await expectStatus(
    core.replaceNamespacedConfigMap({ name: 'dup', namespace: 'shop', body: { ...first, data: { v: '3' } } }),
    409,
  );
  assert.is(stale.reason, 'Conflict');
  assert.is(
    stale.message,
    'Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again',
  );
  assert.equal(stale.details, { name: 'dup', kind: 'configmaps' });

  const missingNs = await expectStatus(
    core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }),
    404,
  );
  assert.is(missingNs.message, 'namespaces "nowhere" not found');
});

test('generateName, and names are validated as DNS-1123 (422 naming metadata.name)', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const gen = await core.createNamespacedConfigMap({
    namespace: 'shop',
    body: { metadata: { generateName: 'job-' } },
  });
  assert.match(gen.metadata?.name ?? '', /^job-[a-z0-9]{5}$/);
  const bad = await expectStatus(
    core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'Bad_Name' } } }),
    422,
  );
  assert.is(bad.reason, 'Invalid');
  assert.is(bad.details?.kind, 'ConfigMap');
  assert.is(bad.details?.causes?.[0]?.field, 'metadata.name');
  assert.is(bad.details?.causes?.[0]?.reason, 'FieldValueInvalid');
  assert.match(
    bad.message ?? '',
    /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
  );
  const svc = await expectStatus(
    core.createNamespacedService({
      namespace: 'shop',
      body: { metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } },
    }),
    422,
  );
  assert.match(svc.message ?? '', /a DNS-1035 label/);
});

test('generation moves with spec only; status subresource writes ignore spec and vice versa', async ({
  api,
}) => {
  api.kubelet.setMode('manual');
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  const d = await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('gen', 2) });
  assert.is(d.metadata?.generation, 1);
  assert.is(d.spec?.strategy?.type, 'RollingUpdate', 'built-in defaults are applied');
  assert.is(d.spec?.template?.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');

  const labelled = await apps.patchNamespacedDeployment(
    { name: 'gen', namespace: 'shop', body: { metadata: { labels: { extra: 'yes' } } } },
    merge,
  );
  assert.is(labelled.metadata?.generation, 1, 'metadata changes do not bump generation');

  const scaled = await apps.patchNamespacedDeployment(
    { name: 'gen', namespace: 'shop', body: { spec: { replicas: 3 } } },
    merge,
  );
  assert.is(scaled.metadata?.generation, 2);

  const withStatus = await apps.patchNamespacedDeployment(
    { name: 'gen', namespace: 'shop', body: { status: { collisionCount: 5 } } },
    merge,
  );
  assert.is(withStatus.status?.collisionCount, undefined, 'the main resource ignores status');

  const viaStatus = await apps.patchNamespacedDeploymentStatus(
    {
      name: 'gen',
      namespace: 'shop',
      body: { spec: { replicas: 7 }, status: { replicas: 3, observedGeneration: 2 } },
    },
    merge,
  );
  assert.is(viaStatus.status?.replicas, 3);
  assert.is(viaStatus.spec?.replicas, 3, '/status ignores spec');
  assert.is(viaStatus.metadata?.generation, 2, 'status writes do not bump generation');

  const current = await apps.readNamespacedDeploymentStatus({ name: 'gen', namespace: 'shop' });
  current.status = { ...current.status, readyReplicas: 1 };
  const put = await apps.replaceNamespacedDeploymentStatus({ name: 'gen', namespace: 'shop', body: current });
  assert.is(put.status?.readyReplicas, 1);
  const managers =
    put.metadata?.managedFields?.map((m) => `${m.manager}/${m.operation}/${m.subresource ?? ''}`) ?? [];
  assert.ok(
    managers.some((m) => m.endsWith('/Update/status')),
    'status writes are tracked per subresource',
  );
  api.kubelet.setMode('instant');
});

test('built-in validation: Deployment required fields, PDB minAvailable xor maxUnavailable', async ({
  api,
}) => {
  const kc = api.kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const noSelector = deployment('broken');
  delete noSelector.spec!.selector.matchLabels;
  noSelector.spec!.template.spec!.containers = [];
  const err = await expectStatus(
    apps.createNamespacedDeployment({ namespace: 'shop', body: noSelector }),
    422,
  );
  const fields = err.details?.causes?.map((c) => c.field) ?? [];
  assert.ok(fields.includes('spec.selector'), fields.join());
  assert.ok(fields.includes('spec.template.spec.containers'), fields.join());

  const pdb = await expectStatus(
    kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: 'shop',
      body: {
        metadata: { name: 'pdb' },
        spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { a: 'b' } } },
      },
    }),
    422,
  );
  assert.is(pdb.details?.causes?.[0]?.field, 'spec');
  assert.match(pdb.message ?? '', /minAvailable and maxUnavailable cannot be both set/);
});

test('built-in schemas: a mistyped field is a 400 decode error, an enum violation a 422', async ({ api }) => {
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  const typed = deployment('typed');
  (typed.spec as unknown as { replicas: string }).replicas = 'three';
  const decode = await expectStatus(apps.createNamespacedDeployment({ namespace: 'shop', body: typed }), 400);
  assert.is(decode.reason, 'BadRequest');
  assert.match(
    decode.message ?? '',
    /^Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string/,
  );
  const policy = deployment('policy');
  policy.spec!.template.spec!.containers[0]!.imagePullPolicy = 'Sometimes';
  const err = await expectStatus(apps.createNamespacedDeployment({ namespace: 'shop', body: policy }), 422);
  assert.equal(JSON.parse(JSON.stringify(err.details?.causes)), [
    {
      reason: 'FieldValueNotSupported',
      message: 'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      field: 'spec.template.spec.containers[0].imagePullPolicy',
    },
  ]);
});

test('unknown fields of built-in kinds are dropped with a warning, or refused with fieldValidation=Strict', async ({
  api,
}) => {
  // The typed clients drop unknown fields themselves; CustomObjectsApi sends the body as given.
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const deployments = { group: 'apps', version: 'v1', namespace: 'shop', plural: 'deployments' };
  const body = { apiVersion: 'apps/v1', kind: 'Deployment', ...deployment('unknown') };
  (body.spec as unknown as Record<string, unknown>).replica = 3;
  const res = await co.createNamespacedCustomObjectWithHttpInfo({ ...deployments, body });
  assert.is(res.headers['warning'], '299 - "unknown field \\"spec.replica\\""');
  const stored = api.object('Deployment', 'shop', 'unknown') as { spec: Record<string, unknown> };
  assert.is(stored.spec.replica, undefined);
  const strict = await expectStatus(
    co.createNamespacedCustomObject({
      ...deployments,
      body: { ...body, metadata: { name: 'unknown2' } },
      fieldValidation: 'Strict',
    }),
    400,
  );
  assert.is(
    strict.message,
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"',
  );
});

test('built-in rules: requests within limits, env names, HPA metric targets, rolling update bounds', async ({
  api,
}) => {
  const kc = api.kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const d = deployment('rules');
  d.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '2' }, limits: { cpu: '500m' } };
  d.spec!.template.spec!.containers[0]!.env = [{ name: '1BAD', value: 'x' }];
  d.spec!.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
  const err = await expectStatus(apps.createNamespacedDeployment({ namespace: 'shop', body: d }), 422);
  const causes = (err.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
  assert.ok(
    causes.includes(
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m',
    ),
    causes.join('\n'),
  );
  assert.ok(
    causes.some((c) => c.startsWith('spec.template.spec.containers[0].env[0].name: Invalid value: "1BAD"')),
    causes.join('\n'),
  );
  assert.ok(
    causes.some((c) => c.startsWith('spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0')),
    causes.join('\n'),
  );

  const hpa = await expectStatus(
    kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: 'shop',
      body: {
        metadata: { name: 'web' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 2,
          maxReplicas: 5,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }],
        },
      },
    }),
    422,
  );
  assert.is(hpa.details?.causes?.[0]?.field, 'spec.metrics[0].resource.target.averageUtilization');
});

test('list: label and field selectors, list resourceVersion, limit/continue', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'listing' } } });
  for (const [name, tier] of [
    ['l1', 'web'],
    ['l2', 'db'],
    ['l3', 'web'],
    ['l4', 'cache'],
  ]) {
    await core.createNamespacedConfigMap({
      namespace: 'listing',
      body: { metadata: { name, labels: { tier: tier! } } },
    });
  }
  const web = await core.listNamespacedConfigMap({ namespace: 'listing', labelSelector: 'tier=web' });
  assert.equal(
    web.items.map((i) => i.metadata?.name),
    ['l1', 'l3'],
  );
  assert.is(web.metadata?.resourceVersion, String(api.resourceVersion()));
  const notWeb = await core.listNamespacedConfigMap({
    namespace: 'listing',
    labelSelector: 'tier notin (web),tier',
  });
  assert.equal(
    notWeb.items.map((i) => i.metadata?.name),
    ['l2', 'l4'],
  );
  const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=l2' });
  assert.equal(
    byName.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`),
    ['listing/l2'],
  );
  await expectStatus(core.listNamespacedConfigMap({ namespace: 'listing', fieldSelector: 'data.x=1' }), 400);

  const page1 = await core.listNamespacedConfigMap({ namespace: 'listing', limit: 3 });
  assert.is(page1.items.length, 3);
  assert.is(page1.metadata?.remainingItemCount, 1);
  await core.createNamespacedConfigMap({ namespace: 'listing', body: { metadata: { name: 'l5' } } });
  const page2 = await core.listNamespacedConfigMap({
    namespace: 'listing',
    limit: 3,
    _continue: page1.metadata?._continue,
  });
  assert.equal(
    page2.items.map((i) => i.metadata?.name),
    ['l4'],
    'continue serves the snapshot of the first page',
  );
  assert.is(page2.metadata?._continue, undefined);

  const page = await core.listNamespacedConfigMap({ namespace: 'listing', limit: 1 });
  await core.createNamespacedConfigMap({ namespace: 'listing', body: { metadata: { name: 'l6' } } });
  api.compact();
  const expired = await expectStatus(
    core.listNamespacedConfigMap({ namespace: 'listing', limit: 1, _continue: page.metadata?._continue }),
    410,
  );
  assert.is(expired.reason, 'Expired');
});

test('KubernetesObjectApi resolves kinds through discovery', async ({ api }) => {
  const client = KubernetesObjectApi.makeApiClient(api.kubeConfig());
  const created = await client.create({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'leader', namespace: 'shop' },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
  });
  assert.is(created.kind, 'Lease');
  const read = await client.read({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'leader', namespace: 'shop' },
  });
  assert.is((read as { spec: { holderIdentity: string } }).spec.holderIdentity, 'a');
  const list = await client.list('coordination.k8s.io/v1', 'Lease', 'shop');
  assert.is(list.items.length, 1);
  await client.delete({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'leader', namespace: 'shop' },
  });
  await eventually(() => api.object('Lease', 'shop', 'leader') === undefined, 'lease deletion');
});

test('dryRun writes nothing; deletecollection by label; protected namespaces; immutable ConfigMaps', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const rv = api.resourceVersion();
  const dry = await core.createNamespacedConfigMap({
    namespace: 'shop',
    body: { metadata: { name: 'dry' } },
    dryRun: 'All',
  });
  assert.is(dry.metadata?.name, 'dry');
  assert.is(api.object('ConfigMap', 'shop', 'dry'), undefined);
  assert.is(api.resourceVersion(), rv);

  for (const name of ['dc1', 'dc2', 'dc3']) {
    await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name, labels: { batch: name === 'dc3' ? 'keep' : 'drop' } } },
    });
  }
  await core.deleteCollectionNamespacedConfigMap({ namespace: 'shop', labelSelector: 'batch=drop' });
  assert.equal(
    api
      .objects('ConfigMap', 'shop')
      .filter((o) => String((o.metadata as { name: string }).name).startsWith('dc'))
      .map((o) => (o.metadata as { name: string }).name),
    ['dc3'],
  );

  const protectedNs = await expectStatus(core.deleteNamespace({ name: 'default' }), 403);
  assert.is(protectedNs.message, 'namespaces "default" is forbidden: this namespace may not be deleted');

  const frozen = await core.createNamespacedConfigMap({
    namespace: 'shop',
    body: { metadata: { name: 'frozen' }, data: { a: '1' }, immutable: true },
  });
  const err = await expectStatus(
    core.replaceNamespacedConfigMap({
      name: 'frozen',
      namespace: 'shop',
      body: { ...frozen, data: { a: '2' } },
    }),
    422,
  );
  assert.is(err.details?.causes?.[0]?.field, 'data');
});

test('Secrets fold stringData into data; Services get a cluster IP and node ports that persist', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const secret = await core.createNamespacedSecret({
    namespace: 'shop',
    body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
  });
  assert.equal(secret.data, { password: Buffer.from('s3cret').toString('base64') });
  assert.is(secret.stringData, undefined);
  assert.is(secret.type, 'Opaque');

  const svc = await core.createNamespacedService({
    namespace: 'shop',
    body: {
      metadata: { name: 'edge' },
      spec: { type: 'NodePort', selector: { app: 'edge' }, ports: [{ port: 80 }] },
    },
  });
  assert.match(svc.spec?.clusterIP ?? '', /^10\.96\./);
  const port = svc.spec?.ports?.[0];
  assert.is(port?.protocol, 'TCP');
  assert.is(port?.targetPort, 80);
  assert.ok((port?.nodePort ?? 0) >= 30000 && (port?.nodePort ?? 0) <= 32767);
  const relabelled = await core.replaceNamespacedService({
    name: 'edge',
    namespace: 'shop',
    body: {
      ...svc,
      metadata: { ...svc.metadata, labels: { x: 'y' } },
      spec: { ...svc.spec, ports: [{ port: 80 }] },
    },
  });
  assert.is(relabelled.spec?.ports?.[0]?.nodePort, port?.nodePort);
  assert.is(relabelled.spec?.clusterIP, svc.spec?.clusterIP);
});

test('namespace deletion terminates, empties and then removes the namespace', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
  await core.createNamespacedConfigMap({
    namespace: 'doomed',
    body: { metadata: { name: 'c', finalizers: ['souk.dev/hold'] } },
  });
  const ns = await core.deleteNamespace({ name: 'doomed' });
  assert.is((ns as { status?: { phase?: string } }).status?.phase, 'Terminating');
  const forbidden = await expectStatus(
    core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }),
    403,
  );
  assert.match(forbidden.message ?? '', /because it is being terminated/);
  const held = await eventually(() => {
    const c = api.object('ConfigMap', 'doomed', 'c') as
      | { metadata: { deletionTimestamp?: string } }
      | undefined;
    return c?.metadata.deletionTimestamp ? c : undefined;
  }, 'content marked for deletion');
  assert.ok(held);
  assert.ok(api.object('Namespace', '', 'doomed'), 'the namespace waits for its content');
  await core.patchNamespacedConfigMap(
    { name: 'c', namespace: 'doomed', body: { metadata: { finalizers: null } } },
    merge,
  );
  await eventually(() => api.object('Namespace', '', 'doomed') === undefined, 'namespace removal');
});

test('the scale subresource reads and writes spec.replicas of a Deployment', async ({ api }) => {
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: 'shop', body: deployment('scaled', 2) });
  const scale = await apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: 'shop' });
  assert.is(scale.kind, 'Scale');
  assert.is(scale.spec?.replicas, 2);
  assert.is(scale.status?.selector, 'app=scaled');
  const patched = await apps.patchNamespacedDeploymentScale(
    { name: 'scaled', namespace: 'shop', body: { spec: { replicas: 5 } } },
    merge,
  );
  assert.is(patched.spec?.replicas, 5);
  const d = await apps.readNamespacedDeployment({ name: 'scaled', namespace: 'shop' });
  assert.is(d.spec?.replicas, 5);
  assert.is(d.metadata?.generation, 2);
  assert.is(d.metadata?.managedFields?.find((m) => m.subresource === 'scale')?.operation, 'Update');
  const stale = await expectStatus(
    apps.replaceNamespacedDeploymentScale({
      name: 'scaled',
      namespace: 'shop',
      body: { ...scale, spec: { replicas: 1 } },
    }),
    409,
  );
  assert.is(stale.reason, 'Conflict');
});

test('core/v1 and events.k8s.io/v1 Events are one storage; events.k8s.io validates its required fields', async ({
  api,
}) => {
  const kc = api.kubeConfig();
  const events = kc.makeApiClient(EventsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const created = await events.createNamespacedEvent({
    namespace: 'shop',
    body: {
      metadata: { name: 'web.1' },
      eventTime: new V1MicroTime(),
      reportingController: 'souk.dev/operator',
      reportingInstance: 'operator-0',
      action: 'Reconcile',
      reason: 'Applied',
      type: 'Normal',
      note: 'applied 4 objects',
      regarding: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'shop' },
    },
  });
  assert.is(created.note, 'applied 4 objects');
  const asCore = await core.readNamespacedEvent({ name: 'web.1', namespace: 'shop' });
  assert.is(asCore.message, 'applied 4 objects');
  assert.is(asCore.involvedObject.name, 'web');
  assert.is(asCore.reportingComponent, 'souk.dev/operator');
  assert.is(asCore.metadata.resourceVersion, created.metadata?.resourceVersion);

  const err = await expectStatus(
    events.createNamespacedEvent({
      namespace: 'shop',
      body: { metadata: { name: 'bad' }, eventTime: new V1MicroTime() },
    }),
    422,
  );
  const fields = (err.details?.causes ?? []).map((c) => c.field).sort();
  assert.equal(fields, ['action', 'reason', 'reportingController', 'reportingInstance', 'type']);
  const legacy = await core.createNamespacedEvent({
    namespace: 'shop',
    body: {
      metadata: { name: 'legacy' },
      involvedObject: { kind: 'Pod', name: 'p' },
      reason: 'Started',
      message: 'ok',
    },
  });
  assert.is(legacy.count, undefined);
});

test('wire details: list items carry no apiVersion/kind; resourceVersion on create is refused', async ({
  api,
}) => {
  const res = await fetch(`${api.url}/api/v1/namespaces/shop/configmaps`);
  assert.is(res.headers.get('content-type'), 'application/json');
  const list = (await res.json()) as {
    kind: string;
    apiVersion: string;
    items: Array<Record<string, unknown>>;
  };
  assert.is(list.kind, 'ConfigMapList');
  assert.is(list.apiVersion, 'v1');
  assert.ok(list.items.length > 0);
  assert.ok(list.items.every((i) => i.kind === undefined && i.apiVersion === undefined));
  const other = await fetch(`${api.url}/not-an-api`);
  assert.is(other.status, 404);
  assert.is(await other.text(), '404 page not found\n');
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const err = await expectStatus(
    core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name: 'rv', resourceVersion: '5' } },
    }),
    500,
  );
  assert.is(
    err.message,
    'Internal error occurred: resourceVersion should not be set on objects to be created',
  );
});

test.run();
