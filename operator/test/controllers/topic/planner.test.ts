import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  configDrift,
  type DesiredTopic,
  planDeletion,
  planTopic,
} from '../../../src/controllers/topic/planner.ts';

const desired: DesiredTopic = {
  topicName: 'orders.events',
  partitions: 6,
  replicationFactor: 3,
  config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
  deletionPolicy: 'Delete',
};

const inKafka = {
  exists: true as const,
  partitions: 6,
  replicationFactor: 3,
  config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
};

test('a missing topic is created with the whole spec', () => {
  assert.equal(planTopic(desired, { exists: false }), {
    kind: 'Apply',
    actions: [
      {
        type: 'create',
        topicName: 'orders.events',
        partitions: 6,
        replicationFactor: 3,
        config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
      },
    ],
  });
});

test('a topic matching the spec needs nothing', () => {
  assert.equal(planTopic(desired, inKafka), { kind: 'InSync' });
});

test('changed, added and removed configs are drift, reverted as one full set', () => {
  const plan = planTopic(desired, {
    ...inKafka,
    config: { 'retention.ms': '1000', 'min.insync.replicas': '2' },
  });
  assert.equal(plan, {
    kind: 'Apply',
    actions: [
      {
        type: 'alterConfig',
        topicName: 'orders.events',
        config: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
        drift: [
          { name: 'cleanup.policy', desired: 'delete', actual: undefined },
          { name: 'min.insync.replicas', desired: undefined, actual: '2' },
          { name: 'retention.ms', desired: '86400000', actual: '1000' },
        ],
      },
    ],
  });
});

test('config values compare as Kafka stores them', () => {
  assert.equal(
    configDrift(
      { 'cleanup.policy': 'delete, compact', 'retention.ms': ' 5 ' },
      {
        'cleanup.policy': 'compact,delete',
        'retention.ms': '5',
      },
    ),
    [],
  );
  assert.is(configDrift({ 'retention.ms': '5' }, { 'retention.ms': '6' }).length, 1);
});

test('more partitions grow the topic', () => {
  assert.equal(planTopic({ ...desired, partitions: 12 }, inKafka), {
    kind: 'Apply',
    actions: [{ type: 'growPartitions', topicName: 'orders.events', from: 6, to: 12 }],
  });
});

test('grow and drift together give both actions', () => {
  const plan = planTopic({ ...desired, partitions: 8 }, { ...inKafka, config: {} });
  assert.is(plan.kind, 'Apply');
  assert.equal(plan.kind === 'Apply' ? plan.actions.map((a) => a.type) : [], [
    'alterConfig',
    'growPartitions',
  ]);
});

test('fewer partitions is NotSupported and touches nothing, even with drift', () => {
  const plan = planTopic({ ...desired, partitions: 3 }, { ...inKafka, config: {} });
  assert.is(plan.kind, 'NotSupported');
  assert.match(plan.kind === 'NotSupported' ? plan.reasons.join() : '', /partitions cannot decrease/);
});

test('a replication factor change is NotSupported', () => {
  for (const rf of [1, 5]) {
    const plan = planTopic({ ...desired, replicationFactor: rf }, inKafka);
    assert.is(plan.kind, 'NotSupported');
    assert.match(plan.kind === 'NotSupported' ? plan.reasons.join() : '', /replicationFactor cannot change/);
  }
  const both = planTopic({ ...desired, replicationFactor: 1, partitions: 1 }, inKafka);
  assert.is(both.kind === 'NotSupported' ? both.reasons.length : 0, 2);
});

test('deletion removes the Kafka topic only with deletionPolicy Delete', () => {
  assert.equal(planDeletion(desired, inKafka), [{ type: 'delete', topicName: 'orders.events' }]);
  assert.equal(planDeletion({ ...desired, deletionPolicy: 'Retain' }, inKafka), []);
  assert.equal(planDeletion(desired, { exists: false }), []);
});

test.run();
