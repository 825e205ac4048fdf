import { connect } from 'node:net';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type KafkaAdminBroker, startKafkaAdminBroker } from './index.ts';

interface Ctx {
  broker: KafkaAdminBroker;
  admin: Admin;
}

const TOPIC = 2;

function kafkaError(err: unknown): {
  name: string;
  type?: string;
  errors?: { type?: string; topic?: string }[];
} {
  return err as { name: string; type?: string; errors?: { type?: string; topic?: string }[] };
}

async function rejects(promise: Promise<unknown>): Promise<ReturnType<typeof kafkaError>> {
  try {
    await promise;
  } catch (err) {
    return kafkaError(err);
  }
  assert.unreachable('expected a rejection');
  throw new Error('unreachable');
}

/** Sends one raw request frame (header v1) and resolves with the response body, or null when the broker closes. */
function rawRequest(port: number, apiKey: number, apiVersion: number, body: Buffer): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const clientId = Buffer.from('raw');
    const header = Buffer.alloc(10);
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(apiVersion, 2);
    header.writeInt32BE(42, 4);
    header.writeInt16BE(clientId.length, 8);
    const payload = Buffer.concat([header, clientId, body]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        assert.is(received.readInt32BE(4), 42, 'correlation id echoed');
        resolve(received.subarray(8));
      }
    });
    socket.on('close', () => resolve(null));
    socket.on('error', reject);
    socket.write(Buffer.concat([size, payload]));
  });
}

const admin = suite<Ctx>('kafka admin test broker through kafkajs');

admin.before(async (ctx) => {
  ctx.broker = await startKafkaAdminBroker({
    brokers: 3,
    createTopicPolicy: (req) => (req.topic.startsWith('forbidden.') ? 'forbidden.* is reserved' : undefined),
  });
  const kafka = new Kafka({
    clientId: 'broker-test',
    brokers: ctx.broker.bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  ctx.admin = kafka.admin();
  await ctx.admin.connect();
});

admin.after(async (ctx) => {
  await ctx.admin.disconnect();
  await ctx.broker.stop();
});

admin('metadata lists every broker and a controller that exists', async ({ admin: a }) => {
  const cluster = await a.describeCluster();
  assert.equal(cluster.brokers.map((b) => b.nodeId).sort(), [0, 1, 2]);
  assert.ok(cluster.brokers.some((b) => b.nodeId === cluster.controller));
  assert.is(cluster.clusterId, 'souk-test-cluster');
});

admin('createTopics with partitions, replication factor and configs', async ({ admin: a, broker }) => {
  const created = await a.createTopics({
    topics: [
      {
        topic: 'orders.events',
        numPartitions: 6,
        replicationFactor: 3,
        configEntries: [
          { name: 'retention.ms', value: '86400000' },
          { name: 'cleanup.policy', value: 'compact,delete' },
        ],
      },
    ],
  });
  assert.is(created, true);
  const t = broker.topics().find((x) => x.name === 'orders.events');
  assert.ok(t);
  assert.is(t.partitions.length, 6);
  assert.is(t.replicationFactor, 3);
  assert.equal(t.config, { 'cleanup.policy': 'compact,delete', 'retention.ms': '86400000' });

  const md = await a.fetchTopicMetadata({ topics: ['orders.events'] });
  const partitions = md.topics[0]!.partitions;
  assert.is(partitions.length, 6);
  for (const p of partitions) {
    assert.is(p.replicas.length, 3);
    assert.is(p.leader, p.replicas[0]);
    assert.equal(p.isr, p.replicas);
  }
  const leaders = new Set(partitions.map((p) => p.leader));
  assert.is(leaders.size, 3, 'leaders spread over the brokers');
  assert.ok((await a.listTopics()).includes('orders.events'));
});

admin('explicit replica assignment', async ({ admin: a, broker }) => {
  await a.createTopics({
    topics: [
      {
        topic: 'assigned',
        replicaAssignment: [
          { partition: 0, replicas: [2, 1] },
          { partition: 1, replicas: [1, 0] },
        ],
      },
    ],
  });
  const t = broker.topics().find((x) => x.name === 'assigned')!;
  assert.equal(
    t.partitions.map((p) => p.replicas),
    [
      [2, 1],
      [1, 0],
    ],
  );
  const err = await rejects(
    a.createTopics({
      topics: [{ topic: 'assigned.bad', replicaAssignment: [{ partition: 0, replicas: [7] }] }],
    }),
  );
  assert.equal(
    err.errors?.map((e) => e.type),
    ['INVALID_REPLICA_ASSIGNMENT'],
  );
});

admin('createTopics of an existing topic reports TOPIC_ALREADY_EXISTS per topic', async ({ admin: a }) => {
  assert.is(await a.createTopics({ topics: [{ topic: 'orders.events' }] }), false);
  const err = await rejects(
    a.createTopics({
      topics: [{ topic: 'orders.events' }, { topic: 'too.replicated', replicationFactor: 4 }],
    }),
  );
  assert.is(err.name, 'KafkaJSAggregateError');
  const byTopic = Object.fromEntries((err.errors ?? []).map((e) => [e.topic, e.type]));
  assert.equal(byTopic, {
    'orders.events': 'TOPIC_ALREADY_EXISTS',
    'too.replicated': 'INVALID_REPLICATION_FACTOR',
  });
});

admin('createTopics validation errors carry the Kafka error codes', async ({ admin: a, broker }) => {
  const cases: [Parameters<Admin['createTopics']>[0]['topics'][number], string][] = [
    [{ topic: 'rf.too.high', replicationFactor: 4 }, 'INVALID_REPLICATION_FACTOR'],
    [{ topic: 'rf.zero', replicationFactor: 0 }, 'INVALID_REPLICATION_FACTOR'],
    [{ topic: 'parts.zero', numPartitions: 0 }, 'INVALID_PARTITIONS'],
    [{ topic: 'bad/name' }, 'INVALID_TOPIC_EXCEPTION'],
    [{ topic: 'x'.repeat(250) }, 'INVALID_TOPIC_EXCEPTION'],
    [{ topic: '..' }, 'INVALID_TOPIC_EXCEPTION'],
    [{ topic: 'orders_events' }, 'INVALID_TOPIC_EXCEPTION'],
    [{ topic: 'cfg.unknown', configEntries: [{ name: 'retention.weeks', value: '1' }] }, 'INVALID_CONFIG'],
    [{ topic: 'cfg.policy', configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }, 'INVALID_CONFIG'],
    [{ topic: 'cfg.retention', configEntries: [{ name: 'retention.ms', value: '-2' }] }, 'INVALID_CONFIG'],
    [
      { topic: 'cfg.retention.nan', configEntries: [{ name: 'retention.ms', value: 'soon' }] },
      'INVALID_CONFIG',
    ],
    [{ topic: 'cfg.isr', configEntries: [{ name: 'min.insync.replicas', value: '0' }] }, 'INVALID_CONFIG'],
    [
      { topic: 'cfg.segment', configEntries: [{ name: 'segment.bytes', value: '4294967296' }] },
      'INVALID_CONFIG',
    ],
    [
      { topic: 'cfg.compression', configEntries: [{ name: 'compression.type', value: 'brotli' }] },
      'INVALID_CONFIG',
    ],
    [{ topic: 'forbidden.topic' }, 'POLICY_VIOLATION'],
    [
      { topic: 'both.set', numPartitions: 2, replicaAssignment: [{ partition: 0, replicas: [0] }] },
      'INVALID_REQUEST',
    ],
  ];
  for (const [topic, type] of cases) {
    const err = await rejects(a.createTopics({ topics: [topic], waitForLeaders: false }));
    assert.equal(
      err.errors?.map((e) => e.type),
      [type],
      `${topic.topic} -> ${type}`,
    );
  }
  const names = broker.topics().map((t) => t.name);
  for (const [topic] of cases) assert.not.ok(names.includes(topic.topic), `${topic.topic} not created`);
});

admin('validateOnly checks without creating', async ({ admin: a, broker }) => {
  assert.is(
    await a.createTopics({
      validateOnly: true,
      waitForLeaders: false,
      topics: [
        { topic: 'dry.run', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '1000' }] },
      ],
    }),
    true,
  );
  assert.not.ok(broker.topics().some((t) => t.name === 'dry.run'));
  const err = await rejects(
    a.createTopics({
      validateOnly: true,
      waitForLeaders: false,
      topics: [{ topic: 'dry.run', replicationFactor: 9 }],
    }),
  );
  assert.equal(
    err.errors?.map((e) => e.type),
    ['INVALID_REPLICATION_FACTOR'],
  );
});

admin('createPartitions grows and refuses to shrink', async ({ admin: a, broker }) => {
  await a.createTopics({ topics: [{ topic: 'grow.me', numPartitions: 2, replicationFactor: 2 }] });
  await a.createPartitions({ topicPartitions: [{ topic: 'grow.me', count: 5 }] });
  const t = broker.topics().find((x) => x.name === 'grow.me')!;
  assert.is(t.partitions.length, 5);
  assert.ok(t.partitions.every((p) => p.replicas.length === 2));

  assert.is(
    (await rejects(a.createPartitions({ topicPartitions: [{ topic: 'grow.me', count: 3 }] }))).type,
    'INVALID_PARTITIONS',
  );
  assert.is(
    (await rejects(a.createPartitions({ topicPartitions: [{ topic: 'grow.me', count: 5 }] }))).type,
    'INVALID_PARTITIONS',
  );
  assert.is(
    (await rejects(a.createPartitions({ topicPartitions: [{ topic: 'no.such.topic', count: 5 }] }))).type,
    'UNKNOWN_TOPIC_OR_PARTITION',
  );
  await a.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'grow.me', count: 8 }] });
  assert.is(broker.topics().find((x) => x.name === 'grow.me')!.partitions.length, 5);
});

admin('describeConfigs tells defaults from dynamic topic configs', async ({ admin: a }) => {
  const { resources } = await a.describeConfigs({
    includeSynonyms: true,
    resources: [{ type: TOPIC, name: 'orders.events' }],
  });
  const entries = Object.fromEntries(resources[0]!.configEntries.map((e) => [e.configName, e]));
  assert.is(entries['retention.ms']!.configValue, '86400000');
  assert.is(entries['retention.ms']!.isDefault, false);
  assert.is(entries['retention.ms']!.configSource, 1);
  assert.is(entries['retention.ms']!.readOnly, false);
  assert.equal(
    entries['retention.ms']!.configSynonyms.map((s) => [s.configName, s.configSource]),
    [
      ['retention.ms', 1],
      ['log.retention.ms', 5],
    ],
  );
  assert.is(entries['min.insync.replicas']!.configValue, '1');
  assert.is(entries['min.insync.replicas']!.isDefault, true);
  assert.is(entries['min.insync.replicas']!.configSource, 5);
  assert.ok(Object.keys(entries).length >= 20, 'every topic config is described');

  const only = await a.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: TOPIC, name: 'orders.events', configNames: ['cleanup.policy'] }],
  });
  assert.equal(
    only.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    [['cleanup.policy', 'compact,delete']],
  );
  const missing = await rejects(
    a.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: 'no.such.topic' }] }),
  );
  assert.is(missing.type, 'UNKNOWN_TOPIC_OR_PARTITION');
});

admin('alterConfigs replaces the whole dynamic set', async ({ admin: a, broker }) => {
  await a.alterConfigs({
    validateOnly: false,
    resources: [
      { type: TOPIC, name: 'orders.events', configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
    ],
  });
  assert.equal(broker.topics().find((t) => t.name === 'orders.events')!.config, {
    'min.insync.replicas': '2',
  });
  const { resources } = await a.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: TOPIC, name: 'orders.events', configNames: ['retention.ms', 'min.insync.replicas'] }],
  });
  assert.equal(
    resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.configSource]),
    [
      ['min.insync.replicas', '2', 1],
      ['retention.ms', '604800000', 5],
    ],
  );

  await a.alterConfigs({
    validateOnly: true,
    resources: [
      { type: TOPIC, name: 'orders.events', configEntries: [{ name: 'retention.ms', value: '5' }] },
    ],
  });
  assert.equal(broker.topics().find((t) => t.name === 'orders.events')!.config, {
    'min.insync.replicas': '2',
  });

  const bad = await rejects(
    a.alterConfigs({
      validateOnly: false,
      resources: [
        { type: TOPIC, name: 'orders.events', configEntries: [{ name: 'no.such.config', value: '1' }] },
      ],
    }),
  );
  assert.is(bad.type, 'INVALID_CONFIG');
  const unknown = await rejects(
    a.alterConfigs({
      validateOnly: false,
      resources: [
        { type: TOPIC, name: 'no.such.topic', configEntries: [{ name: 'retention.ms', value: '1' }] },
      ],
    }),
  );
  assert.is(unknown.type, 'UNKNOWN_TOPIC_OR_PARTITION');
});

admin('setTopicConfig simulates drift that describeConfigs sees', async ({ admin: a, broker }) => {
  broker.setTopicConfig('orders.events', 'retention.ms', '1234');
  const { resources } = await a.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: TOPIC, name: 'orders.events', configNames: ['retention.ms'] }],
  });
  assert.is(resources[0]!.configEntries[0]!.configValue, '1234');
});

admin('deleteTopics removes topics and reports unknown ones', async ({ admin: a, broker }) => {
  await a.deleteTopics({ topics: ['grow.me'] });
  assert.not.ok(broker.topics().some((t) => t.name === 'grow.me'));
  assert.not.ok((await a.listTopics()).includes('grow.me'));
  // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION on delete, then wraps it once retries run out.
  const err = await rejects(a.deleteTopics({ topics: ['grow.me'] }));
  assert.is(err.name, 'KafkaJSNumberOfRetriesExceeded');
  assert.is((err as { cause?: { type?: string } }).cause?.type, 'UNKNOWN_TOPIC_OR_PARTITION');
  const md = await rejects(a.fetchTopicMetadata({ topics: ['grow.me'] }));
  assert.is(md.type, 'UNKNOWN_TOPIC_OR_PARTITION');
});

admin('requests are counted per API', async ({ admin: a, broker }) => {
  broker.resetRequestCounts();
  await a.createTopics({ topics: [{ topic: 'counted.1' }, { topic: 'counted.2' }], waitForLeaders: false });
  const counts = broker.requestCounts();
  assert.is(counts.CreateTopics, 1);
  assert.is(counts.DeleteTopics, 0);
});

admin('ApiVersions at an unknown version answers UNSUPPORTED_VERSION', async ({ broker }) => {
  const port = Number(broker.bootstrap[0]!.split(':')[1]);
  const body = await rawRequest(port, 18, 3, Buffer.alloc(0));
  assert.ok(body);
  assert.is(body.readInt16BE(0), 35);
  const ok = await rawRequest(port, 18, 2, Buffer.alloc(0));
  assert.ok(ok);
  assert.is(ok.readInt16BE(0), 0);
  const keys = new Map<number, [number, number]>();
  for (let i = 0, n = ok.readInt32BE(2); i < n; i++) {
    const at = 6 + i * 6;
    keys.set(ok.readInt16BE(at), [ok.readInt16BE(at + 2), ok.readInt16BE(at + 4)]);
  }
  assert.equal(keys.get(19), [0, 3], 'CreateTopics v0-3');
  assert.equal(keys.get(3), [0, 6], 'Metadata v0-6');
  assert.is(await rawRequest(port, 19, 9, Buffer.alloc(0)), null, 'unsupported CreateTopics version closes');
});

admin('goDown refuses connections until goUp', async ({ broker }) => {
  const kafka = new Kafka({
    clientId: 'down-test',
    brokers: broker.bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 500,
  });
  await broker.goDown();
  const fresh = kafka.admin();
  const err = await rejects(fresh.connect());
  assert.match(err.name, /KafkaJS(Connection|NumberOfRetriesExceeded)/);
  await broker.goUp();
  await fresh.connect();
  assert.ok((await fresh.listTopics()).includes('orders.events'));
  await fresh.disconnect();
});

admin.run();
