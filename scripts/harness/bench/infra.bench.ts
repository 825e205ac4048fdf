import {
  kafkaLatency,
  koaHelloRps,
  pgbenchTps,
  pgCommitCeiling,
  redisClusterOps,
} from '../src/bench/baselines.ts';
import { defineBench } from '../src/bench.ts';
import { useSuite } from '../src/suite.ts';

/** The baselines every other suite is compared against, on this machine, in this run. */
export default defineBench('infra', async (b) => {
  const s = await useSuite('bench-infra');
  try {
    b.record({
      name: 'pg commit ceiling (8 clients, single-row INSERT)',
      value: await pgCommitCeiling(s.databaseUrl),
      unit: 'commits/s',
    });
    b.record({ name: 'pgbench TPC-B (8 clients)', value: await pgbenchTps(s.databaseUrl), unit: 'tps' });
    const redis = await redisClusterOps(s.redisNodes, { keyPrefix: s.keyPrefix });
    b.record({
      name: 'redis cluster SET via ioredis (32 in flight)',
      value: redis.setPerSecond,
      unit: 'ops/s',
    });
    b.record({
      name: 'redis cluster GET via ioredis (32 in flight)',
      value: redis.getPerSecond,
      unit: 'ops/s',
    });
    b.record({ name: 'koa hello', value: await koaHelloRps(), unit: 'req/s' });
    const kafka = await kafkaLatency(s.kafkaBrokers, {
      topic: s.topic('bench.latency'),
      messages: 1000,
      rate: 500,
    });
    b.record({ name: 'kafka produce→consume p50 (500 msg/s)', value: kafka.p50, unit: 'ms' });
    b.record({ name: 'kafka produce→consume p99 (500 msg/s)', value: kafka.p99, unit: 'ms' });
  } finally {
    await s.close();
  }
});
