import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { eventually, expectStatus } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: finalizers and garbage collection');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['gc'] });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function owner(api: KubeApiServer, name: string): Promise<V1OwnerReference> {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const o = await core.createNamespacedConfigMap({ namespace: 'gc', body: { metadata: { name } } });
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name,
    uid: o.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

async function dependent(
  api: KubeApiServer,
  name: string,
  refs: V1OwnerReference[],
  extra: Partial<V1ConfigMap['metadata']> = {},
) {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  return core.createNamespacedConfigMap({
    namespace: 'gc',
    body: { metadata: { name, ownerReferences: refs, ...extra } },
  });
}

const objects = (api: KubeApiServer) => KubernetesObjectApi.makeApiClient(api.kubeConfig());

const exists = (api: KubeApiServer, name: string) => api.object('ConfigMap', 'gc', name) !== undefined;

test('finalizers hold a deleted object with deletionTimestamp; removing the last one deletes it', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: 'gc',
    body: { metadata: { name: 'held', finalizers: ['souk.dev/cleanup'] } },
  });
  await core.deleteNamespacedConfigMap({ name: 'held', namespace: 'gc' });
  // client-node reads every DELETE answer as a V1Status, so the held object is read back.
  const m = (await core.readNamespacedConfigMap({ name: 'held', namespace: 'gc' })).metadata!;
  assert.ok(m.deletionTimestamp, 'the object stays, carrying deletionTimestamp');
  assert.is(m.deletionGracePeriodSeconds, 0);
  assert.ok(exists(api, 'held'));

  const err = await expectStatus(
    core.patchNamespacedConfigMap(
      {
        name: 'held',
        namespace: 'gc',
        body: { metadata: { finalizers: ['souk.dev/cleanup', 'souk.dev/more'] } },
      },
      merge,
    ),
    422,
  );
  assert.is(err.details?.causes?.[0]?.field, 'metadata.finalizers');
  assert.match(err.message ?? '', /no new finalizers can be added if the object is being deleted/);

  const data = await core.patchNamespacedConfigMap(
    { name: 'held', namespace: 'gc', body: { data: { still: 'writable' } } },
    merge,
  );
  assert.is(data.data?.still, 'writable');
  const gone = await core.patchNamespacedConfigMap(
    { name: 'held', namespace: 'gc', body: { metadata: { finalizers: [] } } },
    merge,
  );
  assert.ok(gone.metadata?.deletionTimestamp);
  assert.not.ok(exists(api, 'held'));
});

test('generation is bumped when deletion starts on a kind that tracks it', async ({ api }) => {
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: 'gc',
    body: {
      metadata: { name: 'fin', finalizers: ['souk.dev/x'] },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
      },
    },
  });
  await apps.deleteNamespacedDeployment({ name: 'fin', namespace: 'gc' });
  const deleting = await apps.readNamespacedDeployment({ name: 'fin', namespace: 'gc' });
  assert.is(deleting.metadata?.generation, 2);
  await apps.patchNamespacedDeployment(
    { name: 'fin', namespace: 'gc', body: { metadata: { finalizers: null } } },
    merge,
  );
});

test('background deletion: dependents go once the owner is gone; another live owner keeps a dependent', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const a = await owner(api, 'bg-owner');
  const b = await owner(api, 'bg-other');
  await dependent(api, 'bg-child', [a]);
  await dependent(api, 'bg-shared', [a, { ...b, controller: false }]);
  await core.deleteNamespacedConfigMap({ name: 'bg-owner', namespace: 'gc' });
  assert.not.ok(exists(api, 'bg-owner'), 'background: the owner goes at once');
  await eventually(() => !exists(api, 'bg-child'), 'dependent collected');
  const shared = await eventually(() => {
    const o = api.object('ConfigMap', 'gc', 'bg-shared') as
      | { metadata: { ownerReferences?: V1OwnerReference[] } }
      | undefined;
    return o && o.metadata.ownerReferences?.length === 1 ? o : undefined;
  }, 'the dangling reference removed');
  assert.is(shared.metadata.ownerReferences?.[0]?.uid, b.uid);
});

test('foreground deletion keeps the owner until blocking dependents are gone', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const o = await owner(api, 'fg-owner');
  await dependent(api, 'fg-child', [o], { finalizers: ['souk.dev/slow'] });
  await dependent(api, 'fg-free', [{ ...o, blockOwnerDeletion: false }]);
  await objects(api).delete(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fg-owner', namespace: 'gc' } },
    undefined,
    undefined,
    undefined,
    undefined,
    'Foreground',
  );
  const m = (await core.readNamespacedConfigMap({ name: 'fg-owner', namespace: 'gc' })).metadata!;
  assert.ok(m.deletionTimestamp);
  assert.ok(m.finalizers?.includes('foregroundDeletion'));
  await eventually(() => !exists(api, 'fg-free'), 'non-blocking dependent deleted');
  const child = await eventually(() => {
    const c = api.object('ConfigMap', 'gc', 'fg-child') as
      | { metadata: { deletionTimestamp?: string } }
      | undefined;
    return c?.metadata.deletionTimestamp ? c : undefined;
  }, 'blocking dependent being deleted');
  assert.ok(child);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(exists(api, 'fg-owner'), 'the owner waits for its blocking dependent');
  await core.patchNamespacedConfigMap(
    { name: 'fg-child', namespace: 'gc', body: { metadata: { finalizers: null } } },
    merge,
  );
  await eventually(() => !exists(api, 'fg-owner'), 'owner removed after its dependents');
});

test('orphan deletion strips owner references and keeps dependents', async ({ api }) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const o = await owner(api, 'or-owner');
  await dependent(api, 'or-child', [o]);
  await core.deleteNamespacedConfigMap({
    name: 'or-owner',
    namespace: 'gc',
    body: { propagationPolicy: 'Orphan' },
  });
  await eventually(() => !exists(api, 'or-owner'), 'owner removed');
  const child = api.object('ConfigMap', 'gc', 'or-child') as
    | { metadata: { ownerReferences?: unknown } }
    | undefined;
  assert.ok(child, 'the dependent is kept');
  assert.is(child?.metadata.ownerReferences, undefined);
});

test('a dependent created with an absent owner is collected; preconditions guard deletes', async ({
  api,
}) => {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  await dependent(api, 'dangling', [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' },
  ]);
  await eventually(() => !exists(api, 'dangling'), 'dangling dependent collected');
  await core.createNamespacedConfigMap({ namespace: 'gc', body: { metadata: { name: 'pre' } } });
  const err = await expectStatus(
    core.deleteNamespacedConfigMap({
      name: 'pre',
      namespace: 'gc',
      body: { preconditions: { uid: 'other' } },
    }),
    409,
  );
  assert.match(err.message ?? '', /Precondition failed: UID in precondition: other/);
});

test.run();
