import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KafkaUnavailable, TopicRejected } from '../../../src/controllers/topic/errors.ts';
import { KafkaAdminGateway } from '../../../src/controllers/topic/kafka-admin-gateway.ts';
import { KafkaAdminGateways } from '../../../src/controllers/topic/kafka-admin-gateways.ts';
import type { DesiredTopic } from '../../../src/controllers/topic/planner.ts';
import { releaseTopic, syncTopic } from '../../../src/controllers/topic/sync.ts';
import { type KafkaAdminBroker, startKafkaAdminBroker } from '../../kafka-admin-broker/index.ts';

interface Ctx {
  broker: KafkaAdminBroker;
  gateway: KafkaAdminGateway;
}

const base: DesiredTopic = {
  topicName: 'orders.events',
  partitions: 3,
  replicationFactor: 3,
  config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
  deletionPolicy: 'Delete',
};

const mutating = ['CreateTopics', 'DeleteTopics', 'CreatePartitions', 'AlterConfigs'] as const;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.unreachable('expected a rejection');
  return undefined;
}

const gw = suite<Ctx>('Topic Kafka gateway against the admin test broker');

gw.before(async (ctx) => {
  ctx.broker = await startKafkaAdminBroker({ brokers: 3 });
  ctx.gateway = new KafkaAdminGateway({
    brokers: ctx.broker.bootstrap,
    retries: 0,
    connectionTimeoutMs: 300,
  });
});

gw.after(async (ctx) => {
  await ctx.gateway.close();
  await ctx.broker.stop();
});

gw('creates a missing topic with the spec, then finds it in sync', async ({ broker, gateway }) => {
  const outcome = await syncTopic(gateway, base);
  assert.is(outcome.kind, 'Applied');
  const t = broker.topics().find((x) => x.name === 'orders.events');
  assert.ok(t);
  assert.is(t.partitions.length, 3);
  assert.is(t.replicationFactor, 3);
  assert.equal(t.config, { 'cleanup.policy': 'delete', 'retention.ms': '86400000' });
  assert.equal(await gateway.observe('orders.events'), {
    exists: true,
    partitions: 3,
    replicationFactor: 3,
    config: { 'cleanup.policy': 'delete', 'retention.ms': '86400000' },
  });
  assert.is((await syncTopic(gateway, base)).kind, 'InSync');
});

gw('config drift made in Kafka is reverted', async ({ broker, gateway }) => {
  broker.setTopicConfig('orders.events', 'retention.ms', '1000');
  broker.setTopicConfig('orders.events', 'min.insync.replicas', '2');
  const outcome = await syncTopic(gateway, base);
  assert.is(outcome.kind, 'Applied');
  const action = outcome.kind === 'Applied' ? outcome.actions[0] : undefined;
  assert.equal(action?.type === 'alterConfig' ? action.drift.map((d) => d.name) : [], [
    'min.insync.replicas',
    'retention.ms',
  ]);
  assert.equal(broker.topics().find((x) => x.name === 'orders.events')!.config, {
    'cleanup.policy': 'delete',
    'retention.ms': '86400000',
  });
  assert.is((await syncTopic(gateway, base)).kind, 'InSync');
});

gw('more partitions in the spec grow the topic', async ({ broker, gateway }) => {
  assert.is((await syncTopic(gateway, { ...base, partitions: 5 })).kind, 'Applied');
  assert.is(broker.topics().find((x) => x.name === 'orders.events')!.partitions.length, 5);
});

gw('a partition decrease is refused without touching Kafka', async ({ broker, gateway }) => {
  broker.setTopicConfig('orders.events', 'retention.ms', '1'); // drift that must stay, too
  const before = broker.topics();
  broker.resetRequestCounts();
  const outcome = await syncTopic(gateway, { ...base, partitions: 2 });
  assert.is(outcome.kind, 'NotSupported');
  assert.equal(broker.topics(), before);
  const counts = broker.requestCounts();
  for (const api of mutating) assert.is(counts[api], 0, `${api} not sent`);
  broker.setTopicConfig('orders.events', 'retention.ms', '86400000');
});

gw('a replication factor change is refused without touching Kafka', async ({ broker, gateway }) => {
  const before = broker.topics();
  broker.resetRequestCounts();
  const outcome = await syncTopic(gateway, { ...base, partitions: 5, replicationFactor: 2 });
  assert.is(outcome.kind, 'NotSupported');
  assert.match(outcome.kind === 'NotSupported' ? outcome.reasons.join() : '', /replicationFactor/);
  assert.equal(broker.topics(), before);
  for (const api of mutating) assert.is(broker.requestCounts()[api], 0, `${api} not sent`);
});

gw('per-topic Kafka errors reach only their own caller', async ({ broker, gateway }) => {
  const [good, badConfig, badRf] = await Promise.allSettled([
    syncTopic(gateway, { ...base, topicName: 'mixed.good', config: {} }),
    syncTopic(gateway, { ...base, topicName: 'mixed.bad-config', config: { 'retention.ms': 'forever' } }),
    syncTopic(gateway, { ...base, topicName: 'mixed.bad-rf', replicationFactor: 7 }),
  ]);
  assert.is(good.status, 'fulfilled');
  const configErr = badConfig.status === 'rejected' ? badConfig.reason : undefined;
  assert.instance(configErr, TopicRejected);
  assert.is((configErr as TopicRejected).type, 'INVALID_CONFIG');
  assert.is((configErr as TopicRejected).topicName, 'mixed.bad-config');
  const rfErr = badRf.status === 'rejected' ? badRf.reason : undefined;
  assert.instance(rfErr, TopicRejected);
  assert.is((rfErr as TopicRejected).type, 'INVALID_REPLICATION_FACTOR');

  // Same for AlterConfigs, where kafkajs only reports the first failure of a batch.
  broker.setTopicConfig('mixed.good', 'retention.ms', '5');
  broker.setTopicConfig('orders.events', 'retention.ms', '5');
  const [altered, refused] = await Promise.allSettled([
    syncTopic(gateway, { ...base, partitions: 5 }),
    syncTopic(gateway, { ...base, topicName: 'mixed.good', config: { 'segment.bytes': '1' } }),
  ]);
  assert.is(altered.status === 'fulfilled' ? altered.value.kind : altered.reason, 'Applied');
  assert.is(broker.topics().find((x) => x.name === 'orders.events')!.config['retention.ms'], '86400000');
  assert.is(refused.status === 'rejected' ? (refused.reason as TopicRejected).type : '', 'INVALID_CONFIG');
  assert.equal(broker.topics().find((x) => x.name === 'mixed.good')!.config, { 'retention.ms': '5' });
});

gw('deletion removes the topic under Delete, keeps it under Retain', async ({ broker, gateway }) => {
  assert.equal(
    await releaseTopic(gateway, { ...base, topicName: 'mixed.good', deletionPolicy: 'Retain' }),
    [],
  );
  assert.ok(broker.topics().some((x) => x.name === 'mixed.good'));
  const actions = await releaseTopic(gateway, base);
  assert.equal(actions, [{ type: 'delete', topicName: 'orders.events' }]);
  assert.not.ok(broker.topics().some((x) => x.name === 'orders.events'));
  await gateway.apply({ type: 'delete', topicName: 'orders.events' }); // already gone: done
  assert.equal(await gateway.observe('orders.events'), { exists: false });
});

gw('unreachable Kafka is KafkaUnavailable, and the gateway recovers', async ({ broker, gateway }) => {
  await broker.goDown();
  const err = await rejection(syncTopic(gateway, { ...base, topicName: 'after.outage' }));
  assert.instance(err, KafkaUnavailable);
  assert.is((err as KafkaUnavailable).retriable, true);
  const applyErr = await rejection(
    gateway.apply({ type: 'growPartitions', topicName: 'mixed.good', from: 3, to: 4 }),
  );
  assert.instance(applyErr, KafkaUnavailable);
  await broker.goUp();
  assert.is((await syncTopic(gateway, { ...base, topicName: 'after.outage' })).kind, 'Applied');
  assert.ok(broker.topics().some((x) => x.name === 'after.outage'));
});

gw('one gateway per bootstrap set', async ({ broker }) => {
  const gateways = new KafkaAdminGateways({ retries: 0 });
  const a = gateways.for(broker.bootstrap);
  const b = gateways.for([...broker.bootstrap].reverse());
  assert.is(a, b);
  assert.is.not(gateways.for([broker.bootstrap[0]!]), a);
  await gateways.close();
});

gw('500 Topics at once are coalesced into a few requests', async ({ broker }) => {
  const topics = Array.from({ length: 500 }, (_, i) => ({
    ...base,
    topicName: `bulk.${String(i).padStart(3, '0')}`,
    partitions: 2,
    config: { 'retention.ms': String(3_600_000 + i) },
  }));
  const gateway = new KafkaAdminGateway({
    brokers: broker.bootstrap,
    retries: 0,
    maxBatchSize: 200,
    windowMs: 5,
  });
  try {
    broker.resetRequestCounts();
    const connectionsBefore = broker.connectionsAccepted();
    const created = await Promise.all(topics.map((t) => syncTopic(gateway, t)));
    assert.ok(created.every((o) => o.kind === 'Applied'));
    const counts = broker.requestCounts();
    assert.ok(counts.CreateTopics <= 3, `CreateTopics: ${counts.CreateTopics}`);
    assert.ok(counts.DescribeConfigs <= 3, `DescribeConfigs: ${counts.DescribeConfigs}`);
    assert.is(broker.topics().filter((t) => t.name.startsWith('bulk.')).length, 500);

    for (const t of topics.slice(0, 300)) broker.setTopicConfig(t.topicName, 'retention.ms', '1');
    broker.resetRequestCounts();
    const grown = await Promise.all(
      topics.map((t, i) => syncTopic(gateway, { ...t, partitions: i < 250 ? 3 : 2 })),
    );
    assert.is(grown.filter((o) => o.kind === 'Applied').length, 300);
    const after = broker.requestCounts();
    assert.ok(after.AlterConfigs <= 3, `AlterConfigs: ${after.AlterConfigs}`);
    assert.ok(after.CreatePartitions <= 3, `CreatePartitions: ${after.CreatePartitions}`);
    const bulk = broker.topics().filter((t) => t.name.startsWith('bulk.'));
    assert.ok(bulk.every((t, i) => t.config['retention.ms'] === String(3_600_000 + i)));
    assert.is(bulk.filter((t) => t.partitions.length === 3).length, 250);
    // One admin client: a connection to the seed broker and one per broker it talks to, reused throughout.
    const opened = broker.connectionsAccepted() - connectionsBefore;
    assert.ok(opened <= 4, `connections are reused (${opened} opened)`);
  } finally {
    await gateway.close();
  }
});

gw.run();
