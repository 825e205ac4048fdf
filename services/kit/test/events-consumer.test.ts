import assert from 'node:assert/strict';
import { SpanKind, trace } from '@opentelemetry/api';
import { startKafkaMock } from '@souk/harness/infra';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { Kafka, type KafkaMessage, logLevel, Partitioners } from 'kafkajs';
import { suite } from 'uvu';
import { EventConsumer, on } from '../src/events/consumer.ts';
import { ItemUpdated } from '../src/events/contracts/inventory.ts';
import { Header } from '../src/events/envelope.ts';
import { appendToOutbox } from '../src/events/outbox.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Metrics } from '../src/metrics.ts';
import { InMemorySpanExporter, installTracing, tracer } from '../src/tracing.ts';
import {
  type Db,
  effectConsumer,
  effects,
  itemId,
  openEventsDb,
  orderViolations,
  recordEffect,
  type Tx,
  writeChange,
} from './events-support.ts';

const exporter = new InMemorySpanExporter();
installTracing({ service: 'events-test', exporter });

const s = await useSuite('kit-events-consumer');
const kafka = new Kafka({
  clientId: 'events-consumer-test',
  brokers: s.kafkaBrokers,
  logLevel: logLevel.NOTHING,
});
const resolveTopic = (topic: string) => s.topic(topic);
const topic = s.topic('inventory.events');
let db: Db;
let relay: OutboxRelay;

const test = suite('consumer');

test.before(async () => {
  db = await openEventsDb(s.databaseUrl);
  relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka, resolveTopic });
  relay.start();
});

/** Consumers a test started: stopped after it, even when it failed. */
const running = new Set<{ stop(): Promise<void> }>();
test.after.each(async () => {
  for (const consumer of running) await consumer.stop();
  running.clear();
});

test.after(async () => {
  await relay?.stop();
  await db?.close();
  await s.close();
});

/** Reads a topic from the start until `count` messages arrived. */
async function readTopic(
  k: Kafka,
  name: string,
  count: number,
  groupId: string,
  wanted: (m: KafkaMessage) => boolean = () => true,
): Promise<KafkaMessage[]> {
  const probe = k.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 6000 });
  const seen: KafkaMessage[] = [];
  await probe.connect();
  try {
    await probe.subscribe({ topic: name, fromBeginning: true });
    await probe.run({
      eachMessage: async ({ message }) => {
        if (wanted(message)) seen.push(message);
      },
    });
    await waitFor(`${count} messages on ${name}`, async () => seen.length >= count, 30_000);
    return seen;
  } finally {
    await probe.disconnect();
  }
}

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

/** An item whose key lands on the same partition (of 4) as `item`'s, so both share batches. */
function partitionPartner(item: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  const partitionOf = (n: number) =>
    partitioner({ topic, partitionMetadata, message: { key: itemId(n), value: null } });
  for (let n = item + 1; ; n++) if (partitionOf(n) === partitionOf(item)) return n;
}

test('a poison event is dead-lettered after N tries and its partition keeps flowing', async () => {
  const groupId = s.groupId('poison');
  const partner = partitionPartner(500);
  let partnerCalls = 0;
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const tries: number[] = [];
  const consumer = effectConsumer(
    db,
    { kafka, groupId, resolveTopic, maxAttempts: 3, metrics },
    {
      fail: (seq, attempt, item) => {
        if (seq === 2 && item === itemId(partner)) partnerCalls++;
        if (seq !== 2 || item !== itemId(500)) return false;
        tries.push(attempt);
        return true;
      },
    },
  );
  // One transaction, so the relay publishes them in one batch and the consumer gets them in one:
  // the poison event then shares a round, and a transaction, with the partner's event before it.
  const ids: string[] = [];
  await db.primary.$transaction(async (tx) => {
    for (let seq = 1; seq <= 5; seq++) {
      for (const item of [partner, 500]) {
        const event = ItemUpdated.create(itemId(item), { itemId: itemId(item), changes: { quantity: seq } });
        await appendToOutbox(tx, event);
        if (item === 500) ids.push(event.id);
      }
    }
  });
  await waitFor('the relay', async () => {
    const [row] = await db.primary.$queryRawUnsafe<{ n: bigint }[]>(
      'SELECT count(*) AS n FROM souk_outbox WHERE sent_at IS NULL',
    );
    return Number(row?.n) === 0;
  });
  running.add(consumer);
  await consumer.start();
  await waitFor('the 9 healthy events', async () => (await effects(db, groupId)).length === 9);
  const rows = await effects(db, groupId);
  assert.deepEqual(
    rows.filter((r) => r.item_id === itemId(500)).map((r) => r.seq),
    [1, 3, 4, 5],
    'events after the poison one, on its partition and key, were handled',
  );
  assert.deepEqual(
    rows.filter((r) => r.item_id === itemId(partner)).map((r) => r.seq),
    [1, 2, 3, 4, 5],
    'the event that shared a transaction with the poison one was applied, once',
  );
  assert.equal(partnerCalls, 2, 'rolled back with the poison event, then applied alone');
  assert.deepEqual(tries, [1, 2, 3]);
  const [letter] = await readTopic(
    kafka,
    `${topic}.dlq`,
    1,
    s.groupId('poison-dlq'),
    (m) => header(m, Header.dlqConsumer) === groupId,
  );
  assert.ok(letter);
  assert.equal(header(letter, Header.eventId), ids[1]);
  assert.equal(header(letter, Header.dlqAttempts), '3');
  assert.equal(header(letter, Header.dlqTopic), topic);
  assert.equal(header(letter, Header.dlqConsumer), groupId);
  assert.match(header(letter, Header.dlqReason) ?? '', /handler refused seq 2/);
  assert.ok(
    header(letter, Header.dlqPartition) !== undefined && header(letter, Header.dlqOffset) !== undefined,
  );
  assert.equal(JSON.parse(String(letter.value)).id, ids[1]);
  assert.equal(String(letter.key), itemId(500));
  const text = await metrics.text();
  assert.match(text, /souk_events_consumed_total\{[^}]*result="dead_lettered"[^}]*\} 1/);
  assert.match(text, /souk_events_consumed_total\{[^}]*result="retry"[^}]*\} 3/);
  await consumer.stop();
});

test('an invalid event goes to the dead-letter topic with the reason in its headers', async () => {
  const groupId = s.groupId('invalid');
  const consumer = effectConsumer(db, { kafka, groupId, resolveTopic });
  running.add(consumer);
  await consumer.start();
  const producer = kafka.producer();
  await producer.connect();
  const good = ItemUpdated.create(itemId(600), { itemId: itemId(600), changes: { quantity: 1 } });
  const bad = {
    ...good,
    id: good.id.replace(/.$/, 'f'),
    data: { itemId: itemId(600), changes: { quantity: 'many' } },
  };
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await producer.send({
    topic,
    acks: -1,
    messages: [
      {
        key: itemId(600),
        value: JSON.stringify(bad),
        headers: { traceparent, [Header.eventType]: 'ItemUpdated' },
      },
      { key: itemId(600), value: '{not json', headers: { [Header.eventType]: 'ItemUpdated' } },
      { key: itemId(600), value: JSON.stringify(good) },
    ],
  });
  await producer.disconnect();
  const applied = async () => (await effects(db, groupId)).filter((r) => r.item_id === itemId(600));
  await waitFor('the valid event after the invalid ones', async () => (await applied()).length === 1);
  const letters = await readTopic(
    kafka,
    `${topic}.dlq`,
    2,
    s.groupId('invalid-dlq'),
    (m) => header(m, Header.dlqConsumer) === groupId,
  );
  assert.equal(letters.length, 2);
  const [schema, json] = letters as [KafkaMessage, KafkaMessage];
  assert.match(
    header(schema, Header.dlqReason) ?? '',
    /ItemUpdated@1 data: changes\.quantity: Invalid input/,
  );
  assert.equal(header(schema, Header.dlqAttempts), '0');
  assert.equal(header(schema, 'traceparent'), traceparent, 'the original headers are kept');
  assert.equal(String(schema.value), JSON.stringify(bad));
  assert.match(header(json, Header.dlqReason) ?? '', /not JSON/);
  await consumer.stop();
});

test('the consumer continues the trace of the transaction that wrote the event', async () => {
  const groupId = s.groupId('trace');
  const consumer = effectConsumer(db, { kafka, groupId, resolveTopic });
  running.add(consumer);
  await consumer.start();
  exporter.reset();
  let traceId = '';
  await tracer().startActiveSpan('POST /items/:id', async (span) => {
    traceId = span.spanContext().traceId;
    await writeChange(db, 700);
    span.end();
  });
  await waitFor('the traced event', async () =>
    (await effects(db, groupId)).some((r) => r.item_id === itemId(700)),
  );
  await waitFor('the consumer span', async () =>
    exporter
      .getFinishedSpans()
      .some((x) => x.kind === SpanKind.CONSUMER && x.spanContext().traceId === traceId),
  );
  const spans = exporter.getFinishedSpans().filter((x) => x.spanContext().traceId === traceId);
  const send = spans.find((x) => x.kind === SpanKind.PRODUCER);
  const process = spans.find((x) => x.kind === SpanKind.CONSUMER);
  assert.ok(send && process, spans.map((x) => x.name).join(', '));
  assert.equal(send.name, `send ${topic}`);
  assert.equal(process.parentSpanContext?.spanId, send.spanContext().spanId);
  assert.equal(trace.getActiveSpan(), undefined);
  await consumer.stop();
});

test('events fetched behind a slow handler are committed only once handled, and come again after a stop', async () => {
  const groupId = s.groupId('buffered');
  const item = itemId(900);
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let entered: () => void = () => {};
  const blocked = new Promise<void>((r) => {
    entered = r;
  });
  let firstOffset = '';
  const handledBy = { first: [] as number[], second: [] as number[] };
  // The first event of the item holds its handler (and so its partition) until released.
  const slow = new EventConsumer<Tx>({
    kafka,
    groupId,
    resolveTopic,
    db: db.primary,
    commitIntervalMs: 100,
    handlers: [
      on(ItemUpdated, async (event, tx: Tx, delivery) => {
        if (event.aggregateId !== item) return;
        handledBy.first.push(event.data.changes.quantity ?? -1);
        if (event.data.changes.quantity === 1) {
          firstOffset = delivery.offset;
          entered();
          await gate;
        }
        await recordEffect(tx, groupId, event);
      }),
    ],
  });
  running.add(slow);
  await slow.start();
  await slow.joined();
  await writeChange(db, 900);
  await blocked;
  for (let i = 0; i < 4; i++) await writeChange(db, 900);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const partitionOf = async () => {
      const [topicOffsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return topicOffsets?.partitions ?? [];
    };
    // Fetched meanwhile (the topic's end moves past them), yet not committed.
    await waitFor('the later events on the topic', async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const total = ends.reduce((n, p) => n + Number(p.high), 0);
      return total >= 5;
    });
    await new Promise((r) => setTimeout(r, 500));
    const committed = (await partitionOf()).map((p) => Number(p.offset));
    assert.ok(
      committed.every((o) => o <= Number(firstOffset)),
      `nothing committed past the held event at ${firstOffset}: ${committed.join(',')}`,
    );
    const stopping = slow.stop();
    release();
    await stopping;
    running.delete(slow);
    assert.deepEqual(handledBy.first, [1], 'the stopping consumer finished the event in hand, no more');
    const after = (await partitionOf()).map((p) => Number(p.offset));
    assert.ok(after.includes(Number(firstOffset) + 1), `the handled event is committed: ${after.join(',')}`);
  } finally {
    await admin.disconnect();
  }
  const second = effectConsumer(
    db,
    { kafka, groupId, resolveTopic },
    {
      fail: (seq, _attempt, key) => {
        if (key === item) handledBy.second.push(seq);
        return false;
      },
    },
  );
  running.add(second);
  await second.start();
  const mine = async () => (await effects(db, groupId)).filter((r) => r.item_id === item);
  await waitFor('the buffered events, through the next consumer', async () => (await mine()).length >= 5);
  assert.deepEqual(
    (await mine()).map((r) => r.seq),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(handledBy.second, [2, 3, 4, 5]);
});

test('duplicate deliveries from failed offset commits are applied once', async () => {
  await relay.stop();
  const mock = await startKafkaMock();
  const privateKafka = new Kafka({
    clientId: 'events-dup-test',
    brokers: mock.brokers,
    logLevel: logLevel.NOTHING,
  });
  const groupId = s.groupId('duplicates');
  const metrics = new Metrics({ service: 'events-test', defaultMetrics: false });
  const resolve = (t: string) => `dup.${t}`;
  const dupRelay = new OutboxRelay({
    databaseUrl: s.databaseUrl,
    kafka: privateKafka,
    resolveTopic: resolve,
  });
  const consumer = effectConsumer(db, { kafka: privateKafka, groupId, resolveTopic: resolve, metrics });
  try {
    await mock.control.createTopic('dup.inventory.events', 4, 3);
    dupRelay.start();
    running.add(consumer);
    await consumer.start();
    await consumer.joined();
    // Every commit for a while fails; the group rejoins and the uncommitted events come again.
    await mock.control.pushRequestErrors('OffsetCommit', [
      ...Array(6).fill('REBALANCE_IN_PROGRESS'),
      ...Array(6).fill('NOT_COORDINATOR'),
    ]);
    // Spread over a few seconds, so offsets are committed with batches (where a failed commit makes
    // kafkajs rejoin) rather than only by the timer of a partition that went quiet.
    const written = new Set<string>();
    for (let i = 0; i < 200; i++) {
      written.add((await writeChange(db, 800 + (i % 10))).id);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 200));
    }
    const mine = async () => (await effects(db, groupId)).filter((r) => written.has(r.event_id));
    await waitFor('every event applied', async () => (await mine()).length >= written.size, 90_000);
    const text = await metrics.text();
    const duplicates = Number(/result="duplicate"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
    assert.ok(duplicates > 0, `redeliveries happened (duplicates seen: ${duplicates})`);
    const rows = await mine();
    assert.equal(rows.length, written.size, 'each event took effect once');
    assert.equal(new Set(rows.map((r) => r.event_id)).size, rows.length);
    assert.deepEqual(orderViolations(rows), []);
  } finally {
    await consumer.stop();
    await dupRelay.stop();
    await mock.stop();
  }
});

test.run();
