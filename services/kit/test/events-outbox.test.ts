import assert from 'node:assert/strict';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { suite } from 'uvu';
import { ItemUpdated } from '../src/events/contracts/inventory.ts';
import { Header } from '../src/events/envelope.ts';
import { appendToOutbox } from '../src/events/outbox.ts';
import { OUTBOX_SHARDS, OutboxRelay } from '../src/events/relay.ts';
import { createLogger } from '../src/logger.ts';
import { Metrics } from '../src/metrics.ts';
import { Shutdown } from '../src/shutdown.ts';
import {
  type Db,
  effectConsumer,
  effects,
  itemId,
  openEventsDb,
  orderViolations,
  writeChange,
} from './events-support.ts';

const s = await useSuite('kit-events-outbox');
const kafka = new Kafka({
  clientId: 'events-outbox-test',
  brokers: s.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const resolveTopic = (topic: string) => s.topic(topic);
let db: Db;

const test = suite('outbox');

test.before(async () => {
  db = await openEventsDb(s.databaseUrl);
});

test.after(async () => {
  await db?.close();
  await s.close();
});

const pending = async () =>
  Number(
    (
      await db.primary.$queryRawUnsafe<{ n: bigint }[]>(
        'SELECT count(*) AS n FROM souk_outbox WHERE sent_at IS NULL',
      )
    )[0]?.n,
  );

test('the event row commits with the state change, or not at all', async () => {
  const before = await pending();
  await assert.rejects(
    db.primary.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO stock (item_id, level, version) VALUES ('rolled-back', 0, 1)`);
      await appendToOutbox(tx, ItemUpdated.create(itemId(999_999), { itemId: itemId(999_999), changes: {} }));
      throw new Error('abort');
    }),
    /abort/,
  );
  assert.equal(await pending(), before);
  await assert.rejects(
    db.primary.$transaction((tx) =>
      appendToOutbox(tx, {
        ...ItemUpdated.create(itemId(1), { itemId: itemId(1), changes: {} }),
        data: { nope: 1 },
      }),
    ),
    /ItemUpdated@1 data/,
  );
  const { id } = await writeChange(db, 1);
  const rows = await db.primary.$queryRawUnsafe<
    { topic: string; aggregate_id: string; event_type: string }[]
  >('SELECT topic, aggregate_id, event_type FROM souk_outbox WHERE event_id = $1::uuid', id);
  assert.deepEqual(rows, [{ topic: 'inventory.events', aggregate_id: itemId(1), event_type: 'ItemUpdated' }]);
});

test('the relay publishes keyed, typed messages in order and the consumer applies each once', async () => {
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka, resolveTopic, metrics });
  const groupId = s.groupId('relay-order');
  const consumer = effectConsumer(db, { kafka, groupId, resolveTopic, metrics });
  relay.start();
  await consumer.start();
  const written: string[] = [];
  for (let i = 0; i < 200; i++) written.push((await writeChange(db, 10 + (i % 7))).id);
  await waitFor('200 effects', async () => (await effects(db, groupId)).length >= 201, 60_000);
  const rows = await effects(db, groupId);
  for (const id of written) assert.equal(rows.filter((r) => r.event_id === id).length, 1);
  assert.deepEqual(orderViolations(rows), []);
  await waitFor('the outbox to drain', async () => (await pending()) === 0);
  assert.equal(relay.shards.length, OUTBOX_SHARDS);

  // The raw message: key, headers, envelope.
  const probe = kafka.consumer({ groupId: s.groupId('probe'), maxWaitTimeInMs: 100, sessionTimeout: 6000 });
  await probe.connect();
  await probe.subscribe({ topic: s.topic('inventory.events'), fromBeginning: true });
  const seen: { key: string; headers: Record<string, string>; value: { id: string; type: string } }[] = [];
  await probe.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
      );
      seen.push({ key: String(message.key), headers, value: JSON.parse(String(message.value)) });
    },
  });
  await waitFor('the probe to read everything', async () => seen.length >= 201, 30_000);
  await probe.disconnect();
  const last = seen.find((m) => m.value.id === written.at(-1));
  assert.ok(last);
  assert.equal(last.key, itemId(10 + (199 % 7)));
  assert.equal(last.headers[Header.eventType], 'ItemUpdated');
  assert.equal(last.headers[Header.eventVersion], '1');
  assert.equal(last.headers[Header.eventId], last.value.id);

  const text = await metrics.text();
  assert.match(
    text,
    /souk_outbox_published_total\{topic="[^"]*inventory\.events",service="events-test"\} 20\d/,
  );
  assert.match(
    text,
    /souk_events_consumed_total\{topic="[^"]*",type="ItemUpdated",result="processed",service="events-test"\} 20\d/,
  );
  // A relay's error series exist before any error, so rate() sees the first one.
  assert.match(text, /souk_outbox_relay_errors_total\{stage="publish",service="events-test"\} 0/);
  assert.match(text, /souk_events_handler_duration_seconds_count/);
  assert.match(text, /souk_events_consumer_lag\{/);
  assert.match(text, /souk_outbox_pending\{service="events-test"\} \d+/);

  // Shutdown hooks: the consumer stops first, then the relay flushes what was written meanwhile.
  const shutdown = new Shutdown(createLogger({ service: 'events-test', level: 'silent' }));
  shutdown.register('consumer', () => consumer.stop(), { phase: 'consumers' });
  shutdown.register('relay', () => relay.stop(), { phase: 'relays' });
  await writeChange(db, 10);
  assert.equal(await shutdown.run(), true);
  assert.equal(await pending(), 0);
});

test('two relays at once: nothing lost, nothing applied twice, order per key kept', async () => {
  const groupId = s.groupId('two-relays');
  const relays = [1, 2].map(
    () =>
      new OutboxRelay({
        databaseUrl: s.databaseUrl,
        kafka,
        resolveTopic,
        rebalanceIntervalMs: 200,
        batchSize: 50,
      }),
  );
  const consumer = effectConsumer(db, { kafka, groupId, resolveTopic });
  for (const relay of relays) relay.start();
  await consumer.start();
  const written = new Set<string>();
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; i < 150; i++) written.add((await writeChange(db, 100 + ((i * 4 + w) % 40))).id);
  });
  // Halfway, both relays must be sharing the shards.
  await waitFor('the relays to split the shards', async () =>
    relays.every((r) => r.shards.length === OUTBOX_SHARDS / 2),
  );
  await Promise.all(writers);
  assert.equal(
    relays[0]!.shards.filter((x) => relays[1]!.shards.includes(x)).length,
    0,
    'no shard is held by both relays',
  );
  const all = async () =>
    (await effects(db, groupId)).filter((r) => Number.parseInt(r.item_id.slice(-12), 16) >= 100);
  await waitFor('600 effects', async () => (await all()).length >= written.size, 60_000);
  const rows = await all();
  assert.equal(rows.length, written.size);
  assert.equal(new Set(rows.map((r) => r.event_id)).size, rows.length);
  for (const row of rows) assert.ok(written.has(row.event_id));
  assert.deepEqual(orderViolations(rows), []);

  // One relay stops: the other takes every shard over.
  await relays[0]!.stop();
  await waitFor('the survivor to hold every shard', async () => relays[1]!.shards.length === OUTBOX_SHARDS);
  await relays[1]!.stop();
  await consumer.stop();
});

test('writers skip their NOTIFY while a relay polls their shards, and notify again once it went idle', async () => {
  const listener = new pg.Client({ connectionString: s.databaseUrl });
  await listener.connect();
  let notifications = 0;
  listener.on('notification', () => notifications++);
  await listener.query('LISTEN souk_outbox');
  const relay = new OutboxRelay({
    databaseUrl: s.databaseUrl,
    kafka,
    resolveTopic,
    activePollMs: 10,
    idleAfterMs: 1_000,
  });
  const pollingLocks = async () => {
    const { rows } = await listener.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND classid = 1397705523::oid AND objsubid = 2`,
    );
    return rows[0]?.n ?? 0;
  };
  try {
    relay.start();
    await waitFor('the relay to hold every shard', async () => relay.shards.length === OUTBOX_SHARDS);
    await writeChange(db, 950);
    await waitFor('the first event out', async () => (await pending()) === 0);
    assert.ok(notifications >= 1, 'a sleeping relay was notified');
    await waitFor('the relay to poll every shard', async () => (await pollingLocks()) === OUTBOX_SHARDS);
    notifications = 0;
    for (let i = 0; i < 20; i++) await writeChange(db, 950 + (i % 7));
    await waitFor('the polled events out', async () => (await pending()) === 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(notifications, 0, 'no writer notified while the relay polled');
    await waitFor('the relay to go idle', async () => (await pollingLocks()) === 0);
    await new Promise((r) => setTimeout(r, 400));
    await writeChange(db, 951);
    await waitFor('a notification', async () => notifications > 0, 5_000);
    await waitFor('the event after the quiet spell out', async () => (await pending()) === 0, 5_000);
  } finally {
    await relay.stop();
    await listener.end();
  }
});

test('sent rows older than the retention are pruned', async () => {
  await db.primary.$executeRawUnsafe(
    `UPDATE souk_outbox SET sent_at = now() - interval '2 days' WHERE sent_at IS NOT NULL`,
  );
  const relay = new OutboxRelay({
    databaseUrl: s.databaseUrl,
    kafka,
    resolveTopic,
    retentionMs: 24 * 3600_000,
  });
  relay.start();
  await waitFor('pruning', async () => {
    const [row] = await db.primary.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM souk_outbox');
    return Number(row?.n) === 0;
  });
  await relay.stop();
});

test.run();
