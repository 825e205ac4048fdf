/**
 * Local infrastructure for tests: the shared instance (`scripts/infra up|down|status|reset`) and
 * private instances on free ports, for tests that kill, promote or cut things off.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type InfraEnv, parseEnvFile } from './infra/env-file.ts';
import { onExit } from './infra/exit-cleanup.ts';
import {
  type KafkaMockRecord,
  startKafkaMockIn,
  stopKafkaMock,
  stopKafkaMockSync,
} from './infra/kafka-mock.ts';
import { KafkaMockControl } from './infra/kafka-mock-control.ts';
import { infraEnvPath } from './infra/paths.ts';
import { freePorts, hostPort, releasePorts } from './infra/ports.ts';
import { pgUrl } from './infra/postgres-node.ts';
import {
  createPostgresPair,
  killPrimary,
  type PostgresPairRecord,
  promoteReplica,
  stopPostgresPair,
  stopPostgresPairSync,
} from './infra/postgres-pair.ts';
import {
  addr,
  createRedisCluster,
  currentMasters,
  killRedisNode,
  type RedisClusterRecord,
  startRedisNodesIn,
  stopRedisCluster,
  stopRedisClusterSync,
  waitClusterHealthy,
} from './infra/redis-cluster.ts';
import { type RedisNodeRecord, startRedisNode, stopRedisNode } from './infra/redis-node.ts';
import { acquire, down, release, releaseSync } from './infra/shared-instance.ts';
import { makeTempDir } from './infra/temp-dirs.ts';

export type { InfraEnv } from './infra/env-file.ts';
export {
  type KafkaApi,
  KafkaApiKey,
  type KafkaError,
  KafkaMockControl,
  KafkaMockControlError,
} from './infra/kafka-mock-control.ts';
export { waitForReplica } from './infra/postgres-pair.ts';

/** Connection settings of the shared instance, parsed. */
export interface Infra {
  env: InfraEnv;
  pgPrimaryUrl: string;
  pgReplicaUrl: string;
  /** All 6 nodes, as ioredis's Cluster takes them: `new Redis.Cluster(infra.redisNodes)`. */
  redisNodes: RedisNodeAddress[];
  kafkaBrokers: string[];
  /** host:port of the Kafka mock's fault-control socket. */
  kafkaControl: string;
}

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export function toInfra(env: InfraEnv): Infra {
  return {
    env,
    pgPrimaryUrl: env.SOUK_PG_PRIMARY_URL,
    pgReplicaUrl: env.SOUK_PG_REPLICA_URL,
    redisNodes: env.SOUK_REDIS_NODES.split(',').map(hostPort),
    kafkaBrokers: env.SOUK_KAFKA_BROKERS.split(','),
    kafkaControl: env.SOUK_KAFKA_CONTROL,
  };
}

/** Reads .souk/infra.env (or SOUK_INFRA_ENV); undefined when the shared instance is not up. */
export function readInfraEnv(): Infra | undefined {
  const env = parseEnvFile(infraEnvPath());
  return env ? toInfra(env) : undefined;
}

export interface InfraHandle extends Infra {
  /** True when this call started the shared instance, false when it reused a running one. */
  started: boolean;
  /** Same as `started`. */
  startedHere: boolean;
  /**
   * Done with it. An instance started here is stopped once no other process uses it; one started
   * by `scripts/infra up` stays up.
   */
  release(): Promise<void>;
}

/** Starts the shared instance, or reuses it when it is up and healthy. */
export async function ensureInfra(): Promise<InfraHandle> {
  const r = await acquire();
  let released = false;
  const unregister = onExit(() => {
    if (!released) releaseSync(r.lease);
  });
  return {
    ...toInfra(r.env),
    started: r.started,
    startedHere: r.started,
    release: async () => {
      if (released) return;
      released = true;
      unregister();
      await release(r.lease);
    },
  };
}

/** Stops the shared instance, whoever started it, and removes its state. */
export function stopInfra(): Promise<void> {
  return down();
}

// Private instances: their own temp dir and free ports, stopped by stop() or at process exit.

async function withFreshPorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  let lastError: unknown;
  // Another process may bind a port between our check and the server's bind: retry elsewhere.
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (e) {
      lastError = e;
      releasePorts(ports);
    }
  }
  throw lastError;
}

let privateTags = 0;
const privateTag = (kind: string) => `souk-${kind}-${process.pid}-${++privateTags}`;

export interface PostgresPair {
  primaryUrl: string;
  replicaUrl: string;
  primaryPort: number;
  replicaPort: number;
  /** Promotes the replica and waits until it accepts writes (reconnect to replicaUrl). */
  promoteReplica(): Promise<void>;
  /** SIGKILLs the primary's postmaster, as a crash would. */
  killPrimary(): Promise<void>;
  stop(): Promise<void>;
}

/** A private PostgreSQL 15 primary with a streaming replica, on free ports. */
export async function startPostgresPair(): Promise<PostgresPair> {
  const dir = makeTempDir('pg');
  try {
    const rec: PostgresPairRecord = await withFreshPorts(2, ([primaryPort, replicaPort]) =>
      createPostgresPair({
        dir,
        primaryPort: primaryPort!,
        replicaPort: replicaPort!,
        tag: privateTag('pg'),
        maxConnections: 50,
        dieWithParent: true,
        sharedBuffers: '32MB',
      }),
    );
    const cleanup = () => {
      stopPostgresPairSync(rec);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    const unregister = onExit(cleanup);
    return {
      primaryUrl: pgUrl(rec.primary.port),
      replicaUrl: pgUrl(rec.replica.port),
      primaryPort: rec.primary.port,
      replicaPort: rec.replica.port,
      promoteReplica: () => promoteReplica(rec),
      killPrimary: () => killPrimary(rec),
      stop: async () => {
        unregister();
        await stopPostgresPair(rec);
        fs.rmSync(dir, { recursive: true, force: true });
        releasePorts([rec.primary.port, rec.replica.port]);
      },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RedisClusterOptions {
  /** At least 3. Default 3. */
  masters?: number;
  /** Default 1. */
  replicasPerMaster?: number;
}

export interface RedisCluster {
  /** host:port of every node, masters first as created. */
  nodes: string[];
  ports: number[];
  /** The masters that currently serve slots (changes after a failover). */
  masters(): Promise<string[]>;
  /** SIGKILLs the node on `port`, as a crash would. */
  killNode(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and the cluster check agrees. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A private Redis Cluster, ready (all slots covered, replicas synced) when this resolves. */
export async function startRedisCluster(o: RedisClusterOptions = {}): Promise<RedisCluster> {
  const layout = { masters: o.masters ?? 3, replicasPerMaster: o.replicasPerMaster ?? 1 };
  const count = layout.masters * (1 + layout.replicasPerMaster);
  const dir = makeTempDir('redis');
  try {
    const rec: RedisClusterRecord = await withFreshPorts(count * 2, (ports) =>
      createRedisCluster(dir, layout, ports.slice(0, count), ports.slice(count), true),
    );
    const unregister = onExit(() => {
      stopRedisClusterSync(rec);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const live = () => ({ ...rec, nodes: rec.nodes.filter((n) => !killed.has(n.port)) });
    const killed = new Set<number>();
    return {
      nodes: rec.nodes.map((n) => addr(n.port)),
      ports: rec.nodes.map((n) => n.port),
      masters: () => currentMasters(live()),
      killNode: async (port) => {
        killed.add(port);
        await killRedisNode(rec, port);
      },
      waitHealthy: (timeoutMs) => waitClusterHealthy(live(), timeoutMs),
      stop: async () => {
        unregister();
        await stopRedisCluster(rec);
        fs.rmSync(dir, { recursive: true, force: true });
        releasePorts(rec.nodes.flatMap((n) => [n.port, n.busPort]));
      },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface RedisNodes {
  /** host:port of every node started so far (killed ones included). */
  nodes: string[];
  ports: number[];
  /** Starts one more bare node and returns its host:port. */
  addNode(): Promise<string>;
  killNode(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** Bare cluster-enabled redis-servers (cluster-node-timeout 1000), not joined: cluster management is up to the caller. */
export async function startRedisNodes(count: number): Promise<RedisNodes> {
  const dir = makeTempDir('redis-nodes');
  const nodes: RedisNodeRecord[] = [];
  const unregister = onExit(() => {
    stopRedisClusterSync({ nodes });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const handle: RedisNodes = {
    nodes: [],
    ports: [],
    addNode: async () => {
      const node = await withFreshPorts(2, ([port, bus]) =>
        startRedisNode(port!, bus!, path.join(dir, 'redis', String(port)), true),
      );
      nodes.push(node);
      handle.nodes.push(addr(node.port));
      handle.ports.push(node.port);
      return addr(node.port);
    },
    killNode: (port) => killRedisNode({ nodes }, port),
    stop: async () => {
      unregister();
      await Promise.all(nodes.map(stopRedisNode));
      fs.rmSync(dir, { recursive: true, force: true });
      releasePorts(nodes.flatMap((n) => [n.port, n.busPort]));
    },
  };
  try {
    if (count > 0) {
      const started = await withFreshPorts(count * 2, (ports) =>
        startRedisNodesIn(dir, ports.slice(0, count), ports.slice(count), true),
      );
      nodes.push(...started);
      handle.nodes.push(...started.map((n) => addr(n.port)));
      handle.ports.push(...started.map((n) => n.port));
    }
    return handle;
  } catch (e) {
    await handle.stop();
    throw e;
  }
}

export interface KafkaMock {
  /** Comma-separated bootstrap list. */
  bootstrap: string;
  brokers: string[];
  /** host:port of the fault-control socket. */
  controlAddress: string;
  /** Fault controls; brokers are numbered from 1. */
  control: KafkaMockControl;
  stop(): Promise<void>;
}

/** A private librdkafka mock cluster. It also dies with this process, even on SIGKILL. */
export async function startKafkaMock(o: { brokers?: number } = {}): Promise<KafkaMock> {
  const dir = makeTempDir('kafka');
  try {
    const rec: KafkaMockRecord = await startKafkaMockIn(dir, {
      brokers: o.brokers ?? 3,
      controlPort: 0,
      dieWithParent: true,
    });
    const control = new KafkaMockControl(rec.control);
    const unregister = onExit(() => {
      control.close();
      stopKafkaMockSync(rec);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return {
      bootstrap: rec.bootstrap,
      brokers: rec.bootstrap.split(','),
      controlAddress: rec.control,
      control,
      stop: async () => {
        unregister();
        control.close();
        await stopKafkaMock(rec);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
