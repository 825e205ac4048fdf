/**
 * The infrastructure `npm start` runs the services on, as `chooseInfra` decided: with PostgreSQL
 * and Redis installed, the shared instance (reused when up, as tests use it) with a database per
 * service; otherwise private servers for what is installed, PGlite for PostgreSQL and no Redis
 * for what is not. Kafka is always the librdkafka mock cluster.
 */
import path from 'node:path';
import {
  ensureInfra,
  type KafkaMock,
  type PostgresPair,
  type RedisCluster,
  startKafkaMock,
  startPostgresPair,
  startRedisCluster,
} from '@souk/harness/infra';
import pg from 'pg';
import {
  EMBEDDED_OUTBOX_POLL_MS,
  EMBEDDED_POOL_SIZE,
  type EmbeddedPostgres,
  startEmbeddedPostgres,
} from './embedded-postgres.ts';
import type { InfraChoice } from './infra-choice.ts';

export interface LocalInfraOptions {
  choice: InfraChoice;
  /** A database each. */
  services: readonly string[];
  /** Embedded databases keep their data in `<stateDir>/pglite/<service>`. */
  stateDir: string;
  /** The embedded database of the i-th service listens on `embeddedBasePort + i`. */
  embeddedBasePort: number;
  /** Runs and shows one start step. */
  step?: <T>(title: string, run: () => Promise<T>) => Promise<T>;
}

export interface LocalInfra {
  choice: InfraChoice;
  /** The data and messaging part of a service's environment. */
  serviceEnv(service: string): Record<string, string>;
  /** What runs where, for the summary `npm start` prints. */
  summary(): [string, string][];
  release(): Promise<void>;
}

export function databaseName(service: string): string {
  return `souk_${service}`;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function createDatabases(adminUrl: string, services: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const s of services) {
      const db = databaseName(s);
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
  }
}

export async function startLocalInfra(options: LocalInfraOptions): Promise<LocalInfra> {
  const { choice, services } = options;
  const step = options.step ?? (<T>(_title: string, run: () => Promise<T>) => run());

  if (choice.postgres === 'server' && choice.redis === 'server') {
    const shared = await step('infrastructure: PostgreSQL primary + replica, Redis Cluster, Kafka', () =>
      ensureInfra(),
    );
    try {
      if (services.length > 0) {
        await step('a database per service', () => createDatabases(shared.pgPrimaryUrl, services));
      }
    } catch (error) {
      await shared.release();
      throw error;
    }
    const redisNodes = shared.redisNodes.map((n) => `${n.host}:${n.port}`).join(',');
    return {
      choice,
      serviceEnv: (s) => ({
        DATABASE_URL: withDatabase(shared.pgPrimaryUrl, databaseName(s)),
        DATABASE_REPLICA_URL: withDatabase(shared.pgReplicaUrl, databaseName(s)),
        REDIS_NODES: redisNodes,
        KAFKA_BROKERS: shared.kafkaBrokers.join(','),
      }),
      summary: () => [
        ['PostgreSQL primary / replica', `${shared.pgPrimaryUrl}  ${shared.pgReplicaUrl}`],
        ['Redis Cluster', redisNodes.split(',').join(', ')],
        ['Kafka (mock cluster)', shared.kafkaBrokers.join(', ')],
      ],
      release: () => shared.release(),
    };
  }

  // Without the shared instance (it needs both servers): private instances and stand-ins.
  const stops: (() => Promise<void>)[] = [];
  const release = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const kafka: KafkaMock = await step('Kafka (mock cluster)', () => startKafkaMock());
    stops.push(() => kafka.stop());

    let pair: PostgresPair | undefined;
    let embedded: EmbeddedPostgres | undefined;
    if (choice.postgres === 'server') {
      pair = await step('PostgreSQL primary + replica', () => startPostgresPair());
      const p = pair;
      stops.push(() => p.stop());
      if (services.length > 0)
        await step('a database per service', () => createDatabases(p.primaryUrl, services));
    } else {
      embedded = await step(`PostgreSQL embedded (PGlite): ${services.length} database(s)`, () =>
        startEmbeddedPostgres({
          databases: services,
          dir: path.join(options.stateDir, 'pglite'),
          basePort: options.embeddedBasePort,
        }),
      );
      const e = embedded;
      stops.push(() => e.stop());
    }

    let redis: RedisCluster | undefined;
    if (choice.redis === 'server') {
      redis = await step('Redis Cluster', () => startRedisCluster());
      const r = redis;
      stops.push(() => r.stop());
    }

    const redisNodes = redis?.nodes.join(',');
    return {
      choice,
      serviceEnv(s) {
        const env: Record<string, string> = { KAFKA_BROKERS: kafka.bootstrap };
        if (redisNodes) env['REDIS_NODES'] = redisNodes;
        if (pair) {
          env['DATABASE_URL'] = withDatabase(pair.primaryUrl, databaseName(s));
          env['DATABASE_REPLICA_URL'] = withDatabase(pair.replicaUrl, databaseName(s));
        } else if (embedded) {
          const url = embedded.url(s);
          Object.assign(env, {
            DATABASE_URL: url,
            // No replication: reads meant for a replica go to the primary.
            DATABASE_REPLICA_URL: url,
            // pglite-socket runs one connection's statements at a time anyway; a pool of one would
            // starve a service that keeps a connection for a session lock (orders' in-flight gauge).
            DATABASE_POOL_SIZE: String(EMBEDDED_POOL_SIZE),
            // NOTIFY does not reach a listening connection on PGlite: relays poll instead.
            OUTBOX_POLL_MS: String(EMBEDDED_OUTBOX_POLL_MS),
          });
        }
        return env;
      },
      summary: () => [
        pair
          ? ['PostgreSQL primary / replica', `${pair.primaryUrl}  ${pair.replicaUrl}`]
          : [
              'PostgreSQL (embedded PGlite, no replica)',
              (embedded?.databases ?? []).map((d) => `${d.name}: ${d.url}`).join('\n'),
            ],
        ['Redis Cluster', redis ? redis.nodes.join(', ') : 'none (caches off, limits per process)'],
        ['Kafka (mock cluster)', kafka.brokers.join(', ')],
      ],
      release,
    };
  } catch (error) {
    await release();
    throw error;
  }
}
