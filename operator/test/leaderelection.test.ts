import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Manager } from '../src/runtime/manager.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from './fixtures/microservices.ts';
import { eventually, MS, startCluster, startOperator, type TestCluster } from './support/cluster.ts';

const NS = 'le';
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
type Lease = KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } };
type Obj = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

const s = suite('leader election');
let c: TestCluster;
const managers: Manager[] = [];

const election = (identity: string) => ({
  leaderElect: true,
  identity,
  leaseNamespace: 'souk-system',
  leaseName: 'souk-operator-leader',
  leaseDurationMs: 1500,
  renewDeadlineMs: 1000,
  retryPeriodMs: 150,
});

const isReady = async (name: string) => {
  const ms = await c.client.get<Obj>(MS, NS, name);
  return ms?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
};

s.before(async () => {
  c = await startCluster({ namespaces: [NS] });
});
s.after(async () => {
  for (const m of managers) await m.stop();
  await c.stop();
});

s('one of two managers leads; the other takes over when the leader stops', async () => {
  const a = await startOperator(c, election('a'));
  managers.push(a);
  await a.elected();
  const b = await startOperator(c, election('b'));
  managers.push(b);
  const lease = await c.client.get<Lease>(LEASE, 'souk-system', 'souk-operator-leader');
  assert.is(lease?.spec.holderIdentity, 'a');
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(a.isLeader());
  assert.not.ok(b.isLeader(), 'the standby does not reconcile while the lease is held and renewed');

  await c.client.create(minimalMicroservice(NS, 'one') as unknown as KubeObject);
  await eventually(() => isReady('one'), 'reconciled by the leader');
  const bReconciles = await b.metrics.reconcileTotal.get();
  assert.is(
    bReconciles.values.reduce((n, v) => n + v.value, 0),
    0,
    'the standby reconciled nothing',
  );

  const stoppedAt = Date.now();
  await a.stop();
  await b.elected();
  const handover = Date.now() - stoppedAt;
  assert.ok(handover < 1500, `released lease taken over within a lease duration (${handover} ms)`);
  const after = await c.client.get<Lease>(LEASE, 'souk-system', 'souk-operator-leader');
  assert.is(after?.spec.holderIdentity, 'b');
  assert.ok((after?.spec.leaseTransitions ?? 0) >= 1);

  await c.client.create(minimalMicroservice(NS, 'two') as unknown as KubeObject);
  await eventually(() => isReady('two'), 'reconciled by the new leader');
});

s('a leader that vanishes without releasing is replaced once its lease expires', async () => {
  const b = managers[1]!;
  const c2 = await startOperator(c, election('c'));
  managers.push(c2);
  await new Promise((r) => setTimeout(r, 500));
  assert.not.ok(c2.isLeader());
  // Stop b's renewals without a release: what a crashed or partitioned leader looks like to others.
  (b as unknown as { elector: { release(): Promise<void> } }).elector.release = async () => {};
  await b.stop();
  const t0 = Date.now();
  await c2.elected();
  assert.ok(Date.now() - t0 >= 500, 'waited for the lease to expire');
  const lease = await c.client.get<Lease>(LEASE, 'souk-system', 'souk-operator-leader');
  assert.is(lease?.spec.holderIdentity, 'c');
});

s.run();
