import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import type { Topic } from '../../../src/api/v1alpha1/topic.ts';
import { TOPIC_FINALIZER, TOPIC_GVK, topicController } from '../../../src/controllers/topic/controller.ts';
import { KafkaAdminGateways } from '../../../src/controllers/topic/kafka-admin-gateways.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import type { KubeObject } from '../../../src/runtime/object.ts';
import { type KafkaAdminBroker, startKafkaAdminBroker } from '../../kafka-admin-broker/index.ts';
import { type KubeApiServer, startKubeApiServer } from '../../kube-api-server/server.ts';

interface Ctx {
  kube: KubeApiServer;
  broker: KafkaAdminBroker;
  gateways: KafkaAdminGateways;
  mgr: Manager;
}

type TopicObject = Topic & KubeObject;
const NS = 'default';

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

function topicResource(name: string, spec: Partial<Topic['spec']> = {}): TopicObject {
  return {
    apiVersion: TOPIC_GVK.apiVersion,
    kind: TOPIC_GVK.kind,
    metadata: { name, namespace: NS },
    spec: { partitions: 3, replicationFactor: 2, deletionPolicy: 'Delete', ...spec },
  };
}

const get = (ctx: Ctx, name: string) => ctx.mgr.client.get<TopicObject>(TOPIC_GVK, NS, name);
const ready = (t: TopicObject | undefined) => t?.status?.conditions?.find((c) => c.type === 'Ready');
const kafkaTopic = (ctx: Ctx, name: string) => ctx.broker.topics().find((t) => t.name === name);

const controller = suite<Ctx>(
  'Topic controller on the runtime, against the Kubernetes and Kafka test servers',
);

controller.before(async (ctx) => {
  ctx.kube = await startKubeApiServer();
  ctx.broker = await startKafkaAdminBroker({ brokers: 3 });
  ctx.gateways = new KafkaAdminGateways({ retries: 0, connectionTimeoutMs: 300 });
  ctx.mgr = new Manager({
    kubeConfig: ctx.kube.kubeConfig(),
    name: 'souk-operator',
    log: pino({ level: 'warn' }),
  });
  const crd = parse(readFileSync(new URL('../../../../crds/souk.dev_topics.yaml', import.meta.url), 'utf8'));
  await ctx.mgr.client.create(crd as KubeObject);
  await eventually('the Topic CRD to be served', () => ctx.mgr.client.serves(TOPIC_GVK));
  ctx.mgr.add(
    topicController(ctx.mgr, {
      defaultBootstrapServers: ctx.broker.bootstrap.join(','),
      gateways: ctx.gateways,
      resyncMs: 300,
    }),
  );
  await ctx.mgr.start();
});

controller.after(async (ctx) => {
  await ctx.mgr.stop();
  await ctx.gateways.close();
  await ctx.broker.stop();
  await ctx.kube.stop();
});

controller('a Topic becomes a Kafka topic, Ready, with the finalizer', async (ctx) => {
  await ctx.mgr.client.create(
    topicResource('orders', { topicName: 'orders.events', config: { 'retention.ms': '86400000' } }),
  );
  const t = await eventually('Ready=True', async () => {
    const t = await get(ctx, 'orders');
    return ready(t)?.status === 'True' ? t : undefined;
  });
  assert.is(ready(t)?.reason, 'Synced');
  assert.is(t.status?.observedGeneration, t.metadata.generation);
  assert.is(t.status?.topicName, 'orders.events');
  assert.ok(t.metadata.finalizers?.includes(TOPIC_FINALIZER));
  const k = kafkaTopic(ctx, 'orders.events');
  assert.ok(k);
  assert.is(k.partitions.length, 3);
  assert.is(k.replicationFactor, 2);
  assert.equal(k.config, { 'retention.ms': '86400000' });
});

controller('drift made in Kafka is reverted by the periodic resync', async (ctx) => {
  ctx.broker.setTopicConfig('orders.events', 'retention.ms', '1');
  ctx.broker.setTopicConfig('orders.events', 'cleanup.policy', 'compact');
  await eventually('drift reverted', () => {
    const c = kafkaTopic(ctx, 'orders.events')?.config;
    return c && JSON.stringify(c) === JSON.stringify({ 'retention.ms': '86400000' });
  });
});

controller('a config change in the spec reaches Kafka', async (ctx) => {
  await ctx.mgr.client.mergePatch(TOPIC_GVK, NS, 'orders', {
    spec: { config: { 'retention.ms': '86400000', 'min.insync.replicas': '2' } },
  });
  await eventually(
    'config applied',
    () => kafkaTopic(ctx, 'orders.events')?.config['min.insync.replicas'] === '2',
  );
  await ctx.mgr.client.mergePatch(TOPIC_GVK, NS, 'orders', {
    spec: { config: { 'min.insync.replicas': null } },
  });
  await eventually('config removed', () => {
    const c = kafkaTopic(ctx, 'orders.events')?.config;
    return c && JSON.stringify(c) === JSON.stringify({ 'retention.ms': '86400000' });
  });
});

controller('a partition decrease is NotSupported and Kafka is left alone', async (ctx) => {
  await ctx.mgr.client.mergePatch(TOPIC_GVK, NS, 'orders', { spec: { partitions: 6 } });
  await eventually('grown to 6', () => kafkaTopic(ctx, 'orders.events')?.partitions.length === 6);
  await ctx.mgr.client.mergePatch(TOPIC_GVK, NS, 'orders', { spec: { partitions: 2 } });
  const t = await eventually('NotSupported', async () => {
    const t = await get(ctx, 'orders');
    return ready(t)?.reason === 'NotSupported' ? t : undefined;
  });
  assert.is(ready(t)?.status, 'False');
  assert.match(ready(t)?.message ?? '', /partitions cannot decrease/);
  assert.is(t.status?.partitions, 6);
  ctx.broker.resetRequestCounts();
  await sleep(700); // a couple of resyncs
  for (const api of ['CreateTopics', 'CreatePartitions', 'AlterConfigs', 'DeleteTopics'] as const) {
    assert.is(ctx.broker.requestCounts()[api], 0, `${api} not sent`);
  }
  assert.is(kafkaTopic(ctx, 'orders.events')?.partitions.length, 6);
  await ctx.mgr.client.mergePatch(TOPIC_GVK, NS, 'orders', { spec: { partitions: 6 } });
  await eventually('Ready again', async () => ready(await get(ctx, 'orders'))?.status === 'True');
});

controller('a second Topic naming the same Kafka topic gets ResourceConflict', async (ctx) => {
  await ctx.mgr.client.create(
    topicResource('orders-copy', { topicName: 'orders.events', config: { 'retention.ms': '5' } }),
  );
  const t = await eventually('ResourceConflict', async () => {
    const t = await get(ctx, 'orders-copy');
    return ready(t)?.reason === 'ResourceConflict' ? t : undefined;
  });
  assert.match(ready(t)?.message ?? '', /default\/orders/);
  assert.not.ok(t.metadata.finalizers?.includes(TOPIC_FINALIZER));
  await sleep(500);
  assert.equal(
    kafkaTopic(ctx, 'orders.events')?.config,
    { 'retention.ms': '86400000' },
    'loser never writes',
  );
  assert.is(ready(await get(ctx, 'orders'))?.status, 'True');
});

controller(
  'deleting the owner (Delete) deletes the Kafka topic; the next claimant takes over',
  async (ctx) => {
    await ctx.mgr.client.delete(TOPIC_GVK, NS, 'orders');
    await eventually('owner gone', async () => (await get(ctx, 'orders')) === undefined);
    const t = await eventually('the copy owns it', async () => {
      const t = await get(ctx, 'orders-copy');
      return ready(t)?.status === 'True' ? t : undefined;
    });
    assert.ok(t.metadata.finalizers?.includes(TOPIC_FINALIZER));
    await eventually('recreated with the copy spec', () =>
      kafkaTopic(ctx, 'orders.events')?.config['retention.ms'] === '5' ? true : undefined,
    );
    await ctx.mgr.client.delete(TOPIC_GVK, NS, 'orders-copy');
    await eventually('Kafka topic deleted', () => kafkaTopic(ctx, 'orders.events') === undefined);
    await eventually('copy gone', async () => (await get(ctx, 'orders-copy')) === undefined);
  },
);

controller('Retain: no finalizer, and the Kafka topic outlives the Topic', async (ctx) => {
  await ctx.mgr.client.create(topicResource('kept', { deletionPolicy: 'Retain' }));
  const t = await eventually('Ready', async () => {
    const t = await get(ctx, 'kept');
    return ready(t)?.status === 'True' ? t : undefined;
  });
  assert.not.ok(t.metadata.finalizers?.includes(TOPIC_FINALIZER));
  await ctx.mgr.client.delete(TOPIC_GVK, NS, 'kept');
  await eventually('gone', async () => (await get(ctx, 'kept')) === undefined);
  await sleep(300);
  assert.ok(kafkaTopic(ctx, 'kept'));
});

controller('unreachable Kafka is KafkaUnavailable, then recovers', async (ctx) => {
  await ctx.broker.goDown();
  await ctx.mgr.client.create(topicResource('late'));
  const t = await eventually('KafkaUnavailable', async () => {
    const t = await get(ctx, 'late');
    return ready(t)?.reason === 'KafkaUnavailable' ? t : undefined;
  });
  assert.is(ready(t)?.status, 'False');
  await ctx.broker.goUp();
  await eventually('Ready after Kafka is back', async () => ready(await get(ctx, 'late'))?.status === 'True');
  assert.ok(kafkaTopic(ctx, 'late'));
});

controller('deleting while Kafka is unreachable keeps the finalizer until the topic is gone', async (ctx) => {
  await ctx.mgr.client.create(topicResource('doomed'));
  await eventually('created', () => kafkaTopic(ctx, 'doomed'));
  await eventually('finalizer', async () =>
    (await get(ctx, 'doomed'))?.metadata.finalizers?.includes(TOPIC_FINALIZER),
  );
  await ctx.broker.goDown();
  await ctx.mgr.client.delete(TOPIC_GVK, NS, 'doomed');
  const t = await eventually('KafkaUnavailable while deleting', async () => {
    const t = await get(ctx, 'doomed');
    return ready(t)?.reason === 'KafkaUnavailable' ? t : undefined;
  });
  assert.ok(t.metadata.deletionTimestamp);
  assert.ok(t.metadata.finalizers?.includes(TOPIC_FINALIZER));
  await ctx.broker.goUp();
  await eventually('Topic gone', async () => (await get(ctx, 'doomed')) === undefined);
  assert.is(kafkaTopic(ctx, 'doomed'), undefined);
});

controller.run();
