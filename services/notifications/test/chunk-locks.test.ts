import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { type EventEnvelope, OrderCancelled, OrderConfirmed, uuidv7 } from '@souk/kit/events/index';
import pg from 'pg';
import { test } from 'uvu';
import { metric, Publisher, startNotifications } from './support.ts';

// Saga outcomes of many orders of a few users, spread over the topic's partitions: each partition's
// events are handled in chunks of one transaction, and the partitions' chunks (and a round's
// OrderConfirmed and OrderCancelled chunks) run at once. Bumping one user's counter after another's,
// two chunks took shared counters in opposite orders and deadlocked.
const s = await useSuite('notifications-chunk-locks');
// No token is checked here: users is never asked.
const app = await startNotifications(s, 'http://127.0.0.1:9', { LOG_LEVEL: 'warn' });
const publisher = new Publisher(s);
await publisher.connect();
const db = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });

const USERS = 5;
const ROUNDS = 5;
const EVENTS_PER_ROUND = 120;

async function deadlocks(): Promise<number> {
  const { rows } = await db.query<{ deadlocks: string }>(
    'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]!.deadlocks);
}

test('chunks notifying shared users run side by side without deadlocks, ids without gaps', async () => {
  await app.joined();
  const users = Array.from({ length: USERS }, () => uuidv7());
  const before = await deadlocks();
  const sent = new Map(users.map((u) => [u, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    const events: EventEnvelope[] = [];
    for (let i = 0; i < EVENTS_PER_ROUND; i++) {
      const userId = users[Math.floor(Math.random() * USERS)]!;
      const orderId = uuidv7();
      sent.set(userId, sent.get(userId)! + 1);
      events.push(
        i % 2 === 0
          ? OrderConfirmed.create(orderId, {
              orderId,
              userId,
              paymentId: uuidv7(),
              totalCents: 100,
              currency: 'EUR',
            })
          : OrderCancelled.create(orderId, { orderId, userId, reason: 'payment_declined' }),
      );
    }
    await publisher.send('orders.events', ...events);
  }
  const stored = async () => {
    const { rows } = await db.query<{ user_id: string; n: string; max: string }>(
      'SELECT user_id::text, count(*) AS n, max(id) AS max FROM notifications WHERE user_id = ANY($1::uuid[]) GROUP BY user_id',
      [users],
    );
    return rows;
  };
  const total = ROUNDS * EVENTS_PER_ROUND;
  const settled = await waitFor(
    'every outcome stored',
    async () => ((await stored()).reduce((sum, r) => sum + Number(r.n), 0) === total ? true : undefined),
    120_000,
  ).then(
    () => true,
    () => false,
  );

  const logged = app.logs.filter((l) => /deadlock/i.test(JSON.stringify(l))).length;
  assert.equal(logged, 0, `${logged} deadlocks logged`);
  assert.equal(
    await metric(app.url, 'souk_events_lock_conflicts_total'),
    0,
    'chunks rolled back by lock conflicts',
  );
  assert.equal(await metric(app.url, 'souk_events_consumed_total', { result: 'retry' }), 0, 'failed tries');
  assert.ok(settled, 'every outcome stored');
  // Each user's ids run 1..n: one per event, in commit order, none lost to a rolled-back chunk.
  for (const row of await stored()) {
    assert.equal(Number(row.n), sent.get(row.user_id));
    assert.equal(Number(row.max), sent.get(row.user_id));
  }
  // Backends report their statistics at most every 10 s when idle.
  await delay(11_000);
  const detected = (await deadlocks()) - before;
  assert.equal(detected, 0, `${detected} deadlocks in pg_stat_database`);
});

test.after(async () => {
  await db.end();
  await publisher.disconnect();
  await app.stop();
  await s.close();
});

test.run();
