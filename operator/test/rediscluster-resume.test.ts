import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { observeTopology, slotOwners } from '../src/controllers/rediscluster/cluster-state.ts';
import { meetNodes } from '../src/controllers/rediscluster/membership.ts';
import { splitAddress } from '../src/controllers/rediscluster/node-client.ts';
import {
  clusterStates,
  converge,
  type NodePool,
  redisCliCheck,
  waitFor,
  withNodes,
} from './support/rediscluster.ts';

const test = suite('rediscluster: a migration cut off half-way is fixed by the next reconcile');

const KEYS = 200;
const key = (i: number) => `{resume}:${i}`;

/**
 * Starts moving the slot of `{resume}` from its owner to `target` the way a migration does,
 * moves half of its keys, and stops there, as a crashed operator would.
 */
async function halfMigrate(pool: NodePool, nodes: string[], target: string) {
  const slot = Number(await pool.call(target, 'CLUSTER', 'KEYSLOT', key(0)));
  const owners = slotOwners(await observeTopology(pool, nodes));
  const ids = new Map<string, string>();
  for (const a of nodes) ids.set(String(await pool.call(a, 'CLUSTER', 'MYID')), a);
  const source = ids.get(owners[slot] as string) as string;
  assert.is.not(source, target);
  await pool.call(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', owners[slot] as string);
  await pool.call(
    source,
    'CLUSTER',
    'SETSLOT',
    slot,
    'MIGRATING',
    String(await pool.call(target, 'CLUSTER', 'MYID')),
  );
  const { host, port } = splitAddress(target);
  const half = Array.from({ length: KEYS / 2 }, (_, i) => key(i));
  await pool.call(source, 'MIGRATE', host, port, '', 0, 5000, 'KEYS', ...half);
  assert.is(Number(await pool.call(target, 'CLUSTER', 'COUNTKEYSINSLOT', slot)), KEYS / 2);
  return { slot, source };
}

async function openSlots(pool: NodePool, nodes: string[]) {
  const t = await observeTopology(pool, nodes);
  return t.nodes.flatMap((n) => [...(n.self?.migrating ?? []), ...(n.self?.importing ?? [])]);
}

test('target still there: the migration is finished', async () => {
  await withNodes(3, async ({ redis, pool, client }) => {
    const desired = { nodes: redis.nodes, masters: 3, replicasPerMaster: 0 };
    await converge(pool, desired);
    await Promise.all(Array.from({ length: KEYS }, (_, i) => client.set(key(i), `v${i}`)));
    const target = redis.nodes[2] as string;
    const { slot } = await halfMigrate(pool, redis.nodes, target);
    assert.is((await openSlots(pool, redis.nodes)).length, 2);

    const r = await converge(pool, desired);
    assert.equal(r.applied[0], {
      kind: 'migrate',
      from: r.applied[0]?.kind === 'migrate' ? r.applied[0].from : '',
      to: target,
      slots: [slot],
      why: 'resume',
    });
    assert.equal(await openSlots(pool, redis.nodes), []);
    assert.is(
      Number(await pool.call(target, 'CLUSTER', 'COUNTKEYSINSLOT', slot)),
      KEYS,
      'every key is on the target',
    );
    const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => client.get(key(i))));
    assert.equal(
      values,
      Array.from({ length: KEYS }, (_, i) => `v${i}`),
    );
    const check = await redisCliCheck(target);
    assert.ok(check.ok, check.output);
  });
});

test('target leaving the cluster: the migration is rolled back, keys go home', async () => {
  await withNodes(
    4,
    async ({ redis, pool, client }) => {
      const kept = redis.nodes.slice(0, 3);
      const leaving = redis.nodes[3] as string;
      await converge(pool, { nodes: kept, masters: 3, replicasPerMaster: 0 });
      // The fourth node joins as an empty master, as it would be before a scale-out moved slots to it.
      const fresh = await observeTopology(pool, [leaving]);
      await meetNodes(pool, kept[0] as string, [
        { address: leaving, busPort: fresh.nodes[0]?.self?.busPort ?? 0 },
      ]);
      await waitFor('the fourth node to join', async () => {
        const t = await observeTopology(pool, redis.nodes);
        const joined = t.nodes.every(
          (n) => n.view.filter((e) => !e.flags.includes('handshake')).length === 4,
        );
        return joined && (await clusterStates(pool, redis.nodes)).every((s) => s === 'ok');
      });
      await Promise.all(Array.from({ length: KEYS }, (_, i) => client.set(key(i), `v${i}`)));
      const { slot, source } = await halfMigrate(pool, redis.nodes, leaving);

      const r = await converge(pool, { nodes: kept, retiring: [leaving], masters: 3, replicasPerMaster: 0 });
      assert.equal(r.applied[0], { kind: 'rollback', slot, owner: source, others: [leaving] });
      assert.equal(await openSlots(pool, redis.nodes), []);
      assert.is(
        Number(await pool.call(source, 'CLUSTER', 'COUNTKEYSINSLOT', slot)),
        KEYS,
        'every key is back',
      );
      const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => client.get(key(i))));
      assert.equal(
        values,
        Array.from({ length: KEYS }, (_, i) => `v${i}`),
      );
      const t = await observeTopology(pool, kept);
      assert.ok(
        t.nodes.every((n) => n.view.length === 3),
        'the leaving node was removed afterwards',
      );
      const check = await redisCliCheck(source);
      assert.ok(check.ok, check.output);
    },
    { clientSeeds: 3 },
  );
});

test.run();
