import path from 'node:path';
import { run, signal, sleep, waitFor } from './processes.ts';
import { type RedisNodeRecord, startRedisNode, stopRedisNode, stopRedisNodeSync } from './redis-node.ts';
import { infoFields, redisCall } from './resp.ts';

export interface RedisClusterRecord {
  dir: string;
  nodes: RedisNodeRecord[];
}

export interface RedisClusterLayout {
  masters: number;
  replicasPerMaster: number;
}

export const addr = (port: number): string => `127.0.0.1:${port}`;

/** Starts `ports.length` bare nodes in parallel; on any failure stops the ones that came up. */
export async function startRedisNodesIn(
  dir: string,
  ports: number[],
  busPorts: number[],
  dieWithParent = false,
): Promise<RedisNodeRecord[]> {
  const results = await Promise.allSettled(
    ports.map((p, i) => startRedisNode(p, busPorts[i]!, path.join(dir, 'redis', String(p)), dieWithParent)),
  );
  const nodes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map(stopRedisNode));
    throw failed.reason;
  }
  return nodes;
}

/** Starts the nodes, joins them into a cluster and waits until it is fully usable. */
export async function createRedisCluster(
  dir: string,
  layout: RedisClusterLayout,
  ports: number[],
  busPorts: number[],
  dieWithParent = false,
): Promise<RedisClusterRecord> {
  const count = layout.masters * (1 + layout.replicasPerMaster);
  if (layout.masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  if (ports.length !== count || busPorts.length !== count)
    throw new Error(`need ${count} ports and bus ports`);
  const rec: RedisClusterRecord = {
    dir,
    nodes: await startRedisNodesIn(dir, ports, busPorts, dieWithParent),
  };
  try {
    await run('redis-cli', [
      ...['--cluster', 'create', ...ports.map(addr)],
      ...['--cluster-replicas', String(layout.replicasPerMaster), '--cluster-yes'],
    ]);
    await waitClusterHealthy(rec, 30_000);
    return rec;
  } catch (e) {
    await stopRedisCluster(rec);
    throw e;
  }
}

export interface ClusterNodeView {
  id: string;
  address: string;
  port: number;
  role: 'master' | 'replica';
  /** The master a replica follows; undefined for a master. */
  masterId: string | undefined;
  /** Failing, or not yet through the handshake. */
  failed: boolean;
  slots: number;
}

/** CLUSTER NODES as seen by one live node. */
export async function clusterNodes(port: number): Promise<ClusterNodeView[]> {
  const text = String(await redisCall(port, ['CLUSTER', 'NODES']));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(' ');
      const address = f[1]!.split('@')[0]!;
      const flags = f[2]!.split(',');
      const slots = f.slice(8).reduce((n, range) => {
        if (range.startsWith('[')) return n;
        const [a, b] = range.split('-').map(Number);
        return n + (b === undefined ? 1 : b - a! + 1);
      }, 0);
      return {
        id: f[0]!,
        address,
        port: Number(address.split(':')[1]),
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: f[3] === '-' ? undefined : f[3],
        failed: ['fail', 'fail?', 'noaddr', 'handshake'].some((x) => flags.includes(x)),
        slots,
      } satisfies ClusterNodeView;
    });
}

/**
 * What one node gets wrong about the others: every live node must know every other one, as a
 * master or as the replica of a known master (gossip lags behind a fresh CLUSTER REPLICATE).
 */
function topologyProblems(self: number, view: ClusterNodeView[], live: Set<string>): string[] {
  const known = view.filter((v) => live.has(v.address));
  const ids = new Set(known.map((v) => v.id));
  const problems: string[] = [];
  if (known.length !== live.size) problems.push(`knows ${known.length} of ${live.size} nodes`);
  for (const v of known) {
    if (v.failed) problems.push(`sees ${v.address} failing or in handshake`);
    if (v.role === 'replica' && !(v.masterId && ids.has(v.masterId))) {
      problems.push(`does not know the master of ${v.address}`);
    }
  }
  return problems.map((p) => `${addr(self)}: ${p}`);
}

/**
 * Problems that keep the cluster from being usable; empty when it is healthy. `quick` only asks
 * each node for cluster_state (a reuse check); the full check adds topology, replication links
 * and `redis-cli --cluster check`.
 */
export async function clusterProblems(rec: RedisClusterRecord, quick = false): Promise<string[]> {
  const problems: string[] = [];
  const live = new Set(rec.nodes.map((n) => addr(n.port)));
  for (const n of rec.nodes) {
    try {
      const info = infoFields(String(await redisCall(n.port, ['CLUSTER', 'INFO'])));
      if (info.get('cluster_state') !== 'ok')
        problems.push(`${addr(n.port)}: cluster_state:${info.get('cluster_state')}`);
      if (quick) continue;
      problems.push(...topologyProblems(n.port, await clusterNodes(n.port), live));
      const repl = infoFields(String(await redisCall(n.port, ['INFO', 'replication'])));
      if (repl.get('role') === 'slave' && repl.get('master_link_status') !== 'up') {
        problems.push(`${addr(n.port)}: master_link_status:${repl.get('master_link_status')}`);
      }
    } catch (e) {
      problems.push(`${addr(n.port)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!quick && problems.length === 0) {
    const check = await run('redis-cli', ['--cluster', 'check', addr(rec.nodes[0]!.port)], {
      allowFail: true,
    });
    if (check.code !== 0 || /\[ERR\]|\[WARNING\]/.test(check.stdout)) {
      problems.push(
        `redis-cli --cluster check: ${check.stdout
          .split('\n')
          .filter((l) => /ERR|WARN/.test(l))
          .join('; ')}`,
      );
    }
  }
  return problems;
}

export async function waitClusterHealthy(rec: RedisClusterRecord, timeoutMs = 30_000): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      'the Redis Cluster to be healthy',
      async () => {
        last = await clusterProblems(rec);
        return last.length === 0;
      },
      timeoutMs,
      50,
    );
  } catch {
    throw new Error(`Redis Cluster not healthy after ${timeoutMs} ms: ${last.join(', ')}`);
  }
}

/** Addresses of the masters that currently serve slots, as a live node sees them. */
export async function currentMasters(rec: RedisClusterRecord): Promise<string[]> {
  for (const n of rec.nodes) {
    try {
      const view = await clusterNodes(n.port);
      return view.filter((v) => v.role === 'master' && !v.failed && v.slots > 0).map((v) => v.address);
    } catch {
      // that node is down: ask the next one
    }
  }
  throw new Error('no Redis node answers');
}

/** SIGKILLs one node, as a crash would. */
export async function killRedisNode(
  rec: RedisClusterRecord | { nodes: RedisNodeRecord[] },
  port: number,
): Promise<void> {
  const node = rec.nodes.find((n) => n.port === port);
  if (!node) throw new Error(`no node on port ${port}`);
  signal(node.proc, 'SIGKILL');
  await sleep(5);
}

export async function stopRedisCluster(rec: { nodes: RedisNodeRecord[] }): Promise<void> {
  await Promise.all(rec.nodes.map(stopRedisNode));
}

export function stopRedisClusterSync(rec: { nodes: RedisNodeRecord[] }): void {
  for (const n of rec.nodes) stopRedisNodeSync(n);
}
