import { type RedisNodes, startRedisNodes } from '@souk/harness/infra';
import type { Cluster } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../src/config.ts';
import type { Pod } from '../src/controllers/rediscluster/addresses.ts';
import { createOperator } from '../src/operator.ts';
import { APPLIED_HASH } from '../src/runtime/apply.ts';
import { ApiError } from '../src/runtime/client.ts';
import { createLogger } from '../src/runtime/log.ts';
import type { Manager } from '../src/runtime/manager.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { assertGolden } from './golden.ts';
import { eventually, RC, startCluster, type TestCluster } from './support/cluster.ts';
import {
  clusterClient,
  clusterStates,
  missingKeys,
  NodePool,
  type ReplacedPod,
  replacePod,
  writeKeys,
} from './support/rediscluster.ts';

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Cond = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
type NodeStatus = { pod: string; nodeId?: string; address: string; role: string; slots?: number };

const NS = 'shop';
const NAME = 'cache';
const STS = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const SVC = { apiVersion: 'v1', kind: 'Service' };
const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' };
const POD = { apiVersion: 'v1', kind: 'Pod' };

/**
 * What the StatefulSet controller and the kubelets do for a RedisCluster's StatefulSet: a ready Pod for
 * every ordinal below spec.replicas (none above), each running a real redis-server. The pod's address is
 * that server's, as a kubelet would give the pod a real IP.
 */
class TestKubelet {
  /** Pod name -> redis-server address. */
  readonly addresses = new Map<string, string>();
  private readonly spare: string[];
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();
  lastError = '';
  /** What each deleted pod's node still held when the pod went. */
  readonly retired: { pod: string; address: string; keys: number; info: string }[] = [];

  constructor(
    private readonly c: TestCluster,
    private readonly redis: RedisNodes,
  ) {
    this.spare = [...redis.nodes];
  }

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy
        .then(() => this.sync())
        .catch((e) => {
          this.lastError = String(e);
        });
    }, 50);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.busy;
  }

  private async sync(): Promise<void> {
    for (const sts of this.c.server.objects('StatefulSet', NS) as unknown as Obj[]) {
      const spec = sts.spec as {
        replicas: number;
        template: { metadata: { labels: Record<string, string> }; spec: { volumes?: unknown[] } };
        volumeClaimTemplates?: { metadata: { name: string } }[];
      };
      const name = sts.metadata.name;
      for (let i = 0; i < spec.replicas; i++) {
        const pod = `${name}-${i}`;
        if (this.c.server.object('Pod', NS, pod)) continue;
        const address = this.spare.shift() ?? (await this.redis.addNode());
        this.addresses.set(pod, address);
        await this.c.client.create({
          ...POD,
          metadata: {
            name: pod,
            namespace: NS,
            labels: { ...spec.template.metadata.labels, 'statefulset.kubernetes.io/pod-name': pod },
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'StatefulSet',
                name,
                uid: sts.metadata.uid as string,
                controller: true,
              },
            ],
          },
          spec: {
            ...spec.template.spec,
            volumes: [
              ...(spec.template.spec.volumes ?? []),
              ...(spec.volumeClaimTemplates ?? []).map((t) => ({
                name: t.metadata.name,
                persistentVolumeClaim: { claimName: `${t.metadata.name}-${pod}` },
              })),
            ],
          },
        });
        await this.c.client.mergePatch(
          POD,
          NS,
          pod,
          {
            status: {
              phase: 'Running',
              podIP: '127.0.0.1',
              conditions: [{ type: 'Ready', status: 'True' }],
            },
          },
          { subresource: 'status' },
        );
      }
      for (const p of this.c.server.objects('Pod', NS) as unknown as Obj[]) {
        const m = new RegExp(`^${name}-(\\d+)$`).exec(p.metadata.name);
        if (!m || Number(m[1]) < spec.replicas) continue;
        await this.c.client.delete(POD, NS, p.metadata.name);
        const address = this.addresses.get(p.metadata.name) as string;
        this.addresses.delete(p.metadata.name);
        this.retired.push({
          pod: p.metadata.name,
          address,
          keys: Number(await pool.call(address, 'DBSIZE')),
          info: String(await pool.call(address, 'CLUSTER', 'INFO')),
        });
        pool.drop(address);
        // The pod's container is gone with it.
        await this.redis.killNode(Number(address.slice(address.lastIndexOf(':') + 1)));
      }
    }
  }
}

let c: TestCluster;
let redis: RedisNodes;
let kubelet: TestKubelet;
let pool: NodePool;
let mgr: Manager;
let client: Cluster | undefined;
const replaced: ReplacedPod[] = [];

const s = suite('RedisCluster controller');

s.before(async () => {
  c = await startCluster({ namespaces: [NS] });
  redis = await startRedisNodes(6);
  kubelet = new TestKubelet(c, redis);
  kubelet.start();
  pool = new NodePool();
  mgr = createOperator(
    c.server.kubeConfig(),
    { ...loadConfig({}), probePort: 0, leaderElect: false },
    createLogger('souk-operator-test', process.env['LOG_LEVEL'] ?? 'silent'),
    {
      redisCluster: {
        pool,
        addressOf: (pod: Pod) => kubelet.addresses.get(pod.metadata.name),
        progressIntervalMs: 200,
        resyncMs: 1000,
      },
    },
  );
  await mgr.start();
  await mgr.elected();
});

s.after(async () => {
  client?.disconnect();
  await mgr.stop();
  await kubelet.stop();
  await pool.close();
  for (const r of replaced) await r.stop();
  await redis.stop();
  await c.stop();
});

const cond = (o: Obj | undefined, type: string) =>
  ((o?.status?.['conditions'] as Cond[] | undefined) ?? []).find((x) => x.type === type);

/** The RedisCluster once Ready=True for its current generation with `nodes` nodes in its status. */
async function ready(nodes: number, timeoutMs = 30_000): Promise<Obj> {
  let last: Obj | undefined;
  return eventually(
    async () => {
      last = await c.client.get<Obj>(RC, NS, NAME);
      const r = cond(last, 'Ready');
      const list = (last?.status?.['nodes'] as NodeStatus[] | undefined) ?? [];
      return r?.status === 'True' &&
        last?.status?.['observedGeneration'] === last?.metadata.generation &&
        list.length === nodes
        ? last
        : undefined;
    },
    `RedisCluster Ready with ${nodes} nodes (last: ${JSON.stringify(last?.status?.['conditions'])}, kubelet: ${kubelet.lastError})`,
    timeoutMs,
    100,
  );
}

/** A child as the server holds it, without what differs from run to run. */
function normalize(o: Obj): unknown {
  const { uid, resourceVersion, creationTimestamp, managedFields, generation, ...meta } =
    o.metadata as Obj['metadata'] & { managedFields?: unknown };
  void [uid, resourceVersion, creationTimestamp, managedFields, generation];
  const ownerReferences = meta.ownerReferences?.map(({ uid: _u, ...r }) => r);
  if (meta.annotations?.[APPLIED_HASH]) meta.annotations = { ...meta.annotations, [APPLIED_HASH]: '<hash>' };
  const spec = structuredClone(o.spec);
  if (o.kind === 'Service' && spec && spec['clusterIP'] !== 'None') {
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

const addressesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => kubelet.addresses.get(`${NAME}-${i}`) as string);

s('a RedisCluster of 3 masters with 1 replica each: children, bootstrap, status', async () => {
  await c.client.create({
    ...RC,
    metadata: { name: NAME, namespace: NS },
    spec: {
      masters: 3,
      replicasPerMaster: 1,
      image: 'redis:7.0',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      storage: { size: '1Gi' },
      config: { maxmemory: '200Mi', maxmemoryPolicy: 'allkeys-lru', clusterNodeTimeoutMs: 2000 },
    },
  });
  const rc = await ready(6);

  const children: unknown[] = [];
  for (const [g, name] of [
    [CM, `${NAME}-config`],
    [STS, NAME],
    [SVC, `${NAME}-nodes`],
    [SVC, NAME],
    [PDB, NAME],
  ] as const) {
    const o = await c.client.get<Obj>(g, NS, name);
    assert.ok(o, `${g.kind} ${name} exists`);
    children.push(normalize(o as Obj));
  }
  await assertGolden('rediscluster-children', children);
  const sts = await c.client.get<Obj>(STS, NS, NAME);
  assert.is(sts?.spec?.['replicas'], 6);

  const addresses = addressesOf(6);
  assert.equal(await clusterStates(pool, addresses), Array(6).fill('ok'));
  const nodes = rc.status?.['nodes'] as NodeStatus[];
  assert.equal(
    nodes.map((n) => n.pod).sort(),
    [0, 1, 2, 3, 4, 5].map((i) => `${NAME}-${i}`),
  );
  assert.is(nodes.filter((n) => n.role === 'master').length, 3);
  assert.is(nodes.filter((n) => n.role === 'replica').length, 3);
  assert.ok(
    nodes.every((n) => /^[0-9a-f]{40}$/.test(n.nodeId ?? '')),
    'every node has its id',
  );
  assert.is(
    nodes.reduce((a, n) => a + (n.role === 'master' ? (n.slots ?? 0) : 0), 0),
    16384,
  );
  assert.is(rc.status?.['slotsAssigned'], 16384);
  assert.is(rc.status?.['masters'], 3);
  assert.is(cond(rc, 'Ready')?.reason, 'Ready');
  assert.is(cond(rc, 'Scaling')?.status, 'False');
  for (const n of nodes)
    assert.is(n.address, kubelet.addresses.get(n.pod), `${n.pod} is at its pod's address`);

  const events = (await c.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS })).items as Obj[];
  const reasons = new Set(
    events.filter((e) => (e['involvedObject'] as { name: string }).name === NAME).map((e) => e['reason']),
  );
  for (const r of ['NodesMet', 'SlotsAssigned', 'ReplicaAssigned'])
    assert.ok(reasons.has(r), `an Event ${r}`);
});

s('scale out to 4 masters: the StatefulSet grows, slots move with their keys, Ready again', async () => {
  client = clusterClient(addressesOf(6));
  await writeKeys(client, 'live', 2000);
  await c.client.mergePatch(RC, NS, NAME, { spec: { masters: 4 } });
  await eventually(
    async () => (await c.client.get<Obj>(STS, NS, NAME))?.spec?.['replicas'] === 8,
    'the StatefulSet grows to 8 pods',
  );
  const scaling = await eventually(async () => {
    const rc = await c.client.get<Obj>(RC, NS, NAME);
    return cond(rc, 'Scaling')?.status === 'True' ? rc : undefined;
  }, 'Scaling=True');
  assert.is(cond(scaling, 'Ready')?.status, 'False');
  const rc = await ready(8, 40_000);
  const nodes = rc.status?.['nodes'] as NodeStatus[];
  const masters = nodes.filter((n) => n.role === 'master');
  assert.is(masters.length, 4);
  for (const m of masters) assert.is(m.slots, 4096, `${m.pod} holds a quarter of the slots`);
  assert.is(rc.status?.['masters'], 4);
  assert.equal(await clusterStates(pool, addressesOf(8)), Array(8).fill('ok'));
  assert.equal(await missingKeys(client, 'live', 2000), []);
});

s('scale back to 3 masters: drained first, then the StatefulSet shrinks', async () => {
  const retiring = [kubelet.addresses.get(`${NAME}-6`), kubelet.addresses.get(`${NAME}-7`)] as string[];
  await c.client.mergePatch(RC, NS, NAME, { spec: { masters: 3 } });
  // While the StatefulSet still has 8 pods, the retiring nodes lose their slots.
  await eventually(async () => {
    const rc = await c.client.get<Obj>(RC, NS, NAME);
    return cond(rc, 'Scaling')?.reason === 'ScalingIn' ? rc : undefined;
  }, 'Scaling=True ScalingIn');
  const shrunk = await eventually(
    async () => ((await c.client.get<Obj>(STS, NS, NAME))?.spec?.['replicas'] === 6 ? true : undefined),
    'the StatefulSet shrinks to 6 pods',
    40_000,
  );
  assert.ok(shrunk);
  await eventually(() => kubelet.retired.length === 2, 'pods 6 and 7 deleted');
  for (const r of kubelet.retired) {
    assert.is(r.keys, 0, `${r.pod} held no keys when its pod was deleted`);
    assert.match(r.info, /cluster_known_nodes:1\b/, `${r.pod} had left the cluster when its pod was deleted`);
    assert.ok(retiring.includes(r.address));
  }
  const rc = await ready(6, 30_000);
  const nodes = rc.status?.['nodes'] as NodeStatus[];
  assert.is(nodes.filter((n) => n.role === 'master').length, 3);
  assert.ok(
    nodes.every((n) => !retiring.includes(n.address)),
    'the retired nodes left the status',
  );
  const addresses = addressesOf(6);
  for (const a of addresses) {
    const known = String(await pool.call(a, 'CLUSTER', 'NODES'));
    for (const r of retiring) assert.not.ok(known.includes(r), `${a} forgot ${r}`);
  }
  assert.equal(await missingKeys(client as Cluster, 'live', 2000), []);
  const events = (await c.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS })).items as Obj[];
  assert.ok(
    events.some((e) => e['reason'] === 'ScaledIn'),
    'a ScaledIn Event',
  );
});

s(
  'a master lost with no replica: the cluster heals and a Warning Event says slots lost their keys',
  async () => {
    await c.client.create({
      ...RC,
      metadata: { name: 'lossy', namespace: NS },
      spec: { masters: 3, replicasPerMaster: 0, config: { clusterNodeTimeoutMs: 1000 } },
    });
    await eventually(
      async () => {
        const rc = await c.client.get<Obj>(RC, NS, 'lossy');
        return cond(rc, 'Ready')?.status === 'True' && rc?.status?.['slotsAssigned'] === 16384;
      },
      'RedisCluster lossy Ready',
      30_000,
    );
    // The pod comes back without its volume: an empty node with a new id at the same address.
    replaced.push(await replacePod(redis, kubelet.addresses.get('lossy-0') as string));
    const warning = await eventually(
      async () => {
        const events = (await c.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS }))
          .items as Obj[];
        return events.find(
          (e) => (e['involvedObject'] as { name: string }).name === 'lossy' && e['type'] === 'Warning',
        );
      },
      'a Warning Event on lossy',
      30_000,
    );
    assert.is(warning['reason'], 'ClusterWarning');
    assert.match(String(warning['message']), /lose their keys|no owner/);
    const healed = await eventually(
      async () => {
        const rc = await c.client.get<Obj>(RC, NS, 'lossy');
        const nodes = (rc?.status?.['nodes'] as NodeStatus[] | undefined) ?? [];
        return cond(rc, 'Ready')?.status === 'True' && nodes.filter((n) => n.role === 'master').length === 3
          ? rc
          : undefined;
      },
      'lossy Ready again with 3 masters',
      30_000,
    );
    assert.is(healed.status?.['slotsAssigned'], 16384);
  },
);

s('an invalid spec (2 masters) is refused by the CRD schema, naming the field', async () => {
  try {
    await c.client.create({ ...RC, metadata: { name: 'tiny', namespace: NS }, spec: { masters: 2 } });
  } catch (e) {
    assert.instance(e, ApiError);
    const err = e as ApiError;
    assert.is(err.code, 422);
    const fields = (err.status?.details?.causes ?? []).map((x) => x.field ?? '');
    assert.ok(fields.includes('spec.masters'), `causes name spec.masters: ${fields.join(', ')}`);
    return;
  }
  assert.unreachable('a RedisCluster with 2 masters was accepted');
});

s.run();
