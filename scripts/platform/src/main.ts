/**
 * `npm start`: the whole platform on one machine. Infrastructure (reused when already up), a
 * database per service, every service behind one entry port, and a Prometheus scraping them.
 * Ctrl-C stops, in reverse order, what this run started; what it found running stays running.
 */

import { existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { ensureInfra, type InfraHandle } from '@souk/harness/infra';
import { repoRoot } from '@souk/harness/workspaces';
import pg from 'pg';
import { createGateway, type GatewayRoute } from './gateway.ts';
import { Progress } from './progress.ts';
import { PROMETHEUS_BIN, type PrometheusHandle, startPrometheus } from './prometheus.ts';
import { type LocalService, localServices } from './services.ts';
import { Supervisor } from './supervisor.ts';

const ENTRY_PORT = Number(process.env['SOUK_PORT'] ?? 20080);
const SERVICES_BASE_PORT = Number(process.env['SOUK_SERVICES_BASE_PORT'] ?? 20100);
const PROMETHEUS_PORT = Number(process.env['SOUK_PROMETHEUS_PORT'] ?? 20090);
export const DEMO_ADMIN = { email: 'admin@souk.local', password: 'souk-admin-demo-password' };

const stateDir = path.join(repoRoot, '.souk');
const progress = new Progress();
let infra: InfraHandle | undefined;
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

function databaseName(service: string): string {
  return `souk_${service}`;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function createDatabases(adminUrl: string, services: readonly LocalService[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const s of services) {
      const db = databaseName(s.name);
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  infra = await progress.step('infrastructure: PostgreSQL primary + replica, Redis Cluster, Kafka', () =>
    ensureInfra(),
  );
  const ready = infra;
  const services = localServices(SERVICES_BASE_PORT);
  const users = services.find((s) => s.name === 'users');

  if (services.length > 0) {
    await progress.step('a database per service', () => createDatabases(ready.pgPrimaryUrl, services));
    supervisor = new Supervisor({
      logDir: path.join(stateDir, 'logs'),
      env: (s) => ({
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        NODE_ENV: 'development',
        SERVICE_NAME: s.name,
        HOST: '127.0.0.1',
        PORT: String(s.port),
        LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
        DATABASE_URL: withDatabase(ready.pgPrimaryUrl, databaseName(s.name)),
        DATABASE_REPLICA_URL: withDatabase(ready.pgReplicaUrl, databaseName(s.name)),
        REDIS_NODES: ready.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
        KAFKA_BROKERS: ready.kafkaBrokers.join(','),
        // Every service finds the others as <NAME>_URL, as the Helm chart tells them in a cluster.
        ...Object.fromEntries(
          services.map((o) => [`${o.name.toUpperCase()}_URL`, `http://127.0.0.1:${o.port}`]),
        ),
        ADMIN_EMAIL: DEMO_ADMIN.email,
        ADMIN_PASSWORD: DEMO_ADMIN.password,
      }),
      onRestart: (r, why) =>
        progress.warn(`${r.service.name} exited and is restarted (${r.restarts}):\n${why}`),
    });
    for (const s of services) {
      await progress.step(`${s.name} on :${s.port}`, async () => {
        await supervisor?.start(s);
      });
    }
  } else {
    progress.warn('no service exists in this checkout yet: only the infrastructure runs');
  }

  const routes: GatewayRoute[] = services.flatMap((s) =>
    s.paths.map((prefix) => ({ prefix, service: s.name, target: `http://127.0.0.1:${s.port}` })),
  );
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

  if (existsSync(PROMETHEUS_BIN) && services.length > 0) {
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
  const lines: [string, string][] = [
    ['API (one entry port)', `${base}/`],
    ...services.map((s): [string, string] => [
      `  ${s.name}`,
      `${base}${s.paths[0] ?? ''}  (direct :${s.port}, /metrics, /openapi.json)`,
    ]),
    ...(routes.some((r) => r.prefix === '/console')
      ? [['live console', `${base}/console`] as [string, string]]
      : []),
    ...(prometheus ? [['Prometheus', prometheus.url] as [string, string]] : []),
    ['PostgreSQL primary / replica', `${ready.pgPrimaryUrl}  ${ready.pgReplicaUrl}`],
    ['Redis Cluster', ready.redisNodes.map((n) => `${n.host}:${n.port}`).join(', ')],
    ['Kafka (mock cluster)', ready.kafkaBrokers.join(', ')],
    ...(users ? [['demo admin', `${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`] as [string, string]] : []),
    ['logs', path.join(stateDir, 'logs')],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  progress.info('');
  for (const [k, v] of lines) progress.info(`  ${k.padEnd(width)}  ${v}`);
  progress.info('\nready. Ctrl-C stops what this command started.');
}

main().catch(async (e) => {
  progress.warn(`npm start failed: ${(e as Error).message}`);
  await stopAll().catch(() => {});
  process.exit(1);
});
