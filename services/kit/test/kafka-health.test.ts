import { createServer } from 'node:net';
import { useSuite } from '@souk/harness/suite';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createKafka } from '../src/events/kafka.ts';
import { kafkaHealthCheck, registerKafkaHealth } from '../src/events/kafka-health.ts';
import { Health } from '../src/health.ts';

const s = await useSuite('kit-kafka-health');

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('the cluster answering its metadata is up, and the connection is reused', async () => {
  const health = new Health();
  const registration = registerKafkaHealth(health, createKafka(s.kafkaBrokers));
  const first = await health.readiness();
  assert.is(first.checks['kafka']?.status, 'up', JSON.stringify(first));
  assert.is(first.checks['kafka']?.critical, false);
  assert.is(first.status, 'ok');
  assert.is((await health.readiness()).checks['kafka']?.status, 'up');
  await registration.close();
});

test('an unreachable cluster is down (degraded, not unavailable) and is retried afresh', async () => {
  const port = await deadPort();
  const health = new Health();
  const registration = registerKafkaHealth(health, createKafka([`127.0.0.1:${port}`]));
  const readiness = await health.readiness();
  assert.is(readiness.checks['kafka']?.status, 'down');
  assert.is(readiness.status, 'degraded');
  const probe = kafkaHealthCheck(createKafka([`127.0.0.1:${port}`]), 500);
  let failed = 0;
  for (let i = 0; i < 2; i++) await probe.check().catch(() => failed++);
  assert.is(failed, 2);
  await probe.close();
  await registration.close();
});

test.after(() => s.close());
test.run();
