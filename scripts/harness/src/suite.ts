/**
 * Per-suite isolation on the shared infrastructure: its own database, Redis key prefix, topic
 * names and consumer group ids, all cleaned up by close() or, failing that, at process exit.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { onExit } from './infra/exit-cleanup.ts';
import { pgBinDir } from './infra/paths.ts';
import { query } from './infra/postgres-node.ts';
import { waitForReplica } from './infra/postgres-pair.ts';
import { runSync, waitFor } from './infra/processes.ts';
import { ensureInfra, type InfraHandle, KafkaMockControl, type RedisNodeAddress } from './infra.ts';

export interface Suite {
  name: string;
  /** Unique per useSuite call: `<name>-<6 hex>`. */
  id: string;
  databaseName: string;
  /** The suite's own database on the primary. */
  databaseUrl: string;
  /** The same database on the streaming replica (read-only, slightly behind). */
  replicaDatabaseUrl: string;
  /** Superuser connection to the primary's `postgres` database. */
  adminUrl: string;
  /** Redis Cluster nodes, as ioredis's Cluster takes them. */
  redisNodes: RedisNodeAddress[];
  /** Prefix every Redis key with this (it ends with ':'). */
  keyPrefix: string;
  /** Kafka bootstrap brokers, as kafkajs takes them. */
  kafkaBrokers: string[];
  /** Fault controls of the shared Kafka mock cluster (brokers 1..3). */
  kafka: KafkaMockControl;
  /** An isolated topic name for `name`: `<id>.<name>`. */
  topic(name: string): string;
  /** An isolated consumer group id for `name`. */
  groupId(name: string): string;
  /** Waits until the replica has replayed everything committed on the primary so far. */
  waitForReplica(timeoutMs?: number): Promise<void>;
  /** The platform settings of `service` on this suite, as the services read them (test mode, port 0). */
  serviceEnv(service: string): Record<string, string>;
  /** Drops the database and lets go of the shared infrastructure. */
  close(): Promise<void>;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'suite'
  );
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function useSuite(name: string): Promise<Suite> {
  const id = `${slug(name)}-${randomBytes(3).toString('hex')}`;
  const databaseName = `t_${id.replace(/-/g, '_')}`;
  const infra: InfraHandle = await ensureInfra();
  const adminUrl = infra.pgPrimaryUrl;
  const databaseUrl = withDatabase(infra.pgPrimaryUrl, databaseName);
  const replicaDatabaseUrl = withDatabase(infra.pgReplicaUrl, databaseName);
  const kafka = new KafkaMockControl(infra.kafkaControl);

  let closed = false;
  // If the process dies before close(), drop the database on the way out (synchronously).
  const unregister = onExit(() => {
    if (closed) return;
    const u = new URL(adminUrl);
    runSync(path.join(pgBinDir, 'psql'), [
      ...['-h', u.hostname, '-p', u.port, '-U', 'postgres', '-d', 'postgres', '-qAt'],
      ...['-c', `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`],
    ]);
  });

  try {
    await query(adminUrl, `CREATE DATABASE "${databaseName}"`);
    await waitFor(
      'the suite database on the replica',
      async () => (await query(replicaDatabaseUrl, 'SELECT 1')).length === 1,
      15_000,
      10,
    );
  } catch (e) {
    closed = true;
    unregister();
    await query(adminUrl, `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`).catch(() => {});
    await infra.release();
    throw e;
  }

  return {
    name,
    id,
    databaseName,
    databaseUrl,
    replicaDatabaseUrl,
    adminUrl,
    redisNodes: infra.redisNodes,
    keyPrefix: `${id}:`,
    kafkaBrokers: infra.kafkaBrokers,
    kafka,
    topic: (topic) => `${id}.${topic}`,
    groupId: (group) => `${id}.${group}`,
    waitForReplica: (timeoutMs) => waitForReplica(adminUrl, infra.pgReplicaUrl, timeoutMs),
    serviceEnv: (service) => ({
      SERVICE_NAME: service,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: databaseUrl,
      DATABASE_REPLICA_URL: replicaDatabaseUrl,
      REDIS_NODES: infra.redisNodes.map((n) => `${n.host}:${n.port}`).join(','),
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      REDIS_KEY_PREFIX: `${id}:`,
      KAFKA_TOPIC_PREFIX: `${id}.`,
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      unregister();
      kafka.close();
      try {
        await query(adminUrl, `DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      } finally {
        await infra.release();
      }
    },
  };
}
