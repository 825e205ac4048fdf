import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { observeTopology } from '../src/controllers/rediscluster/cluster-state.ts';
import { formatRanges } from '../src/controllers/rediscluster/slots.ts';
import { converge, redisCliCheck, withNodes, writeKeys } from './support/rediscluster.ts';

const test = suite('rediscluster heal: a replaced pod comes back empty with a new node id');

test('a killed replica replaced by an empty node on the same port is forgotten and re-replicated', async () => {
  await withNodes(6, async ({ redis, pool, client, replacePod }) => {
    const desired = { nodes: redis.nodes, masters: 3, replicasPerMaster: 1 };
    await converge(pool, desired);
    await writeKeys(client, 'h', 2000);
    const before = await observeTopology(pool, redis.nodes);
    const victim = before.nodes.find((n) => n.self?.flags.includes('slave'));
    assert.ok(victim?.self);
    const oldId = victim.self.id;
    const masterId = victim.self.masterId as string;

    // The pod comes back at the same address with an empty data dir, hence a new node id.
    await replacePod(victim.address);

    const r = await converge(pool, desired);
    const kinds = r.applied.map((s) => s.kind);
    assert.equal(kinds, ['forget', 'meet', 'replicate']);

    const after = await observeTopology(pool, redis.nodes);
    const reborn = after.nodes.find((n) => n.address === victim.address);
    assert.ok(reborn?.self);
    assert.is.not(reborn.self.id, oldId, 'a new node id');
    assert.is(reborn.self.masterId, masterId, 'it replicates the master that had lost its replica');
    assert.ok(reborn.masterLinkUp);
    const master = after.nodes.find((n) => n.self?.id === masterId);
    assert.is(reborn.keys, master?.keys, 'it holds a full copy of its master');
    for (const n of after.nodes) {
      assert.ok(!n.view.some((e) => e.id === oldId), `${n.address} forgot the old id`);
      assert.is(n.view.length, 6);
    }
    const check = await redisCliCheck(victim.address);
    assert.ok(check.ok, check.output);
  });
});

test('a master lost with its only copy: its slots are reassigned to the new empty node, and the loss reported', async () => {
  await withNodes(3, async ({ redis, pool, client, replacePod }) => {
    const desired = { nodes: redis.nodes, masters: 3, replicasPerMaster: 0 };
    await converge(pool, desired);
    await writeKeys(client, 'm', 3000);
    const before = await observeTopology(pool, redis.nodes);
    const victim = before.nodes[1];
    assert.ok(victim?.self);
    const lostRanges = formatRanges(victim.self.slots);
    const lostKeys = victim.keys as number;
    assert.ok(lostKeys > 0);

    await replacePod(victim.address);

    const r = await converge(pool, desired);
    assert.equal(
      r.applied.map((s) => s.kind),
      ['forget', 'meet', 'assignSlots'],
    );
    assert.ok(
      r.warnings.some((w) => w.includes(`slots ${lostRanges} lose their keys`)),
      r.warnings.join('; '),
    );
    assert.is(r.status.slotsAssigned, 16384);
    assert.is(r.status.nodes[1]?.slotRanges, lostRanges, 'the new node serves the lost slots');
    const values = await Promise.all(Array.from({ length: 3000 }, (_, i) => client.get(`m:${i}`)));
    assert.is(values.filter((v) => v === null).length, lostKeys, 'exactly the lost master’s keys are gone');
    const check = await redisCliCheck(victim.address);
    assert.ok(check.ok, check.output);
  });
});

test.run();
