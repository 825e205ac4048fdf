import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Microservice } from '../src/api/v1alpha1/microservice.ts';
import { CONFIG_HASH } from '../src/controllers/microservice/desired.ts';
import { APPLIED_HASH } from '../src/runtime/apply.ts';
import type { Manager } from '../src/runtime/manager.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { fullMicroservice, minimalMicroservice } from './fixtures/microservices.ts';
import { assertGolden } from './golden.ts';
import {
  eventually,
  MS,
  RC,
  startCluster,
  startOperator,
  type TestCluster,
  TOPIC,
} from './support/cluster.ts';

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Cond = { type: string; status: string; reason: string; message: string; observedGeneration?: number };

const NS = 'shop';
const DEP = { apiVersion: 'apps/v1', kind: 'Deployment' };
const SVC = { apiVersion: 'v1', kind: 'Service' };
const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const HPA = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
const SM = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' };

let c: TestCluster;
let mgr: Manager;

const cond = (o: Obj | undefined, type: string) =>
  ((o?.status?.['conditions'] as Cond[] | undefined) ?? []).find((x) => x.type === type);

async function getMs(name: string): Promise<Obj | undefined> {
  return c.client.get<Obj>(MS, NS, name);
}

/** Resolves once the Microservice reports Ready=True for its current generation. */
async function ready(name: string, timeoutMs = 15_000): Promise<Obj> {
  return eventually(
    async () => {
      const ms = await getMs(name);
      const r = cond(ms, 'Ready');
      return ms && r?.status === 'True' && ms.status?.['observedGeneration'] === ms.metadata.generation
        ? ms
        : undefined;
    },
    `Microservice ${name} Ready`,
    timeoutMs,
  );
}

const configHashOf = (d: Obj | undefined) =>
  (d?.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template
    ?.metadata?.annotations?.[CONFIG_HASH];

/** A child as the server holds it, without what differs from run to run. */
function normalize(o: Obj): unknown {
  const { uid, resourceVersion, creationTimestamp, managedFields, generation, ...meta } =
    o.metadata as Obj['metadata'] & {
      managedFields?: unknown;
    };
  void uid;
  void resourceVersion;
  void creationTimestamp;
  void managedFields;
  void generation;
  const ownerReferences = meta.ownerReferences?.map(({ uid: _u, ...r }) => r);
  // The applied hash covers the owner's uid, which changes from run to run.
  if (meta.annotations?.[APPLIED_HASH]) meta.annotations = { ...meta.annotations, [APPLIED_HASH]: '<hash>' };
  const spec = structuredClone(o.spec);
  if (o.kind === 'Service' && spec) {
    delete spec['clusterIP'];
    delete spec['clusterIPs'];
  }
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { ...meta, ownerReferences },
    spec,
    data: o['data'],
  };
}

const serviceMonitorCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    names: {
      kind: 'ServiceMonitor',
      listKind: 'ServiceMonitorList',
      plural: 'servicemonitors',
      singular: 'servicemonitor',
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

const s = suite('Microservice controller');

s.before(async () => {
  c = await startCluster({ namespaces: [NS] });
  await c.client.create(serviceMonitorCrd as unknown as KubeObject);
  await eventually(() => c.client.serves(SM), 'ServiceMonitor CRD served');
  mgr = await startOperator(c, { resyncMs: 1500, kafkaBootstrap: 'kafka.test:9092' });
});

s.after(async () => {
  await mgr?.stop();
  await c?.stop();
});

s('a Microservice with missing references says so, then converges once they exist', async () => {
  await c.client.create(fullMicroservice(NS) as unknown as KubeObject);
  const blocked = await eventually(async () => {
    const ms = await getMs('orders');
    return cond(ms, 'Ready')?.reason === 'ReferenceNotFound' ? ms : undefined;
  }, 'ReferenceNotFound');
  assert.match(cond(blocked, 'Ready')!.message, 'Topic orders-events');
  assert.match(cond(blocked, 'Ready')!.message, 'RedisCluster cache');
  assert.is(await c.client.get(DEP, NS, 'orders'), undefined, 'nothing applied while references are missing');

  for (const [name, topicName] of [
    ['orders-events', 'orders.events'],
    ['payments-events', 'payments.events'],
  ] as [string, string][]) {
    await c.client.create({ ...TOPIC, metadata: { name, namespace: NS }, spec: { topicName } });
  }
  await c.client.create({ ...RC, metadata: { name: 'cache', namespace: NS }, spec: { masters: 3 } });
  const ms = await ready('orders');
  assert.is(cond(ms, 'Available')?.status, 'True');
  assert.is(cond(ms, 'Progressing')?.status, 'False');
  assert.is(cond(ms, 'Progressing')?.reason, 'RolloutComplete');
  assert.is(ms.status?.['readyReplicas'], 1);
});

s('it yields exactly the expected children (golden)', async () => {
  const children: unknown[] = [];
  for (const g of [CM, DEP, SVC, HPA, PDB, SM]) {
    const name = g === CM ? 'orders-config' : 'orders';
    const o = await c.client.get<Obj>(g, NS, name);
    assert.ok(o, `${g.kind} exists`);
    children.push(normalize(o!));
  }
  await assertGolden('microservice-children', children);
  const dep = children[1] as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  const env = Object.fromEntries(dep.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
  assert.is(env['SOUK_TOPIC_ORDERS_EVENTS'], 'orders.events');
  assert.is(env['PAYMENTS_TOPIC'], 'payments.events');
  assert.is(env['KAFKA_BROKERS'], 'kafka.test:9092');
  assert.is(env['REDIS_NODES'], `cache.${NS}.svc:6379`);
});

s('a config change rolls out: new hash on the pod template, status follows', async () => {
  const before = await c.client.get<Obj>(DEP, NS, 'orders');
  const oldHash = (before!.spec as { template: { metadata: { annotations: Record<string, string> } } })
    .template.metadata.annotations[CONFIG_HASH];
  const updated = await c.client.mergePatch<Obj>(MS, NS, 'orders', { spec: { config: { CURRENCY: 'USD' } } });
  const dep = await eventually(async () => {
    const d = await c.client.get<Obj>(DEP, NS, 'orders');
    const h = configHashOf(d);
    return h && h !== oldHash ? d : undefined;
  }, 'new config hash');
  assert.ok(
    (dep.metadata.generation ?? 0) > (before!.metadata.generation ?? 0),
    'Deployment template changed',
  );
  const cm = await c.client.get<Obj>(CM, NS, 'orders-config');
  assert.is((cm!['data'] as Record<string, string>)['CURRENCY'], 'USD');
  const ms = await ready('orders');
  assert.is(ms.metadata.generation, updated.metadata.generation);
  assert.is(
    ms.status?.['configHash'],
    (dep.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
      .annotations[CONFIG_HASH],
  );
});

s('dropping autoscaling and disruption deletes the HPA and the PDB', async () => {
  await c.client.mergePatch(MS, NS, 'orders', { spec: { autoscaling: null, disruption: null } });
  await eventually(
    async () => !(await c.client.get(HPA, NS, 'orders')) && !(await c.client.get(PDB, NS, 'orders')),
    'HPA and PDB deleted',
  );
  const dep = await eventually(async () => {
    const d = await c.client.get<Obj>(DEP, NS, 'orders');
    return d?.spec?.['replicas'] === 2 ? d : undefined;
  }, 'Deployment takes replicas back from the HPA');
  assert.ok(dep);
  await ready('orders');
});

s('drift is fixed at once on watch events: a deleted or edited child comes back', async () => {
  await c.client.delete(DEP, NS, 'orders');
  await eventually(async () => {
    const d = await c.client.get<Obj>(DEP, NS, 'orders');
    return d && !d.metadata.deletionTimestamp;
  }, 'Deployment recreated');
  await c.client.mergePatch(SVC, NS, 'orders', {
    spec: { selector: { 'souk.dev/microservice': 'hijacked' } },
  });
  await eventually(async () => {
    const svc = await c.client.get<Obj>(SVC, NS, 'orders');
    return (svc?.spec?.['selector'] as Record<string, string>)?.['souk.dev/microservice'] === 'orders';
  }, 'Service selector restored');
  await c.client.mergePatch(DEP, NS, 'orders', {
    metadata: { labels: { 'app.kubernetes.io/managed-by': 'someone' } },
  });
  await eventually(async () => {
    const d = await c.client.get<Obj>(DEP, NS, 'orders');
    return d?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'souk-operator';
  }, 'label restored after the child left the watch selector');
  await ready('orders');
});

s('drift nobody watches is fixed within one resync (ServiceMonitor)', async () => {
  const patched = await c.client.mergePatch<Obj>(SM, NS, 'orders', {
    spec: { endpoints: [{ port: 'x', path: '/x' }] },
  });
  assert.is((patched.spec?.['endpoints'] as { path: string }[] | undefined)?.[0]?.path, '/x');
  await eventually(
    async () => {
      const sm = await c.client.get<Obj>(SM, NS, 'orders');
      return (sm?.spec?.['endpoints'] as { path: string }[])?.[0]?.path === '/metrics';
    },
    'ServiceMonitor restored by resync',
    5_000,
  );
});

s('a storm of conflicting stale writes converges on the last accepted spec', async () => {
  await c.client.create(minimalMicroservice(NS, 'storm') as unknown as KubeObject);
  await ready('storm');
  const stale = await c.client.get<Obj>(MS, NS, 'storm');
  let conflicts = 0;
  const writers = Array.from({ length: 40 }, async (_, i) => {
    const spec = {
      ...(stale!.spec as Record<string, unknown>),
      image: `ghcr.io/souk/storm:${i}`,
      replicas: (i % 3) + 1,
    };
    try {
      // Every writer read the same resourceVersion: all but the first fail with 409.
      await c.client.update({ ...stale!, spec });
    } catch {
      conflicts++;
    }
    // Someone else fights over the Deployment the operator owns.
    await c.client
      .mergePatch(DEP, NS, 'storm', {
        spec: { replicas: 7 + i, template: { spec: { containers: [{ name: 'app', image: `evil:${i}` }] } } },
      })
      .catch(() => {});
    // Blind merge patches (no precondition) race with each other; the last one wins.
    await c.client.mergePatch(MS, NS, 'storm', { spec: { config: { N: String(i) } } }).catch(() => {});
  });
  await Promise.all(writers);
  assert.ok(conflicts >= 39, `stale updates were refused (${conflicts})`);
  const ms = await ready('storm');
  const dep = await c.client.get<Obj>(DEP, NS, 'storm');
  const want = ms.spec as { image: string; replicas: number };
  const tpl = (dep!.spec as { replicas: number; template: { spec: { containers: { image: string }[] } } })
    .template;
  assert.is(tpl.spec.containers[0]!.image, want.image, 'Deployment image is the accepted spec');
  assert.is(dep!.spec?.['replicas'], want.replicas);
  const cm = await c.client.get<Obj>(CM, NS, 'storm-config');
  assert.equal(cm!['data'], (ms.spec as { config: Record<string, string> }).config);
});

s('an invalid-but-schema-valid spec gets a condition, not a crash', async () => {
  await c.client.create({
    ...TOPIC,
    metadata: { name: 'far', namespace: NS },
    spec: { bootstrapServers: 'elsewhere:9092' },
  });
  const ms = minimalMicroservice(NS, 'split') as Microservice;
  ms.spec.topics = [{ name: 'orders-events' }, { name: 'far' }];
  await c.client.create(ms as unknown as KubeObject);
  const got = await eventually(async () => {
    const m = await getMs('split');
    return cond(m, 'Ready')?.reason === 'ConflictingKafkaClusters' ? m : undefined;
  }, 'ConflictingKafkaClusters');
  assert.is(cond(got, 'Ready')?.status, 'False');
  assert.is(cond(got, 'Ready')?.observedGeneration, got.metadata.generation);
  // Each reconcile (at least once per resync) reports it again: one Event whose count grows.
  const warning = await eventually(async () => {
    const list = await c.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS });
    const mine = list.items.filter(
      (e) =>
        (e['involvedObject'] as { name: string }).name === 'split' &&
        e['reason'] === 'ConflictingKafkaClusters',
    );
    return mine.length === 1 && (mine[0]!['count'] as number) >= 2 ? mine[0] : undefined;
  }, 'an aggregated Warning event');
  assert.is(warning['type'], 'Warning');
  // The operator is still alive and serving other objects.
  await c.client.mergePatch(MS, NS, 'split', { spec: { topics: [{ name: 'orders-events' }] } });
  await ready('split');
});

s('deleting a Microservice garbage-collects its children', async () => {
  await c.client.delete(MS, NS, 'orders');
  await eventually(async () => {
    for (const [g, n] of [
      [DEP, 'orders'],
      [SVC, 'orders'],
      [CM, 'orders-config'],
      [SM, 'orders'],
    ] as const) {
      if (await c.client.get(g, NS, n)) return false;
    }
    return true;
  }, 'children garbage-collected');
});

s('metrics are exported on /metrics, with health and readiness', async () => {
  const base = `http://127.0.0.1:${mgr.probePort}`;
  const text = await (await fetch(`${base}/metrics`)).text();
  for (const m of [
    'controller_runtime_reconcile_total{controller="microservice",result="success"}',
    'controller_runtime_reconcile_time_seconds_bucket',
    'controller_runtime_reconcile_errors_total{controller="microservice"}',
    'controller_runtime_reconcile_total{controller="microservice",result="error"}',
    'controller_runtime_reconcile_total{controller="microservice",result="requeue_after"}',
    'workqueue_depth{name="microservice"}',
    'workqueue_adds_total{name="microservice"}',
    'workqueue_retries_total',
    'workqueue_queue_duration_seconds_bucket',
    'workqueue_work_duration_seconds_bucket',
  ]) {
    assert.ok(text.includes(m), `exports ${m}`);
  }
  assert.is((await fetch(`${base}/healthz`)).status, 200);
  assert.is((await fetch(`${base}/readyz`)).status, 200);
});

s.run();
