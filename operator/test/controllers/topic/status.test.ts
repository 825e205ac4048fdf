import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Topic } from '../../../src/api/v1alpha1/topic.ts';
import { statusChanged, topicStatus } from '../../../src/controllers/topic/status.ts';

const topic: Topic = {
  apiVersion: 'souk.dev/v1alpha1',
  kind: 'Topic',
  metadata: { name: 'orders', namespace: 'default', generation: 4 },
  spec: { partitions: 6, replicationFactor: 3, deletionPolicy: 'Delete' },
};
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:05:00Z');
const observed = { exists: true as const, partitions: 8, replicationFactor: 3, config: {} };

test('in sync: Ready=True, spec figures, observedGeneration', () => {
  const s = topicStatus(
    topic,
    { kind: 'Synced', topicName: 'orders.events', outcome: { kind: 'InSync', observed } },
    t0,
  );
  assert.equal(s, {
    topicName: 'orders.events',
    observedGeneration: 4,
    partitions: 6,
    replicationFactor: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Synced',
        message: 'Kafka topic orders.events matches the spec',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 4,
      },
    ],
  });
});

test('NotSupported reports what Kafka has, with the reasons', () => {
  const s = topicStatus(
    topic,
    {
      kind: 'Synced',
      topicName: 'orders.events',
      outcome: { kind: 'NotSupported', observed, reasons: ['partitions cannot decrease (8 -> 6)'] },
    },
    t0,
  );
  assert.is(s.partitions, 8);
  assert.equal(
    s.conditions?.map((c) => [c.status, c.reason, c.message]),
    [['False', 'NotSupported', 'partitions cannot decrease (8 -> 6)']],
  );
});

test('conflict and unavailability keep the last known figures', () => {
  const known = { ...topic, status: { partitions: 5, replicationFactor: 3 } };
  const c = topicStatus(
    known,
    { kind: 'ResourceConflict', topicName: 'orders.events', ownedBy: 'default/older' },
    t0,
  );
  assert.is(c.partitions, 5);
  assert.match(c.conditions?.[0]?.message ?? '', /default\/older/);
  const u = topicStatus(
    known,
    { kind: 'KafkaUnavailable', topicName: 'orders.events', message: 'refused' },
    t0,
  );
  assert.equal([u.conditions?.[0]?.reason, u.partitions], ['KafkaUnavailable', 5]);
  const e = topicStatus(
    known,
    { kind: 'KafkaError', topicName: 'x', type: 'INVALID_CONFIG', message: 'bad' },
    t0,
  );
  assert.is(e.conditions?.[0]?.message, 'INVALID_CONFIG: bad');
});

test('a steady state writes nothing; a flip moves lastTransitionTime', () => {
  const result = {
    kind: 'Synced',
    topicName: 'orders.events',
    outcome: { kind: 'InSync', observed },
  } as const;
  const first = topicStatus(topic, result, t0);
  const again = topicStatus({ ...topic, status: first }, result, t1);
  assert.not.ok(statusChanged(first, again));
  const down = topicStatus(
    { ...topic, status: first },
    { kind: 'KafkaUnavailable', topicName: 'orders.events', message: 'x' },
    t1,
  );
  assert.ok(statusChanged(first, down));
  assert.is(down.conditions?.[0]?.lastTransitionTime, '2026-01-01T00:05:00Z');
});

test.run();
