import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { observeTopology } from '../src/controllers/rediscluster/cluster-state.ts';
import {
  clusterStates,
  converge,
  missingKeys,
  redisCliCheck,
  startLoad,
  withNodes,
  writeKeys,
} from './support/rediscluster.ts';

const test = suite('rediscluster scale out and in under load (real redis-server nodes)');

const KEYS = 10_000;

test('3 -> 4 -> 3 masters: every key survives and a live client sees no error', async () => {
  await withNodes(6, async ({ redis, pool, client }) => {
    await converge(pool, { nodes: redis.nodes, masters: 3, replicasPerMaster: 1 });
    await writeKeys(client, 'k', KEYS);
    const load = startLoad(client, 'load');

    await redis.addNode();
    await redis.addNode();
    const grown = await converge(pool, { nodes: redis.nodes, masters: 4, replicasPerMaster: 1 });
    const moved = grown.applied.flatMap((s) => (s.kind === 'migrate' ? s.slots : []));
    assert.is(moved.length, 4096, 'a quarter of the slots moved to the new master');
    assert.equal(
      grown.status.nodes.filter((n) => n.role === 'master').map((n) => n.slots),
      [4096, 4096, 4096, 4096],
    );
    const newMaster = grown.status.nodes[6];
    assert.is(newMaster?.role, 'master');
    assert.is(grown.status.nodes[7]?.masterNodeId, newMaster?.nodeId);
    assert.equal(await missingKeys(client, 'k', KEYS), [], 'no key lost by scaling out');

    const kept = redis.nodes.slice(0, 6);
    const retiring = redis.nodes.slice(6);
    const shrunk = await converge(pool, { nodes: kept, retiring, masters: 3, replicasPerMaster: 1 });
    const stats = await load.stop();

    assert.equal(
      shrunk.status.nodes.filter((n) => !n.retiring && n.role === 'master').map((n) => n.slots),
      [5462, 5461, 5461],
    );
    assert.equal(await missingKeys(client, 'k', KEYS), [], 'no key lost by scaling in');
    assert.is(stats.errors, 0, `client errors during the migrations (last: ${stats.lastError})`);
    assert.ok(stats.ops > 1000, `the client kept working (${stats.ops} operations)`);

    // The retired nodes are out: no remaining node knows them, and they know no one.
    const t = await observeTopology(pool, redis.nodes);
    const retiredIds = t.nodes.slice(6).map((n) => n.self?.id);
    for (const n of t.nodes.slice(0, 6)) {
      assert.is(n.view.length, 6, `${n.address} knows exactly the 6 remaining nodes`);
      assert.ok(!n.view.some((e) => retiredIds.includes(e.id)));
    }
    for (const n of t.nodes.slice(6)) assert.is(n.view.length, 1, `${n.address} was reset`);
    assert.equal(await clusterStates(pool, kept), Array(6).fill('ok'));
    const check = await redisCliCheck(kept[0] as string);
    assert.ok(check.ok, check.output);
  });
});

test.run();
