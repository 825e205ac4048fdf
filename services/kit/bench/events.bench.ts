import { defineBench, fixedRate } from '@souk/harness/bench';
import { startKafkaMock, startPostgresPair } from '@souk/harness/infra';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { toMessage } from '../src/events/codec.ts';
import { EventConsumer, on } from '../src/events/consumer.ts';
import { ItemUpdated } from '../src/events/contracts/inventory.ts';
import { orderedProducer } from '../src/events/kafka.ts';
import { appendToOutbox } from '../src/events/outbox.ts';
import { OutboxRelay } from '../src/events/relay.ts';
import { Metrics } from '../src/metrics.ts';
import { type Db, itemId, openEventsDb, type Tx } from '../test/events-support.ts';

const RATE = 500;
const SECONDS = Number(process.env['EVENTS_BENCH_SECONDS'] ?? 10);
const THROUGHPUT_EVENTS = 20_000;
const THROUGHPUT_ROUNDS = 3;
const BATCH = 500;

/**
 * The event backbone end to end (transaction → outbox → relay → Kafka → consumer → inbox
 * transaction), and the relay's publishing rate against a bare kafkajs producer sending the same
 * messages in the same batches with the same settings (the median of alternating rounds), on a private
 * Kafka mock cluster and a private Postgres (so other suites' load on the shared instances stays
 * out of the figures).
 */
export default defineBench('events', async (b) => {
  const postgres = await startPostgresPair();
  const mock = await startKafkaMock();
  const kafka = new Kafka({ clientId: 'bench-events', brokers: mock.brokers, logLevel: logLevel.NOTHING });
  const db = await openEventsDb(postgres.primaryUrl);
  try {
    // At a rate this machine sustains with room to spare, then at the target rate.
    await latency(b, postgres.primaryUrl, kafka, db, 'bench-events-latency-100', 100);
    await latency(b, postgres.primaryUrl, kafka, db, 'bench-events-latency-500', RATE);
    await throughput(b, postgres.primaryUrl, kafka, db, mock.control);
  } finally {
    await db.close();
    await mock.stop();
    await postgres.stop();
  }
});

type Bench = Parameters<Parameters<typeof defineBench>[1]>[0];

async function latency(b: Bench, databaseUrl: string, kafka: Kafka, db: Db, groupId: string, rate: number) {
  const resolveTopic = (topic: string) => `${groupId}.${topic}`;
  const waiting = new Map<string, () => void>();
  const relay = new OutboxRelay({ databaseUrl, kafka, resolveTopic });
  const consumer = new EventConsumer<Tx>({
    kafka,
    groupId,
    db: db.primary,
    resolveTopic,
    handlers: [
      on(ItemUpdated, async (event, tx: Tx) => {
        await tx.$executeRawUnsafe(
          'INSERT INTO effects (consumer, event_id, item_id, seq) VALUES ($1, $2::uuid, $3, $4)',
          groupId,
          event.id,
          event.aggregateId,
          event.data.changes.quantity ?? 0,
        );
      }),
    ],
    onOutcome: (outcome, event) => {
      if (outcome === 'processed' && event.id) waiting.get(event.id)?.();
    },
  });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 32 });
  relay.start();
  await consumer.start();
  await consumer.joined();
  let n = 0;
  let firstError: unknown;
  const result = await fixedRate(
    async () => {
      try {
        const item = n++ % 200;
        let resolve: () => void = () => {};
        const handled = new Promise<void>((r) => {
          resolve = r;
        });
        // The event's id is only known inside the transaction; register before the relay can see it.
        const id = await writeWithPg(pool, item, (eventId) => waiting.set(eventId, resolve));
        await handled;
        waiting.delete(id);
      } catch (error) {
        firstError ??= error;
        throw error;
      }
    },
    { rps: rate, seconds: SECONDS, warmupMs: 1000 },
  );
  await consumer.stop();
  await relay.stop();
  await pool.end();
  if (firstError)
    b.log(`first error: ${firstError instanceof Error ? firstError.stack : String(firstError)}`);
  b.log(
    `latency at ${rate}/s: ${result.count} events, ${result.errors} errors, ${result.achievedRps.toFixed(0)} events/s achieved`,
  );
  b.record({ name: `outbox → consumer p50 (${rate} events/s)`, value: result.p50, unit: 'ms' });
  b.record({
    name: `outbox → consumer p99 (${rate} events/s)`,
    value: result.p99,
    unit: 'ms',
    ...(rate === RATE ? { target: 'value < 100' } : {}),
  });
}

/**
 * The writer side through plain `pg` (appendToOutbox takes any SQL executor), so the machine's
 * cycles go to the path being measured: relay, Kafka, and the consumer's Prisma inbox transactions.
 */
async function writeWithPg(pool: pg.Pool, item: number, beforeCommit: (id: string) => void): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ version: number }>(
      `INSERT INTO stock (item_id, level, version) VALUES ($1, 0, 1)
       ON CONFLICT (item_id) DO UPDATE SET version = stock.version + 1 RETURNING version`,
      [itemId(item)],
    );
    const event = ItemUpdated.create(itemId(item), {
      itemId: itemId(item),
      changes: { quantity: rows[0]!.version },
    });
    await appendToOutbox(
      { $executeRawUnsafe: (sql, ...values) => client.query(sql, values).then((r) => r.rowCount ?? 0) },
      event,
    );
    beforeCommit(event.id);
    await client.query('COMMIT');
    return event.id;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function throughput(
  b: Bench,
  databaseUrl: string,
  kafka: Kafka,
  db: Db,
  control: { createTopic(topic: string, partitions?: number, rf?: number): Promise<void> },
) {
  await control.createTopic('raw.inventory.events', 4, 3);
  await control.createTopic('relay.inventory.events', 4, 3);
  const producer = orderedProducer(kafka);
  await producer.connect();
  const metrics = new Metrics({ service: 'bench-events', defaultMetrics: false });
  const relay = new OutboxRelay({
    databaseUrl,
    kafka,
    resolveTopic: (t) => `relay.${t}`,
    batchSize: BATCH,
    metrics,
  });
  const published = async () => {
    const counter = await metrics.registry.getSingleMetric('souk_outbox_published_total')?.get();
    return (counter?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  };
  relay.start();
  await new Promise((r) => setTimeout(r, 1500));
  // Rounds alternate between the two, so a slow spell of this shared machine weighs on both.
  const raws: number[] = [];
  const relayed: number[] = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    const events = Array.from({ length: THROUGHPUT_EVENTS }, (_, i) =>
      ItemUpdated.create(itemId(10_000 + (i % 1000)), {
        itemId: itemId(10_000 + (i % 1000)),
        changes: { quantity: i },
      }),
    );
    // The bare producer: the same messages, batches and settings, straight from memory.
    await producer.send({ topic: 'raw.inventory.events', acks: -1, messages: [toMessage(events[0]!)] });
    const rawStart = performance.now();
    for (let i = 0; i < events.length; i += BATCH) {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: 'raw.inventory.events', messages: events.slice(i, i + BATCH).map((e) => toMessage(e)) },
        ],
      });
    }
    raws.push(events.length / ((performance.now() - rawStart) / 1000));

    // The relay: connected, then the whole outbox commits at once and it drains it.
    const before = await published();
    await db.primary.$transaction(
      async (tx) => {
        for (let i = 0; i < events.length; i += 5000) await appendToOutbox(tx, events.slice(i, i + 5000));
      },
      { timeout: 60_000 },
    );
    const relayStart = performance.now();
    while ((await published()) < before + events.length) await new Promise((r) => setTimeout(r, 5));
    relayed.push(events.length / ((performance.now() - relayStart) / 1000));
    b.log(
      `round ${round + 1}: kafkajs ${raws.at(-1)!.toFixed(0)}/s, relay ${relayed.at(-1)!.toFixed(0)}/s (${(relayed.at(-1)! / raws.at(-1)!).toFixed(2)})`,
    );
  }
  await relay.stop();
  await producer.disconnect();

  // The round whose relay/producer ratio is the median: each ratio compares two runs back to back,
  // so a slow spell of the machine between rounds does not pair a fast run with a slow one.
  const order = raws.map((_, i) => i).sort((x, y) => relayed[x]! / raws[x]! - relayed[y]! / raws[y]!);
  const pick = order[Math.floor(order.length / 2)]!;
  b.record({ name: 'kafkajs producer (acks=-1, batches of 500)', value: raws[pick]!, unit: 'events/s' });
  b.record({
    name: 'outbox relay throughput',
    value: relayed[pick]!,
    unit: 'events/s',
    baseline: raws[pick]!,
    baselineName: 'kafkajs producer',
    target: 'ratio >= 0.5',
  });
}
