import { Metrics } from '@souk/kit';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sagaMetrics } from '../src/domain/metrics.ts';
import { SagaRunner } from '../src/domain/saga-runner.ts';
import { DeadlineSweeper } from '../src/domain/sweeper.ts';
import { ADMIN, call, Platform, TEST_CARDS } from './platform.ts';

const platform = new Platform('orders-api');
await platform.start();
const seller = await platform.register('seller@souk.test');
const buyer = await platform.register('buyer@souk.test');
const stranger = await platform.register('stranger@souk.test');
const admin = await platform.login(ADMIN.email, ADMIN.password);
const itemId = await platform.createItem(seller, { priceCents: 400, quantity: 1000 });
const body = (lines: unknown = [{ itemId, quantity: 1 }]) => ({
  lines,
  payment: { cardNumber: TEST_CARDS.approve },
});

type Problem = { status: number; errors?: { field: string; in: string }[] };
const problemOf = (res: { headers: Headers; body: Record<string, unknown> }) => {
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  return res.body as unknown as Problem;
};

test('no token: 401 problem', async () => {
  const res = await call(platform.ordersUrl, 'POST', '/orders', {
    body: body(),
    headers: { 'Idempotency-Key': 'k-1' },
  });
  assert.is(res.status, 401);
  assert.is(problemOf(res).status, 401);
  assert.is((await call(platform.ordersUrl, 'GET', '/orders')).status, 401);
});

test('no Idempotency-Key: 400 problem naming the header', async () => {
  const res = await call(platform.ordersUrl, 'POST', '/orders', { token: buyer, body: body() });
  assert.is(res.status, 400);
  const problem = problemOf(res);
  assert.equal(
    problem.errors?.map((e) => [e.in, e.field]),
    [['headers', 'Idempotency-Key']],
  );
});

test('unknown item: 422 naming the line; nothing created', async () => {
  const missing = '0195f1c2-7a3b-7c00-8000-0000000000ff';
  const res = await platform.placeOrder(
    buyer,
    body([
      { itemId, quantity: 1 },
      { itemId: missing, quantity: 1 },
    ]),
  );
  assert.is(res.status, 422);
  assert.equal(
    problemOf(res).errors?.map((e) => e.field),
    ['lines.1.itemId'],
  );
  const list = await call(platform.ordersUrl, 'GET', '/orders', { token: buyer });
  assert.equal(list.body['orders'], []);
});

test('zero quantity, no lines, bad card: 422 naming the field', async () => {
  const zero = await platform.placeOrder(buyer, body([{ itemId, quantity: 0 }]));
  assert.is(zero.status, 422);
  assert.equal(
    problemOf(zero).errors?.map((e) => e.field),
    ['lines.0.quantity'],
  );
  const none = await platform.placeOrder(buyer, body([]));
  assert.is(none.status, 422);
  assert.equal(
    problemOf(none).errors?.map((e) => e.field),
    ['lines'],
  );
  const card = await platform.placeOrder(buyer, {
    lines: [{ itemId, quantity: 1 }],
    payment: { cardNumber: '4242 4242 4242 4241' },
  });
  assert.is(card.status, 422);
  assert.equal(
    problemOf(card).errors?.map((e) => e.field),
    ['payment.cardNumber'],
  );
});

test('reads: the owner and admins see an order, others get 404; lists are newest first, paginated', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await platform.placeOrder(buyer, body([{ itemId, quantity: i + 1 }]));
    assert.is(res.status, 201);
    ids.push(res.body['id'] as string);
    // Read-your-writes: right after placing, the order is there.
    const read = await platform.order(buyer, ids[i]!);
    assert.is(read.status, 200);
    assert.is(read.body['id'], ids[i]);
  }
  assert.is((await platform.order(admin, ids[0]!)).status, 200);
  const hidden = await platform.order(stranger, ids[0]!);
  assert.is(hidden.status, 404);
  problemOf(hidden);

  const page1 = await call(platform.ordersUrl, 'GET', '/orders?limit=2', { token: buyer });
  assert.is(page1.status, 200);
  const first = page1.body['orders'] as { id: string; saga: { history: unknown[] } }[];
  assert.equal(
    first.map((o) => o.id),
    [ids[2], ids[1]],
  );
  assert.ok(first[0]!.saga.history.length >= 1);
  const page2 = await call(platform.ordersUrl, 'GET', `/orders?limit=2&cursor=${page1.body['nextCursor']}`, {
    token: buyer,
  });
  assert.equal(
    (page2.body['orders'] as { id: string }[]).map((o) => o.id),
    [ids[0]],
  );
  assert.is(page2.body['nextCursor'], null);

  assert.equal((await call(platform.ordersUrl, 'GET', '/orders', { token: stranger })).body['orders'], []);
  const buyerId = (page1.body['orders'] as { userId: string }[])[0]!.userId;
  const filtered = await call(platform.ordersUrl, 'GET', `/orders?userId=${buyerId}`, { token: admin });
  assert.equal(
    (filtered.body['orders'] as { id: string }[]).map((o) => o.id),
    [...ids].reverse(),
  );
  assert.is(
    (await call(platform.ordersUrl, 'GET', `/orders?userId=${buyerId}`, { token: stranger })).status,
    403,
  );
  const badCursor = await call(platform.ordersUrl, 'GET', '/orders?cursor=nope', { token: buyer });
  assert.is(badCursor.status, 400);
  assert.equal(
    problemOf(badCursor).errors?.map((e) => e.field),
    ['cursor'],
  );
  for (const id of ids) await platform.settled(buyer, id);
});

test('metrics: saga counters, duration and in-flight gauge under their DESIGN names', async () => {
  const text = await (await fetch(`${platform.ordersUrl}/metrics`)).text();
  const confirmed = /souk_saga_total\{[^}]*outcome="confirmed"[^}]*\} (\d+)/.exec(text);
  assert.ok(confirmed && Number(confirmed[1]) >= 3, 'confirmed sagas counted');
  assert.match(text, /souk_saga_duration_seconds_bucket\{/);
  assert.match(text, /souk_saga_in_flight\{[^}]*\} \d+/);
  assert.match(text, /souk_outbox_pending/);
  const openapi = await call(platform.ordersUrl, 'GET', '/openapi.json');
  assert.ok((openapi.body['paths'] as Record<string, unknown>)['/orders/{id}/cancel']);
});

test('one replica reports the sagas in flight, another takes over when it stops', async () => {
  const app = platform.orders!;
  const db = new pg.Client({ connectionString: platform.main.databaseUrl });
  await db.connect();
  const id = crypto.randomUUID();
  await db.query(
    `INSERT INTO orders (id, user_id, status, total_cents, currency, card_token, card_last4)
     VALUES ($1, $1, 'PENDING', 1, 'EUR', 'tok_x', '4242')`,
    [id],
  );
  await db.query(
    `INSERT INTO sagas (order_id, state, step_id, deadline_at, stock) VALUES ($1, 'AUTHORIZING_PAYMENT', $1, now() + interval '1 hour', 'held')`,
    [id],
  );
  const replica = () => {
    const metrics = new Metrics({ service: 'orders', defaultMetrics: false });
    const saga = sagaMetrics(metrics);
    const runner = new SagaRunner(
      {
        reservationTimeoutMs: 1,
        paymentTimeoutMs: 1,
        captureTimeoutMs: 1,
        compensationTimeoutMs: 1,
        compensationAttempts: 1,
        reservationMarginMs: 1,
      },
      saga,
    );
    const sweeper = new DeadlineSweeper({ db: app.db, runner, metrics: saga, intervalMs: 60_000 });
    const gauge = async () => Number(/souk_saga_in_flight\{[^}]*\} (\d+)/.exec(await metrics.text())?.[1]);
    return { sweeper, gauge };
  };
  const a = replica();
  const b = replica();
  try {
    // The app's own sweeper reports; these two report 0.
    await a.sweeper.sweep();
    await b.sweeper.sweep();
    assert.is(await a.gauge(), 0);
    assert.is(await b.gauge(), 0);
    await app.sweeper.stop();
    await a.sweeper.sweep();
    await b.sweeper.sweep();
    assert.is(await a.gauge(), 1);
    assert.is(await b.gauge(), 0);
  } finally {
    await a.sweeper.stop();
    await b.sweeper.stop();
    await db.query('DELETE FROM orders WHERE id = $1', [id]);
    await db.end();
  }
});

test('inventory down: 503 problem, no order created', async () => {
  await platform.inventory.stop();
  const res = await platform.placeOrder(buyer, body());
  assert.is(res.status, 503);
  problemOf(res);
  const list = await call(platform.ordersUrl, 'GET', '/orders', { token: buyer });
  assert.is((list.body['orders'] as unknown[]).length, 3);
});

test.after(async () => {
  await platform.stop();
});

test.run();
