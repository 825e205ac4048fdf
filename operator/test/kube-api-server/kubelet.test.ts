import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KubeApiServer, startKubeApiServer } from './server.ts';
import { eventually } from './test-helpers.ts';

const test = suite<{ api: KubeApiServer }>('kube-api-server: simulated kubelet');

test.before(async (ctx) => {
  ctx.api = await startKubeApiServer({ namespaces: ['k'], kubelet: { mode: 'manual' } });
});
test.after(async (ctx) => {
  await ctx.api.stop();
});

const deployment = (name: string, replicas: number): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'app:1' }] },
    },
  },
});

test('manual mode: a new Deployment is unavailable until markReady', async ({ api }) => {
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: 'k', body: deployment('web', 3) });
  const pending = await eventually(async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'k' });
    return d.status?.observedGeneration === 1 ? d : undefined;
  }, 'observedGeneration');
  assert.is(pending.status?.replicas, 3);
  assert.is(pending.status?.readyReplicas, undefined);
  assert.is(pending.status?.unavailableReplicas, 3);
  assert.is(pending.status?.conditions?.find((c) => c.type === 'Available')?.status, 'False');

  api.kubelet.markReady('k', 'web');
  const ready = await apps.readNamespacedDeployment({ name: 'web', namespace: 'k' });
  assert.is(ready.status?.readyReplicas, 3);
  assert.is(ready.status?.availableReplicas, 3);
  assert.is(ready.status?.updatedReplicas, 3);
  const available = ready.status?.conditions?.find((c) => c.type === 'Available');
  assert.is(available?.status, 'True');
  assert.is(available?.reason, 'MinimumReplicasAvailable');
  assert.is(
    ready.status?.conditions?.find((c) => c.type === 'Progressing')?.reason,
    'NewReplicaSetAvailable',
  );
  const kcm = ready.metadata?.managedFields?.find((m) => m.manager === 'kube-controller-manager');
  assert.is(kcm?.subresource, 'status');

  const bumped = await apps.patchNamespacedDeployment(
    {
      name: 'web',
      namespace: 'k',
      body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  assert.is(bumped.metadata?.generation, 2);
  const rolling = await eventually(async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'k' });
    return d.status?.observedGeneration === 2 ? d : undefined;
  }, 'the rollout observed');
  assert.is(rolling.status?.updatedReplicas, undefined, 'no updated pod ready yet');
  assert.is(rolling.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'ReplicaSetUpdated');
  api.kubelet.markReady('k', 'web');
  const done = await apps.readNamespacedDeployment({ name: 'web', namespace: 'k' });
  assert.is(done.status?.updatedReplicas, 3);
});

test('instant mode: Deployments and StatefulSets report ready as soon as observed', async ({ api }) => {
  api.kubelet.setMode('instant');
  const apps = api.kubeConfig().makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: 'k', body: deployment('fast', 2) });
  const d = await eventually(async () => {
    const x = await apps.readNamespacedDeployment({ name: 'fast', namespace: 'k' });
    return x.status?.availableReplicas === 2 ? x : undefined;
  }, 'ready deployment');
  assert.is(d.status?.observedGeneration, 1);
  await apps.createNamespacedStatefulSet({
    namespace: 'k',
    body: {
      metadata: { name: 'redis' },
      spec: {
        serviceName: 'redis',
        replicas: 3,
        selector: { matchLabels: { app: 'redis' } },
        template: {
          metadata: { labels: { app: 'redis' } },
          spec: { containers: [{ name: 'redis', image: 'redis:7' }] },
        },
      },
    },
  });
  const sts = await eventually(async () => {
    const x = await apps.readNamespacedStatefulSet({ name: 'redis', namespace: 'k' });
    return x.status?.readyReplicas === 3 ? x : undefined;
  }, 'ready statefulset');
  assert.is(sts.status?.currentRevision, sts.status?.updateRevision);
});

test.run();
