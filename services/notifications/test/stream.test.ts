import assert from 'node:assert/strict';
import { waitFor } from '@souk/harness/infra/processes';
import { useSuite } from '@souk/harness/suite';
import { OrderCancelled, OrderConfirmed, OrderPlaced, PaymentDeclined, uuidv7 } from '@souk/kit/events/index';
import pg from 'pg';
import { test } from 'uvu';
import {
  call,
  customer,
  login,
  metric,
  Publisher,
  refusedStatus,
  StreamClient,
  settle,
  startNotifications,
  startUsersFor,
} from './support.ts';

// Notifications from real events (users' own UserRegistered, saga outcomes published to Kafka),
// pushed over the WebSocket, with tokens from the real users service.
const s = await useSuite('notifications-stream');
const users = await startUsersFor(s);
const a = await startNotifications(s, users.url);
const publisher = new Publisher(s);
await publisher.connect();
const db = new pg.Pool({ connectionString: s.databaseUrl, max: 2 });

const confirmed = (userId: string, orderId = uuidv7()) =>
  OrderConfirmed.create(orderId, { orderId, userId, paymentId: uuidv7(), totalCents: 4200, currency: 'EUR' });

const alice = await customer(users.url, 'alice');
const bob = await customer(users.url, 'bob');
const clients: StreamClient[] = [];
const open = async (...args: Parameters<typeof StreamClient.open>) => {
  const c = await StreamClient.open(...args);
  clients.push(c);
  return c;
};

test('UserRegistered from users becomes a welcome notification, replayed from lastId=0', async () => {
  const c = await open(a.url, alice.token, { lastId: 0 });
  const [welcome] = await c.waitForNotifications(1, 30_000);
  assert.equal(welcome?.kind, 'welcome');
  assert.equal(welcome?.id, 1);
  await c.close();
});

test('a redelivered event is stored once and pushed exactly once', async () => {
  const c = await open(a.url, alice.token);
  const ready = await c.ready();
  const event = confirmed(alice.id);
  const duplicatesBefore = await metric(a.url, 'souk_events_consumed_total', {
    type: 'OrderConfirmed',
    result: 'duplicate',
  });
  await publisher.send('orders.events', event);
  await publisher.send('orders.events', event);
  await waitFor(
    'the redelivery to be seen as a duplicate',
    async () =>
      (await metric(a.url, 'souk_events_consumed_total', { type: 'OrderConfirmed', result: 'duplicate' })) >
      duplicatesBefore,
    20_000,
  );
  await settle();
  const got = c.notifications();
  assert.equal(got.length, 1);
  assert.equal(got[0]?.id, (ready.lastId ?? 0) + 1);
  assert.equal(got[0]?.data['orderId'], event.data.orderId);
  const rows = await db.query('SELECT count(*)::int AS n FROM notifications WHERE event_id = $1', [event.id]);
  assert.equal(rows.rows[0].n, 1);
  await c.close();
});

test('resume: the 2 missed while away are replayed, then live', async () => {
  const first = await open(a.url, alice.token);
  await first.ready();
  await publisher.send('orders.events', confirmed(alice.id), confirmed(alice.id));
  const seen = await first.waitForNotifications(2);
  await first.close();
  const lastId = seen[1]!.id;

  const orderId = uuidv7();
  await publisher.send(
    'orders.events',
    OrderPlaced.create(orderId, {
      orderId,
      userId: alice.id,
      lines: [{ itemId: uuidv7(), quantity: 1, unitPriceCents: 500 }],
      totalCents: 500,
      currency: 'EUR',
    }) as never,
  );
  await publisher.send(
    'payments.events',
    PaymentDeclined.create(orderId, {
      orderId,
      stepId: uuidv7(),
      paymentId: uuidv7(),
      reason: 'insufficient_funds',
    }),
  );
  await publisher.send(
    'orders.events',
    OrderCancelled.create(orderId, { orderId, userId: alice.id, reason: 'payment_declined' }),
  );
  await waitFor(
    'the 2 missed notifications to be stored',
    async () =>
      (
        (await call(a.url, 'GET', '/notifications', { token: alice.token })).body['items'] as { id: number }[]
      )[0]?.id ===
      lastId + 2,
    20_000,
  );

  const again = await open(a.url, alice.token, { lastId });
  const ready = await again.ready();
  const replayed = again.notifications();
  assert.deepEqual(
    replayed.map((n) => n.id),
    [lastId + 1, lastId + 2],
  );
  assert.deepEqual(new Set(replayed.map((n) => n.kind)), new Set(['payment_declined', 'order_cancelled']));
  assert.ok(again.messages.filter((m) => m.type === 'notification').every((m) => m.replay === true));
  assert.equal(ready.lastId, lastId + 2);

  await publisher.send('orders.events', confirmed(alice.id));
  const all = await again.waitForNotifications(3);
  assert.equal(all[2]?.id, lastId + 3);
  assert.equal(again.messages.filter((m) => m.type === 'notification').at(-1)?.replay, false);
  await settle(500);
  assert.equal(again.notifications().length, 3);
  await again.close();
});

test('no token or a bad token: the upgrade is refused with 401; customers are refused the admin channel', async () => {
  assert.equal(await refusedStatus(a.url, ['souk.notifications.v1']), 401);
  assert.equal(await refusedStatus(a.url, ['souk.notifications.v1', 'bearer.not-a-jwt']), 401);
  const [h, p] = alice.token.split('.');
  assert.equal(await refusedStatus(a.url, ['souk.notifications.v1', `bearer.${h}.${p}.AAAA`]), 401);
  assert.equal(
    await refusedStatus(a.url, ['souk.notifications.v1', `bearer.${alice.token}`], '/notifications/events'),
    403,
  );
  assert.equal((await call(a.url, 'GET', '/notifications')).status, 401);
});

test('a user never receives another user’s notifications', async () => {
  const bobs = await open(a.url, bob.token, { lastId: 0 });
  const alices = await open(a.url, alice.token);
  await alices.ready();
  const mine = confirmed(alice.id);
  await publisher.send('orders.events', mine, confirmed(bob.id));
  await alices.waitForNotifications(1);
  await waitFor('bob’s order', () => bobs.notifications().some((n) => n.kind === 'order_confirmed'), 20_000);
  await settle(500);
  assert.deepEqual(
    alices.notifications().map((n) => n.data['orderId']),
    [mine.data.orderId],
  );
  assert.ok(
    bobs.notifications().every((n) => n.kind === 'welcome' || n.data['orderId'] !== mine.data.orderId),
  );
  const bobList = (await call(a.url, 'GET', '/notifications', { token: bob.token })).body['items'] as {
    data: Record<string, unknown>;
  }[];
  assert.ok(bobList.every((n) => n.data['orderId'] !== mine.data.orderId));
  await Promise.all([bobs.close(), alices.close()]);
});

test('GET /notifications pages by cursor, filters unread; mark read and read-all', async () => {
  const first = await call(a.url, 'GET', '/notifications?limit=2', { token: alice.token });
  assert.equal(first.status, 200);
  const items = first.body['items'] as { id: number; readAt: string | null }[];
  assert.equal(items.length, 2);
  assert.ok(items[0]!.id > items[1]!.id);
  const next = await call(a.url, 'GET', `/notifications?limit=2&before=${first.body['nextCursor']}`, {
    token: alice.token,
  });
  assert.ok((next.body['items'] as { id: number }[]).every((n) => n.id < items[1]!.id));
  const read = await call(a.url, 'POST', `/notifications/${items[0]!.id}/read`, { token: alice.token });
  assert.equal(read.status, 200);
  assert.ok(read.body['readAt']);
  assert.equal((await call(a.url, 'POST', '/notifications/99999/read', { token: alice.token })).status, 404);
  // Ids are per user: alice's id is not one of bob's, so bob gets a 404, and alice's stays unread.
  const bobIds = (
    (await call(a.url, 'GET', '/notifications?limit=100', { token: bob.token })).body['items'] as {
      id: number;
    }[]
  ).map((n) => n.id);
  const notBobs = items[1]!;
  assert.ok(!bobIds.includes(notBobs.id));
  assert.equal(
    (await call(a.url, 'POST', `/notifications/${notBobs.id}/read`, { token: bob.token })).status,
    404,
  );
  const still = await db.query('SELECT read_at FROM notifications WHERE user_id = $1 AND id = $2', [
    alice.id,
    notBobs.id,
  ]);
  assert.equal(still.rows[0].read_at, null);
  await s.waitForReplica();
  const unread = await call(a.url, 'GET', '/notifications?unread=true&limit=100', { token: alice.token });
  assert.ok((unread.body['items'] as { id: number }[]).every((n) => n.id !== items[0]!.id));
  const all = await call(a.url, 'POST', '/notifications/read-all', { token: alice.token });
  assert.ok((all.body['marked'] as number) >= 1);
  await s.waitForReplica();
  const none = await call(a.url, 'GET', '/notifications?unread=true', { token: alice.token });
  assert.deepEqual(none.body['items'], []);
  assert.equal(none.body['unreadCount'], 0);
});

test('e-mail: exactly one mail per notification (JSON transport), none on replay', async () => {
  await a.mailer.idle();
  await waitFor(
    'no mail pending',
    async () =>
      (await db.query(`SELECT count(*)::int AS n FROM notifications WHERE email_status = 'pending'`)).rows[0]
        .n === 0,
    20_000,
  );
  const mails = () => a.logs.filter((l) => l.msg === 'mail sent');
  const stored = await db.query(`SELECT user_id, id FROM notifications WHERE user_id = ANY($1::uuid[])`, [
    [alice.id, bob.id],
  ]);
  const keys = mails().map((l) => `${l['userId']}/${l['notificationId']}`);
  assert.equal(new Set(keys).size, keys.length, 'no notification mailed twice');
  for (const row of stored.rows)
    assert.ok(keys.includes(`${row.user_id}/${row.id}`), `mail for ${row.user_id}/${row.id}`);
  const aliceMail = mails().find((l) => l['userId'] === alice.id)?.['mail'] as {
    to: { address: string }[];
    subject: string;
  };
  assert.equal(aliceMail.to[0]?.address, alice.email);
  assert.ok(aliceMail.subject);
  const before = mails().length;
  const replay = await open(a.url, alice.token, { lastId: 0 });
  await replay.ready();
  assert.ok(replay.notifications().length >= 5);
  await replay.close();
  await settle(1_200);
  assert.equal(mails().length, before);
});

test('a lost fan-out message: the gap in ids is read from the database at the next one', async () => {
  const c = await open(a.url, alice.token);
  const ready = await c.ready();
  // Stored but never fanned out (as when a replica dies between commit and publish).
  const counter = await db.query(
    `UPDATE notification_counters SET last_id = last_id + 1 WHERE user_id = $1 RETURNING last_id`,
    [alice.id],
  );
  const lostId = Number(counter.rows[0].last_id);
  assert.equal(lostId, (ready.lastId ?? 0) + 1);
  await db.query(
    `INSERT INTO notifications (user_id, id, event_id, kind, title, body, data, email_status)
     VALUES ($1, $2, $3, 'order_confirmed', 'lost', 'lost', '{}', 'skipped')`,
    [alice.id, lostId, uuidv7()],
  );
  await settle(300);
  assert.equal(c.notifications().length, 0);
  await publisher.send('orders.events', confirmed(alice.id));
  const got = await c.waitForNotifications(2);
  assert.deepEqual(
    got.map((n) => n.id),
    [lostId, lostId + 1],
  );
  await c.close();
});

test('two instances: the client on B gets what A stored', async () => {
  const b = await startNotifications(s, users.url);
  try {
    const onB = await open(b.url, alice.token);
    const onA = await open(a.url, alice.token);
    await Promise.all([onB.ready(), onA.ready()]);
    const storedA = await metric(a.url, 'souk_notifications_stored_total');
    const storedB = await metric(b.url, 'souk_notifications_stored_total');
    const events = Array.from({ length: 6 }, () => confirmed(alice.id));
    await publisher.send('orders.events', ...events);
    const gotB = await onB.waitForNotifications(6, 30_000);
    const gotA = await onA.waitForNotifications(6, 30_000);
    const byA = (await metric(a.url, 'souk_notifications_stored_total')) - storedA;
    const byB = (await metric(b.url, 'souk_notifications_stored_total')) - storedB;
    assert.equal(byA + byB, 6);
    // Whichever replica stored them, the client on the other one got every one, in id order.
    assert.deepEqual(new Set(gotB.map((n) => n.data['orderId'])), new Set(events.map((e) => e.data.orderId)));
    assert.deepEqual(
      gotA.map((n) => n.id),
      gotB.map((n) => n.id),
    );
    assert.deepEqual(
      gotB.map((n) => n.id),
      [...gotB.map((n) => n.id)].sort((x, y) => x - y),
    );
    assert.ok(byA > 0 || byB > 0);
    assert.equal(await metric(b.url, 'souk_notifications_connected_clients', { channel: 'user' }), 1);
    await Promise.all([onA.close(), onB.close()]);
  } finally {
    await b.stop();
  }
});

test('admins watch the event stream: type and aggregate, no data', async () => {
  const adminToken = await login(users.url, users.admin.email, users.admin.password);
  const events = await open(a.url, adminToken, { path: '/notifications/events' });
  await events.ready();
  const e = confirmed(bob.id);
  await publisher.send('orders.events', e);
  await waitFor(
    'the event on the admin stream',
    () => events.messages.some((m) => m.event?.id === e.id),
    20_000,
  );
  const seen = events.messages.find((m) => m.event?.id === e.id)!;
  assert.deepEqual(Object.keys(seen.event!).sort(), [
    'aggregateId',
    'aggregateType',
    'id',
    'occurredAt',
    'topic',
    'type',
  ]);
  assert.equal(seen.event?.type, 'OrderConfirmed');
  await events.close();
});

test('UserDeleted (account deleted in users): notifications deleted, address forgotten, socket closed', async () => {
  const carol = await customer(users.url, 'carol');
  const c = await open(a.url, carol.token, { lastId: 0 });
  await c.waitForNotifications(1, 30_000);
  const del = await call(users.url, 'DELETE', '/users/me', { token: carol.token });
  assert.equal(del.status, 204, del.text);
  await waitFor('the socket to close', () => c.closeCode !== undefined, 30_000);
  assert.equal(c.closeCode, 4403);
  const rows = await db.query('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1', [carol.id]);
  assert.equal(rows.rows[0].n, 0);
  const r = await db.query('SELECT email, deleted_at FROM notification_recipients WHERE user_id = $1', [
    carol.id,
  ]);
  assert.equal(r.rows[0].email, null);
  assert.ok(r.rows[0].deleted_at);
  // A late event for the deleted user stores nothing.
  const late = confirmed(carol.id);
  await publisher.send('orders.events', late);
  await waitFor(
    'the late event to be consumed',
    async () => (await db.query('SELECT 1 FROM souk_inbox WHERE event_id = $1', [late.id])).rowCount === 1,
    20_000,
  );
  assert.equal((await db.query('SELECT 1 FROM notifications WHERE event_id = $1', [late.id])).rowCount, 0);
});

test('metrics, probes and the OpenAPI document', async () => {
  assert.ok((await metric(a.url, 'souk_notifications_stored_total', { kind: 'order_confirmed' })) >= 1);
  assert.ok((await metric(a.url, 'souk_notifications_pushed_total', { mode: 'live' })) >= 1);
  assert.ok((await metric(a.url, 'souk_notifications_pushed_total', { mode: 'replay' })) >= 1);
  assert.match(await (await fetch(`${a.url}/metrics`)).text(), /souk_notifications_connected_clients/);
  assert.equal((await fetch(`${a.url}/livez`)).status, 200);
  assert.equal((await fetch(`${a.url}/readyz`)).status, 200);
  const doc = (await call(a.url, 'GET', '/openapi.json')).body as { paths: Record<string, unknown> };
  assert.ok(
    doc.paths['/notifications'] &&
      doc.paths['/notifications/{id}/read'] &&
      doc.paths['/notifications/read-all'],
  );
});

test.after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await publisher.disconnect();
  await db.end();
  await a.stop();
  await users.stop();
  await s.close();
});

test.run();
