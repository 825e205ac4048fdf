import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Suite, useSuite } from '../src/suite.ts';

let s: Suite;

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test.before(async () => {
  s = await useSuite('harness-infra');
});

test.after(async () => {
  await s.close();
});

test('postgres: the suite database exists on the primary and a write reaches the replica', async () => {
  const primary = new pg.Client({ connectionString: s.databaseUrl });
  const replica = new pg.Client({ connectionString: s.replicaDatabaseUrl });
  await primary.connect();
  await replica.connect();
  try {
    const recovery = await replica.query('SELECT pg_is_in_recovery() AS r');
    assert.is(recovery.rows[0].r, true, 'the replica is a standby');
    await primary.query('CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)');
    await primary.query("INSERT INTO item VALUES (1, 'lamp'), (2, 'rug')");
    await s.waitForReplica();
    const rows = await replica.query('SELECT name FROM item ORDER BY id');
    assert.equal(
      rows.rows.map((r) => r.name),
      ['lamp', 'rug'],
    );
    try {
      await replica.query("INSERT INTO item VALUES (3, 'vase')");
      assert.unreachable('the replica accepted a write');
    } catch (e) {
      assert.match((e as Error).message, /read-only transaction/);
    }
  } finally {
    await primary.end();
    await replica.end();
  }
});

test('redis: a cluster client reads back keys spread over different slots and masters', async () => {
  const cluster = new Redis.Cluster(s.redisNodes, { keyPrefix: s.keyPrefix });
  try {
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (const k of keys) await cluster.set(k, `v-${k}`);
    for (const k of keys) assert.is(await cluster.get(k), `v-${k}`);
    const masters = cluster.nodes('master');
    assert.is(masters.length, 3);
    const owners = new Set<number>();
    for (const m of masters) {
      const found = await m.keys(`${s.keyPrefix}*`);
      if (found.length > 0) owners.add(m.options.port!);
    }
    assert.is(owners.size, 3, 'the keys landed on every master');
  } finally {
    cluster.disconnect();
  }
});

test('kafka: a consumer group receives what a producer sent', async () => {
  const kafka = new Kafka({ clientId: 'harness-test', brokers: s.kafkaBrokers, logLevel: logLevel.NOTHING });
  const topic = s.topic('orders.events');
  const producer = kafka.producer();
  const consumer = kafka.consumer({
    groupId: s.groupId('readers'),
    sessionTimeout: 6000,
    maxWaitTimeInMs: 500,
  });
  await producer.connect();
  await consumer.connect();
  try {
    await s.kafka.createTopic(topic, 4, 3);
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push(`${message.key}=${message.value}`);
          if (received.length === 10) resolve();
        },
      });
    });
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `order-${i}`, value: `placed-${i}` })),
    });
    await within(all, 20_000, 'the messages to arrive');
    assert.equal(received.sort(), Array.from({ length: 10 }, (_, i) => `order-${i}=placed-${i}`).sort());
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
});

test.run();
