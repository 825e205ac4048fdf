/**
 * `npm start`: the whole platform on one machine. Infrastructure (reused when already up), a
 * database per service, every service behind one entry port, a Prometheus scraping them, and demo
 * data (`-- --demo` also plays a short order scenario). Ctrl-C stops, in reverse order, what this
 * run started; what it found running stays running.
 */

import { existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pgBinDir } from '@souk/harness/infra/paths';
import { repoRoot } from '@souk/harness/workspaces';
import { runDemo } from './demo.ts';
import { createGateway } from './gateway.ts';
import { chooseInfra, systemProbe } from './infra-choice.ts';
import { type LocalInfra, startLocalInfra } from './local-infra.ts';
import { DEFAULT_PORT_BASE, portLayout } from './ports.ts';
import { Progress } from './progress.ts';
import { PROMETHEUS_BIN, type PrometheusHandle, startPrometheus, waitForFirstScrape } from './prometheus.ts';
import { DEMO_ADMIN, DEMO_CUSTOMER, type Seeded, seed } from './seed.ts';
import { localRoutes, localServiceEnv, localServices } from './services.ts';
import { Supervisor } from './supervisor.ts';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--demo');
if (unknown.length > 0) {
  process.stderr.write(`npm start: unknown argument ${unknown.join(' ')} (usage: npm start [-- --demo])\n`);
  process.exit(2);
}
const DEMO = args.includes('--demo');
const ports = portLayout(process.env);
const ENTRY_PORT = ports.entry;
const SERVICES_BASE_PORT = ports.services;
const PROMETHEUS_PORT = ports.prometheus;
// The infrastructure takes the layout's ports, unless they are set one by one. Another base is
// another platform: its own infrastructure state, logs and Prometheus data, so two never mix.
for (const [name, port] of Object.entries(ports.infra)) process.env[name] ??= String(port);
const stateDir =
  ports.base === DEFAULT_PORT_BASE
    ? path.join(repoRoot, '.souk')
    : path.join(repoRoot, '.souk', `port-base-${ports.base}`);
if (ports.base !== DEFAULT_PORT_BASE) {
  process.env['SOUK_INFRA_DIR'] ??= path.join(stateDir, 'infra');
  process.env['SOUK_INFRA_ENV'] ??= path.join(stateDir, 'infra.env');
}
const progress = new Progress();
let infra: LocalInfra | undefined;
let supervisor: Supervisor | undefined;
let gateway: http.Server | undefined;
let prometheus: PrometheusHandle | undefined;

async function stopAll(): Promise<void> {
  await prometheus?.stop();
  if (gateway) {
    gateway.closeAllConnections();
    await new Promise((r) => gateway?.close(r));
  }
  await supervisor?.stop();
  await infra?.release();
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    progress.info(`\n${sig}: stopping…`);
    void stopAll().then(
      () => {
        progress.info('stopped.');
        process.exit(0);
      },
      (e) => {
        progress.warn(`stopping failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  });
}

async function main(): Promise<void> {
  const services = localServices(SERVICES_BASE_PORT);
  const choice = chooseInfra(process.env, systemProbe(pgBinDir));
  for (const reason of choice.reasons) progress.warn(reason);
  infra = await startLocalInfra({
    choice,
    services: services.map((s) => s.name),
    stateDir,
    // Beside the PostgreSQL server's ports (primary, replica): +8 onwards, one per service.
    embeddedBasePort: ports.infra.SOUK_INFRA_PG_PORT + 8,
    step: (title, run) => progress.step(title, run),
  });
  const ready = infra;
  const users = services.find((s) => s.name === 'users');
  const prometheusWanted = existsSync(PROMETHEUS_BIN) && services.length > 0;

  if (services.length > 0) {
    supervisor = new Supervisor({
      logDir: path.join(stateDir, 'logs'),
      env: (s) =>
        localServiceEnv(s, services, ready.serviceEnv(s.name), {
          ADMIN_EMAIL: DEMO_ADMIN.email,
          ADMIN_PASSWORD: DEMO_ADMIN.password,
          // The live console's charts (notifications) read Prometheus' figures through the service.
          ...(prometheusWanted ? { PROMETHEUS_URL: `http://127.0.0.1:${PROMETHEUS_PORT}` } : {}),
        }),
      onRestart: (r, why) =>
        progress.warn(`${r.service.name} exited and is restarted (${r.restarts}):\n${why}`),
    });
    // users first: it issues the tokens and keys the others check. The rest start side by side.
    const [first, ...rest] = services;
    for (const group of [[first!], rest].filter((g) => g.length > 0)) {
      await progress.step(group.map((s) => `${s.name} on :${s.port}`).join(', '), async () => {
        await Promise.all(group.map((s) => supervisor?.start(s)));
      });
    }
  } else {
    progress.warn('no service exists in this checkout yet: only the infrastructure runs');
  }

  const routes = localRoutes(services);
  await progress.step(`entry port :${ENTRY_PORT}`, async () => {
    gateway = createGateway(() => routes, {
      home: (_req, res) => {
        const console = routes.find((r) => r.prefix === '/console');
        if (console) {
          res.writeHead(302, { location: '/console' });
          res.end();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ services: services.map((s) => ({ name: s.name, paths: s.paths })) }, null, 2),
        );
      },
    });
    const g = gateway;
    await new Promise<void>((resolve, reject) => {
      g.once('error', reject);
      g.listen(ENTRY_PORT, '127.0.0.1', () => resolve());
    });
  });

  if (prometheusWanted) {
    prometheus = await progress.step(`Prometheus on :${PROMETHEUS_PORT}`, () =>
      startPrometheus({
        dir: path.join(stateDir, 'prometheus'),
        port: PROMETHEUS_PORT,
        targets: services.map((s) => ({ job: s.name, address: `127.0.0.1:${s.port}` })),
      }),
    );
  } else if (!existsSync(PROMETHEUS_BIN)) {
    progress.warn('Prometheus is not installed (apt-get install prometheus): no local metrics history');
  }

  const base = `http://127.0.0.1:${ENTRY_PORT}`;
  const has = (name: string) => services.some((s) => s.name === name);
  let seeded: Seeded | undefined;
  if (users && has('inventory')) {
    // Without demo data the platform still works: say why and go on.
    seeded = await progress
      .step('demo data: admin, customer, catalogue', () => seed(base))
      .catch(() => undefined);
    if (seeded) {
      const { customer, items } = seeded.created;
      progress.info(
        customer || items > 0
          ? `  created ${customer ? 'the customer account and ' : ''}${items} catalogue item(s)`
          : '  already there, nothing added',
      );
    }
  }

  const lines: [string, string][] = [
    ['API (one entry port)', `${base}/`],
    ...services.map((s): [string, string] => [
      `  ${s.name}`,
      `${s.paths[0] ? `${base}${s.paths[0]}` : '(no public path)'}  direct http://127.0.0.1:${s.port}/openapi.json`,
    ]),
    ...(routes.some((r) => r.prefix === '/console')
      ? [['live console', `${base}/console`] as [string, string]]
      : []),
    ['metrics (/metrics)', services.map((s) => `http://127.0.0.1:${s.port}/metrics`).join('\n')],
    ...(prometheus ? [['Prometheus', prometheus.url] as [string, string]] : []),
    ...ready.summary(),
    ...(users ? [['demo admin', `${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`] as [string, string]] : []),
    ...(seeded
      ? [['demo customer', `${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}`] as [string, string]]
      : []),
    ['logs', path.join(stateDir, 'logs')],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  progress.info('');
  for (const [k, v] of lines) {
    const [first, ...rest] = v.split('\n');
    progress.info(`  ${k.padEnd(width)}  ${first}`);
    for (const more of rest) progress.info(`  ${''.padEnd(width)}  ${more}`);
  }
  progress.info('\nready. Ctrl-C stops what this command started.');

  if (DEMO) {
    if (!has('orders') || !has('payments') || !users || !has('inventory')) {
      progress.warn('--demo needs users, inventory, orders and payments: no demo in this checkout');
      return;
    }
    if (!seeded) {
      progress.warn('--demo: no demo without the demo data (see above)');
      return;
    }
    // The console's charts show the demo only if Prometheus sampled the counters before it began.
    if (prometheus)
      await waitForFirstScrape(prometheus.url, ['orders']).catch((e: Error) =>
        progress.warn(`${e.message}: the charts may miss the demo`),
      );
    progress.info(
      `\ndemo: ${DEMO_CUSTOMER.email} places a few orders; sign in at ${base}/console to watch them (as the admin, the event stream too).`,
    );
    const results = await runDemo(base, seeded, {
      paceMs: Number(process.env['SOUK_DEMO_PACE_MS'] ?? 1500),
      onResult: (r) =>
        progress.info(
          `  ${r.asExpected ? '✔' : '✘'} ${r.step.label}: ${r.order.status}${r.order.cancelReason ? ` (${r.order.cancelReason})` : ''} in ${r.seconds.toFixed(1)}s`,
        ),
    });
    const wrong = results.filter((r) => !r.asExpected).length;
    progress.info(
      wrong === 0
        ? 'demo done: every saga ended as expected. Ctrl-C to stop.'
        : `demo done: ${wrong} saga(s) ended otherwise than expected (see .souk/logs). Ctrl-C to stop.`,
    );
  }
}

main().catch(async (e) => {
  // Ctrl-C in the middle (of the demo, say) is a stop, not a failure.
  if (stopping) return;
  progress.warn(`npm start failed: ${(e as Error).message}`);
  await stopAll().catch(() => {});
  process.exit(1);
});
