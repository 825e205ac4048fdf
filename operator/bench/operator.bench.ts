import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '@souk/build/bundle';
import { defineBench, percentile } from '@souk/harness/bench';
import { KubeClient } from '../src/runtime/client.ts';
import { Informer } from '../src/runtime/informer.ts';
import { createLogger } from '../src/runtime/log.ts';
import type { KubeObject } from '../src/runtime/object.ts';
import { minimalMicroservice } from '../test/fixtures/microservices.ts';
import { MS, startCluster, type TestCluster } from '../test/support/cluster.ts';

const N = Number(process.env['BENCH_MICROSERVICES'] ?? 1000);
const SINGLES = Number(process.env['BENCH_SINGLES'] ?? 100);
const NS = 'bench';
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const WORKSPACE = fileURLToPath(new URL('..', import.meta.url));

/** The operator as its image runs it (the esbuild bundle), or from source through tsx (OPERATOR_FROM_SOURCE=1). */
async function operatorCommand(outDir: string): Promise<string[]> {
  if (process.env['OPERATOR_FROM_SOURCE'] === '1') return ['--import', 'tsx', MAIN];
  const { outputs } = await bundle(WORKSPACE, outDir);
  const main = outputs.find((o) => o.file.endsWith('main.mjs'));
  if (!main) throw new Error('bundle has no main.mjs');
  return [main.file];
}

type Obj = KubeObject & {
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
};
const isReady = (o: Obj) =>
  o.status?.observedGeneration === o.metadata.generation &&
  (o.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** CPU seconds (user + system) a process has used (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process in MB (/proc/<pid>/status). */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Sum of a metric's samples whose line starts with `prefix`. */
async function metricSum(port: number, prefix: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith(prefix)) n += Number(line.split(' ').pop());
  return n;
}

async function reconcileTotal(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('controller_runtime_reconcile_total{')) n += Number(line.split(' ').pop());
  }
  return n;
}

/** Watches Microservices in the bench process and resolves per-object readiness. */
function readiness(client: KubeClient) {
  const readyAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const inf = new Informer<Obj>(client, MS, { namespace: NS, log: createLogger('bench', 'silent') });
  const check = (o: Obj) => {
    if (!isReady(o) || readyAt.has(o.metadata.name)) return;
    readyAt.set(o.metadata.name, performance.now());
    waiters.get(o.metadata.name)?.();
  };
  inf.addHandler({ onAdd: check, onUpdate: (_o, n) => check(n) });
  inf.start();
  return {
    inf,
    readyAt,
    count: () => readyAt.size,
    wait: (name: string) =>
      new Promise<void>((resolve) => {
        if (readyAt.has(name)) return resolve();
        waiters.set(name, resolve);
      }),
  };
}

export default defineBench('operator', async (ctx) => {
  const c: TestCluster = await startCluster({ namespaces: [NS], historyLimit: 100_000 });
  const client = new KubeClient(c.server.kubeConfig());
  const port = await freePort();
  let op: ChildProcess | undefined;
  const outDir = mkdtempSync(join(tmpdir(), 'souk-operator-bundle-'));
  try {
    const cmd = await operatorCommand(outDir);
    ctx.log(`operator: node ${cmd.join(' ')}`);
    op = spawn(process.execPath, cmd, {
      env: {
        ...process.env,
        KUBECONFIG: c.kubeconfigPath,
        LEADER_ELECT: 'true',
        LEASE_NAMESPACE: 'souk-system',
        PROBE_PORT: String(port),
        WORKERS: process.env['WORKERS'] ?? '8',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const pid = op.pid!;
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const idleRss = rssMb(pid);
    const ready = readiness(client);
    await ready.inf.waitForSync();

    // 1000 Microservices applied at once.
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(pid));
    }, 100);
    const r0 = await reconcileTotal(port);
    const cpuOp0 = cpuSeconds(pid);
    const cpuSelf0 = process.cpuUsage();
    const t0 = performance.now();
    const names = Array.from({ length: N }, (_, i) => `svc-${i}`);
    const inflight = new Set<Promise<unknown>>();
    for (const name of names) {
      const p = client
        .create(minimalMicroservice(NS, name) as unknown as KubeObject)
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 64) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const appliedMs = performance.now() - t0;
    await Promise.all(names.map((n) => ready.wait(n)));
    const allReadyMs = performance.now() - t0;
    const r1 = await reconcileTotal(port);
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMb(pid));
    const self = process.cpuUsage(cpuSelf0);
    const avg = async (m: string) =>
      ((await metricSum(port, `${m}_sum`)) / (await metricSum(port, `${m}_count`))) * 1000;
    ctx.log(
      `mean reconcile ${(await avg('controller_runtime_reconcile_time_seconds')).toFixed(1)} ms, mean queue wait ${(await avg('workqueue_queue_duration_seconds')).toFixed(1)} ms, errors ${await metricSum(port, 'controller_runtime_reconcile_errors_total')}`,
    );
    ctx.log(`applied ${N} in ${Math.round(appliedMs)} ms, all Ready after ${Math.round(allReadyMs)} ms`);
    ctx.log(
      `CPU during the burst: operator ${(cpuSeconds(pid) - cpuOp0).toFixed(1)} s, API test server + watcher ${((self.user + self.system) / 1e6).toFixed(1)} s; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
    ctx.record({
      name: `${N} Microservices applied at once -> all Ready`,
      value: allReadyMs / 1000,
      unit: 's',
      target: 'value < 60',
    });
    ctx.record({
      name: `reconciles per second (${N}-CR burst)`,
      value: (r1 - r0) / (allReadyMs / 1000),
      unit: 'reconciles/s',
    });
    ctx.record({
      name: `reconciles per Microservice (${N}-CR burst)`,
      value: (r1 - r0) / N,
      unit: 'reconciles',
    });
    ctx.record({
      name: 'operator RSS, peak during the burst',
      value: peakRss,
      unit: 'MB',
      target: 'value < 200',
    });
    ctx.record({ name: 'operator RSS, idle before the burst', value: idleRss, unit: 'MB' });

    // Time-to-Ready of one CR at a time, with 1000 others in the caches and an instant kubelet.
    const lat: number[] = [];
    for (let i = 0; i < SINGLES; i++) {
      const name = `single-${i}`;
      const t = performance.now();
      await client.create(minimalMicroservice(NS, name) as unknown as KubeObject);
      await ready.wait(name);
      lat.push(ready.readyAt.get(name)! - t);
    }
    lat.sort((a, b) => a - b);
    ctx.record({ name: 'time-to-Ready of one Microservice, p50', value: percentile(lat, 50), unit: 'ms' });
    ctx.record({
      name: 'time-to-Ready of one Microservice, p99',
      value: percentile(lat, 99),
      unit: 'ms',
      target: 'value < 1000',
    });
    ctx.record({ name: 'operator RSS after the run', value: rssMb(pid), unit: 'MB', target: 'value < 200' });
    await ready.inf.stop();
  } finally {
    if (op && op.exitCode === null) {
      op.kill('SIGTERM');
      await new Promise((r) => op!.once('exit', r));
    }
    client.close();
    await c.stop();
    rmSync(outDir, { recursive: true, force: true });
  }
});
