/**
 * `npm start` end to end, as a newcomer runs it: a fresh `git clone` of this repository, its own
 * `npm start -- --demo` on a port base of its own (SOUK_PORT_BASE), beside the shared infrastructure
 * the other suites lease. Ready, the demo data seeded once, the scripted scenario (by --demo, and
 * again from here over HTTP), the notifications it causes, the console's charts fed by Prometheus,
 * and after Ctrl-C nothing left: no process, no port, the shared infrastructure untouched.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureInfra, type InfraHandle } from '@souk/harness/infra';
import { isPortFree } from '@souk/harness/infra/ports';
import { pidsWithCwdUnder, sweep, waitFor } from '@souk/harness/infra/processes';
import { makeTempDir } from '@souk/harness/infra/temp-dirs';
import { killGroup, leftoverProcesses } from '@souk/harness/process-group';
import { listWorkspaces, repoRoot } from '@souk/harness/workspaces';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { ApiClient } from '../src/api-client.ts';
import { DEMO_STEPS, runDemo } from '../src/demo.ts';
import { portLayout } from '../src/ports.ts';
import { queryPrometheus } from '../src/prometheus.ts';
import { DEMO_ADMIN, seed } from '../src/seed.ts';
import { SERVICE_ORDER } from '../src/services.ts';

const shared: InfraHandle = await ensureInfra();
const tmp = makeTempDir('npm-start');
const clone = path.join(tmp, 'souk');
let child: ChildProcess | undefined;
let output = '';

/** A free port base in the private range: every port of its layout is free. */
async function freeBase(): Promise<number> {
  const bases = [22, 23, 24, 25, 26, 27, 28, 29, 30, 31].map((k) => k * 1000).sort(() => Math.random() - 0.5);
  for (const base of bases) {
    if ((await Promise.all(layoutPorts(base).map(isPortFree))).every(Boolean)) return base;
  }
  throw new Error('no free port base in 22000-31000');
}

function layoutPorts(base: number): number[] {
  const p = portLayout({ SOUK_PORT_BASE: String(base) });
  return [
    p.entry,
    p.prometheus,
    ...SERVICE_ORDER.map((_, i) => p.services + i),
    p.infra.SOUK_INFRA_PG_PORT,
    p.infra.SOUK_INFRA_PG_PORT + 1,
    ...[0, 1, 2, 3, 4, 5].map((i) => p.infra.SOUK_INFRA_REDIS_PORT + i),
    ...[0, 1, 2, 3, 4, 5].map((i) => p.infra.SOUK_INFRA_REDIS_BUS_PORT + i),
    p.infra.SOUK_INFRA_KAFKA_CONTROL_PORT,
  ];
}

/**
 * The clone gets this checkout's installed packages instead of a reinstall: every package is a
 * link into our node_modules, except the workspaces' own, which point at the clone's workspaces, so
 * what runs is the clone's code. helm, kubectl and the Kafka mock launcher are copied likewise.
 */
function prepareClone(): void {
  execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
  const modules = path.join(clone, 'node_modules');
  fs.mkdirSync(path.join(modules, '@souk'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (entry === '@souk') continue;
    fs.symlinkSync(path.join(repoRoot, 'node_modules', entry), path.join(modules, entry));
  }
  for (const ws of listWorkspaces(clone)) {
    const name = JSON.parse(fs.readFileSync(path.join(ws, 'package.json'), 'utf8')).name as string;
    fs.symlinkSync(path.relative(path.join(modules, '@souk'), ws), path.join(modules, name));
    const own = path.join(repoRoot, path.relative(clone, ws), 'node_modules');
    if (fs.existsSync(own)) fs.symlinkSync(own, path.join(ws, 'node_modules'));
  }
  // scripts/setup: the packages are current (its stamp is newer than the lock).
  fs.writeFileSync(path.join(modules, '.souk-setup-stamp'), '');
  fs.mkdirSync(path.join(clone, '.souk', 'bin'), { recursive: true });
  for (const bin of ['helm', 'kubectl', 'souk-kafka-mock']) {
    const from = path.join(repoRoot, '.souk', 'bin', bin);
    const to = path.join(clone, '.souk', 'bin', bin);
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o755);
  }
}

/** Processes the clone's platform may have left: anything working in the clone or naming it. */
function processesOfClone(): string[] {
  const found = new Set(pidsWithCwdUnder(clone).map((r) => r.pid));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(clone)) found.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return [...found].map((pid) => {
    try {
      return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`;
    } catch {
      return String(pid);
    }
  });
}

const base = await freeBase();
const entry = portLayout({ SOUK_PORT_BASE: String(base) }).entry;
const api = new ApiClient(`http://127.0.0.1:${entry}`);

test('npm start in a fresh clone: ready, demo data, the scenario, notifications, charts, and Ctrl-C leaves nothing', async () => {
  const t0 = performance.now();
  prepareClone();
  // The user's environment, without what the test runner adds for suites (the shared instance).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOUK_')));
  child = spawn('npm', ['start', '--', '--demo'], {
    cwd: clone,
    env: { ...env, SOUK_PORT_BASE: String(base), SOUK_DEMO_PACE_MS: '0', FORCE_COLOR: '0' },
    // Its own process group, as a terminal runs a foreground job; Ctrl-C signals the group.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<string>((resolve) =>
    child?.on('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const pgid = child.pid!;

  await waitFor(
    'npm start to print ready',
    () => {
      if (child?.exitCode !== null) throw new Error(`npm start exited ${child?.exitCode}:\n${output}`);
      return output.includes('\nready.');
    },
    300_000,
    200,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n${output}`);
  });
  const readySeconds = (performance.now() - t0) / 1000;
  assert.match(
    output,
    /generating the database client of services\/users/,
    'the fresh clone generated its clients',
  );
  assert.match(output, /created the customer account and 5 catalogue item\(s\)/);
  assert.match(output, new RegExp(`live console +http://127.0.0.1:${entry}/console`));
  assert.match(output, /demo customer +customer@souk\.local \/ /);
  assert.match(output, new RegExp(`Prometheus +http://127.0.0.1:${base + 90}`));
  assert.match(output, new RegExp(`http://127.0.0.1:${base + 100}/metrics`));

  // --demo plays the scenario by itself and reports each saga's end.
  await waitFor('the demo to finish', () => output.includes('demo done'), 120_000, 200).catch((e) => {
    throw new Error(`${(e as Error).message}\n${output}`);
  });
  assert.match(output, /demo done: every saga ended as expected/);
  assert.is(output.match(/^ {2}✔ .*: (CONFIRMED|CANCELLED)/gm)?.length, DEMO_STEPS.length);

  // The seed is idempotent: run again, it finds everything and adds nothing.
  const seeded = await seed(api.base);
  assert.equal(seeded.created, { customer: false, items: 0 });
  const catalogue = await api.get<{ items: { title: string }[] }>(
    `/items?owner=${seeded.admin.id}&limit=100`,
  );
  assert.is(catalogue.items.length, 5, 'no duplicate items');

  // A rate needs a sample from before the sagas it counts: let Prometheus record the first demo's
  // sagas before this second one runs, however late its scrapes come on a loaded machine.
  const prometheusUrl = `http://127.0.0.1:${base + 90}`;
  await waitFor(
    "Prometheus to record the demo's sagas",
    async () => {
      const total = await queryPrometheus(prometheusUrl, 'sum(souk_saga_total)').catch(() => []);
      return (total[0]?.value ?? 0) >= DEMO_STEPS.length;
    },
    60_000,
    500,
  );
  const results = await runDemo(api.base, seeded, { timeoutMs: 60_000 });
  for (const r of results)
    assert.ok(r.asExpected, `${r.step.label}: ${r.order.status} ${r.order.cancelReason ?? ''}`);
  assert.is(results.length, DEMO_STEPS.length);

  // Each outcome reaches the customer as a notification, over the API and over the WebSocket.
  const expected = results.map((r) => ({
    orderId: r.order.id,
    kind: r.order.status === 'CONFIRMED' ? 'order_confirmed' : 'order_cancelled',
  }));
  type Note = { id: number; kind: string; data: { orderId?: string } };
  const token = seeded.customer.token;
  const page = await waitFor(
    'a notification of every outcome',
    async () => {
      const p = await api.get<{ items: Note[] }>('/notifications?limit=100', { token });
      return (
        expected.every((e) => p.items.some((n) => n.kind === e.kind && n.data.orderId === e.orderId)) && p
      );
    },
    30_000,
    250,
  );
  const declined = results.find((r) => r.order.cancelReason === 'payment_declined')!;
  assert.ok(page.items.some((n) => n.kind === 'payment_declined' && n.data.orderId === declined.order.id));
  const replayed = await new Promise<Note[]>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${entry}/notifications/stream?lastId=0`, [
      'souk.notifications.v1',
      `bearer.${token}`,
    ]);
    const got: Note[] = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; notification?: Note };
      if (msg.type === 'notification' && msg.notification) got.push(msg.notification);
      if (msg.type === 'ready') {
        ws.close();
        resolve(got);
      }
    });
    ws.on('error', reject);
  });
  for (const e of expected)
    assert.ok(
      replayed.some((n) => n.kind === e.kind && n.data.orderId === e.orderId),
      `the stream replays ${e.kind} of ${e.orderId}`,
    );

  // The console's charts read this run's Prometheus, which scrapes the saga's counters.
  const admin = await api.post<{ accessToken: string }>('/sessions', DEMO_ADMIN);
  type Charts = {
    prometheus: string;
    charts: { id: string; series: { name: string; points: [number, number | null][] }[] }[];
  };
  let lastCharts: Charts | undefined;
  // On a loaded machine a scrape can time out, so this waits a few scrape rounds.
  const charts = await waitFor(
    'the orders chart to have data',
    async () => {
      const c = await api.get<Charts>('/console/charts?minutes=5', { token: admin.accessToken });
      lastCharts = c;
      const orders = c.charts.find((x) => x.id === 'orders');
      return (
        orders?.series.some((s) => s.name === 'confirmed' && s.points.some(([, v]) => v !== null && v > 0)) &&
        c
      );
    },
    90_000,
    1000,
  ).catch(async (e) => {
    const targets = await fetch(`${prometheusUrl}/api/v1/targets`)
      .then((r) => r.text())
      .catch((err: Error) => err.message);
    const orders = JSON.stringify(lastCharts?.charts.find((x) => x.id === 'orders'));
    throw new Error(`${(e as Error).message}\norders chart: ${orders}\nPrometheus targets: ${targets}`);
  });
  assert.is(charts.prometheus, 'ok');

  // Ctrl-C: the whole foreground group gets SIGINT.
  const t1 = performance.now();
  killGroup(pgid, 'SIGINT');
  await waitFor(
    'npm start to exit',
    () => child?.exitCode !== null || child?.signalCode !== null,
    60_000,
    100,
  );
  await waitFor(
    'every process of npm start to end',
    async () => (await leftoverProcesses(pgid)).length === 0 && processesOfClone().length === 0,
    60_000,
    200,
  ).catch(async (e) => {
    throw new Error(
      `${(e as Error).message}: ${[...(await leftoverProcesses(pgid)), ...processesOfClone()].join('; ')}\n${output}`,
    );
  });
  const stopSeconds = (performance.now() - t1) / 1000;
  // npm ends as the shell would show it after Ctrl-C (by SIGINT, or 0 when it outlived its script).
  assert.ok(['0', 'SIGINT'].includes(await exited), `npm start ended with ${await exited}`);
  assert.match(output, /stopped\./);
  const busy = [];
  for (const p of layoutPorts(base)) if (!(await isPortFree(p))) busy.push(p);
  assert.equal(busy, [], 'every port of the run is free again');

  // The shared instance the other suites use is still up and serving.
  const client = new pg.Client({ connectionString: shared.pgPrimaryUrl });
  await client.connect();
  assert.is((await client.query('SELECT 1 AS one')).rows[0].one, 1);
  await client.end();
  console.log(
    `npm start in a fresh clone: ready in ${readySeconds.toFixed(1)}s, stopped in ${stopSeconds.toFixed(1)}s`,
  );
});

test.after(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) killGroup(child.pid, 'SIGKILL');
  await sweep(clone);
  fs.rmSync(tmp, { recursive: true, force: true });
  await shared.release();
});

test.run();
