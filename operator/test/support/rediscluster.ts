import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RedisNodes, startRedisNodes } from '@souk/harness/infra';
import { freePorts, releasePorts } from '@souk/harness/infra/ports';
import { startRedisNode, stopRedisNode } from '@souk/harness/infra/redis-node';
import { Cluster } from 'ioredis';
import { NodePool } from '../../src/controllers/rediscluster/node-client.ts';
import type { DesiredCluster } from '../../src/controllers/rediscluster/plan.ts';
import { type ReconcileResult, reconcileRedisCluster } from '../../src/controllers/rediscluster/reconcile.ts';

/** Reconciles until done, failing loudly with the last plan when the deadline passes. */
export async function converge(
  pool: NodePool,
  desired: DesiredCluster,
  budgetMs = 30_000,
): Promise<ReconcileResult> {
  const r = await reconcileRedisCluster(pool, desired, { budgetMs, pollMs: 50 });
  if (!r.done) {
    throw new Error(`not converged: phase ${r.plan.phase}: ${JSON.stringify(r.plan.steps)} ${r.error ?? ''}`);
  }
  return r;
}

export function clusterClient(nodes: readonly string[]): Cluster {
  return new Cluster(
    nodes.map((a) => ({
      host: a.slice(0, a.lastIndexOf(':')),
      port: Number(a.slice(a.lastIndexOf(':') + 1)),
    })),
    {
      lazyConnect: true,
      maxRedirections: 64,
      retryDelayOnMoved: 10,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 50,
    },
  );
}

/** Writes `count` keys through a cluster client, 1000 in flight at a time. */
export async function writeKeys(client: Cluster, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) =>
        client.set(`${prefix}:${i + j}`, `v${i + j}`),
      ),
    );
  }
}

/** Keys that do not read back with their value. */
export async function missingKeys(client: Cluster, prefix: string, count: number): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const keys = Array.from({ length: Math.min(1000, count - i) }, (_, j) => i + j);
    const values = await Promise.all(keys.map((k) => client.get(`${prefix}:${k}`)));
    values.forEach((v, j) => {
      if (v !== `v${keys[j]}`) missing.push(`${prefix}:${keys[j]}`);
    });
  }
  return missing;
}

/**
 * A client doing reads and writes in a closed loop until stopped; every failed command counts.
 * Written keys are checked at the end by the caller through `written`.
 */
export function startLoad(client: Cluster, prefix: string, concurrency = 8) {
  let running = true;
  const stats = { ops: 0, errors: 0, lastError: '' as string, written: 0 };
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    let i = 0;
    // Also ends with the client, so a test failing half-way does not leave it spinning.
    while (running && client.status !== 'end') {
      const key = `${prefix}:${w}:${i % 500}`;
      try {
        if (i % 2 === 0) {
          await client.set(key, `w${i}`);
        } else {
          await client.get(`${prefix}:${w}:${(i - 1) % 500}`);
        }
        stats.ops++;
      } catch (e) {
        stats.errors++;
        stats.lastError = e instanceof Error ? e.message : String(e);
      }
      i++;
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(workers);
      return stats;
    },
  };
}

export { NodePool };

/** `redis-cli --cluster check`: an independent opinion on the cluster's health. */
export async function redisCliCheck(address: string): Promise<{ ok: boolean; output: string }> {
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('redis-cli', ['--cluster', 'check', address], (err, stdout) => {
      resolve({ code: err ? 1 : 0, out: String(stdout) });
    });
  });
  return { ok: r.code === 0 && !/\[ERR\]|\[WARNING\]/.test(r.out), output: r.out };
}

/** CLUSTER INFO's cluster_state of every node. */
export async function clusterStates(pool: NodePool, nodes: readonly string[]): Promise<string[]> {
  return Promise.all(
    nodes.map(
      async (a) => /cluster_state:(\w+)/.exec(String(await pool.call(a, 'CLUSTER', 'INFO')))?.[1] ?? '?',
    ),
  );
}

export { waitFor } from '@souk/harness/infra/processes';

export interface ReplacedPod {
  stop(): Promise<void>;
}

/**
 * What a pod replaced without its volume looks like to the cluster: the node at `address` is
 * killed and an empty one starts on the same port, so it comes back with a new node id.
 */
export async function replacePod(redis: RedisNodes, address: string): Promise<ReplacedPod> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  await redis.killNode(port);
  const busPorts = await freePorts(1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'souk-rediscluster-pod-'));
  const node = await startRedisNode(port, busPorts[0] as number, dir, true);
  return {
    async stop() {
      await stopRedisNode(node);
      releasePorts(busPorts);
    },
  };
}

export interface NodesFixture {
  redis: RedisNodes;
  pool: NodePool;
  /** A cluster client seeded with the first nodes (all of them unless told otherwise). */
  client: Cluster;
  /** Replaces the pod at `address` (see replacePod); stopped with the fixture. */
  replacePod(address: string): Promise<void>;
}

/** Runs `fn` with `count` bare nodes, a NodePool and a cluster client, and stops all of it afterwards. */
export async function withNodes(
  count: number,
  fn: (f: NodesFixture) => Promise<void>,
  opts: { clientSeeds?: number } = {},
): Promise<void> {
  const redis = await startRedisNodes(count);
  const pool = new NodePool();
  const client = clusterClient(redis.nodes.slice(0, opts.clientSeeds ?? count));
  const replaced: ReplacedPod[] = [];
  try {
    await fn({
      redis,
      pool,
      client,
      replacePod: async (address) => {
        replaced.push(await replacePod(redis, address));
      },
    });
  } finally {
    client.disconnect();
    await pool.close();
    for (const r of replaced) await r.stop();
    await redis.stop();
  }
}
