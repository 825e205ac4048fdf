import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
  type V1APIResource,
  type V1CustomResourceDefinition,
  Watch,
} from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SERVICE_MONITOR_CRD } from './crds.ts';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { eventually, expectStatus } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: CustomResourceDefinitions');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['crs'] });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

// Written as in a CRD manifest; loadYaml maps "default", "enum" and "x-kubernetes-*" to the client's names.
const widgetCrd = loadYaml<V1CustomResourceDefinition>(
  JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.souk.dev' },
    spec: {
      group: 'example.souk.dev',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['image'],
                  'x-kubernetes-validations': [
                    {
                      rule: 'self.minReplicas <= self.replicas',
                      message: 'minReplicas must not exceed replicas',
                      fieldPath: '.minReplicas',
                    },
                    { rule: 'self.partitions >= oldSelf.partitions', message: 'partitions can only grow' },
                  ],
                  properties: {
                    image: { type: 'string', minLength: 1 },
                    replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
                    minReplicas: { type: 'integer', default: 0 },
                    partitions: { type: 'integer', default: 3 },
                    policy: { type: 'string', enum: ['Delete', 'Retain'], default: 'Delete' },
                    name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
                    rf: {
                      type: 'integer',
                      'x-kubernetes-validations': [
                        { rule: 'self == oldSelf', message: 'replicationFactor is immutable' },
                      ],
                    },
                    port: { 'x-kubernetes-int-or-string': true },
                    probes: {
                      type: 'object',
                      default: {},
                      properties: { path: { type: 'string', default: '/readyz' } },
                    },
                    config: { type: 'object', additionalProperties: { type: 'string' } },
                    tags: { type: 'array', maxItems: 2, items: { type: 'string' } },
                    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  },
                },
                status: {
                  type: 'object',
                  properties: { observedGeneration: { type: 'integer' }, ready: { type: 'boolean' } },
                },
              },
            },
          },
        },
      ],
    },
  }),
);

const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'example.souk.dev/v1alpha1',
  kind: 'Widget',
  metadata: { name, namespace: 'crs' },
  spec,
});

const widgets = { group: 'example.souk.dev', version: 'v1alpha1', namespace: 'crs', plural: 'widgets' };

test('creating a CRD establishes it and serves the custom kind in discovery', async ({ api }) => {
  const kc = api.kubeConfig();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const created = await ext.createCustomResourceDefinition({ body: widgetCrd });
  assert.is(created.metadata?.generation, 1);
  const established = await eventually(async () => {
    const crd = await ext.readCustomResourceDefinition({ name: 'widgets.example.souk.dev' });
    return crd.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True')
      ? crd
      : undefined;
  }, 'Established');
  assert.is(established.status?.acceptedNames?.kind, 'Widget');
  assert.equal(established.status?.storedVersions, ['v1alpha1']);
  // The discovery lookup KubernetesObjectApi uses to map a kind to its resource.
  const objects = KubernetesObjectApi.makeApiClient(kc) as unknown as {
    resource(apiVersion: string, kind: string): Promise<V1APIResource | undefined>;
  };
  const res = await objects.resource('example.souk.dev/v1alpha1', 'Widget');
  assert.is(res?.name, 'widgets');
  assert.is(res?.namespaced, true);
  assert.equal(res?.shortNames, ['wd']);
});

test('defaults (nested too) and pruning of unknown fields', async ({ api }) => {
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const created = (await co.createNamespacedCustomObject({
    ...widgets,
    body: widget('w1', { image: 'img', unknown: 'x', free: { anything: { goes: 1 } }, port: 'http' }),
  })) as { spec: Record<string, unknown>; metadata: { generation: number }; status?: unknown };
  assert.equal(created.spec, {
    image: 'img',
    replicas: 1,
    minReplicas: 0,
    partitions: 3,
    policy: 'Delete',
    probes: { path: '/readyz' },
    free: { anything: { goes: 1 } },
    port: 'http',
  });
  assert.is(created.metadata.generation, 1);
});

test('unknown fields: a Warning header by default, a 400 with fieldValidation=Strict', async ({ api }) => {
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const res = await co.createNamespacedCustomObjectWithHttpInfo({
    ...widgets,
    body: widget('warned', { image: 'img', typo: 1 }),
  });
  assert.is(res.headers['warning'], '299 - "unknown field \\"spec.typo\\""');
  const strict = await expectStatus(
    co.createNamespacedCustomObject({
      ...widgets,
      body: widget('strict', { image: 'img', typo: 1 }),
      fieldValidation: 'Strict',
    }),
    400,
  );
  assert.is(strict.reason, 'BadRequest');
  assert.is(
    strict.message,
    'Widget in version "v1alpha1" cannot be handled as a Widget: strict decoding error: unknown field "spec.typo"',
  );
});

test('schema violations are 422 Invalid with causes naming each field', async ({ api }) => {
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const err = await expectStatus(
    co.createNamespacedCustomObject({
      ...widgets,
      body: widget('bad', { replicas: 11, policy: 'Keep', name: 'Nope', tags: ['a', 'b', 'c'], port: 1.5 }),
    }),
    422,
  );
  assert.is(err.reason, 'Invalid');
  assert.is(err.details?.kind, 'Widget');
  assert.is(err.details?.group, 'example.souk.dev');
  const byField = Object.fromEntries(
    (err.details?.causes ?? []).map((c) => [c.field, `${c.reason}: ${c.message}`]),
  );
  assert.equal(Object.keys(byField).sort(), [
    'spec.image',
    'spec.name',
    'spec.policy',
    'spec.port',
    'spec.replicas',
    'spec.tags',
  ]);
  assert.is(byField['spec.image'], 'FieldValueRequired: Required value');
  assert.is(
    byField['spec.replicas'],
    'FieldValueInvalid: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
  );
  assert.is(
    byField['spec.policy'],
    'FieldValueNotSupported: Unsupported value: "Keep": supported values: "Delete", "Retain"',
  );
  assert.is(byField['spec.tags'], 'FieldValueTooMany: Too many: 3: must have at most 2 items');
  assert.match(err.message ?? '', /^Widget.example.souk.dev "bad" is invalid: \[/);

  const typeErr = await expectStatus(
    co.createNamespacedCustomObject({ ...widgets, body: widget('bad2', { image: 'i', replicas: 'three' }) }),
    422,
  );
  assert.is(typeErr.details?.causes?.[0]?.field, 'spec.replicas');
  assert.is(typeErr.details?.causes?.[0]?.reason, 'FieldValueTypeInvalid');
  assert.is(
    typeErr.message,
    'Widget.example.souk.dev "bad2" is invalid: spec.replicas: Invalid value: "three": spec.replicas in body must be of type integer: "string"',
  );
});

test('CEL rules: rule with fieldPath, transition rules with oldSelf', async ({ api }) => {
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const cel = await expectStatus(
    co.createNamespacedCustomObject({
      ...widgets,
      body: widget('cel', { image: 'i', replicas: 2, minReplicas: 5 }),
    }),
    422,
  );
  assert.is(cel.details?.causes?.[0]?.field, 'spec.minReplicas');
  assert.is(
    cel.message,
    'Widget.example.souk.dev "cel" is invalid: spec.minReplicas: Invalid value: "object": minReplicas must not exceed replicas',
  );

  await co.createNamespacedCustomObject({
    ...widgets,
    body: widget('grow', { image: 'i', partitions: 6, rf: 3 }),
  });
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const shrink = await expectStatus(
    co.patchNamespacedCustomObject({ ...widgets, name: 'grow', body: { spec: { partitions: 4 } } }, merge),
    422,
  );
  assert.is(shrink.details?.causes?.[0]?.field, 'spec');
  assert.match(shrink.message ?? '', /partitions can only grow/);
  const rf = await expectStatus(
    co.patchNamespacedCustomObject({ ...widgets, name: 'grow', body: { spec: { rf: 1 } } }, merge),
    422,
  );
  assert.is(rf.details?.causes?.[0]?.field, 'spec.rf');
  const grown = (await co.patchNamespacedCustomObject(
    { ...widgets, name: 'grow', body: { spec: { partitions: 8 } } },
    merge,
  )) as {
    spec: { partitions: number };
    metadata: { generation: number };
  };
  assert.is(grown.spec.partitions, 8);
  assert.is(grown.metadata.generation, 2);
});

test('custom resources: status subresource, strategic merge is 415, PUT needs a resourceVersion', async ({
  api,
}) => {
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  await co.createNamespacedCustomObject({
    ...widgets,
    body: { ...widget('st', { image: 'i' }), status: { ready: true } },
  });
  const read = (await co.getNamespacedCustomObject({ ...widgets, name: 'st' })) as Record<string, unknown>;
  assert.is(read.status, undefined, 'status is dropped on create');
  const withStatus = (await co.patchNamespacedCustomObjectStatus(
    {
      ...widgets,
      name: 'st',
      body: { spec: { image: 'ignored' }, status: { ready: true, observedGeneration: 1 } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as { spec: { image: string }; status: { ready: boolean }; metadata: { generation: number } };
  assert.is(withStatus.status.ready, true);
  assert.is(withStatus.spec.image, 'i');
  assert.is(withStatus.metadata.generation, 1);

  const scale = (await co.patchNamespacedCustomObjectScale(
    { ...widgets, name: 'st', body: { spec: { replicas: 4 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as { kind: string; spec: { replicas: number } };
  assert.is(scale.kind, 'Scale');
  assert.is(scale.spec.replicas, 4);
  const scaled = (await co.getNamespacedCustomObject({ ...widgets, name: 'st' })) as {
    spec: { replicas: number };
  };
  assert.is(scaled.spec.replicas, 4);

  const smp = await expectStatus(
    co.patchNamespacedCustomObject(
      { ...widgets, name: 'st', body: { spec: { image: 'x' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
    415,
  );
  assert.is(smp.reason, 'UnsupportedMediaType');

  const noRv = { ...(read as object), metadata: { name: 'st', namespace: 'crs' } };
  const err = await expectStatus(
    co.replaceNamespacedCustomObject({ ...widgets, name: 'st', body: noRv }),
    422,
  );
  assert.is(err.details?.causes?.[0]?.field, 'metadata.resourceVersion');
});

test('the ServiceMonitor CRD makes monitoring.coreos.com/v1 available', async ({ api }) => {
  const objects = KubernetesObjectApi.makeApiClient(api.kubeConfig());
  await objects.create(loadYaml<V1CustomResourceDefinition>(JSON.stringify(SERVICE_MONITOR_CRD)));
  const created = await eventually(
    () =>
      objects
        .create({
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: 'web', namespace: 'crs' },
          spec: {
            selector: { matchLabels: { app: 'web' } },
            endpoints: [{ port: 'metrics', path: '/metrics' }],
          },
        } as KubernetesObject)
        .catch(() => undefined),
    'ServiceMonitor served',
  );
  assert.is(created.kind, 'ServiceMonitor');
  const list = await objects.list('monitoring.coreos.com/v1', 'ServiceMonitor', 'crs');
  assert.is(list.items.length, 1);
});

test('an invalid CEL rule fails CRD creation; deleting a CRD removes its resources and the endpoint', async ({
  api,
}) => {
  const ext = api.kubeConfig().makeApiClient(ApiextensionsV1Api);
  const broken = structuredClone(widgetCrd);
  broken.metadata!.name = 'gadgets.example.souk.dev';
  broken.spec.names = { plural: 'gadgets', kind: 'Gadget' };
  broken.spec.versions[0]!.schema!.openAPIV3Schema!.x_kubernetes_validations = [{ rule: 'self.spec.(' }];
  const err = await expectStatus(ext.createCustomResourceDefinition({ body: broken }), 422);
  assert.match(err.details?.causes?.[0]?.field ?? '', /x-kubernetes-validations\[0\]\.rule$/);

  const nonStructural = structuredClone(widgetCrd);
  nonStructural.metadata!.name = 'gizmos.example.souk.dev';
  nonStructural.spec.names = { plural: 'gizmos', kind: 'Gizmo' };
  const props = nonStructural.spec.versions[0]!.schema!.openAPIV3Schema!.properties!.spec!.properties!;
  props.untyped = {};
  props.ports = {
    type: 'array',
    x_kubernetes_list_type: 'map',
    items: { type: 'object', properties: { name: { type: 'string' } } },
  };
  props.policy!._default = 'Sometimes';
  const structural = await expectStatus(ext.createCustomResourceDefinition({ body: nonStructural }), 422);
  const fields = (structural.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
  const base = 'spec.versions[0].schema.openAPIV3Schema.properties[spec]';
  assert.ok(
    fields.includes(
      `${base}.properties[untyped].type: Required value: must not be empty for specified object fields`,
    ),
    fields.join('\n'),
  );
  assert.ok(
    fields.includes(
      `${base}.properties[ports].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map`,
    ),
    fields.join('\n'),
  );
  assert.ok(
    fields.some((f) => f.startsWith(`${base}.properties[policy].default: Unsupported value: "Sometimes"`)),
    fields.join('\n'),
  );

  let watchDone: unknown = 'open';
  const events: string[] = [];
  const watch = await new Watch(api.kubeConfig()).watch(
    '/apis/example.souk.dev/v1alpha1/namespaces/crs/widgets',
    {},
    (type) => events.push(type),
    (err) => {
      watchDone = err;
    },
  );
  await eventually(() => events.length > 0, 'initial events');
  await ext.patchCustomResourceDefinition(
    { name: 'widgets.example.souk.dev', body: { metadata: { labels: { touched: 'yes' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.is(watchDone, 'open', 'updating the CRD keeps its watches');
  await ext.deleteCustomResourceDefinition({ name: 'widgets.example.souk.dev' });
  await eventually(() => watchDone !== 'open', 'the watch ends with its resource');
  assert.ok(events.includes('DELETED'));
  watch.abort();
  await eventually(
    () => api.object('CustomResourceDefinition', '', 'widgets.example.souk.dev') === undefined,
    'CRD removal',
  );
  assert.is(api.objects('Widget').length, 0);
  const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const gone = await expectStatus(co.listNamespacedCustomObject({ ...widgets }), 404);
  assert.is(gone.message, 'the server could not find the requested resource');
});

test.run();
