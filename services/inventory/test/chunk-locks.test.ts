import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { createKafka, OrderCancelled, OrderPlaced, toMessage } from '@souk/kit/events/index';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { metricsText, sample, startInventory, within } from './support.ts';

// Many orders over a few shared items, spread over the topic's partitions: the consumer handles each
// partition's events in chunks of one transaction, and the partitions' chunks run at once. Each
// chunk locking one order's items after another's, two chunks took shared items in opposite orders.
const s = await useSuite('inventory-chunk-locks');
const inventory = await startInventory(s, 'http://127.0.0.1:9');
const owner = { sub: randomUUID(), roles: [] };
const kafka = createKafka(s.kafkaBrokers, { clientId: 'inventory-chunk-locks-test' });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();

const STOCK = 10_000;
const ITEMS = 6;
const ROUNDS = 6;
const ORDERS_PER_ROUND = 120;

async function newItem(): Promise<string> {
  const item = await inventory.catalog.create(owner, {
    title: 'Lantern',
    description: '',
    priceCents: 900,
    currency: 'EUR',
    quantity: STOCK,
    availability: 'available',
  });
  return item.id;
}

/** Deadlocks Postgres detected in the suite's database so far (its statistics lag up to ~10 s). */
async function deadlocks(): Promise<number> {
  const rows = await inventory.db.primary.$queryRawUnsafe<{ deadlocks: bigint }[]>(
    'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]!.deadlocks);
}

const locks = suite('chunk locks');

locks(
  'chunks of reservations over shared items run side by side without deadlocks, stock exact',
  async () => {
    await within('the consumers to join their groups', inventory.joined());
    const items = await Promise.all(Array.from({ length: ITEMS }, newItem));
    const before = await deadlocks();
    const held = new Map<string, { itemId: string; quantity: number }[]>();
    const cancelled = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const events = [];
      for (let i = 0; i < ORDERS_PER_ROUND; i++) {
        // Three distinct items in a random order, so chunks meet on the same rows from all sides.
        const lines = [...items]
          .sort(() => Math.random() - 0.5)
          .slice(0, 3)
          .map((itemId) => ({ itemId, quantity: 1 + Math.floor(Math.random() * 2) }));
        const orderId = randomUUID();
        held.set(orderId, lines);
        events.push(
          OrderPlaced.create(orderId, {
            orderId,
            userId: owner.sub,
            lines: lines.map((l) => ({ ...l, unitPriceCents: 900 })),
            totalCents: lines.reduce((sum, l) => sum + l.quantity * 900, 0),
            currency: 'EUR',
          }),
        );
      }
      // Cancel half the orders of the round before: releases run beside the next reservations.
      for (const [orderId] of [...held].slice(-2 * ORDERS_PER_ROUND, -ORDERS_PER_ROUND)) {
        if (Math.random() < 0.5 || cancelled.has(orderId)) continue;
        cancelled.add(orderId);
        events.push(
          OrderCancelled.create(orderId, { orderId, userId: owner.sub, reason: 'customer_requested' }),
        );
      }
      await producer.send({
        topic: s.topic('orders.events'),
        acks: -1,
        messages: events.map((e) => toMessage(e)),
      });
    }
    const decided = async () => {
      const rows = await inventory.db.primary.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM reservations WHERE (status = 'held' AND order_id = ANY($1::uuid[]))
       OR (status = 'released' AND order_id = ANY($2::uuid[]))`,
        [...held.keys()].filter((id) => !cancelled.has(id)),
        [...cancelled],
      );
      return Number(rows[0]!.n) === held.size ? true : undefined;
    };
    const settled = await waitFor('every order decided', decided, 120_000).then(
      () => true,
      () => false,
    );

    const metrics = await metricsText(inventory.url);
    const count = (name: string, labels: Record<string, string>) =>
      ['OrderPlaced', 'OrderCancelled'].map((type) => sample(metrics, name, { ...labels, type }));
    const logged = inventory.logs.filter((l) => /deadlock/i.test(JSON.stringify(l))).length;
    assert.equal(logged, 0, `${logged} deadlocks logged`);
    assert.equal(
      count('souk_events_lock_conflicts_total', {}),
      [0, 0],
      'chunks rolled back by lock conflicts',
    );
    assert.equal(count('souk_events_consumed_total', { result: 'retry' }), [0, 0], 'failed tries');
    assert.ok(settled, 'every order reserved, the cancelled ones released');

    const expected = new Map(items.map((id) => [id, STOCK]));
    for (const [orderId, lines] of held) {
      if (cancelled.has(orderId)) continue;
      for (const l of lines) expected.set(l.itemId, expected.get(l.itemId)! - l.quantity);
    }
    const rows = await inventory.db.primary.$queryRawUnsafe<{ id: string; quantity: number }[]>(
      'SELECT id::text, quantity FROM items WHERE id = ANY($1::uuid[])',
      items,
    );
    assert.equal(new Map(rows.map((r) => [r.id, r.quantity])), expected);

    // Backends report their statistics at most every 10 s when idle.
    await delay(11_000);
    const detected = (await deadlocks()) - before;
    assert.equal(detected, 0, `${detected} deadlocks in pg_stat_database`);
  },
);

locks.after(async () => {
  await producer.disconnect();
  await inventory.stop();
  await s.close();
});

locks.run();
