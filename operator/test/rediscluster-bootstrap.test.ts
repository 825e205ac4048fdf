import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { observeTopology } from '../src/controllers/rediscluster/cluster-state.ts';
import { reconcileRedisCluster } from '../src/controllers/rediscluster/reconcile.ts';
import { clusterStates, converge, redisCliCheck, withNodes } from './support/rediscluster.ts';

const test = suite('rediscluster bootstrap (real redis-server nodes)');

test('6 bare nodes become 3 masters with one replica each', async () => {
  await withNodes(6, async ({ redis, pool }) => {
    const desired = { nodes: redis.nodes, masters: 3, replicasPerMaster: 1 };
    const r = await converge(pool, desired);
    assert.equal([...new Set(r.applied.map((s) => s.kind))], ['meet', 'assignSlots', 'replicate']);

    assert.equal(await clusterStates(pool, redis.nodes), Array(6).fill('ok'));
    const check = await redisCliCheck(redis.nodes[0] as string);
    assert.ok(check.ok, check.output);
    assert.match(check.output, /All 16384 slots covered/);

    const t = await observeTopology(pool, redis.nodes);
    const masters = t.nodes.filter((n) => n.self?.flags.includes('master'));
    const replicas = t.nodes.filter((n) => n.self?.flags.includes('slave'));
    assert.is(masters.length, 3);
    assert.is(replicas.length, 3);
    const masterIds = masters.map((m) => m.self?.id);
    const replicated = replicas.map((r) => r.self?.masterId).sort();
    assert.equal(replicated, [...masterIds].sort(), 'every master has exactly one replica');
    for (const rep of replicas) {
      assert.ok(rep.masterLinkUp, `${rep.address} is in sync`);
      assert.is.not(rep.address, masters.find((m) => m.self?.id === rep.self?.masterId)?.address);
    }
    assert.is(r.status.slotsAssigned, 16384);
    assert.equal(
      r.status.conditions.map((c) => [c.type, c.status]),
      [
        ['Ready', 'True'],
        ['Scaling', 'False'],
      ],
    );

    const again = await reconcileRedisCluster(pool, desired, { budgetMs: 5000 });
    assert.ok(again.done);
    assert.equal(again.applied, [], 'a second reconcile of a ready cluster changes nothing');
  });
});

test.run();
