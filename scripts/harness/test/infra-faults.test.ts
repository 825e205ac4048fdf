// Fault controls on private instances: they really break things, and things really recover.
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { query } from '../src/infra/postgres-node.ts';
import { waitFor } from '../src/infra/processes.ts';
import { clusterNodes } from '../src/infra/redis-cluster.ts';
import { infoFields, redisCall } from '../src/infra/resp.ts';
import {
  type KafkaMock,
  KafkaMockControlError,
  type PostgresPair,
  type RedisCluster,
  startKafkaMock,
  startPostgresPair,
  startRedisCluster,
  waitForReplica,
} from '../src/infra.ts';

let kafkaMock: KafkaMock;
let redis: RedisCluster;
let pgPair: PostgresPair;

test.before(async () => {
  [kafkaMock, redis, pgPair] = await Promise.all([
    startKafkaMock({ brokers: 3 }),
    startRedisCluster(),
    startPostgresPair(),
  ]);
});

test.after(async () => {
  await Promise.all([kafkaMock?.stop(), redis?.stop(), pgPair?.stop()]);
});

test('kafka: with its partition leader down a producer fails, and succeeds again once it is back', async () => {
  const kafka = new Kafka({
    clientId: 'faults',
    brokers: kafkaMock.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 300 },
  });
  const topic = 'fault.orders';
  await kafkaMock.control.createTopic(topic, 1, 3);
  await kafkaMock.control.setPartitionLeader(topic, 0, 1);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ key: 'a', value: 'before' }] });

    // Injected errors are real protocol errors: NOT_LEADER twice is retried, and the stack drains.
    await kafkaMock.control.pushRequestErrors('Produce', ['NOT_LEADER_FOR_PARTITION', 6]);
    await producer.send({ topic, messages: [{ key: 'a', value: 'retried' }] });
    assert.is(await kafkaMock.control.errorStackCount(1, 'Produce'), 0);

    await kafkaMock.control.brokerDown(1);
    let failure: unknown;
    try {
      await producer.send({ topic, messages: [{ key: 'a', value: 'during' }] });
    } catch (e) {
      failure = e;
    }
    assert.ok(failure instanceof Error, 'the send failed while the leader was down');

    await kafkaMock.control.brokerUp(1);
    await waitFor('the producer to recover', async () => {
      await producer.send({ topic, messages: [{ key: 'a', value: 'after' }] });
      return true;
    });

    const consumer = kafka.consumer({ groupId: 'faults-reader', sessionTimeout: 6000, maxWaitTimeInMs: 500 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
        },
      });
      await waitFor('the messages', () => seen.includes('after'), 20_000);
      // A send that failed may still have been written before the connection dropped.
      assert.equal(
        seen.filter((v) => v !== 'during' && v !== 'after'),
        ['before', 'retried'],
      );
      assert.is(seen.at(-1), 'after');
    } finally {
      await consumer.disconnect();
    }
  } finally {
    await producer.disconnect();
  }
});

test('kafka: the control port reports what the mock refuses', async () => {
  try {
    await kafkaMock.control.brokerDown(99);
    assert.unreachable('an unknown broker was accepted');
  } catch (e) {
    assert.instance(e, KafkaMockControlError);
    assert.match((e as Error).message, /BROKER_NOT_AVAILABLE/);
  }
  try {
    await kafkaMock.control.pushRequestErrors('Fetch', ['NO_SUCH_ERROR']);
    assert.unreachable('an unknown error name was accepted');
  } catch (e) {
    assert.match((e as Error).message, /unknown error: NO_SUCH_ERROR/);
  }
  assert.is(await kafkaMock.control.bootstrap(), kafkaMock.bootstrap);
});

test('kafka: a broker with a round-trip delay answers late but answers', async () => {
  const kafka = new Kafka({ clientId: 'rtt', brokers: kafkaMock.brokers, logLevel: logLevel.NOTHING });
  const topic = 'fault.slow';
  await kafkaMock.control.createTopic(topic, 1, 3);
  await kafkaMock.control.setPartitionLeader(topic, 0, 2);
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });
    await kafkaMock.control.setRtt(2, 300);
    const t0 = performance.now();
    await producer.send({ topic, messages: [{ value: 'slow' }] });
    const elapsed = performance.now() - t0;
    await kafkaMock.control.setRtt(2, 0);
    assert.ok(elapsed >= 250, `the send took ${elapsed.toFixed(0)} ms, so the delay was applied`);
  } finally {
    await producer.disconnect();
  }
});

test('redis: killing a master promotes its replica and the cluster client keeps working', async () => {
  const client = new Redis.Cluster(
    redis.ports.map((port) => ({ host: '127.0.0.1', port })),
    {
      // Failover takes 2-3 s with cluster-node-timeout 1000: longer than ioredis's default patience.
      maxRedirections: 64,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      redisOptions: { connectTimeout: 1000 },
    },
  );
  try {
    const keys = Array.from({ length: 20 }, (_, i) => `user:${i}`);
    for (const k of keys) await client.set(k, `v-${k}`);

    const slot = Number(await redisCall(redis.ports[0]!, ['CLUSTER', 'KEYSLOT', 'user:0']));
    const slots = (await redisCall(redis.ports[0]!, ['CLUSTER', 'SLOTS'])) as [
      number,
      number,
      [string, number, string],
    ][];
    const [, , [, masterPort, masterId]] = slots.find(([from, to]) => slot >= from && slot <= to)!;
    // CLUSTER SLOTS leaves out replicas until gossip reports their offsets: CLUSTER NODES has them.
    const replica = (await clusterNodes(masterPort)).find((n) => n.masterId === masterId);
    assert.ok(replica, 'the master has a replica');
    const replicaPort = replica!.port;
    // Kill only once the replica has everything, so nothing acknowledged is lost.
    await waitFor('the replica to catch up', async () => {
      const m = infoFields(String(await redisCall(masterPort, ['INFO', 'replication'])));
      const r = infoFields(String(await redisCall(replicaPort, ['INFO', 'replication'])));
      return Number(r.get('slave_repl_offset')) >= Number(m.get('master_repl_offset'));
    });

    await redis.killNode(masterPort);
    await waitFor(
      'the replica to take over',
      async () => (await redis.masters()).includes(`127.0.0.1:${replicaPort}`),
      20_000,
    );
    const masters = await redis.masters();
    assert.not.ok(masters.includes(`127.0.0.1:${masterPort}`));
    assert.is(masters.length, 3);

    await waitFor(
      'the client to reach the new master',
      async () => (await client.get('user:0')) === 'v-user:0',
      20_000,
      200,
    );
    for (const k of keys) assert.is(await client.get(k), `v-${k}`);
    await client.set('user:0', 'changed');
    assert.is(await client.get('user:0'), 'changed');
  } finally {
    client.disconnect();
  }
});

test('postgres: after the primary crashes, the promoted replica has its data and accepts writes', async () => {
  await query(pgPair.primaryUrl, 'CREATE TABLE ledger (id serial PRIMARY KEY, note text NOT NULL)');
  await query(pgPair.primaryUrl, "INSERT INTO ledger (note) VALUES ('before')");
  await waitForReplica(pgPair.primaryUrl, pgPair.replicaUrl);

  await pgPair.killPrimary();
  let refused: unknown;
  try {
    await query(pgPair.primaryUrl, 'SELECT 1');
  } catch (e) {
    refused = e;
  }
  assert.ok(refused instanceof Error, 'the old primary is gone');

  await pgPair.promoteReplica();
  await query(pgPair.replicaUrl, "INSERT INTO ledger (note) VALUES ('after')");
  const notes = await query(pgPair.replicaUrl, 'SELECT note FROM ledger ORDER BY id');
  assert.equal(
    notes.map((r) => r.note),
    ['before', 'after'],
  );
});

test.run();
