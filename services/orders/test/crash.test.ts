import { waitFor } from '@souk/harness/infra/processes';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { historyOf, Platform, TEST_CARDS } from './platform.ts';

// Every provider call takes a while, so the saga can be caught between its steps.
const platform = new Platform('orders-crash', {
  ordersAsChild: true,
  payments: { PROVIDER_LATENCY_MS: '1500' },
});
await platform.start();
const seller = await platform.register('seller@souk.test');
const buyer = await platform.register('buyer@souk.test');
const db = new pg.Pool({ connectionString: platform.main.databaseUrl, max: 2 });

const sagaState = async (id: string) =>
  (await db.query<{ state: string }>('SELECT state FROM sagas WHERE order_id = $1', [id])).rows[0]?.state;

async function killWhileIn(state: string): Promise<void> {
  const itemId = await platform.createItem(seller, { priceCents: 2_000, quantity: 5 });
  const placed = await platform.placeOrder(buyer, {
    lines: [{ itemId, quantity: 2 }],
    payment: { cardNumber: TEST_CARDS.approve },
  });
  assert.is(placed.status, 201);
  const id = placed.body['id'] as string;
  await waitFor(`saga in ${state}`, async () => (await sagaState(id)) === state, 30_000);
  await platform.killOrders();
  // Payments answers while orders is down; the answer waits in Kafka.
  await new Promise((r) => setTimeout(r, 2_000));
  await platform.startOrders();

  const done = await platform.settled(buyer, id, 60_000);
  assert.is(done['status'], 'CONFIRMED');
  const history = historyOf(done);
  assert.equal(
    history.filter((h) => h.startsWith('order:') && h !== 'order:PENDING'),
    ['order:CONFIRMED'],
  );
  assert.equal(history.filter((h) => h === 'capture_payment:captured').length, 1);
  const ledger = await platform.ledgerOf(id);
  assert.equal(ledger.operations.filter((o) => o.kind === 'capture').length, 1);
  assert.equal(ledger.balances, { customer: -4_000, hold: 0, merchant: 4_000 });
  assert.is(await platform.stockOf(itemId), 3);
}

test('killed (-9) while the payment is being authorized: restarted, the saga completes once', async () => {
  await killWhileIn('AUTHORIZING_PAYMENT');
});

test('killed (-9) while the payment is being captured: restarted, one capture, CONFIRMED', async () => {
  await killWhileIn('CAPTURING_PAYMENT');
});

test.after(async () => {
  await db.end();
  await platform.stop();
});

test.run();
