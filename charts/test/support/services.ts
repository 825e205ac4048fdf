/**
 * The five services as `npm start` runs them (`node --import tsx services/<name>/src/main.ts`), each a
 * child process on its own database of the shared PostgreSQL pair, all on one Redis key prefix, and on
 * a private Kafka mock cluster, so the test may inject faults into it without disturbing other suites.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type KafkaMock, startKafkaMock } from '@souk/harness/infra';
import { freePorts } from '@souk/harness/infra/ports';
import { isAlive, type ProcessRef, spawnDaemon, terminate, waitFor } from '@souk/harness/infra/processes';
import { type Suite, useSuite } from '@souk/harness/suite';
import { repoRoot } from '@souk/harness/workspaces';

export const SERVICES = ['users', 'inventory', 'payments', 'orders', 'notifications'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const ADMIN = { email: 'admin@souk.test', password: 'Admin-password-for-observability-1' };
export const CARDS = { approve: '4242 4242 4242 4242', decline: '4000 0000 0000 0002' };

export interface Services {
  url: Record<ServiceName, string>;
  /** host:port of each service, for scrape targets. */
  address: Record<ServiceName, string>;
  /** The suite owning the topics and key prefix (users' database). */
  main: Suite;
  /** Postgres primary and replica admin URLs of the shared pair. */
  postgres: { primary: string; replica: string };
  redisNodes: string[];
  kafka: KafkaMock;
  stop(): Promise<void>;
}

export async function startServices(dir: string): Promise<Services> {
  const suites: Suite[] = [];
  const refs: ProcessRef[] = [];
  let kafka: KafkaMock | undefined;
  const stop = async () => {
    await terminate(refs, 'SIGTERM', 10_000);
    await kafka?.stop();
    for (const s of suites.reverse()) await s.close();
  };
  try {
    const mock = await startKafkaMock({ brokers: 3 });
    kafka = mock;
    for (const s of SERVICES) suites.push(await useSuite(`observability-${s}`));
    const main = suites[0]!;
    const ports = await freePorts(SERVICES.length);
    const address = Object.fromEntries(SERVICES.map((s, i) => [s, `127.0.0.1:${ports[i]}`])) as Record<
      ServiceName,
      string
    >;
    const url = Object.fromEntries(SERVICES.map((s) => [s, `http://${address[s]}`])) as Record<
      ServiceName,
      string
    >;
    const redisNodes = main.redisNodes.map((n) => `${n.host}:${n.port}`);
    const topicPrefix = `${main.id}.`;
    SERVICES.forEach((name, i) => {
      const suite = suites[i]!;
      refs.push(
        spawnDaemon(
          process.execPath,
          ['--import', 'tsx', path.join(repoRoot, 'services', name, 'src', 'main.ts')],
          path.join(dir, `${name}.log`),
          {
            cwd: path.join(repoRoot, 'services', name),
            dieWithParent: 'SIGTERM',
            env: {
              PATH: process.env['PATH'],
              HOME: process.env['HOME'],
              NODE_ENV: 'test',
              SERVICE_NAME: name,
              HOST: '127.0.0.1',
              PORT: String(ports[i]),
              LOG_LEVEL: 'warn',
              DATABASE_URL: suite.databaseUrl,
              DATABASE_REPLICA_URL: suite.replicaDatabaseUrl,
              REDIS_NODES: redisNodes.join(','),
              KAFKA_BROKERS: mock.bootstrap,
              ...Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_URL`, url[s]])),
              REDIS_KEY_PREFIX: main.keyPrefix,
              KAFKA_TOPIC_PREFIX: topicPrefix,
              ADMIN_EMAIL: ADMIN.email,
              ADMIN_PASSWORD: ADMIN.password,
              LOGIN_LIMIT_PER_IP: '100000',
              LOGIN_LIMIT_PER_ACCOUNT: '100000',
              PROVIDER_RETRY_BASE_MS: '10',
              PROVIDER_RETRY_MAX_MS: '50',
            },
          },
        ),
      );
    });
    await Promise.all(
      SERVICES.map(async (s) => {
        const state = await waitFor(
          `${s} to be ready`,
          async () => {
            if (!isAlive(refs[SERVICES.indexOf(s)]!)) return 'exited';
            return (await fetch(`${url[s]}/readyz`).catch(() => undefined))?.status === 200 && 'ready';
          },
          60_000,
          100,
        );
        if (state === 'exited') throw new Error(`${s} exited:\n${tail(dir, s)}`);
      }),
    );
    const primary = new URL(main.adminUrl);
    const replica = new URL(main.replicaDatabaseUrl);
    replica.pathname = '/postgres';
    return {
      url,
      address,
      main,
      postgres: { primary: primary.toString(), replica: replica.toString() },
      redisNodes,
      kafka: mock,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function tail(dir: string, name: string): string {
  try {
    return readFileSync(path.join(dir, `${name}.log`), 'utf8')
      .split('\n')
      .slice(-10)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
