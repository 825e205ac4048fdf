import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RedisCluster } from '../src/api/v1alpha1/rediscluster.ts';
import {
  CONFIG_HASH,
  desired,
  EXPORTER_IMAGE,
  quantityBytes,
  redisConf,
} from '../src/controllers/rediscluster/desired.ts';
import { resourceStatus } from '../src/controllers/rediscluster/resource-status.ts';
import type { RedisClusterStatusSummary } from '../src/controllers/rediscluster/status.ts';

/** A RedisCluster as the apiserver's defaulting leaves it. */
function rc(spec: Partial<RedisCluster['spec']> = {}): RedisCluster {
  return {
    apiVersion: 'souk.dev/v1alpha1',
    kind: 'RedisCluster',
    metadata: {
      name: 'cache',
      namespace: 'shop',
      uid: '00000000-0000-0000-0000-000000000002',
      generation: 3,
    },
    spec: {
      masters: 3,
      replicasPerMaster: 1,
      image: 'redis:7.0',
      config: { maxmemoryPolicy: 'noeviction', clusterNodeTimeoutMs: 5000 },
      ...spec,
    },
  };
}

type Sts = {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { containers: { name: string; image: string; args?: string[] }[]; volumes: { name: string }[] };
    };
    volumeClaimTemplates?: unknown[];
  };
};
const stsOf = (r: RedisCluster, o?: { replicas?: number }) =>
  desired(r, o).find((x) => x.kind === 'StatefulSet') as unknown as Sts;

const d = suite('RedisCluster desired(rc)');

d('children: ConfigMap, StatefulSet, headless and client Services, PDB; all valid Kubernetes objects', () => {
  const objs = desired(rc({ storage: { size: '1Gi' }, pdb: { enabled: true, maxUnavailable: 2 } }));
  assert.equal(
    objs.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ConfigMap/cache-config',
      'StatefulSet/cache',
      'Service/cache-nodes',
      'Service/cache',
      'PodDisruptionBudget/cache',
    ],
  );
  const models: Record<string, new (o: never) => { validate(): void }> = {
    ConfigMap,
    StatefulSet,
    Service,
    PodDisruptionBudget,
  };
  for (const o of objs)
    new (models[o.kind] as (typeof models)[string])(structuredClone(o) as never).validate();
  for (const o of objs) assert.is(o.metadata.ownerReferences?.[0]?.kind, 'RedisCluster');
  const pdb = objs[4] as unknown as { spec: { maxUnavailable: number } };
  assert.is(pdb.spec.maxUnavailable, 2);
});

d('pods: masters × (1 + replicas), the labels the NetworkPolicies select on, the exporter sidecar', () => {
  const sts = stsOf(rc({ masters: 4, replicasPerMaster: 2 }));
  assert.is(sts.spec.replicas, 12);
  const labels = sts.spec.template.metadata.labels;
  assert.is(labels['app.kubernetes.io/component'], 'rediscluster');
  assert.is(labels['app.kubernetes.io/part-of'], 'souk');
  assert.is(labels['app.kubernetes.io/managed-by'], 'souk-operator');
  const exporter = sts.spec.template.spec.containers.find((c) => c.name === 'exporter');
  assert.is(exporter?.image, EXPORTER_IMAGE);
  assert.ok(exporter?.args?.includes('--is-cluster'));
  assert.is(stsOf(rc(), { replicas: 8 }).spec.replicas, 8, 'a scale in keeps the old size when told');
});

d('storage: a claim per pod, else an emptyDir; no PDB when disabled', () => {
  assert.ok(stsOf(rc({ storage: { size: '1Gi' } })).spec.volumeClaimTemplates);
  const sts = stsOf(rc());
  assert.is(sts.spec.volumeClaimTemplates, undefined);
  assert.ok(sts.spec.template.spec.volumes.some((v) => v.name === 'data'));
  assert.not.ok(desired(rc({ pdb: { enabled: false } })).some((o) => o.kind === 'PodDisruptionBudget'));
});

d('redis.conf from the spec; a config change changes the pod template', () => {
  const conf = redisConf(
    rc({
      config: {
        maxmemory: '200Mi',
        maxmemoryPolicy: 'allkeys-lru',
        clusterNodeTimeoutMs: 2000,
        extra: { hz: '20' },
      },
    }),
  );
  for (const line of [
    'cluster-enabled yes',
    'cluster-config-file /data/nodes.conf',
    'cluster-node-timeout 2000',
    'maxmemory 209715200',
    'maxmemory-policy allkeys-lru',
    'appendonly yes',
    'hz 20',
  ]) {
    assert.ok(conf.split('\n').includes(line), `redis.conf has "${line}"`);
  }
  const a = stsOf(rc()).spec.template.metadata.annotations[CONFIG_HASH];
  const b = stsOf(rc({ config: { maxmemoryPolicy: 'allkeys-lfu', clusterNodeTimeoutMs: 5000 } })).spec
    .template.metadata.annotations[CONFIG_HASH];
  assert.ok(a && b && a !== b);
});

d('quantities in bytes', () => {
  assert.is(quantityBytes('1Gi'), 2 ** 30);
  assert.is(quantityBytes('500M'), 500e6);
  assert.is(quantityBytes('1.5Ki'), 1536);
  assert.is(quantityBytes(1024), 1024);
  assert.is(quantityBytes('1e3'), 1000);
  assert.throws(() => quantityBytes('500m'));
});

const summary = (over: Partial<RedisClusterStatusSummary>): RedisClusterStatusSummary => ({
  phase: 'ready',
  nodes: [],
  slotsAssigned: 16384,
  masters: 3,
  replicas: 3,
  conditions: [
    { type: 'Ready', status: 'True', reason: 'ClusterReady', message: 'all slots served' },
    { type: 'Scaling', status: 'False', reason: 'NotScaling', message: '' },
  ],
  warnings: [],
  ...over,
});
const reasonOf = (s: ReturnType<typeof resourceStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type)?.reason;

d('status reasons: PodsNotReady, Bootstrapping, Scaling, Healing, Ready', () => {
  const podOf = new Map<string, string>();
  const fresh = rc();
  assert.is(reasonOf(resourceStatus(fresh, { podOf, missingPods: ['cache-0'] }), 'Ready'), 'PodsNotReady');
  const boot = resourceStatus(fresh, {
    podOf,
    missingPods: [],
    summary: summary({
      phase: 'assign',
      slotsAssigned: 0,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'AssigningSlots', message: 'assign' },
        { type: 'Scaling', status: 'True', reason: 'AssigningSlots', message: 'assign' },
      ],
    }),
  });
  assert.is(reasonOf(boot, 'Ready'), 'Bootstrapping');
  assert.is(reasonOf(boot, 'Scaling'), 'Bootstrapping');
  const serving = { ...fresh, status: { slotsAssigned: 16384, nodes: [] } };
  const scaling = resourceStatus(serving, {
    podOf,
    missingPods: [],
    scaling: 'out',
    summary: summary({
      phase: 'rebalance',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'MigratingSlots', message: 'move' },
        { type: 'Scaling', status: 'True', reason: 'MigratingSlots', message: 'move' },
      ],
    }),
  });
  assert.is(reasonOf(scaling, 'Ready'), 'Scaling');
  assert.is(reasonOf(scaling, 'Scaling'), 'ScalingOut');
  const healing = resourceStatus(serving, {
    podOf,
    missingPods: [],
    summary: summary({
      phase: 'heal',
      conditions: [
        { type: 'Ready', status: 'False', reason: 'Healing', message: 'forget' },
        { type: 'Scaling', status: 'False', reason: 'NotScaling', message: '' },
      ],
    }),
  });
  assert.is(reasonOf(healing, 'Ready'), 'Healing');
  const ok = resourceStatus(serving, { podOf, missingPods: [], summary: summary({}) });
  assert.is(ok.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.is(ok.observedGeneration, 3);
});

d.run();
