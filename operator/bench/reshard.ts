import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type BenchContext, median } from '@souk/harness/bench';
import { startRedisNodes } from '@souk/harness/infra';
import { waitFor } from '@souk/harness/infra/processes';
import { observeTopology, slotOwners, viewOwners } from '../src/controllers/rediscluster/cluster-state.ts';
import { NodePool } from '../src/controllers/rediscluster/node-client.ts';
import {
  type MigrationOptions,
  migrateSlots,
  nodeId,
} from '../src/controllers/rediscluster/slot-migration.ts';
import { clusterClient, converge, startLoad } from '../test/support/rediscluster.ts';

const exec = promisify(execFile);

const KEYS = 10_000;
/** Half of one master's slots: a master that gives away all of them turns into a replica. */
const SLOTS = 2048;

/** Keys whose slots are all in 0..SLOTS-1, so moving those slots moves exactly KEYS keys. */
async function keysInFirstSlots(pool: NodePool, address: string): Promise<string[]> {
  const keys: string[] = [];
  for (let i = 0; keys.length < KEYS; i += 4000) {
    const candidates = Array.from({ length: 4000 }, (_, j) => `reshard:${i + j}`);
    const slots = await pool.pipeline(
      address,
      candidates.map((k) => ['CLUSTER', 'KEYSLOT', k]),
    );
    candidates.forEach((k, j) => {
      if (keys.length < KEYS && Number(slots[j]?.value) < SLOTS) keys.push(k);
    });
  }
  return keys;
}

/** Waits until every node agrees on who owns every slot, so each run starts from a settled cluster. */
async function settled(pool: NodePool, nodes: string[]): Promise<void> {
  await waitFor(
    'every node to agree on the slot owners',
    async () => {
      const t = await observeTopology(pool, nodes);
      const owners = slotOwners(t);
      return t.nodes.every(
        (n) =>
          n.info?.state === 'ok' &&
          viewOwners(n).every((o, s) => o === owners[s]) &&
          !n.self?.migrating.length &&
          !n.self?.importing.length,
      );
    },
    30_000,
  );
}

export interface ReshardOptions {
  rounds?: number;
  migration?: MigrationOptions;
}

/**
 * Moves slots 0..4095 holding 10k keys between two masters of a 4-master cluster, alternately with
 * the operator's migration and with `redis-cli --cluster reshard` (the same slots, the same keys,
 * the other way), while a client reads and writes through ioredis Cluster and counts its errors.
 */
export async function benchReshard(ctx: BenchContext, opts: ReshardOptions = {}): Promise<void> {
  const rounds = opts.rounds ?? 2;
  const redis = await startRedisNodes(4);
  const pool = new NodePool();
  const client = clusterClient(redis.nodes);
  try {
    await converge(pool, { nodes: redis.nodes, masters: 4, replicasPerMaster: 0 });
    const owners = slotOwners(await observeTopology(pool, redis.nodes));
    const ids = await Promise.all(redis.nodes.map((a) => nodeId(pool, a)));
    const a = redis.nodes[ids.indexOf(owners[0] as string)] as string;
    const b = redis.nodes.find((x) => x !== a) as string;
    const [aId, bId] = await Promise.all([nodeId(pool, a), nodeId(pool, b)]);
    const keys = await keysInFirstSlots(pool, a);
    ctx.log(`picked ${keys.length} keys`);
    for (let i = 0; i < keys.length; i += 1000) {
      await Promise.all(keys.slice(i, i + 1000).map((k) => client.set(k, `value-of-${k}`)));
    }
    ctx.log('keys written');
    const slots = Array.from({ length: SLOTS }, (_, s) => s);
    const ours: number[] = [];
    const cli: number[] = [];
    let oursErrors = 0;
    let cliErrors = 0;
    let ops = 0;
    for (let round = 0; round < rounds; round++) {
      let load = startLoad(client, `reshard-load-${round}`);
      let started = performance.now();
      await migrateSlots(pool, a, b, slots, redis.nodes, opts.migration);
      ours.push(performance.now() - started);
      ctx.log(`operator migration: ${Math.round(ours.at(-1) as number)} ms`);
      let stats = await load.stop();
      oursErrors += stats.errors;
      ops += stats.ops;
      await settled(pool, redis.nodes);

      load = startLoad(client, `reshard-load-${round}`);
      started = performance.now();
      await exec('redis-cli', [
        ...['--cluster', 'reshard', b, '--cluster-from', bId, '--cluster-to', aId],
        ...['--cluster-slots', String(SLOTS), '--cluster-yes'],
      ]);
      cli.push(performance.now() - started);
      stats = await load.stop();
      cliErrors += stats.errors;
      await settled(pool, redis.nodes);
    }
    const missing = (await Promise.all(keys.map((k) => client.get(k)))).filter(
      (v, i) => v !== `value-of-${keys[i]}`,
    );
    ctx.log(`moved ${SLOTS} slots / ${KEYS} keys ${rounds * 2} times; client ops during our moves: ${ops}`);
    ctx.record({
      name: 'redis reshard of 10k keys (2048 slots): operator migration time',
      value: median(ours),
      unit: 'ms',
      baseline: median(cli),
      baselineName: 'redis-cli --cluster reshard',
      target: 'ratio < 1',
    });
    ctx.record({
      name: 'redis reshard: client errors during the operator migration',
      value: oursErrors,
      unit: 'errors',
      target: 'value < 1',
    });
    ctx.record({
      name: 'redis reshard: client errors during redis-cli reshard',
      value: cliErrors,
      unit: 'errors',
    });
    ctx.record({
      name: 'redis reshard: keys lost',
      value: missing.length,
      unit: 'keys',
      target: 'value < 1',
    });
  } finally {
    client.disconnect();
    await pool.close();
    await redis.stop();
  }
}
