import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from './fixtures/microservices.ts';
import { eventually, MS, startCluster, type TestCluster } from './support/cluster.ts';

const NS = 'restart';
const N = 60;
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
type Obj = KubeObject & {
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
};

const s = suite('operator process restart');
let c: TestCluster;
const procs: ChildProcess[] = [];

function spawnOperator(): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      KUBECONFIG: c.kubeconfigPath,
      LEADER_ELECT: 'true',
      LEASE_NAMESPACE: 'souk-system',
      LEASE_DURATION_MS: '1500',
      RENEW_DEADLINE_MS: '1000',
      RETRY_PERIOD_MS: '150',
      PROBE_PORT: '0',
      WORKERS: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(p);
  return p;
}

const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
  });

async function readyCount(): Promise<number> {
  const list = await c.client.list(MS, { namespace: NS });
  return (list.items as Obj[]).filter(
    (m) =>
      m.status?.observedGeneration === m.metadata.generation &&
      m.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
  ).length;
}

s.before(async () => {
  c = await startCluster({ namespaces: [NS] });
});
s.after(async () => {
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await exited(p);
    }
  }
  await c.stop();
});

s('an operator killed with SIGKILL mid-reconcile is restarted and converges', async () => {
  for (let i = 0; i < N; i++)
    await c.client.create(minimalMicroservice(NS, `svc-${i}`) as unknown as KubeObject);
  const first = spawnOperator();
  // Kill as soon as it has started writing children: it is then in the middle of the batch.
  await eventually(
    () => c.server.requests().some((r) => r.method === 'PATCH' && r.path.includes('/deployments/')),
    'the first operator starts applying',
    30_000,
    5,
  );
  first.kill('SIGKILL');
  await exited(first);
  const atKill = await readyCount();
  assert.ok(atKill < N, `killed mid-way (${atKill}/${N} ready)`);

  const t0 = Date.now();
  const second = spawnOperator();
  await eventually(
    async () => ((await readyCount()) === N ? true : undefined),
    `all ${N} Ready after restart`,
    60_000,
    200,
  );
  if (process.env['DEBUG_TIMING']) console.log('converged after restart in', Date.now() - t0, 'ms');
  const deployments = await c.client.list({ apiVersion: 'apps/v1', kind: 'Deployment' }, { namespace: NS });
  assert.is(deployments.items.length, N, 'exactly one Deployment per Microservice');
  const lease = await c.client.get<KubeObject & { spec: { leaseTransitions?: number } }>(
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
    'souk-system',
    'souk-operator-leader',
  );
  assert.ok(
    (lease?.spec.leaseTransitions ?? 0) >= 1,
    'the new process took the lease over from the dead one',
  );

  second.kill('SIGTERM');
  await exited(second);
  assert.is(second.exitCode, 0, 'graceful shutdown on SIGTERM');
  const released = await c.client.get<KubeObject & { spec: { holderIdentity?: string } }>(
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
    'souk-system',
    'souk-operator-leader',
  );
  assert.is(released?.spec.holderIdentity, '', 'the lease is released on shutdown');
});

s.run();
