import type { BenchContext } from '@souk/harness/bench';
import { KafkaAdminGateway } from '../src/controllers/topic/kafka-admin-gateway.ts';
import type { DesiredTopic } from '../src/controllers/topic/planner.ts';
import { syncTopic } from '../src/controllers/topic/sync.ts';
import { startKafkaAdminBroker } from '../test/kafka-admin-broker/index.ts';

const TOPICS = 500;

interface RunFigures {
  /** The 500 Topics created. */
  createMs: number;
  /** Created, then drift reverted on all of them. */
  ms: number;
  requests: number;
  createTopics: number;
  metadata: number;
  describeConfigs: number;
  alterConfigs: number;
}

/** 500 Topics reconciled at once (create, then revert drift on all of them), against the admin test broker. */
async function run(maxBatchSize: number): Promise<RunFigures> {
  const broker = await startKafkaAdminBroker({ brokers: 3 });
  const gateway = new KafkaAdminGateway({ brokers: broker.bootstrap, retries: 0, maxBatchSize, windowMs: 5 });
  try {
    const topics: DesiredTopic[] = Array.from({ length: TOPICS }, (_, i) => ({
      topicName: `bench.${i}`,
      partitions: 3,
      replicationFactor: 3,
      config: { 'retention.ms': '3600000' },
      deletionPolicy: 'Delete',
    }));
    const started = performance.now();
    await Promise.all(topics.map((t) => syncTopic(gateway, t)));
    const createMs = performance.now() - started;
    for (const t of topics) broker.setTopicConfig(t.topicName, 'retention.ms', '1');
    await Promise.all(topics.map((t) => syncTopic(gateway, t)));
    const ms = performance.now() - started;
    const c = broker.requestCounts();
    return {
      createMs,
      ms,
      requests: Object.values(c).reduce((a, b) => a + b, 0),
      createTopics: c.CreateTopics,
      metadata: c.Metadata,
      describeConfigs: c.DescribeConfigs,
      alterConfigs: c.AlterConfigs,
    };
  } finally {
    await gateway.close();
    await broker.stop();
  }
}

/** 500 Topics through the Kafka admin gateway, one topic per request against batches, in the same run. */
export async function benchTopics(ctx: BenchContext): Promise<void> {
  const unbatched = await run(1);
  const batched = await run(200);
  ctx.log(`unbatched: ${JSON.stringify(unbatched)}`);
  ctx.log(`batched:   ${JSON.stringify(batched)}`);
  ctx.record({ name: '500 Topics created, unbatched', value: unbatched.createMs, unit: 'ms' });
  ctx.record({
    name: '500 Topics created, batched (200 / 5 ms)',
    value: batched.createMs,
    unit: 'ms',
    baseline: unbatched.createMs,
    baselineName: 'unbatched',
    target: 'ratio <= 0.5',
  });
  ctx.record({ name: 'requests, 500 topics, unbatched', value: unbatched.requests, unit: 'requests' });
  ctx.record({
    name: 'requests, 500 topics, batched (200 / 5 ms)',
    value: batched.requests,
    unit: 'requests',
    baseline: unbatched.requests,
    baselineName: 'unbatched',
    target: 'ratio <= 0.1',
  });
  ctx.record({ name: 'create + revert drift, 500 topics, unbatched', value: unbatched.ms, unit: 'ms' });
  ctx.record({
    name: 'create + revert drift, 500 topics, batched (200 / 5 ms)',
    value: batched.ms,
    unit: 'ms',
    baseline: unbatched.ms,
    baselineName: 'unbatched',
    target: 'ratio <= 0.5',
  });
}
