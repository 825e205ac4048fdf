import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgresPair, waitForReplica } from '@souk/harness/infra';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import { type ConsumeOutcome, EventConsumer, on } from '../src/events/consumer.ts';
import { ItemUpdated } from '../src/events/contracts/inventory.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Metrics } from '../src/metrics.ts';
import {
  type Db,
  effectConsumer,
  effects,
  openEventsDb,
  orderViolations,
  recordEffect,
  type Tx,
  writeChange,
} from './events-support.ts';

const s = await useSuite('kit-events-db-outage');
const kafka = new Kafka({
  clientId: 'events-db-outage-test',
  brokers: s.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const resolveTopic = (topic: string) => s.topic(topic);
/** Where events are written and relayed from; the consumers' own databases are separate. */
let source: Db;
let relay: OutboxRelay;
const test = suite('consumer when its database fails');

test.before(async () => {
  source = await openEventsDb(s.databaseUrl);
  relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka, resolveTopic });
  relay.start();
});

const cleanups: (() => Promise<void>)[] = [];
test.after.each(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test.after(async () => {
  await relay?.stop();
  await source?.close();
  await s.close();
});

/** A TCP proxy in front of a database: `cut()` drops every connection and refuses new ones until `restore(port)`. */
async function startProxy(target: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore(to: number) {
      target = to;
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What the consumer reported per outcome. */
function outcomeCounter() {
  const counts = new Map<ConsumeOutcome, number>();
  return {
    counts,
    onOutcome: (outcome: ConsumeOutcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1),
  };
}

async function metricSum(metrics: Metrics, name: string): Promise<number> {
  let sum = 0;
  for (const line of (await metrics.text()).split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

test('the database fails over while events wait: none is dead-lettered, each applied once after', async () => {
  const pair = await startPostgresPair();
  cleanups.push(() => pair.stop());
  const proxy = await startProxy(pair.primaryPort);
  cleanups.push(() => proxy.stop());
  const db = await openEventsDb(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
  cleanups.push(() => db.close());
  const groupId = s.groupId('failover');
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const outcomes = outcomeCounter();
  // Three tries 20-200 ms apart: before, an outage of a second dead-lettered the events.
  const consumer = effectConsumer(db, {
    kafka,
    groupId,
    resolveTopic,
    maxAttempts: 3,
    metrics,
    onOutcome: outcomes.onOutcome,
    transientBackoff: { initialMs: 50, maxMs: 500 },
  });
  cleanups.push(() => consumer.stop());
  await consumer.start();
  await consumer.joined();
  const first = await writeChange(source, 9001);
  await waitFor('the first event', async () => (await effects(db, groupId)).length === 1, 30_000);
  await waitForReplica(pair.primaryUrl, pair.replicaUrl);

  await pair.killPrimary();
  await proxy.cut();
  const written = [first.id];
  for (let i = 0; i < 6; i++) written.push((await writeChange(source, 9001 + (i % 3))).id);
  await waitFor(
    'tries held up by the database',
    async () => {
      return (await metricSum(metrics, 'souk_events_transient_retries_total')) >= 3;
    },
    30_000,
  );
  // Well past the three tries that used to dead-letter an event.
  await sleep(2_000);
  assert.equal(outcomes.counts.get('dead_lettered'), undefined, 'nothing dead-lettered during the outage');
  assert.equal(outcomes.counts.get('processed'), 1, 'nothing applied during the outage');
  assert.ok((await metricSum(metrics, 'souk_events_consumer_lag')) > 0, 'the lag shows the stall');

  await pair.promoteReplica();
  await proxy.restore(pair.replicaPort);
  await waitFor(
    'all events after the failover',
    async () => (await effects(db, groupId)).length >= 7,
    60_000,
  );
  await sleep(500);
  const rows = await effects(db, groupId);
  assert.deepEqual(rows.map((r) => r.event_id).sort(), [...written].sort(), 'each event applied once');
  assert.deepEqual(orderViolations(rows), []);
  assert.equal(outcomes.counts.get('dead_lettered'), undefined);
  assert.equal(await metricSum(metrics, 'souk_events_dead_lettered_total'), 0);
});

test('a handler whose connection the server terminates (57P01) is tried until it works, not dead-lettered', async () => {
  const db = await openEventsDb(s.databaseUrl);
  cleanups.push(() => db.close());
  const groupId = s.groupId('terminated');
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const outcomes = outcomeCounter();
  let terminated = 0;
  const consumer = new EventConsumer<Tx>({
    kafka,
    groupId,
    resolveTopic,
    db: db.primary,
    maxAttempts: 2,
    backoff: { initialMs: 20, maxMs: 200 },
    transientBackoff: { initialMs: 20, maxMs: 200 },
    metrics,
    onOutcome: outcomes.onOutcome,
    handlers: [
      on(ItemUpdated, async (event, tx: Tx) => {
        // The first five tries lose their connection, as in a database restart.
        if (terminated < 5) {
          terminated++;
          await tx.$executeRawUnsafe('SELECT pg_terminate_backend(pg_backend_pid())');
        }
        await recordEffect(tx, groupId, event);
      }),
    ],
  });
  cleanups.push(() => consumer.stop());
  await consumer.start();
  await consumer.joined();
  const { id } = await writeChange(source, 9101);
  // The group reads the topic from its start: the events of the test before come too.
  const mine = async () => (await effects(db, groupId)).filter((r) => r.event_id === id);
  await waitFor('the event', async () => (await mine()).length > 0, 30_000);
  await sleep(300);
  assert.equal(terminated, 5);
  assert.equal((await mine()).length, 1, 'applied once');
  assert.equal(outcomes.counts.get('dead_lettered'), undefined);
  assert.equal(await metricSum(metrics, 'souk_events_transient_retries_total'), 5);
});

test('a consumer stopped while the database is away stops at once; the event comes again after', async () => {
  const proxy = await startProxy(Number(new URL(s.databaseUrl).port));
  cleanups.push(() => proxy.stop());
  const url = new URL(s.databaseUrl);
  url.port = String(proxy.port);
  const db = await openEventsDb(url.toString());
  cleanups.push(() => db.close());
  const groupId = s.groupId('stopped');
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const outcomes = outcomeCounter();
  const options = { kafka, groupId, resolveTopic, maxAttempts: 2, onOutcome: outcomes.onOutcome };
  const first = effectConsumer(db, {
    ...options,
    metrics,
    transientBackoff: { initialMs: 1_000, maxMs: 5_000 },
  });
  await first.start();
  await first.joined();
  await proxy.cut();
  const { id } = await writeChange(source, 9201);
  await waitFor(
    'a try held up by the database',
    async () => (await metricSum(metrics, 'souk_events_transient_retries_total')) >= 1,
    30_000,
  );
  const stopping = Date.now();
  await first.stop();
  assert.ok(Date.now() - stopping < 3_000, `stopped in ${Date.now() - stopping} ms`);
  assert.equal(outcomes.counts.get('dead_lettered'), undefined);

  await proxy.restore(Number(new URL(s.databaseUrl).port));
  const second = effectConsumer(db, options);
  cleanups.push(() => second.stop());
  await second.start();
  const mine = async () => (await effects(db, groupId)).filter((r) => r.event_id === id);
  await waitFor('the event, delivered again', async () => (await mine()).length > 0, 30_000);
  await sleep(300);
  assert.equal((await mine()).length, 1, 'applied once');
  assert.equal(outcomes.counts.get('dead_lettered'), undefined);
});

test.run();
