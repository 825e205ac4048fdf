import { waitFor } from '@souk/harness/infra/processes';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, historyOf, Platform, TEST_CARDS } from './platform.ts';

const platform = new Platform('orders-saga', {
  // Tight step deadlines, so the timeout card's authorization outlives its step.
  orders: { PAYMENT_TIMEOUT_MS: '5000', COMPENSATION_TIMEOUT_MS: '20000', SWEEP_INTERVAL_MS: '200' },
  payments: { PROVIDER_TIMEOUT_MS: '12000' },
});
await platform.start();
const seller = await platform.register('seller@souk.test');
const buyer = await platform.register('buyer@souk.test');

const order = (itemId: string, quantity: number, card = TEST_CARDS.approve) => ({
  lines: [{ itemId, quantity }],
  payment: { cardNumber: card },
  shippingNote: 'leave it at the door',
});

test('happy path: PENDING, stock reserved, payment authorized and captured, CONFIRMED', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 1_250, quantity: 10 });
  const placed = await platform.placeOrder(buyer, order(itemId, 3));
  assert.is(placed.status, 201);
  assert.is(placed.body['status'], 'PENDING');
  assert.is(placed.body['totalCents'], 3_750);
  assert.is(placed.body['currency'], 'EUR');
  assert.equal((placed.body['payment'] as { last4: string }).last4, '4242');
  const id = placed.body['id'] as string;
  assert.is(placed.headers.get('location'), `/orders/${id}`);

  const done = await platform.settled(buyer, id);
  assert.is(done['status'], 'CONFIRMED');
  assert.equal(historyOf(done), [
    'order:PENDING',
    'reserve_stock:reserved',
    'authorize_payment:authorized',
    'capture_payment:captured',
    'order:CONFIRMED',
  ]);
  const history = (done['saga'] as { history: { at: string }[] }).history;
  const times = history.map((h) => Date.parse(h.at));
  assert.equal(
    [...times].sort((a, b) => a - b),
    times,
  );
  assert.ok(done['completedAt']);

  assert.is(await platform.stockOf(itemId), 7);
  await waitFor(
    'reservation committed',
    async () => (await platform.reservationOf(id)) === 'committed',
    10_000,
  );
  const ledger = await platform.ledgerOf(id);
  assert.equal(ledger.operations.filter((o) => o.kind === 'capture' && o.result === 'succeeded').length, 1);
  assert.equal(ledger.balances, { customer: -3_750, hold: 0, merchant: 3_750 });
});

test('out of stock: CANCELLED, nothing charged, stock untouched', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 500, quantity: 1 });
  const placed = await platform.placeOrder(buyer, order(itemId, 2));
  assert.is(placed.status, 201);
  const done = await platform.settled(buyer, placed.body['id'] as string);
  assert.is(done['status'], 'CANCELLED');
  assert.is(done['cancelReason'], 'stock_rejected');
  assert.equal(historyOf(done), [
    'order:PENDING',
    'reserve_stock:rejected',
    'release_stock:nothing_held',
    'order:CANCELLED',
  ]);
  assert.is(await platform.stockOf(itemId), 1);
  assert.equal((await platform.ledgerOf(placed.body['id'] as string)).operations, []);
});

test('declined card: stock released, then CANCELLED; nothing held', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 800, quantity: 5 });
  const placed = await platform.placeOrder(buyer, order(itemId, 2, TEST_CARDS.decline));
  const id = placed.body['id'] as string;
  const done = await platform.settled(buyer, id);
  assert.is(done['status'], 'CANCELLED');
  assert.is(done['cancelReason'], 'payment_declined');
  assert.equal(historyOf(done), [
    'order:PENDING',
    'reserve_stock:reserved',
    'authorize_payment:declined',
    'release_stock:released',
    'order:CANCELLED',
  ]);
  assert.is(await platform.stockOf(itemId), 5);
  assert.is(await platform.reservationOf(id), 'released');
  const ledger = await platform.ledgerOf(id);
  assert.equal(
    ledger.operations.map((o) => `${o.kind}:${o.result}`),
    ['authorize:declined'],
  );
  assert.is(ledger.balances['merchant'] ?? 0, 0);
});

test('timeout card: the authorization deadline fires, the payment is voided, stock released, CANCELLED', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 900, quantity: 4 });
  const placed = await platform.placeOrder(buyer, order(itemId, 1, TEST_CARDS.timeout));
  const id = placed.body['id'] as string;
  const done = await platform.settled(buyer, id, 40_000);
  assert.is(done['status'], 'CANCELLED');
  assert.is(done['cancelReason'], 'payment_timeout');
  assert.equal(historyOf(done), [
    'order:PENDING',
    'reserve_stock:reserved',
    'authorize_payment:timed_out',
    'void_payment:voided',
    'release_stock:released',
    'order:CANCELLED',
  ]);
  assert.is(await platform.stockOf(itemId), 4);
  const ledger = await platform.ledgerOf(id);
  assert.ok(ledger.operations.some((o) => o.kind === 'void' && o.result === 'succeeded'));
  assert.not.ok(ledger.operations.some((o) => o.kind === 'capture'));
  assert.is(ledger.balances['hold'] ?? 0, 0);
});

test('Idempotency-Key: the same key twice is one order and one saga; another body with it is a 422', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 300, quantity: 10 });
  const key = crypto.randomUUID();
  const [first, second] = await Promise.all([
    platform.placeOrder(buyer, order(itemId, 1), key),
    platform.placeOrder(buyer, order(itemId, 1), key),
  ]);
  assert.is(first.status, 201);
  assert.is(second.status, 201);
  assert.equal(second.body, first.body);
  const third = await platform.placeOrder(buyer, order(itemId, 1), key);
  assert.is(third.status, 201);
  assert.equal(third.body, first.body);
  const id = first.body['id'] as string;
  const done = await platform.settled(buyer, id);
  assert.equal(historyOf(done), [
    'order:PENDING',
    'reserve_stock:reserved',
    'authorize_payment:authorized',
    'capture_payment:captured',
    'order:CONFIRMED',
  ]);
  assert.is(await platform.stockOf(itemId), 9);

  const other = await platform.placeOrder(buyer, order(itemId, 2), key);
  assert.is(other.status, 422);
  assert.match(other.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.is((other.body['errors'] as { field: string }[])[0]?.field, 'Idempotency-Key');

  // Keys are per user: another user's same key is another order.
  const someoneElse = await platform.register('other-buyer@souk.test');
  const theirs = await platform.placeOrder(someoneElse, order(itemId, 1), key);
  assert.is(theirs.status, 201);
  assert.is.not(theirs.body['id'], id);
});

test('cancel while pending: 202, compensation, CANCELLED; cancel after confirm: 409', async () => {
  const itemId = await platform.createItem(seller, { priceCents: 700, quantity: 3 });
  // The timeout card keeps the saga in its authorization step long enough to cancel it there.
  const placed = await platform.placeOrder(buyer, order(itemId, 2, TEST_CARDS.timeout));
  const id = placed.body['id'] as string;
  await waitFor(
    'authorization step',
    async () => {
      const res = await platform.order(buyer, id);
      return (res.body['saga'] as { state: string }).state === 'AUTHORIZING_PAYMENT';
    },
    15_000,
  );
  const cancelled = await call(platform.ordersUrl, 'POST', `/orders/${id}/cancel`, { token: buyer });
  assert.is(cancelled.status, 202);
  assert.is(cancelled.body['status'], 'CANCELLING');
  const again = await call(platform.ordersUrl, 'POST', `/orders/${id}/cancel`, { token: buyer });
  assert.is(again.status, 202);
  const done = await platform.settled(buyer, id, 40_000);
  assert.is(done['status'], 'CANCELLED');
  assert.is(done['cancelReason'], 'customer_requested');
  // A void sent again while the provider still hangs is the same step: drop those entries.
  assert.equal(
    historyOf(done)
      .filter((h) => !h.endsWith(':retried'))
      .slice(-5),
    [
      'cancel:requested',
      'authorize_payment:abandoned',
      'void_payment:voided',
      'release_stock:released',
      'order:CANCELLED',
    ],
  );
  assert.is(await platform.stockOf(itemId), 3);
  const afterCancel = await call(platform.ordersUrl, 'POST', `/orders/${id}/cancel`, { token: buyer });
  assert.is(afterCancel.status, 409);

  const confirmed = await platform.placeOrder(buyer, order(itemId, 1));
  const cid = confirmed.body['id'] as string;
  assert.is((await platform.settled(buyer, cid))['status'], 'CONFIRMED');
  const late = await call(platform.ordersUrl, 'POST', `/orders/${cid}/cancel`, { token: buyer });
  assert.is(late.status, 409);
  assert.match(late.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.is(late.body['orderStatus'], 'CONFIRMED');
});

test.after(async () => {
  await platform.stop();
});

test.run();
