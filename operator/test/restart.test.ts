import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
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

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The rules the install bundle grants the operator (ClusterRole and the leader-election Role). */
function grantedRules(): Rule[] {
  const text = readFileSync(new URL('../../manifests/install.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as { kind: string; metadata: { name: string }; rules?: Rule[] })
    .filter(
      (d) => (d.kind === 'ClusterRole' || d.kind === 'Role') && d.metadata.name.startsWith('souk-operator'),
    )
    .flatMap((d) => d.rules ?? []);
}

/** The RBAC verb, group and resource(/subresource) of a REST request; undefined for discovery. */
function rbacOf(method: string, path: string, query: string) {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') [group, rest] = ['', parts.slice(2)];
  else [group, rest] = [parts[1] ?? '', parts.slice(3)];
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length === 0) return undefined;
  const resource = rest[2] ? `${rest[0]}/${rest[2]}` : (rest[0] as string);
  const named = rest.length >= 2;
  const verb =
    method === 'GET'
      ? /(^|[?&])watch=(1|true)/.test(query)
        ? 'watch'
        : named
          ? 'get'
          : 'list'
      : ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[
          method
        ];
  return { verb: verb ?? method, group, resource };
}

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
  const fromRequest = c.server.requests().length;
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

  // Least privilege, checked from the other side: everything the operator did was granted by the bundle.
  // (The test's own reads in this window are lists and gets the operator is granted too.)
  const rules = grantedRules();
  const denied = new Set<string>();
  const seenAccess = new Set<string>();
  for (const r of c.server.requests().slice(fromRequest)) {
    const a = rbacOf(r.method, r.path, r.query);
    if (!a) continue;
    // Informers list then watch; the server logs a watch only once it ends cleanly, so check both with the list.
    const verbs = a.verb === 'list' ? ['list', 'watch'] : [a.verb];
    const ok = verbs.every((verb) =>
      rules.some(
        (rule) =>
          rule.apiGroups.includes(a.group) &&
          rule.resources.includes(a.resource) &&
          rule.verbs.includes(verb),
      ),
    );
    if (!ok) denied.add(`${a.verb} ${a.group || 'core'}/${a.resource}`);
    if (process.env['DEBUG_RBAC']) seenAccess.add(`${a.verb} ${a.group || 'core'}/${a.resource}`);
  }
  if (process.env['DEBUG_RBAC']) console.log([...seenAccess].sort());
  assert.equal([...denied], [], 'every request is allowed by the install bundle RBAC');

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
