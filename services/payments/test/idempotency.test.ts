import assert from 'node:assert/strict';
import { useSuite } from '@souk/harness/suite';
import { type EventEnvelope, uuidv7 } from '@souk/kit/events/index';
import { test } from 'uvu';
import { TEST_CARDS } from '../src/domain/test-cards.ts';
import { commands, ledgerOf, Saga, settle, startPayments } from './support.ts';

// Steps delivered more than once, through Kafka: the same message redelivered (same event id) is
// deduplicated by the inbox and answered once; the same step sent again as a new message (same
// step id, new event id) is answered again with the same outcome data under a new event id.
// Either way the ledger moves once per step.
const s = await useSuite('payments-idempotency');
const payments = await startPayments(s);
const saga = new Saga(s);
await saga.start();
await payments.joined();

const stripId = (events: EventEnvelope[]) => events.map((e) => ({ type: e.type, data: e.data }));
const movementsOf = async (orderId: string) =>
  (await ledgerOf(payments, orderId)).operations.map((o) => `${o.kind}:${o.result}`);

test('the same messages delivered three times: one movement and one outcome per step', async () => {
  const authorize = commands.authorize(TEST_CARDS.approve, 8_000);
  const orderId = authorize.aggregateId;
  await saga.send(authorize, authorize, authorize);
  const [authorized] = await saga.waitForOutcomes(orderId, 1);
  const paymentId = (authorized!.data as { paymentId: string }).paymentId;
  const capture = commands.capture(orderId, paymentId, 8_000);
  await saga.send(capture, capture, capture);
  await saga.waitForOutcomes(orderId, 2);
  const refund = commands.refund(orderId, paymentId, 2_500);
  await saga.send(refund, refund, refund);
  await saga.waitForOutcomes(orderId, 3);
  await settle();

  const outcomes = saga.outcomes(orderId);
  assert.deepEqual(
    outcomes.map((e) => e.type),
    ['PaymentAuthorized', 'PaymentCaptured', 'PaymentRefunded'],
  );
  assert.equal(new Set(outcomes.map((e) => e.id)).size, 3);
  assert.deepEqual(await movementsOf(orderId), [
    'authorize:succeeded',
    'capture:succeeded',
    'refund:succeeded',
  ]);
  const { entries, balances } = await ledgerOf(payments, orderId);
  assert.equal(entries.length, 6);
  assert.deepEqual(balances, { customer: -5_500, hold: 0, merchant: 5_500 });
  const inbox = await payments.db.primary.$queryRawUnsafe<{ n: number }[]>(
    'SELECT count(*)::int AS n FROM souk_inbox WHERE event_id = ANY($1::uuid[])',
    [authorize.id, capture.id, refund.id],
  );
  assert.equal(inbox[0]?.n, 3, 'each message recorded once in the inbox');
});

test('the same steps sent again as new messages: the first outcome again, nothing moves twice', async () => {
  const authorize = commands.authorize(TEST_CARDS.approve, 3_000);
  const orderId = authorize.aggregateId;
  const again = (e: EventEnvelope): EventEnvelope => ({ ...e, id: uuidv7() });
  await saga.send(authorize, again(authorize), again(authorize));
  const authorizedEvents = await saga.waitForOutcomes(orderId, 3);
  const paymentId = (authorizedEvents[0]!.data as { paymentId: string }).paymentId;
  const capture = commands.capture(orderId, paymentId, 3_000);
  await saga.send(capture, again(capture), again(capture));
  await saga.waitForOutcomes(orderId, 6);
  const refund = commands.refund(orderId, paymentId, 3_000);
  await saga.send(refund, again(refund), again(refund));
  await saga.waitForOutcomes(orderId, 9);
  await settle();

  const outcomes = saga.outcomes(orderId);
  assert.equal(outcomes.length, 9);
  const [a, c, r] = [outcomes.slice(0, 3), outcomes.slice(3, 6), outcomes.slice(6, 9)];
  for (const [name, group] of [
    ['authorize', a],
    ['capture', c],
    ['refund', r],
  ] as const) {
    const [first, ...rest] = stripId(group);
    for (const other of rest) assert.deepEqual(other, first, `${name}: the same outcome each time`);
    assert.equal(new Set(group.map((e) => e.id)).size, 3, `${name}: each answer is a new event`);
  }
  assert.equal(a[0]?.type, 'PaymentAuthorized');
  assert.equal(c[0]?.type, 'PaymentCaptured');
  assert.equal(r[0]?.type, 'PaymentRefunded');
  assert.equal((r[0]!.data as { refundedTotalCents: number }).refundedTotalCents, 3_000);
  assert.deepEqual(await movementsOf(orderId), [
    'authorize:succeeded',
    'capture:succeeded',
    'refund:succeeded',
  ]);
  assert.deepEqual((await ledgerOf(payments, orderId)).balances, { customer: 0, hold: 0, merchant: 0 });

  const text = await payments.service.metrics.registry.metrics();
  for (const command of ['authorize', 'capture', 'refund']) {
    assert.match(
      text,
      new RegExp(`^souk_payments_steps_replayed_total\\{command="${command}",service="payments"\\} 2$`, 'm'),
    );
  }
});

test.after(async () => {
  await saga.stop();
  await payments.stop();
  await s.close();
});

test.run();
