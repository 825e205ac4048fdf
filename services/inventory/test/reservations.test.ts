import { randomUUID } from 'node:crypto';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import {
  createKafka,
  type EventEnvelope,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  toMessage,
} from '@souk/kit/events/index';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inventoryDatabase } from '../src/data/database.ts';
import { reserve } from '../src/domain/reservations.ts';
import { metricsText, sample, startInventory, within } from './support.ts';

const s = await useSuite('inventory-reservations');
// No HTTP writes here: users is never asked.
const inventory = await startInventory(s, 'http://127.0.0.1:9', { SWEEP_INTERVAL_MS: '200' });
const owner = { sub: randomUUID(), roles: [] };
const kafka = createKafka(s.kafkaBrokers, { clientId: 'inventory-test' });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();

async function newItem(quantity: number): Promise<string> {
  const item = await inventory.catalog.create(owner, {
    title: `Tent ${quantity}`,
    description: '',
    priceCents: 2000,
    currency: 'EUR',
    quantity,
    availability: 'available',
  });
  return item.id;
}

async function quantity(itemId: string): Promise<number> {
  const rows = await inventory.db.primary.$queryRawUnsafe<{ quantity: number }[]>(
    'SELECT quantity FROM items WHERE id = $1::uuid',
    itemId,
  );
  return rows[0]!.quantity;
}

async function status(orderId: string): Promise<string | undefined> {
  const rows = await inventory.db.primary.$queryRawUnsafe<{ status: string }[]>(
    'SELECT status::text AS status FROM reservations WHERE order_id = $1::uuid',
    orderId,
  );
  return rows[0]?.status;
}

/** The events inventory appended for an order (the outbox rows, in order). */
async function emitted(orderId: string): Promise<EventEnvelope[]> {
  const rows = await inventory.db.primary.$queryRawUnsafe<{ envelope: EventEnvelope }[]>(
    `SELECT envelope FROM souk_outbox WHERE aggregate_id = $1 ORDER BY seq`,
    orderId,
  );
  return rows.map((r) => r.envelope);
}

const deliver = (...events: EventEnvelope[]) =>
  producer.send({ topic: s.topic('orders.events'), acks: -1, messages: events.map((e) => toMessage(e)) });

const placed = (orderId: string, lines: { itemId: string; quantity: number }[]) =>
  OrderPlaced.create(orderId, {
    orderId,
    userId: owner.sub,
    lines: lines.map((l) => ({ ...l, unitPriceCents: 2000 })),
    totalCents: lines.reduce((sum, l) => sum + l.quantity * 2000, 0),
    currency: 'EUR',
  });

const consumedTotal = async (type: string) =>
  sample(await metricsText(inventory.url), 'souk_events_consumed_total', { type, result: 'processed' }) +
  sample(await metricsText(inventory.url), 'souk_events_consumed_total', { type, result: 'duplicate' });

const stock = suite('reservations');

stock('100 concurrent orders for 10 units: exactly 10 reserve, stock never negative', async () => {
  const itemId = await newItem(10);
  const orders = Array.from({ length: 100 }, () => randomUUID());
  // A pool of its own: 40 transactions at a time contend for the row, the rest queue for a connection.
  const db = await inventoryDatabase.open({ url: s.databaseUrl, poolSize: 40, connectTimeoutMs: 60_000 });
  const results = await Promise.all(
    orders.map((orderId) =>
      db.primary.$transaction((tx) => reserve(tx, { orderId, lines: [{ itemId, quantity: 1 }] }, 60_000), {
        maxWait: 60_000,
        timeout: 60_000,
      }),
    ),
  );
  await db.close();
  assert.equal(results.filter((r) => r.result === 'reserved').length, 10);
  assert.equal(results.filter((r) => r.result === 'rejected').length, 90);
  assert.equal(await quantity(itemId), 0);
  const events = (await Promise.all(orders.map(emitted))).flat();
  assert.equal(events.filter((e) => e.type === 'StockReserved').length, 10);
  assert.equal(events.filter((e) => e.type === 'StockRejected').length, 90);
  // The database refuses negative stock whatever the code does.
  try {
    await inventory.db.primary.$executeRawUnsafe(
      'UPDATE items SET quantity = quantity - 1 WHERE id = $1::uuid',
      itemId,
    );
    assert.unreachable('negative stock accepted');
  } catch (error) {
    assert.match(String(error), /items_quantity_check|23514/);
  }
});

stock('an order with one available and one short line reserves nothing and emits StockRejected', async () => {
  await within('the consumers to join their groups', inventory.joined());
  const plenty = await newItem(5);
  const scarce = await newItem(1);
  const orderId = randomUUID();
  await deliver(
    placed(orderId, [
      { itemId: plenty, quantity: 2 },
      { itemId: scarce, quantity: 3 },
    ]),
  );
  await waitFor('the order to be decided', async () => ((await status(orderId)) ? true : undefined), 60_000);
  assert.equal(await status(orderId), 'rejected');
  assert.equal(await quantity(plenty), 5);
  assert.equal(await quantity(scarce), 1);
  const events = await emitted(orderId);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, 'StockRejected');
  assert.equal(events[0]!.data, { orderId, reason: 'out_of_stock', itemIds: [scarce] });
});

stock('release and commit are idempotent under redelivery', async () => {
  const itemId = await newItem(5);
  const cancelled = randomUUID();
  const confirmed = randomUUID();
  await deliver(placed(cancelled, [{ itemId, quantity: 2 }]), placed(confirmed, [{ itemId, quantity: 1 }]));
  await waitFor(
    'both to reserve',
    async () =>
      (await status(cancelled)) === 'held' && (await status(confirmed)) === 'held' ? true : undefined,
    60_000,
  );
  assert.equal(await quantity(itemId), 2);

  const cancel = OrderCancelled.create(cancelled, {
    orderId: cancelled,
    userId: owner.sub,
    reason: 'payment_declined',
  });
  const cancelAgain = OrderCancelled.create(cancelled, {
    orderId: cancelled,
    userId: owner.sub,
    reason: 'payment_declined',
  });
  const confirm = OrderConfirmed.create(confirmed, {
    orderId: confirmed,
    userId: owner.sub,
    paymentId: randomUUID(),
    totalCents: 2000,
    currency: 'EUR',
  });
  const before = {
    cancel: await consumedTotal('OrderCancelled'),
    confirm: await consumedTotal('OrderConfirmed'),
  };
  // The same envelope twice (a redelivery), then a new event for the same order (a retried step),
  // and a cancel after the confirmation (which must not give committed stock back).
  const lateCancel = OrderCancelled.create(confirmed, {
    orderId: confirmed,
    userId: owner.sub,
    reason: 'customer_requested',
  });
  await deliver(cancel, cancel, cancelAgain, confirm, confirm);
  await waitFor(
    'the steps to be consumed',
    async () =>
      (await consumedTotal('OrderCancelled')) - before.cancel >= 3 &&
      (await consumedTotal('OrderConfirmed')) - before.confirm >= 2
        ? true
        : undefined,
    60_000,
  );
  await deliver(lateCancel, placed(cancelled, [{ itemId, quantity: 2 }]));
  await waitFor(
    'the late steps to be consumed',
    async () => ((await consumedTotal('OrderCancelled')) - before.cancel >= 4 ? true : undefined),
    60_000,
  );
  await waitFor(
    'the replayed OrderPlaced to be consumed',
    async () => {
      const text = await metricsText(inventory.url);
      return sample(text, 'souk_inventory_reservations_total', { result: 'duplicate' }) >= 1
        ? true
        : undefined;
    },
    60_000,
  );
  assert.equal(await status(cancelled), 'released');
  assert.equal(await status(confirmed), 'committed');
  assert.equal(await quantity(itemId), 4, 'two units back once; the committed one stays gone');
  const released = (await emitted(cancelled)).filter((e) => e.type === 'StockReleased');
  assert.equal(released.length, 1);
  assert.equal(released[0]!.data, {
    orderId: cancelled,
    reservationId: (released[0]!.data as { reservationId: string }).reservationId,
    lines: [{ itemId, quantity: 2 }],
    reason: 'order_cancelled',
  });
  assert.equal((await emitted(confirmed)).filter((e) => e.type === 'StockReleased').length, 0);
});

stock('an expired reservation is released by the sweeper and emits StockReleased', async () => {
  const itemId = await newItem(3);
  const orderId = randomUUID();
  await inventory.db.primary.$transaction((tx) =>
    reserve(tx, { orderId, lines: [{ itemId, quantity: 2 }] }, 300),
  );
  assert.equal(await quantity(itemId), 1);
  await waitFor(
    'the sweeper to release it',
    async () => ((await status(orderId)) === 'expired' ? true : undefined),
    60_000,
  );
  assert.equal(await quantity(itemId), 3);
  const events = await emitted(orderId);
  assert.equal(
    events.map((e) => [e.type, (e.data as { reason?: string }).reason]),
    [
      ['StockReserved', undefined],
      ['StockReleased', 'expired'],
    ],
  );
  const text = await metricsText(inventory.url);
  assert.ok(sample(text, 'souk_inventory_reservations_total', { result: 'expired' }) >= 1);
  // A cancel arriving after the expiry changes nothing.
  const late = OrderCancelled.create(orderId, { orderId, userId: owner.sub, reason: 'payment_timeout' });
  await deliver(late);
  await waitFor(
    'the cancel to be consumed',
    async () => {
      const rows = await inventory.db.primary.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM souk_inbox WHERE event_id = $1::uuid`,
        late.id,
      );
      return rows[0]!.n === 1 ? true : undefined;
    },
    60_000,
  );
  assert.equal(await quantity(itemId), 3);
  assert.equal((await emitted(orderId)).length, 2);
});

stock('a confirmation after the expiry takes the stock again, or reports the order oversold', async () => {
  const itemId = await newItem(3);
  const expireSoon = (orderId: string, quantity: number) =>
    inventory.db.primary.$transaction((tx) => reserve(tx, { orderId, lines: [{ itemId, quantity }] }, 300));
  const expired = (orderId: string) =>
    waitFor(
      'the sweeper to expire it',
      async () => ((await status(orderId)) === 'expired' ? true : undefined),
      60_000,
    );
  const confirm = (orderId: string) =>
    OrderConfirmed.create(orderId, {
      orderId,
      userId: owner.sub,
      paymentId: randomUUID(),
      totalCents: 2000,
      currency: 'EUR',
    });
  const committed = (orderId: string) =>
    waitFor(
      'the late confirmation',
      async () => ((await status(orderId)) === 'committed' ? true : undefined),
      60_000,
    );

  // The stock is still there: taken again.
  const late = randomUUID();
  await expireSoon(late, 2);
  await expired(late);
  assert.equal(await quantity(itemId), 3);
  await deliver(confirm(late));
  await committed(late);
  assert.equal(await quantity(itemId), 1);

  // Someone else bought the last unit meanwhile: nothing is taken, the order is reported oversold.
  const tooLate = randomUUID();
  await expireSoon(tooLate, 1);
  await expired(tooLate);
  await inventory.db.primary.$transaction((tx) =>
    reserve(tx, { orderId: randomUUID(), lines: [{ itemId, quantity: 1 }] }, 60_000),
  );
  assert.equal(await quantity(itemId), 0);
  await deliver(confirm(tooLate));
  await committed(tooLate);
  assert.equal(await quantity(itemId), 0, 'stock never negative');
  const text = await metricsText(inventory.url);
  assert.ok(sample(text, 'souk_inventory_reservations_total', { result: 'recommitted' }) >= 1);
  assert.ok(sample(text, 'souk_inventory_reservations_total', { result: 'oversold' }) >= 1);
  const line = inventory.logs.find(
    (l) => l.level === 'error' && (l as { orderId?: string }).orderId === tooLate,
  );
  assert.ok(line, 'an error line names the oversold order');
  assert.equal((line as { short?: unknown }).short, [{ itemId, quantity: 1 }]);
});

stock('the relay publishes the outcomes to inventory.events', async () => {
  const consumer = kafka.consumer({ groupId: s.groupId('inventory-events-reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [s.topic('inventory.events')], fromBeginning: true });
  const types = new Set<string>();
  await consumer.run({
    eachMessage: async ({ message }) => {
      types.add((JSON.parse(String(message.value)) as EventEnvelope).type);
    },
  });
  try {
    await waitFor(
      'StockReserved, StockRejected and StockReleased on the topic',
      async () =>
        ['ItemCreated', 'StockReserved', 'StockRejected', 'StockReleased'].every((t) => types.has(t))
          ? true
          : undefined,
      30_000,
    );
  } finally {
    await consumer.disconnect();
  }
});

stock.after(async () => {
  await producer.disconnect();
  await inventory.stop();
  await s.close();
});

stock.run();
